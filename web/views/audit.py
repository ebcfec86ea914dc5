"""Information governance: search the access log; break-glass events. Auditors never see content."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from audit.models import AccessLog
from audit.services import Access, access_record
from cases import access
from cases.models import BreakGlassAccess
from core.errors import NotFound
from web.forms import AccessLogSearchForm
from web.pages import page
from web.selectors import case_id_for_reference, case_log_filter


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@page(access.reviews_access)
def access_log(request, actor):
    form = AccessLogSearchForm(request.GET or None)
    rows = AccessLog.objects.select_related("user", "partner", "client")
    filters: dict = {}
    if form.is_valid():
        data = form.cleaned_data
        if data["case"]:
            case_id = case_id_for_reference(actor, data["case"])
            try:
                case = access.case_for_access_log(actor, case_id) if case_id else None
            except NotFound:
                case = None
            if case is None:
                form.add_error("case", "No case has that reference or id")
            else:
                rows = rows.filter(case_log_filter(case))
                filters["case"] = case.reference
        if data["person"]:
            rows = rows.filter(person_id=data["person"])
            filters["person"] = str(data["person"])
        if data["user"]:
            rows = rows.filter(user__email__iexact=data["user"].strip())
            filters["user"] = data["user"].strip().lower()
        if data["date_from"]:
            rows = rows.filter(at__gte=_day_start(data["date_from"]))
            filters["from"] = data["date_from"].isoformat()
        if data["date_to"]:
            rows = rows.filter(at__lt=_day_start(data["date_to"] + dt.timedelta(days=1)))
            filters["to"] = data["date_to"].isoformat()
        if data["refused_only"]:
            rows = rows.filter(allowed=False)
            filters["refused_only"] = True
    searched = form.is_bound and form.is_valid()
    page_obj = Paginator(rows if searched else rows.none(), 50).get_page(request.GET.get("page"))
    if searched:
        # Reading the access log is itself recorded: auditors are accountable too.
        access_record(
            actor=actor,
            action="search_access_log",
            accesses=[Access("access_log", "")],
            detail=filters,
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/audit_access_log.html",
        {"form": form, "page_obj": page_obj, "searched": searched, "query": query.urlencode()},
    )


@page(access.reviews_access)
def break_glass(request, actor):
    events = BreakGlassAccess.objects.select_related("case", "user", "partner")
    page_obj = Paginator(events, 50).get_page(request.GET.get("page"))
    if page_obj.object_list:
        access_record(
            actor=actor,
            action="list_break_glass",
            accesses=[Access("break_glass", e.pk, case_id=e.case_id) for e in page_obj.object_list],
        )
    return render(
        request, "web/audit_break_glass.html", {"page_obj": page_obj, "now": timezone.now()}
    )
