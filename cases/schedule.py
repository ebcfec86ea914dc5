"""The cases app's periodic tasks (data sharing agreements over time, cases/agreements.py),
installed as django-celery-beat rows by a migration with core/schedule.py
(created when missing, never overwritten, so an administrator's re-timing survives upgrades)."""

from __future__ import annotations

from core import schedule
from core.schedule import HOUR, Periodic

PERIODIC_TASKS = [
    Periodic(
        "Data sharing agreement reviews",
        "cases.sweep_agreements",
        6 * HOUR,
        "30 days before an agreement's review date, a follow-up for each party's managers; an "
        "agreement that lapsed with live shares: a follow-up for each lead partner's managers.",
    ),
]


def install_periodic_tasks(PeriodicTask, IntervalSchedule, PeriodicTasks=None) -> int:
    return schedule.install_periodic_tasks(
        PeriodicTask, IntervalSchedule, PeriodicTasks, tasks=PERIODIC_TASKS
    )
