"""Partnership figures: screening outcomes, programme intake and waits, adversity prevalence.

The figures are published by reports/ (suppression and rounding, the same for every period, see
reports/disclosure.py); this module only picks the period and renders. Reading or exporting the
figures is access-logged like any export.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from audit.services import Access, access_record, access_refused
from casework import access as casework_access
from reports.selectors import partnership_figures
from web import reports
from web.pages import page

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
    return months if months in reports.PERIOD_LABELS else DEFAULT_MONTHS


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
    context = reports.page(partnership_figures(actor=actor), months)
    _log(actor, "view_report", months, "html")
    return render(
        request, "web/reports.html", {**context, "periods": reports.PERIOD_LABELS.items()}
    )


@page()
def partnership_csv(request, actor):
    _check(actor, "export")
    months = _months(request)
    context = reports.page(partnership_figures(actor=actor), months)
    _log(actor, "export", months, "csv")
    response = HttpResponse(reports.csv_text(context), content_type="text/csv; charset=utf-8")
    period = context["period"]
    response["Content-Disposition"] = (
        f'attachment; filename="partnership-figures-{period.since:%Y-%m}'
        f'-to-{period.months[-1]:%Y-%m}.csv"'
    )
    return response
