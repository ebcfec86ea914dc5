"""The partnership figures as published: every table for every period, suppressed and rounded
together (reports/disclosure.py). Pure: the raw counts come from reports/selectors.py.

Each table is published once for all the periods the product offers, so a month reads the same
whichever period is chosen, and no combination of periods, totals and downloads recovers a hidden
figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from reports.disclosure import ROUNDING_BASE, Cell, Release, publish_count, publish_release

PERIODS = (6, 12, 24)  # months, the current one included
SCREENING_COLUMNS = ["No further action", "Led to support", "Other outcome"]


@dataclass
class Raw:
    """True counts, months oldest first (as many as the longest period)."""

    months: list[date]
    screening: list[list[int]]  # month → [no further action, led to support, other outcome]
    adversity_labels: list[str]
    adversities: list[list[int]]  # month → cases with each adversity first recorded then
    adversity_cases: dict[int, int]  # period → cases with any of them first recorded in it
    programmes: list[tuple] = field(default_factory=list)  # (id, name)
    referrals: list[list[int]] = field(default_factory=list)  # month → programme
    places: list[list[int]] = field(default_factory=list)  # month → programme
    medians: dict[tuple, float | None] = field(default_factory=dict)  # (period, id) → days
    waiting: list[int] = field(default_factory=list)  # programme → on the waiting list now


@dataclass
class Figures:
    months: list[date]
    threshold: int
    base: int
    screening: Release
    adversity_labels: list[str]
    adversities: Release  # distinct: cases with any adversity, per period
    programmes: list[tuple]
    referrals: Release | None
    places: Release | None
    medians: dict[tuple, float | None]  # only where the places behind them are shown
    waiting: list[Cell]


def publish_figures(raw: Raw, *, threshold: int, base: int = ROUNDING_BASE) -> Figures:
    """Everything the reports page and its download may show, for every period."""
    if len(raw.months) != max(PERIODS):
        raise ValueError("one row per month of the longest period is needed")

    def release(values, distinct=None) -> Release:
        return publish_release(
            values, periods=PERIODS, threshold=threshold, base=base, distinct=distinct
        )

    referrals = places = None
    medians: dict[tuple, float | None] = {}
    if raw.programmes:
        referrals, places = release(raw.referrals), release(raw.places)
        for p in PERIODS:
            for k, (pid, _) in enumerate(raw.programmes):
                # A median over fewer people than the threshold is not given.
                if places.category_totals[p][k].shown:
                    medians[(p, pid)] = raw.medians.get((p, pid))
    return Figures(
        months=raw.months,
        threshold=threshold,
        base=base,
        screening=release(raw.screening),
        adversity_labels=raw.adversity_labels,
        adversities=release(raw.adversities, distinct=raw.adversity_cases),
        programmes=raw.programmes,
        referrals=referrals,
        places=places,
        medians=medians,
        waiting=[publish_count(n, threshold, base) for n in raw.waiting],
    )
