"""The wellbeing app's periodic task (check-ins' retention, wellbeing/retention.py), installed as a
django-celery-beat row by a migration with core/schedule.py."""

from __future__ import annotations

from core import schedule
from core.schedule import HOUR, Periodic

PERIODIC_TASKS = [
    Periodic(
        "Supervision check-in retention",
        "wellbeing.check_ins_prune",
        24 * HOUR,
        "Deletes supervision check-ins held more than SUPERVISION_RETENTION_MONTHS ago.",
    ),
]


def install_periodic_tasks(PeriodicTask, IntervalSchedule, PeriodicTasks=None) -> int:
    return schedule.install_periodic_tasks(
        PeriodicTask, IntervalSchedule, PeriodicTasks, tasks=PERIODIC_TASKS
    )
