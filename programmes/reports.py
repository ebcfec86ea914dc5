"""Report-ready queries for programme intake: referrals and places by month, waits, waiting lists.

Raw counts and medians (aggregates, no personal data), only to those who may read partnership
figures (casework.access.check_partnership_figures: the one rule for partnership figures).
Whatever displays or exports them publishes them through reports/disclosure.py first.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, time

from django.db.models import Count, DateField
from django.db.models.functions import TruncMonth
from django.utils import timezone

from casework.access import check_partnership_figures
from partners.actor import Actor
from programmes.models import Enrolment, EnrolmentStatus, Programme


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.replace(day=1)


def programmes_reported(*, actor: Actor) -> list[tuple]:
    """(id, name) of every programme, by name."""
    check_partnership_figures(actor)
    return list(Programme.objects.order_by("name").values_list("pk", "name"))


def _by_month(field: str, since: date, until: date) -> dict[tuple, int]:
    rows = (
        Enrolment.objects.filter(**{f"{field}__gte": _start(since), f"{field}__lt": _start(until)})
        .annotate(month=TruncMonth(field, output_field=DateField()))
        .values("programme_id", "month")
        .annotate(n=Count("id"))
    )
    counts: dict[tuple, int] = {}
    for row in rows:
        key = (row["programme_id"], _month(row["month"]))
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def referrals_by_month(*, actor: Actor, since: date, until: date) -> dict[tuple, int]:
    """Referrals to each programme in [since, until): {(programme id, month made): count}."""
    check_partnership_figures(actor)
    return _by_month("referred_at", since, until)


def places_by_month(*, actor: Actor, since: date, until: date) -> dict[tuple, int]:
    """People given a place (enrolled) in [since, until): {(programme id, month enrolled): count}."""
    check_partnership_figures(actor)
    return _by_month("enrolled_at", since, until)


def median_waits(*, actor: Actor, starts: list[date], until: date) -> dict[tuple, float | None]:
    """For people enrolled from each date in `starts` to `until`: the median days from referral to
    a place, {(start, programme id): days or None}. One query."""
    check_partnership_figures(actor)
    waits: dict[tuple, list[int]] = {}
    for programme_id, referred, enrolled in Enrolment.objects.filter(
        enrolled_at__gte=_start(min(starts)), enrolled_at__lt=_start(until)
    ).values_list("programme_id", "referred_at", "enrolled_at"):
        for start in starts:
            if enrolled >= _start(start):
                waits.setdefault((start, programme_id), []).append(
                    max((enrolled - referred).days, 0)
                )
    return {key: statistics.median(days) for key, days in waits.items()}


def waiting_now(*, actor: Actor) -> dict:
    """People on each programme's waiting list now: {programme id: count}."""
    check_partnership_figures(actor)
    return dict(
        Enrolment.objects.filter(status=EnrolmentStatus.WAITLISTED)
        .values("programme_id")
        .annotate(n=Count("id"))
        .values_list("programme_id", "n")
    )
