"""The partnership figures for an actor: raw counts from the domain apps' report queries
(casework/reports.py, programmes/reports.py), published by reports/figures.py.

Only those who may read partnership figures get them (casework.access: coordinators, managers and
auditors); every query below checks again. Nothing here returns a person or a record.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import timezone

from casework import access as casework_access
from casework import reports as casework_reports
from casework.vocabularies import ADVERSITIES
from partners.actor import Actor
from programmes import reports as programme_reports
from reports.figures import PERIODS, Figures, Raw, publish_figures

ADVERSITY_ITEMS = [a for a in ADVERSITIES if a.group in ("ace", "wider")]


def add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partnership_figures(*, actor: Actor, today: date | None = None) -> Figures:
    """Every table for every period (the last 6, 12 and 24 months, this one included), published
    together so that no combination of them recovers a hidden figure."""
    casework_access.check_partnership_figures(actor)
    this_month = (today or timezone.localdate()).replace(day=1)
    months = [add_months(this_month, n - max(PERIODS) + 1) for n in range(max(PERIODS))]
    since, until = months[0], add_months(this_month, 1)
    starts = {p: months[-p] for p in PERIODS}

    screening = casework_reports.screening_by_month(actor=actor, since=since, until=until)
    codes = [a.code for a in ADVERSITY_ITEMS]
    adversities, cases = casework_reports.adversities_first_recorded(
        actor=actor, codes=codes, since=since, until=until, period_starts=list(starts.values())
    )
    raw = Raw(
        months=months,
        screening=[screening.get(m, [0, 0, 0]) for m in months],
        adversity_labels=[str(a.label) for a in ADVERSITY_ITEMS],
        adversities=[[adversities.get((code, m), 0) for code in codes] for m in months],
        adversity_cases={p: cases[starts[p]] for p in PERIODS},
    )
    programmes = programme_reports.programmes_reported(actor=actor)
    if programmes:
        ids = [pid for pid, _ in programmes]
        referrals = programme_reports.referrals_by_month(actor=actor, since=since, until=until)
        places = programme_reports.places_by_month(actor=actor, since=since, until=until)
        medians = programme_reports.median_waits(
            actor=actor, starts=list(starts.values()), until=until
        )
        waiting = programme_reports.waiting_now(actor=actor)
        raw.programmes = programmes
        raw.referrals = [[referrals.get((pid, m), 0) for pid in ids] for m in months]
        raw.places = [[places.get((pid, m), 0) for pid in ids] for m in months]
        raw.medians = {(p, pid): medians.get((starts[p], pid)) for p in PERIODS for pid in ids}
        raw.waiting = [waiting.get(pid, 0) for pid in ids]
    return publish_figures(raw, threshold=settings.SUPPRESSION_THRESHOLD)
