"""The partnership figures as a page and a download: tables, charts and CSV drawn only from the
published figures (reports/figures.py), for the period the viewer chose. Nothing here counts,
queries or sees a true count: rates and bar lengths come from the published, rounded counts, so
they tell nothing the tables do not.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from core import csv as safe_csv
from reports.disclosure import WITHHELD, Cell, Release
from reports.figures import PERIODS, SCREENING_COLUMNS, Figures

PERIOD_LABELS = {p: f"Last {p} months" for p in PERIODS}


@dataclass
class Table:
    """A published table for one period. `cells[i][j]`, `row_totals[i]`, `column_totals[j]`."""

    title: str
    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell
    threshold: int
    row_heading: str = ""
    total_label: str = "Total"
    totals_row_label: str = "Total"

    @property
    def rows(self) -> list[dict]:
        return [
            {"label": label, "cells": cells, "total": total}
            for label, cells, total in zip(
                self.row_labels, self.cells, self.row_totals, strict=True
            )
        ]

    def entries(self) -> list[Cell]:
        return [
            *(c for row in self.cells for c in row),
            *self.row_totals,
            *self.column_totals,
            self.total,
        ]

    def csv_rows(self) -> list[list]:
        rows: list[list] = [[self.row_heading, *self.column_labels, self.total_label]]
        for label, cells, total in zip(self.row_labels, self.cells, self.row_totals, strict=True):
            rows.append([label, *(csv_value(c, self.threshold) for c in [*cells, total])])
        rows.append(
            [
                self.totals_row_label,
                *(csv_value(c, self.threshold) for c in [*self.column_totals, self.total]),
            ]
        )
        return rows


def csv_value(cell: Cell, threshold: int) -> int | str:
    """A shown count as a number (so the column stays numeric), a hidden one as its mark."""
    return cell.count if cell.shown and cell.count is not None else cell.display(threshold)


@dataclass(frozen=True)
class Period:
    months: list[date]

    @property
    def since(self) -> date:
        return self.months[0]

    @property
    def labels(self) -> list[str]:
        return [month_label(m) for m in self.months]


def month_label(month: date) -> str:
    return month.strftime("%b %Y")


def months_table(
    release: Release, period: int, months: list[date], *, title: str, column_labels, **labels
) -> Table:
    """Months down the side (one row each), categories across."""
    span = release.months_of(period)
    return Table(
        title=title,
        row_labels=[month_label(m) for m in months[span]],
        column_labels=list(column_labels),
        cells=release.cells[span],
        row_totals=release.month_totals[span],
        column_totals=release.category_totals[period],
        total=release.totals[period],
        threshold=release.threshold,
        **labels,
    )


def categories_table(
    release: Release, period: int, months: list[date], *, title: str, row_labels, **labels
) -> Table:
    """Categories down the side, months across."""
    span = release.months_of(period)
    cells = release.cells[span]
    return Table(
        title=title,
        row_labels=list(row_labels),
        column_labels=[month_label(m) for m in months[span]],
        cells=[[month[j] for month in cells] for j in range(len(row_labels))],
        row_totals=release.category_totals[period],
        column_totals=release.month_totals[span],
        total=release.totals[period],
        threshold=release.threshold,
        **labels,
    )


def rate(part: Cell, whole: Cell) -> float | None:
    """A proportion of published (rounded) counts; None when either is hidden or the whole is 0.
    Rounding is monotone, so it never exceeds 100%."""
    if not (part.shown and whole.shown) or not whole.count:
        return None
    return (part.count or 0) / whole.count


def percent(value: float | None) -> str:
    return "[c]" if value is None else f"{value * 100:.0f}%"


def page(figures: Figures, months: int) -> dict:
    """Everything the page (and its download) shows for the chosen period."""
    t = figures.threshold
    period = Period(figures.months[-months:])
    screening = months_table(
        figures.screening, months, figures.months,
        title="Referrals screened, by outcome and month received",
        column_labels=SCREENING_COLUMNS, row_heading="Month received",
        total_label="Screened", totals_row_label="All months",
    )  # fmt: skip
    screening_rates = [
        {
            "label": row["label"],
            "nfa": rate(row["cells"][0], row["total"]),
            "support": rate(row["cells"][1], row["total"]),
        }
        for row in screening.rows
    ]
    nfa, support = (rate(screening.column_totals[k], screening.total) for k in (0, 1))
    context: dict = {
        "period": period,
        "months": months,
        "threshold": t,
        "base": figures.base,
        "screening": screening,
        "screening_rates": [
            {**r, "nfa_text": percent(r["nfa"]), "support_text": percent(r["support"])}
            for r in screening_rates
        ],
        "screening_overall": {
            "shown": nfa is not None and support is not None,
            "nfa": percent(nfa),
            "support": percent(support),
        },
        "screening_chart": bars(
            period.labels,
            [[r["nfa"] for r in screening_rates], [r["support"] for r in screening_rates]],
            t,
        ),
        "tables": [screening],
    }

    if figures.programmes and figures.referrals and figures.places:
        names = [name for _, name in figures.programmes]
        referrals = months_table(
            figures.referrals, months, figures.months,
            title="Referrals to programmes, by month", column_labels=names,
            row_heading="Month referred", total_label="All programmes",
            totals_row_label="All months",
        )  # fmt: skip
        places = months_table(
            figures.places, months, figures.months,
            title="Places taken (people enrolled), by month", column_labels=names,
            row_heading="Month enrolled", total_label="All programmes",
            totals_row_label="All months",
        )  # fmt: skip
        waits = []
        for k, (pid, name) in enumerate(figures.programmes):
            # People given a place: the places table's period total, published the same way.
            enrolled = places.column_totals[k]
            median = figures.medians.get((months, pid))
            waits.append(
                {
                    "programme": name,
                    "enrolled": enrolled,
                    "median": f"{median:g} days" if median is not None else "[c]",
                    "waiting": figures.waiting[k],
                }
            )
        context.update(
            {
                "programme_referrals": referrals,
                "programme_places": places,
                "waits": waits,
                "intake_chart": bars(period.labels, [referrals.row_totals, places.row_totals], t),
            }
        )
        context["tables"] += [referrals, places]

    adversities = categories_table(
        figures.adversities, months, figures.months,
        title="Cases with each adversity, by month first recorded",
        row_labels=figures.adversity_labels, row_heading="Adversity",
        total_label="All months", totals_row_label="All adversities",
    )  # fmt: skip
    assert figures.adversities.distinct is not None
    cases = figures.adversities.distinct[months]
    context.update(
        {
            "adversities": adversities,
            "adversity_cases": cases,
            "adversity_prevalence": [
                percent(rate(row["total"], cases)) for row in adversities.rows
            ],
            "adversity_chart": bars(adversities.row_labels, [adversities.row_totals], t),
        }
    )
    context["tables"].append(adversities)
    context["any_withheld"] = any(
        c.kind == WITHHELD
        for c in [*(c for table in context["tables"] for c in table.entries()), cases]
    )
    return context


def csv_text(context: dict) -> str:
    """The page's tables one after another, each under its title, then the waiting times and the
    prevalence, then what the marks mean. Written through core/csv.py."""
    t = context["threshold"]
    sections: list[tuple[str, list[list]]] = [(x.title, x.csv_rows()) for x in context["tables"]]
    if context.get("waits"):
        sections.insert(
            3,
            (
                "Waiting times",
                [["Programme", "People enrolled", "Median days from referral to a place",
                  "Waiting now"]]
                + [[w["programme"], csv_value(w["enrolled"], t), w["median"],
                    csv_value(w["waiting"], t)] for w in context["waits"]],
            ),
        )  # fmt: skip
    sections.append(
        (
            "Prevalence: share of cases with any adversity recorded in the period",
            [["Adversity", "Cases", "Share"]]
            + [
                [row["label"], csv_value(row["total"], t), share]
                for row, share in zip(
                    context["adversities"].rows, context["adversity_prevalence"], strict=True
                )
            ]
            + [["Cases with any adversity", csv_value(context["adversity_cases"], t), ""]],
        )
    )
    out = io.StringIO()
    writer = safe_csv.writer(out)
    for n, (title, rows) in enumerate(sections):
        if n:
            writer.writerow([])
        writer.writerow([title])
        writer.writerows(rows)
    writer.writerow([])
    for note in notes(t, context["base"], context["any_withheld"]):
        writer.writerow([note])
    return out.getvalue()


def notes(threshold: int, base: int, withheld: bool) -> list[str]:
    t = threshold
    found = [
        f"<{t}: fewer than {t}.",
        f"[c]: hidden so that a number under {t} cannot be worked out.",
    ]
    if base > 1:
        found.append(
            f"Every other count is rounded to the nearest {base}, totals separately from their "
            f"parts, so a total may differ from the sum of the counts shown."
        )
    if withheld:
        found.append("[x]: not published for any period, so that months cannot be compared.")
    found.append("Percentages are worked out from the rounded counts.")
    return found


# Charts: server-rendered SVG bars, drawn from the published figures only.

BAR_HEIGHT = 18
BAR_GAP = 10
LABEL_WIDTH = 110
CHART_WIDTH = 480
STUB = 6


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    width: float
    text: str
    hidden: bool
    series: int = 0


def bars(
    labels: Sequence[str], series: Sequence[Sequence[Cell | float | None]], threshold: int
) -> dict:
    """Horizontal bars, one group per label, one bar per series. A hidden count is drawn as a
    short hatched stub of fixed width (its length must not hint at the value) labelled "<10",
    "[c]" or "[x]"; proportions (floats) are drawn on a 0–100% scale."""
    values = [v for s in series for v in s]
    is_rate = any(isinstance(v, float) for v in values) or all(v is None for v in values)
    top = (
        1.0
        if is_rate
        else max([v.count or 0 for v in values if isinstance(v, Cell) and v.shown] + [1])
    )
    scale = CHART_WIDTH - LABEL_WIDTH - 60
    out, y = [], 0
    for index, label in enumerate(labels):
        for n, s in enumerate(series):
            v = s[index]
            if isinstance(v, Cell):
                hidden = not v.shown
                width = STUB if hidden else scale * (v.count or 0) / top
                text = v.display(threshold)
            else:
                hidden = v is None
                width = STUB if hidden else scale * v / top
                text = percent(v)
            out.append(
                Bar(label=label if n == 0 else "", y=y, width=round(width, 1), text=text,
                    hidden=hidden, series=n)
            )  # fmt: skip
            y += BAR_HEIGHT + 2
        y += BAR_GAP
    return {"bars": out, "height": max(y, 1), "width": CHART_WIDTH, "label_width": LABEL_WIDTH}
