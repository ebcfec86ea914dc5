"""A manager's team figures: supervision check-ins on time, and high-exposure staff with support in
place. Counts only, published under the small-number rules (reports/disclosure.py): no names, no
rows about anyone, and nothing here returns a record.

- **Due check-ins, by month.** Every supervision follow-up of the partner's staff (the monthly one
  for high-exposure work, or the date agreed at the last check-in) whose deadline has passed or
  that is done: the monthly one's deadline is the end of its month, an agreed one's is its day. It
  was on time when a check-in was signed off by then. Cancelled ones (the person left, or their
  work changed) are not counted. A month is counted under the month of its deadline.
- **Support in place.** Of the staff on high-exposure work now, those with a check-in signed off
  within SUPPORT_WINDOW (a supervisor has seen them and agreed what support they need).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from followups import kinds
from followups.models import FollowUp
from partners.actor import Actor
from partners.models import User
from reports.disclosure import ROUNDING_BASE, Cell, Release, publish_release, publish_row
from reports.selectors import add_months
from wellbeing import access
from wellbeing.models import CheckIn

MONTHS = 12
SUPPORT_WINDOW = timedelta(days=62)
ON_TIME_COLUMNS = ["Signed off on time", "Late or not yet done"]
SUPPORT_COLUMNS = ["Check-in signed off in the last two months", "No recent check-in signed off"]


@dataclass
class TeamFigures:
    months: list[date]
    threshold: int
    base: int
    on_time: Release
    support: list[Cell]
    support_total: Cell


def _deadline(subject_resource: str, due_at: datetime) -> date:
    due_on = timezone.localdate(due_at)
    if subject_resource == "user":  # the monthly one: any day of its month will do
        return due_on.replace(day=calendar.monthrange(due_on.year, due_on.month)[1])
    return due_on


def on_time_counts(*, partner_id, months: list[date], today: date) -> list[list[int]]:
    """True counts per month (oldest first): [signed off on time, late or not yet done]."""
    index = {m: i for i, m in enumerate(months)}
    counts = [[0, 0] for _ in months]
    since = datetime.combine(months[0], time(0), tzinfo=timezone.get_current_timezone())
    for resource, due_at, status, completed_at in (
        FollowUp.objects.filter(
            kind=kinds.SUPERVISION_CHECK_IN, assignee_partner_id=partner_id, due_at__gte=since
        )
        .exclude(status=FollowUp.Status.CANCELLED)
        .values_list("subject_resource", "due_at", "status", "completed_at")
    ):
        deadline = _deadline(resource, due_at)
        done = status == FollowUp.Status.DONE and completed_at is not None
        month = index.get(deadline.replace(day=1))
        if month is None or (deadline >= today and not done):
            continue  # outside the period, or not due yet
        on_time = done and timezone.localdate(completed_at) <= deadline
        counts[month][0 if on_time else 1] += 1
    return counts


def support_counts(*, partner_id, now: datetime | None = None) -> tuple[int, int]:
    """True counts of the partner's staff on high-exposure work now: (with a check-in signed off
    within SUPPORT_WINDOW, without)."""
    recent = CheckIn.objects.filter(
        subject_id=OuterRef("pk"),
        partner_id=partner_id,
        signed_off_at__gte=(now or timezone.now()) - SUPPORT_WINDOW,
    )
    supported = dict.fromkeys((True, False), 0)
    for has_support in User.objects.filter(
        is_active=True, profile__high_exposure=True, membership__partner_id=partner_id
    ).values_list(Exists(recent), flat=True):
        supported[has_support] += 1
    return supported[True], supported[False]


def team_figures(*, actor: Actor, today: date | None = None) -> TeamFigures:
    """The last MONTHS months (this one included) of the manager's own partner, published."""
    access.check_team_figures(actor)
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    months = [add_months(this_month, n - MONTHS + 1) for n in range(MONTHS)]
    counts = on_time_counts(partner_id=actor.partner.pk, months=months, today=today)
    threshold = settings.SUPPRESSION_THRESHOLD
    support, support_total = publish_row(
        list(support_counts(partner_id=actor.partner.pk)), threshold, ROUNDING_BASE
    )
    return TeamFigures(
        months=months,
        threshold=threshold,
        base=ROUNDING_BASE,
        on_time=publish_release(counts, periods=(MONTHS,), threshold=threshold),
        support=support,
        support_total=support_total,
    )
