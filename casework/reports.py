"""Report-ready queries for the figures in DESIGN.md §1: how referrals are screened, the "no
further action" (NFA) rate by referring partner and month, the share leading to support, and
adversity prevalence.

These return raw counts (aggregates, no personal data), only to those who may read partnership
figures (access.check_partnership_figures). Whatever displays or exports them must publish them
through reports/disclosure.py (suppression and rounding) before anyone sees them.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Count, DateField, Min, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from casework import access
from casework.models import AdversityRecord, Referral, ScreeningStatus
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


# A challenged proposal is not an outcome: its referral is waiting for a new decision.
STANDING = Q(screening__isnull=False) & ~Q(screening__status=ScreeningStatus.CHALLENGED)
JOINT = Q(screening__status=ScreeningStatus.CONFIRMED)


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
    screened referrals; every outcome is listed (zero counts included) so charts stay stable.
    Each count says how many decisions were joint (confirmed by a partner other than the
    proposer's) and how many single-agency; a challenged proposal counts as unscreened."""
    access.check_partnership_figures(actor)
    qs = _referrals(since, until, partner_slug)
    rows = (
        qs.filter(STANDING)
        .values("screening__outcome")
        .annotate(n=Count("id"), joint=Count("id", filter=JOINT))
        .values_list("screening__outcome", "n", "joint")
    )
    counts = {outcome: n for outcome, n, _ in rows}
    joint = {outcome: j for outcome, _, j in rows}
    total = qs.count()
    screened = sum(counts.values())
    outcomes = [
        {
            "outcome": outcome.value,
            "label": str(outcome.label),
            "group": SCREENING_OUTCOME_GROUPS[outcome],
            "count": counts.get(outcome.value, 0),
            "joint": joint.get(outcome.value, 0),
            "single_agency": counts.get(outcome.value, 0) - joint.get(outcome.value, 0),
            "share": _rate(counts.get(outcome.value, 0), screened),
        }
        for outcome in ScreeningOutcome
    ]
    support = sum(counts.get(o.value, 0) for o in SUPPORT_OUTCOMES)
    return {
        "referrals": total,
        "screened": screened,
        "joint": sum(joint.values()),
        "single_agency": screened - sum(joint.values()),
        "unscreened": total - screened,
        "nfa_rate": _rate(counts.get(ScreeningOutcome.NO_FURTHER_ACTION.value, 0), screened),
        "support_rate": _rate(support, screened),
        "outcomes": outcomes,
    }


def nfa_rate_by_partner_month(
    *, actor: Actor, since: date | None = None, until: date | None = None
) -> list[dict]:
    """For each referring partner and month received (local time): referrals screened, how many
    of those decisions were joint, how many were "no further action" and how many led to support,
    with the rates. One query."""
    access.check_partnership_figures(actor)
    rows = (
        _referrals(since, until, None)
        .filter(STANDING)
        .annotate(month=TruncMonth("received_at", output_field=DateField()))
        .values("source_partner__slug", "source_partner__name", "month")
        .annotate(
            screened=Count("id"),
            joint=Count("id", filter=JOINT),
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
            "joint": row["joint"],
            "single_agency": row["screened"] - row["joint"],
            "nfa": row["nfa"],
            "nfa_rate": _rate(row["nfa"], row["screened"]),
            "support": row["support"],
            "support_rate": _rate(row["support"], row["screened"]),
        }
        for row in rows
    ]


def _month(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.replace(day=1)


def screening_by_month(*, actor: Actor, since: date, until: date) -> dict[date, list[int]]:
    """Referrals received in [since, until) and screened, by month received (local time):
    {first day of month: [no further action, led to support, any other outcome]}. Single-agency
    decisions are counted with joint ones; challenged proposals are not. One query."""
    access.check_partnership_figures(actor)
    rows = (
        _referrals(since, until, None)
        .filter(STANDING)
        .annotate(month=TruncMonth("received_at", output_field=DateField()))
        .values("month")
        .annotate(
            screened=Count("id"),
            nfa=Count("id", filter=Q(screening__outcome=ScreeningOutcome.NO_FURTHER_ACTION)),
            support=Count("id", filter=Q(screening__outcome__in=SUPPORT_OUTCOMES)),
        )
    )
    counts: dict[date, list[int]] = {}
    for row in rows:
        c = counts.setdefault(_month(row["month"]), [0, 0, 0])
        c[0] += row["nfa"]
        c[1] += row["support"]
        c[2] += row["screened"] - row["nfa"] - row["support"]
    return counts


def adversities_first_recorded(
    *, actor: Actor, codes: list[str], since: date, until: date, period_starts: list[date]
) -> tuple[dict[tuple[str, date], int], dict[date, int]]:
    """For each adversity code and month: cases on which it was first recorded that month (a case
    counts once per adversity, whoever recorded it, sensitive records included but never shown),
    for first records in [since, until). Also, for each date in `period_starts`, the number of
    cases with any of these first records from that date to `until` (a prevalence denominator).
    One query; case ids stay inside this function."""
    access.check_partnership_figures(actor)
    firsts = (
        AdversityRecord.objects.filter(code__in=codes)
        .values("case_id", "code")
        .annotate(first=Min("recorded_at"))
        .filter(first__gte=_start(since), first__lt=_start(until))
        .values_list("case_id", "code", "first")
    )
    counts: dict[tuple[str, date], int] = {}
    cases: dict[date, set] = {start: set() for start in period_starts}
    for case_id, code, first in firsts:
        month = _month(first)
        counts[(code, month)] = counts.get((code, month), 0) + 1
        for start in period_starts:
            if month >= start:
                cases[start].add(case_id)
    return counts, {start: len(ids) for start, ids in cases.items()}
