"""The sync app's periodic tasks, installed as django-celery-beat rows by a migration with
core/schedule.py (created when missing, never overwritten, so an administrator's
re-timing survives upgrades)."""

from __future__ import annotations

from core import schedule
from core.schedule import HOUR, MINUTE, Periodic

PERIODIC_TASKS = [
    Periodic(
        "Webhook fan-out",
        "sync.webhooks_fan_out",
        10,
        "Turns new change-journal rows into signed webhook deliveries for each subscription.",
    ),
    Periodic(
        "Webhook retry sweep",
        "sync.webhooks_sweep",
        MINUTE,
        "Re-sends webhook deliveries whose retry was lost or whose worker died mid-send.",
    ),
    Periodic(
        "Share expiry announcements",
        "sync.share_expiry_announce",
        MINUTE,
        "Tells each partner whose case share lapsed by time (a `revoked` change-feed entry), once.",
    ),
    Periodic(
        "Idempotency key purge",
        "sync.idempotency_purge",
        HOUR,
        "Forgets Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (at least 24 hours).",
    ),
    Periodic(
        "Change journal pruning",
        "sync.journal_prune",
        24 * HOUR,
        "Deletes change-feed rows older than CHANGE_FEED_RETENTION_DAYS; older cursors get 410.",
    ),
]


def install_periodic_tasks(PeriodicTask, IntervalSchedule, PeriodicTasks=None) -> int:
    return schedule.install_periodic_tasks(
        PeriodicTask, IntervalSchedule, PeriodicTasks, tasks=PERIODIC_TASKS
    )
