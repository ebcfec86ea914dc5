"""Partnership figures: screening outcomes, programme intake and waits, adversity prevalence.

Counts under settings.SUPPRESSION_THRESHOLD are shown as "<10" and more are hidden so none can be
worked out (web/reports.py). Reading or exporting the figures is access-logged like any export.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from audit.services import Access, access_record, access_refused
from casework import access as casework_access
from web import report_data
from web.pages import page
from web.reports import Cell, bars, build_table, percent, rate, to_csv

PERIODS = {6: "Last 6 months", 12: "Last 12 months", 24: "Last 24 months"}
DEFAULT_MONTHS = 12


def _check(actor, action: str) -> None:
    if not casework_access.can_read_partnership_figures(actor):
        access_refused(
            actor=actor, action=action, object_type="report", object_id="partnership",
            reason="not a coordinator, manager or auditor",
        )  # fmt: skip
    casework_access.check_partnership_figures(actor)


def _months(request) -> int:
    try:
        months = int(request.GET.get("months", DEFAULT_MONTHS))
    except ValueError:
        return DEFAULT_MONTHS
    return months if months in PERIODS else DEFAULT_MONTHS


def _figures(actor, months: int) -> dict:
    t = settings.SUPPRESSION_THRESHOLD
    p = report_data.period(months)
    screening = build_table(
        title="Referrals screened, by outcome and month received",
        row_labels=p.labels,
        column_labels=report_data.SCREENING_COLUMNS,
        values=report_data.screening_by_month(actor, p),
        threshold=t,
        row_heading="Month received",
        total_label="Screened",
        totals_row_label="All months",
    )
    screening_rates = [
        {
            "label": row["label"],
            "nfa": rate(row["cells"][0], row["total"]),
            "support": rate(row["cells"][1], row["total"]),
        }
        for row in screening.rows
    ]
    nfa, support = (rate(screening.column_totals[k], screening.total) for k in (0, 1))
    overall = {
        "shown": nfa is not None and support is not None,
        "nfa": percent(nfa),
        "support": percent(support),
    }
    figures: dict = {
        "period": p,
        "threshold": t,
        "screening": screening,
        "screening_rates": [
            {**r, "nfa_text": percent(r["nfa"]), "support_text": percent(r["support"])}
            for r in screening_rates
        ],
        "screening_overall": overall,
        "screening_chart": bars(
            p.labels,
            [[r["nfa"] for r in screening_rates], [r["support"] for r in screening_rates]],
            t,
        ),
        "tables": [screening],
    }

    programmes = report_data.programmes(actor)
    if programmes:
        ids = [pr.pk for pr in programmes]
        names = [pr.name for pr in programmes]
        referrals = build_table(
            title="Referrals to programmes, by month",
            row_labels=p.labels,
            column_labels=names,
            values=report_data.programme_referrals_by_month(actor, p, ids),
            threshold=t,
            row_heading="Month referred",
            total_label="All programmes",
            totals_row_label="All months",
        )
        places = build_table(
            title="Places taken (people enrolled), by month",
            row_labels=p.labels,
            column_labels=names,
            values=report_data.programme_places_by_month(actor, p, ids),
            threshold=t,
            row_heading="Month enrolled",
            total_label="All programmes",
            totals_row_label="All months",
        )
        waits = report_data.programme_waits(actor, p, ids)
        wait_rows = []
        for k, pr in enumerate(programmes):
            # The enrolled count is the places table's column total, suppressed the same way.
            enrolled = places.column_totals[k]
            median = waits[pr.pk]["median_days"]
            wait_rows.append(
                {
                    "programme": pr.name,
                    "enrolled": enrolled.display(t),
                    "median": (
                        f"{median:g} days" if enrolled.shown and median is not None else "[c]"
                    ),
                    "waiting": Cell(
                        waits[pr.pk]["waiting_now"],
                        "primary" if waits[pr.pk]["waiting_now"] < t else "",
                    ).display(t),
                }
            )
        figures.update(
            {
                "programme_referrals": referrals,
                "programme_places": places,
                "waits": wait_rows,
                "intake_chart": bars(p.labels, [referrals.row_totals, places.row_totals], t),
            }
        )
        figures["tables"] += [referrals, places]

    values, cases = report_data.adversities_by_month(actor, p)
    adversities = build_table(
        title="Cases with each adversity, by month first recorded",
        row_labels=[a.label for a in report_data.ADVERSITY_ITEMS],
        column_labels=p.labels,
        values=values,
        threshold=t,
        row_heading="Adversity",
        total_label="All months",
        totals_row_label="All adversities",
    )
    denominator = Cell(cases, "primary" if cases < t else "")
    figures.update(
        {
            "adversities": adversities,
            "adversity_cases": denominator.display(t),
            "adversity_prevalence": [
                percent(rate(row["total"], denominator)) for row in adversities.rows
            ],
            "adversity_chart": bars(adversities.row_labels, [adversities.row_totals], t),
        }
    )
    figures["tables"].append(adversities)
    return figures


def _log(actor, action: str, months: int, fmt: str) -> None:
    # Aggregates carry no personal data, but what left the system, when and for whom is kept.
    access_record(
        actor=actor,
        action=action,
        accesses=[Access("report", "partnership")],
        detail={"months": months, "format": fmt},
    )


@page()
def partnership(request, actor):
    _check(actor, "view_report")
    months = _months(request)
    figures = _figures(actor, months)
    _log(actor, "view_report", months, "html")
    return render(
        request,
        "web/reports.html",
        {**figures, "months": months, "periods": PERIODS.items()},
    )


@page()
def partnership_csv(request, actor):
    _check(actor, "export")
    months = _months(request)
    figures = _figures(actor, months)
    _log(actor, "export", months, "csv")
    extra = [
        (
            "Prevalence: share of cases with any adversity recorded in the period",
            [["Adversity", "Cases", "Share"]]
            + [
                [row["label"], row["total"].display(figures["threshold"]), share]
                for row, share in zip(
                    figures["adversities"].rows, figures["adversity_prevalence"], strict=True
                )
            ]
            + [["Cases with any adversity", figures["adversity_cases"], ""]],
        )
    ]
    if figures.get("waits"):
        extra.insert(
            0,
            (
                "Waiting times",
                [["Programme", "People enrolled", "Median days from referral to a place",
                  "Waiting now"]]
                + [[w["programme"], w["enrolled"], w["median"], w["waiting"]]
                   for w in figures["waits"]],
            ),
        )  # fmt: skip
    response = HttpResponse(
        to_csv(figures["tables"], extra=extra), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="partnership-figures-{figures["period"].since:%Y-%m}'
        f'-to-{figures["period"].months[-1]:%Y-%m}.csv"'
    )
    return response
