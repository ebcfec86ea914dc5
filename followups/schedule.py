"""The follow-up sweeps' periodic schedule, installed as django-celery-beat rows by a migration
(core/schedule.py) so administrators can see, pause and re-time them in the admin (Periodic tasks);
the rows are only created when missing, never overwritten, so an administrator's change survives
upgrades.

Every task is idempotent, so a duplicate beat (or a manual "Run task" in the admin) is harmless.
"""

from __future__ import annotations

from core.schedule import HOUR, MINUTE, Periodic
from core.schedule import install_periodic_tasks as _install

PERIODIC_TASKS = [
    Periodic(
        "Outbox relay",
        "followups.outbox_relay",
        MINUTE,
        "Publishes background work whose first publish failed (broker down when it was queued).",
    ),
    Periodic(
        "Deliver due follow-ups",
        "followups.deliver_due",
        MINUTE,
        "Notifies the assignees of pending follow-ups now due (in the app and by email), once.",
    ),
    Periodic(
        "Notification email sweep",
        "followups.email_sweep",
        5 * MINUTE,
        "Sends notification emails a lost task, dead worker or mail outage left unsent.",
    ),
    Periodic(
        "Missed screening deadlines",
        "followups.sweep_missed_screening",
        15 * MINUTE,
        "Escalates referrals not screened by their deadline to the lead partner's managers.",
    ),
    Periodic(
        "Overdue actions",
        "followups.sweep_overdue_actions",
        HOUR,
        "Follow-ups for open actions past their due date, to their owner.",
    ),
    Periodic(
        "Case reviews",
        "followups.sweep_case_reviews",
        HOUR,
        "Follow-ups two days before a case's review date, to its lead.",
    ),
    Periodic(
        "Expiring shares and consents",
        "followups.sweep_expiring",
        HOUR,
        "Notice 14 days before a case share or a consent decision ends, to the case's lead.",
    ),
    Periodic(
        "Supervision check-ins",
        "followups.sweep_supervision",
        6 * HOUR,
        "Monthly supervision and wellbeing check-ins for staff on high-exposure work.",
    ),
    Periodic(
        "Training refreshers",
        "followups.sweep_training_refreshers",
        24 * HOUR,
        "Notice, 60 days ahead, of a trauma-training refresher falling due (wellbeing/training.py).",
    ),
    Periodic(
        "Retention reviews",
        "followups.sweep_retention",
        24 * HOUR,
        "Closed cases past their agreement's retention period: a review for the lead's managers.",
    ),
    Periodic(
        "Housekeeping",
        "followups.housekeeping",
        24 * HOUR,
        "Deletes outbox rows published more than 7 days ago.",
    ),
]


def install_periodic_tasks(PeriodicTask, IntervalSchedule, PeriodicTasks=None) -> int:
    return _install(PeriodicTask, IntervalSchedule, PeriodicTasks, tasks=PERIODIC_TASKS)


def ensure_schedule() -> int:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    return install_periodic_tasks(PeriodicTask, IntervalSchedule, PeriodicTasks)
