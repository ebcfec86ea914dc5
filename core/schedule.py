"""Periodic tasks as data, and installing them as django-celery-beat rows.

Each app that has periodic work lists it in its own `schedule.py` (`PERIODIC_TASKS`) and installs it
from a data migration with `install_periodic_tasks`. Rows are created only when missing, never
overwritten, so an administrator's pause or re-timing in the admin (Periodic tasks) survives
upgrades. Every task is idempotent, so a duplicate beat (or a manual "Run task") is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    name: str  # the PeriodicTask name shown in the admin
    task: str
    every_seconds: int
    description: str


MINUTE, HOUR = 60, 60 * 60


def install_periodic_tasks(PeriodicTask, IntervalSchedule, PeriodicTasks=None, *, tasks) -> int:
    """Create the missing PeriodicTask rows for `tasks` (models passed in, so migrations can use
    theirs)."""
    from django.utils import timezone

    created = 0
    for item in tasks:
        if PeriodicTask.objects.filter(name=item.name).exists():
            continue
        interval = IntervalSchedule.objects.filter(
            every=item.every_seconds, period="seconds"
        ).first() or IntervalSchedule.objects.create(every=item.every_seconds, period="seconds")
        PeriodicTask.objects.create(
            name=item.name,
            task=item.task,
            interval=interval,
            description=item.description,
            kwargs="{}",
            enabled=True,
        )
        created += 1
    if created and PeriodicTasks is not None:
        # Tells a running beat (DatabaseScheduler) to reload its schedule.
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return created
