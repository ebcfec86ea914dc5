"""The sync app's periodic tasks, installed as django-celery-beat rows by a migration in the same
way as followups/schedule.py (created when missing, never overwritten, so an administrator's
re-timing survives upgrades)."""

from __future__ import annotations

from followups.schedule import HOUR, MINUTE, Periodic

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
    """Create the missing PeriodicTask rows (models passed in, so migrations can use theirs)."""
    from django.utils import timezone

    created = 0
    for item in PERIODIC_TASKS:
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
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return created
