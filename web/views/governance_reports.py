"""The record of processing activities (UK GDPR Article 30) for the partnership's auditors, as a
page and a CSV download: built by reports/processing.py, whose counts are already published
(suppressed and rounded); this module only renders them.

The record holds no personal data (agreements, partners and counts), but what left the system, when
and for whom is kept in the access log, like the partnership figures: by its id only.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from audit.services import Access, access_record
from cases import access
from reports import processing
from web.pages import page


def _log(actor, action: str, fmt: str) -> None:
    access_record(
        actor=actor,
        action=action,
        accesses=[Access("report", "processing_record")],
        detail={"format": fmt},
    )


@page()
def processing_record(request, actor):
    record = processing.processing_record(actor=actor)
    _log(actor, "view_report", "html")
    return render(
        request,
        "web/processing_record.html",
        {"record": record, "notes": processing.notes(record)},
    )


@page()
def processing_record_csv(request, actor):
    access.check_processing_record(actor, action="export")
    record = processing.processing_record(actor=actor)
    _log(actor, "export", "csv")
    response = HttpResponse(processing.csv_text(record), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="record-of-processing-{record.at:%Y-%m-%d}.csv"'
    )
    return response
