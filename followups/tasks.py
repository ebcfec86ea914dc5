"""Celery tasks: thin wrappers that take ids or nothing, call a service, and are safe to repeat.

Every task here may run twice (the outbox relay can publish a message twice, beat can be duplicated,
a message held by a worker that died is delivered again) or on two workers at once; the services
they call claim work with conditional UPDATEs and unique keys, so the effect happens once.
The periodic ones are scheduled in followups/schedule.py (django-celery-beat rows).
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from followups import emails, outbox, services, sweeps


@shared_task(name="followups.outbox_relay")
def outbox_relay(batch: int = outbox.RELAY_BATCH, min_age_seconds: int = 30) -> dict:
    return outbox.relay(batch=batch, min_age=timedelta(seconds=min_age_seconds))


@shared_task(name="followups.deliver_due")
def deliver_due(batch: int = services.DELIVERY_BATCH) -> int:
    return services.followups_deliver_due(batch=batch)


@shared_task(name="followups.send_notification_emails")
def send_notification_emails(notification_ids: list[str]) -> int:
    return emails.send_many(notification_ids)


@shared_task(name="followups.email_sweep")
def email_sweep(lease_seconds: int = 600, min_age_seconds: int = 120) -> int:
    return emails.sweep(
        lease=timedelta(seconds=lease_seconds), min_age=timedelta(seconds=min_age_seconds)
    )


@shared_task(name="followups.sweep_case_reviews")
def sweep_case_reviews() -> int:
    return sweeps.sweep_case_reviews()


@shared_task(name="followups.sweep_overdue_actions")
def sweep_overdue_actions() -> int:
    return sweeps.sweep_overdue_actions()


@shared_task(name="followups.sweep_missed_screening")
def sweep_missed_screening() -> int:
    return sweeps.sweep_missed_screening()


@shared_task(name="followups.sweep_expiring")
def sweep_expiring() -> int:
    return sweeps.sweep_expiring_shares_and_consents()


@shared_task(name="followups.sweep_supervision")
def sweep_supervision() -> int:
    return sweeps.sweep_supervision_check_ins()


@shared_task(name="followups.sweep_training_refreshers")
def sweep_training_refreshers() -> int:
    return sweeps.sweep_training_refreshers()


@shared_task(name="followups.sweep_retention")
def sweep_retention() -> int:
    return sweeps.sweep_retention_reviews()


@shared_task(name="followups.housekeeping")
def housekeeping() -> int:
    return outbox.prune()
