"""The sync app's part of /metrics (core/metrics.py): webhook deliveries failing and subscriptions
turned off, measured at scrape time. Registered from SyncConfig.ready."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from sync.models import WebhookDelivery, WebhookSubscription


def webhooks_state():
    failing = WebhookDelivery.objects.filter(  # index delivery_due (status, ...)
        status=WebhookDelivery.Status.PENDING, attempts__gt=0
    ).count()
    yield GaugeMetricFamily(
        "vru_webhook_deliveries_failing",
        "Webhook deliveries waiting to be retried after at least one failed attempt.",
        value=failing,
    )
    disabled = WebhookSubscription.objects.filter(
        active=False, disabled_at__isnull=False, deleted_at__isnull=True
    ).count()
    yield GaugeMetricFamily(
        "vru_webhook_subscriptions_disabled",
        "Webhook subscriptions turned off after repeated delivery failures (not deleted).",
        value=disabled,
    )
