"""The sso app's periodic task, installed as a django-celery-beat row by a migration with
core/schedule.py (created when missing, never overwritten)."""

from __future__ import annotations

from core import schedule
from core.schedule import MINUTE, Periodic

PERIODIC_TASKS = [
    Periodic(
        "Single sign-on refresh",
        "sso.refresh_due",
        MINUTE,
        "Refreshes the provider tokens of signed-in people when due (each provider's "
        "refresh_minutes); a refused refresh signs the person out everywhere.",
    ),
]


def install_periodic_tasks(PeriodicTask, IntervalSchedule, PeriodicTasks=None) -> int:
    return schedule.install_periodic_tasks(
        PeriodicTask, IntervalSchedule, PeriodicTasks, tasks=PERIODIC_TASKS
    )
