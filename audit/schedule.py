"""The audit app's periodic task (the access log's retention, audit/retention.py), installed as a
django-celery-beat row by a migration in the same way as followups/schedule.py."""

from __future__ import annotations

from followups import schedule as followups_schedule
from followups.schedule import HOUR, Periodic

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
    return followups_schedule.install_periodic_tasks(
        PeriodicTask, IntervalSchedule, PeriodicTasks, tasks=PERIODIC_TASKS
    )
