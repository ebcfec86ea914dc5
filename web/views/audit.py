"""Information governance: search the access log; break-glass events. Auditors never see content.

What an auditor may search is decided in one place (cases.access.access_log_visible_to): every row
for the partnership's auditors (the VRU's own), and for another partner's auditors the rows about
their own partner's users and about cases their partner leads. Rows show who, what kind of record
and its id, why, when and the outcome: never `detail`, which older rows may hold content in.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.models import BreakGlassReview
from audit.services import Access, access_record
from cases import access
from cases.selectors import case_id_for_reference
from casework.services import break_glass_review
from core.errors import Conflict, NotFound
from partners.models import User
from web.access_log import access_log_for_display
from web.forms.audit import AccessLogSearchForm
from web.pages import page


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@page(access.reviews_access)
def access_log(request, actor):
    form = AccessLogSearchForm(request.GET or None)
    rows = access.access_log_visible_to(actor)
    # What was searched for, as ids and dates (the log of the log holds no names either).
    searched_for: dict = {}
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
                # The case's own log, with refused attempts at it, as far as this auditor may read.
                rows = access.case_access_log_rows(actor, case)
                searched_for["case"] = str(case.pk)
        if data["person"]:
            rows = rows.filter(person_id=data["person"])
            searched_for["person"] = str(data["person"])
        if data["user"]:
            email = data["user"].strip()
            rows = rows.filter(user__email__iexact=email)
            searched_for["user"] = [
                str(pk)
                for pk in User.objects.filter(email__iexact=email).values_list("pk", flat=True)
            ]
        if data["date_from"]:
            rows = rows.filter(at__gte=_day_start(data["date_from"]))
            searched_for["date_from"] = data["date_from"].isoformat()
        if data["date_to"]:
            rows = rows.filter(at__lt=_day_start(data["date_to"] + dt.timedelta(days=1)))
            searched_for["date_to"] = data["date_to"].isoformat()
        if data["refused_only"]:
            rows = rows.filter(allowed=False)
            searched_for["refused_only"] = True
    searched = form.is_bound and form.is_valid()
    rows = rows.select_related("user", "partner", "client")
    page_obj = Paginator(rows if searched else rows.none(), 50).get_page(request.GET.get("page"))
    if searched:
        # Reading the access log is itself recorded: auditors are accountable too.
        access_record(
            actor=actor,
            action="search_access_log",
            accesses=[Access("access_log", "")],
            detail=searched_for,
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/audit_access_log.html",
        {
            "form": form,
            "page_obj": page_obj,
            "rows": access_log_for_display(page_obj.object_list),
            "searched": searched,
            "query": query.urlencode(),
        },
    )


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(
        label="What did you find? (optional)",
        help_text="For example, the reason matched the emergency; or what you raised with whom.",
        widget=forms.Textarea,
        required=False,
        max_length=2000,
    )


@page(access.reviews_access)
def break_glass(request, actor):
    events = access.break_glass_visible_to(actor).select_related("case", "user", "partner")
    if request.GET.get("show") == "to-review":
        events = events.filter(review__isnull=True)
    page_obj = Paginator(events, 50).get_page(request.GET.get("page"))
    reviews = {
        r.break_glass_id: r
        for r in BreakGlassReview.objects.filter(
            break_glass__in=list(page_obj.object_list)
        ).select_related("reviewed_by", "partner")
    }
    for e in page_obj.object_list:
        e.reviewed = reviews.get(e.pk)
    if page_obj.object_list:
        access_record(
            actor=actor,
            action="list_break_glass",
            accesses=[Access("break_glass", e.pk, case_id=e.case_id) for e in page_obj.object_list],
        )
    return render(
        request,
        "web/audit_break_glass.html",
        {
            "page_obj": page_obj,
            "now": timezone.now(),
            "to_review": request.GET.get("show") == "to-review",
            "query": "show=to-review" if request.GET.get("show") == "to-review" else "",
            "form": BreakGlassReviewForm(),
        },
    )


@require_POST
@page(access.reviews_access)
def break_glass_reviewed(request, actor, event_id):
    """Mark one use of break-glass access as reviewed (casework.access decides who may)."""
    form = BreakGlassReviewForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        break_glass_review(actor=actor, event_id=event_id, note=note)
    except Conflict as exc:
        messages.success(request, exc.message)
    else:
        messages.success(request, "The break-glass use is marked as reviewed.")
    return redirect("web:break-glass")
