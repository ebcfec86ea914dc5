"""The audit app's periodic task (the access log's retention, audit/retention.py), installed as a
django-celery-beat row by a migration with core/schedule.py."""

from __future__ import annotations

from core import schedule
from core.schedule import HOUR, Periodic

PERIODIC_TASKS = [
    Periodic(
        "Access log pruning",
        "audit.access_log_prune",
        24 * HOUR,
        "Deletes access log rows older than ACCESS_LOG_RETENTION_MONTHS, in batches; each run "
        "that deletes rows is recorded (Access log prunings).",
    ),
]


def install_periodic_tasks(PeriodicTask, IntervalSchedule, PeriodicTasks=None) -> int:
    return schedule.install_periodic_tasks(
        PeriodicTask, IntervalSchedule, PeriodicTasks, tasks=PERIODIC_TASKS
    )
