"""Report-ready queries for the figures in DESIGN.md §1: how referrals are screened, the "no
further action" (NFA) rate by referring partner and month, and the share leading to support.

These return raw counts (aggregates, no personal data). Whatever displays or exports them must
apply small-number suppression (settings.SUPPRESSION_THRESHOLD) before anyone sees them.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Count, DateField, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from casework import access
from casework.models import Referral
from casework.vocabularies import (
    SCREENING_OUTCOME_GROUPS,
    ScreeningOutcome,
)
from partners.actor import Actor

SUPPORT_OUTCOMES = [o for o, g in SCREENING_OUTCOME_GROUPS.items() if g == "support"]


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _referrals(since: date | None, until: date | None, partner_slug: str | None) -> QuerySet:
    qs = Referral.objects.all()
    if since:
        qs = qs.filter(received_at__gte=_start(since))
    if until:
        qs = qs.filter(received_at__lt=_start(until))
    if partner_slug:
        qs = qs.filter(source_partner__slug=partner_slug)
    return qs


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def screening_outcome_shares(
    *,
    actor: Actor,
    since: date | None = None,
    until: date | None = None,
    partner_slug: str | None = None,
) -> dict:
    """Referrals received in [since, until) by screening outcome, each with its share of the
    screened referrals; every outcome is listed (zero counts included) so charts stay stable."""
    access.check_partnership_figures(actor)
    qs = _referrals(since, until, partner_slug)
    counts = dict(
        qs.filter(screening__isnull=False)
        .values_list("screening__outcome")
        .annotate(n=Count("id"))
        .values_list("screening__outcome", "n")
    )
    total = qs.count()
    screened = sum(counts.values())
    outcomes = [
        {
            "outcome": outcome.value,
            "label": str(outcome.label),
            "group": SCREENING_OUTCOME_GROUPS[outcome],
            "count": counts.get(outcome.value, 0),
            "share": _rate(counts.get(outcome.value, 0), screened),
        }
        for outcome in ScreeningOutcome
    ]
    support = sum(counts.get(o.value, 0) for o in SUPPORT_OUTCOMES)
    return {
        "referrals": total,
        "screened": screened,
        "unscreened": total - screened,
        "nfa_rate": _rate(counts.get(ScreeningOutcome.NO_FURTHER_ACTION.value, 0), screened),
        "support_rate": _rate(support, screened),
        "outcomes": outcomes,
    }


def nfa_rate_by_partner_month(
    *, actor: Actor, since: date | None = None, until: date | None = None
) -> list[dict]:
    """For each referring partner and month received (local time): referrals screened, how many
    were "no further action" and how many led to support, with the rates. One query."""
    access.check_partnership_figures(actor)
    rows = (
        _referrals(since, until, None)
        .filter(screening__isnull=False)
        .annotate(month=TruncMonth("received_at", output_field=DateField()))
        .values("source_partner__slug", "source_partner__name", "month")
        .annotate(
            screened=Count("id"),
            nfa=Count("id", filter=Q(screening__outcome=ScreeningOutcome.NO_FURTHER_ACTION)),
            support=Count("id", filter=Q(screening__outcome__in=SUPPORT_OUTCOMES)),
        )
        .order_by("month", "source_partner__slug")
    )
    return [
        {
            "partner": row["source_partner__slug"],
            "partner_name": row["source_partner__name"],
            "month": row["month"],
            "screened": row["screened"],
            "nfa": row["nfa"],
            "nfa_rate": _rate(row["nfa"], row["screened"]),
            "support": row["support"],
            "support_rate": _rate(row["support"], row["screened"]),
        }
        for row in rows
    ]
