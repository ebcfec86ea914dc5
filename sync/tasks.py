"""Thin Celery tasks: take ids, call a service, safe to run twice (claims are conditional
UPDATEs or unique keys). Their periodic schedule is in sync/schedule.py."""

from __future__ import annotations

from celery import shared_task

from cases import services as case_services
from sync import feed, idempotency, webhooks


@shared_task(name="sync.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: str) -> str:
    """One delivery attempt; on failure the next is scheduled with exponential back-off."""
    return webhooks.deliver(delivery_id, retry=_deliver_later)


def _deliver_later(delivery_id: str, seconds: float) -> None:
    deliver_webhook.apply_async(kwargs={"delivery_id": delivery_id}, countdown=seconds)


@shared_task(name="sync.webhooks_fan_out", ignore_result=True)
def webhooks_fan_out() -> int:
    """New change-journal rows → deliveries for each live subscription."""
    return webhooks.fan_out()


@shared_task(name="sync.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> int:
    """Re-send deliveries whose retry message was lost or whose sender died mid-send."""
    due = webhooks.due_deliveries()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)


@shared_task(name="sync.share_expiry_announce", ignore_result=True)
def share_expiry_announce() -> int:
    """`revoked` in the change feed for each share that lapsed by time, once per share."""
    return case_services.share_expiry_announce()


@shared_task(name="sync.idempotency_purge", ignore_result=True)
def idempotency_purge() -> int:
    return idempotency.purge()


@shared_task(name="sync.journal_prune", ignore_result=True)
def journal_prune() -> int:
    return feed.prune()
