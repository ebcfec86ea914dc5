"""The partnership figures behind the reports page: raw counts by month, before suppression.

Every function checks the actor may read partnership figures (casework.access) and returns only
aggregates. Referral and screening figures come from casework/reports.py. Programme intake and
adversity prevalence have no report queries in their apps yet, so the aggregate queries are here;
they read counts and dates only, never names or content.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Count, DateField, Min
from django.db.models.functions import TruncMonth
from django.utils import timezone

from casework import access as casework_access
from casework import reports as casework_reports
from casework.models import AdversityRecord
from casework.vocabularies import ADVERSITIES
from partners.actor import Actor
from programmes.models import Enrolment, EnrolmentStatus, Programme

SCREENING_COLUMNS = ["No further action", "Led to support", "Other outcome"]


@dataclass(frozen=True)
class Period:
    since: date  # first day of the first month
    until: date  # first day of the month after the last
    months: list[date]

    @property
    def labels(self) -> list[str]:
        return [m.strftime("%b %Y") for m in self.months]


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def period(months: int, today: date | None = None) -> Period:
    """The last `months` calendar months, this one included."""
    this_month = (today or timezone.localdate()).replace(day=1)
    first = _add_months(this_month, -(months - 1))
    return Period(
        since=first,
        until=_add_months(this_month, 1),
        months=[_add_months(first, n) for n in range(months)],
    )


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.replace(day=1)


def screening_by_month(actor: Actor, p: Period) -> list[list[int]]:
    """Per month received: [no further action, led to support, any other outcome]."""
    rows = casework_reports.nfa_rate_by_partner_month(actor=actor, since=p.since, until=p.until)
    counts = {m: [0, 0, 0] for m in p.months}
    for row in rows:
        month = _month(row["month"])
        if month in counts:
            c = counts[month]
            c[0] += row["nfa"]
            c[1] += row["support"]
            c[2] += row["screened"] - row["nfa"] - row["support"]
    return [counts[m] for m in p.months]


def programmes(actor: Actor) -> list[Programme]:
    casework_access.check_partnership_figures(actor)
    return list(Programme.objects.order_by("name"))


def _by_programme_month(rows, programme_ids, p: Period) -> list[list[int]]:
    counts = {m: {pid: 0 for pid in programme_ids} for m in p.months}
    for row in rows:
        month = _month(row["month"])
        if month in counts and row["programme_id"] in counts[month]:
            counts[month][row["programme_id"]] += row["n"]
    return [[counts[m][pid] for pid in programme_ids] for m in p.months]


def programme_referrals_by_month(actor: Actor, p: Period, programme_ids) -> list[list[int]]:
    """Referrals to each programme by the month they were made."""
    casework_access.check_partnership_figures(actor)
    rows = (
        Enrolment.objects.filter(referred_at__gte=_start(p.since), referred_at__lt=_start(p.until))
        .annotate(month=TruncMonth("referred_at", output_field=DateField()))
        .values("programme_id", "month")
        .annotate(n=Count("id"))
    )
    return _by_programme_month(rows, programme_ids, p)


def programme_places_by_month(actor: Actor, p: Period, programme_ids) -> list[list[int]]:
    """People given a place (enrolled) on each programme by the month they enrolled."""
    casework_access.check_partnership_figures(actor)
    rows = (
        Enrolment.objects.filter(enrolled_at__gte=_start(p.since), enrolled_at__lt=_start(p.until))
        .annotate(month=TruncMonth("enrolled_at", output_field=DateField()))
        .values("programme_id", "month")
        .annotate(n=Count("id"))
    )
    return _by_programme_month(rows, programme_ids, p)


def programme_waits(actor: Actor, p: Period, programme_ids) -> dict:
    """For people enrolled in the period: how many, and the median days from referral to a place.
    Also how many are waiting now. The caller hides medians over fewer people than the threshold."""
    casework_access.check_partnership_figures(actor)
    waits: dict = {pid: [] for pid in programme_ids}
    for pid, referred, enrolled in Enrolment.objects.filter(
        enrolled_at__gte=_start(p.since), enrolled_at__lt=_start(p.until)
    ).values_list("programme_id", "referred_at", "enrolled_at"):
        if pid in waits:
            waits[pid].append(max((enrolled - referred).days, 0))
    waiting_now = dict(
        Enrolment.objects.filter(status=EnrolmentStatus.WAITLISTED)
        .values("programme_id")
        .annotate(n=Count("id"))
        .values_list("programme_id", "n")
    )
    return {
        pid: {
            "enrolled": len(days),
            "median_days": statistics.median(days) if days else None,
            "waiting_now": waiting_now.get(pid, 0),
        }
        for pid, days in waits.items()
    }


ADVERSITY_ITEMS = [a for a in ADVERSITIES if a.group in ("ace", "wider")]


def adversities_by_month(actor: Actor, p: Period) -> tuple[list[list[int]], int]:
    """For each adversity (rows) and month (columns): cases on which it was first recorded that
    month. A case counts once per adversity, however many partners recorded it. Also the number
    of cases counted anywhere in the table (the prevalence denominator)."""
    casework_access.check_partnership_figures(actor)
    codes = [a.code for a in ADVERSITY_ITEMS]
    firsts = (
        AdversityRecord.objects.filter(code__in=codes)
        .values("case_id", "code")
        .annotate(first=Min("recorded_at"))
        .filter(first__gte=_start(p.since), first__lt=_start(p.until))
        .values_list("case_id", "code", "first")
    )
    index = {m: n for n, m in enumerate(p.months)}
    counts = {code: [0] * len(p.months) for code in codes}
    cases = set()
    for case_id, code, first in firsts:
        month = _month(first)
        if month in index:
            counts[code][index[month]] += 1
            cases.add(case_id)
    return [counts[code] for code in codes], len(cases)
