"""The follow-ups app's part of /metrics (core/metrics.py): the outbox backlog and follow-ups
overdue, measured at scrape time with indexed queries. Registered from FollowupsConfig.ready."""

from __future__ import annotations

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from core.metrics import age_seconds
from followups.models import FollowUp
from followups.outbox import backlog


def outbox_state():
    state = backlog()  # index outbox_unpublished
    yield GaugeMetricFamily(
        "vru_outbox_unpublished_messages",
        "Outbox rows not yet published to the broker.",
        value=state["unpublished"],
    )
    yield GaugeMetricFamily(
        "vru_outbox_oldest_unpublished_age_seconds",
        "Age of the oldest unpublished outbox row (0 when none).",
        value=state["oldest_age_seconds"],
    )


def followups_overdue():
    overdue = FollowUp.objects.filter(  # index followup_due (status, due_at)
        status=FollowUp.Status.PENDING, due_at__lt=timezone.now()
    )
    oldest = overdue.order_by("due_at").values_list("due_at", flat=True).first()
    yield GaugeMetricFamily(
        "vru_followups_overdue",
        "Follow-ups still pending after their due time (the delivery sweep claims them).",
        value=overdue.count(),
    )
    yield GaugeMetricFamily(
        "vru_followups_overdue_oldest_seconds",
        "How long the longest-overdue pending follow-up has been due (0 when none).",
        value=age_seconds(oldest),
    )
