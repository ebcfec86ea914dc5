"""Information governance pages: a manager's retention queue (extend or dispose of closed cases
whose retention date has come) and the legal-hold control. Rights are cases.access's; the
services in cases/retention.py check them again."""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from cases import access, retention
from core.errors import Conflict, NotFound, ValidationFailed
from web.forms.retention import DisposeForm, LegalHoldForm, RetentionExtendForm
from web.pages import form_error, page


@page(access.reviews_retention)
def retention_queue(request, actor):
    due = retention.retention_due(actor).order_by("retention_until", "id")
    page_obj = Paginator(due, 50).get_page(request.GET.get("page"))
    access.log_case_list(actor, page_obj.object_list, action="list_retention_due")
    return render(request, "web/retention_queue.html", {"page_obj": page_obj})


def _posted(request):
    # An empty POST (an unticked box) is still a submission: bind it so its errors show.
    return request.POST if request.method == "POST" else None


def _decidable(actor, case_id):
    return access.case_for_governance(
        actor, case_id, access.can_decide_retention, action="retention_decision"
    )


@page(access.reviews_retention)
def retention_extend(request, actor, case_id):
    case = _decidable(actor, case_id)
    form = RetentionExtendForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            case = retention.retention_extend(
                actor=actor,
                case=case,
                until=form.cleaned_data["until"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationFailed, Conflict) as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                f"Case {case.reference} will be kept until {case.retention_until:%-d %B %Y}.",
            )
            return redirect("web:retention")
    return render(request, "web/retention_extend.html", {"case": case, "form": form})


@page(access.reviews_retention)
def retention_dispose(request, actor, case_id):
    """A confirmation page that says what will be deleted (how many of each kind of record, never
    what they say), then the disposal itself."""
    case = _decidable(actor, case_id)
    form = DisposeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            disposal = retention.case_dispose(actor=actor, case=case)
        except Conflict as exc:
            form_error(form, exc)
        except NotFound:
            messages.success(request, "That case has already been deleted.")
            return redirect("web:retention")
        else:
            messages.success(
                request,
                f"Case {disposal.reference} and everything in it have been deleted. The partners "
                "who could see it have been told.",
            )
            return redirect("web:retention")
    summary = retention.disposal_summary(case)
    hold = retention.live_hold(case.pk).select_related("placed_by", "placed_by_partner").first()
    return render(
        request,
        "web/retention_dispose.html",
        {
            "case": case,
            "form": form,
            "hold": hold,
            "parts": [(summary.labels[key], n) for key, n in summary.counts.items() if n],
            "summary": summary,
            "partners": sorted(p.name for p in access.partners_with_access(case)),
        },
    )


@page()
def legal_hold(request, actor, case_id):
    """Place a legal hold, or lift the one in place: the lead partner's managers and the
    partnership's auditors (who reach it from the case's access log: they never read the case)."""
    case = access.case_for_governance(actor, case_id, access.can_hold, action="view_legal_hold")
    hold = retention.live_hold(case.pk).select_related("placed_by", "placed_by_partner").first()
    form = LegalHoldForm(_posted(request)) if hold is None else None
    if request.method == "POST":
        back = (
            reverse("web:case", args=[case.pk])
            if access.cases_visible_to(actor).filter(pk=case.pk).exists()
            else reverse("web:case-access-log", args=[case.pk])
        )
        if hold is not None:
            with contextlib.suppress(NotFound):  # lifted meanwhile: the outcome asked for
                retention.legal_hold_lift(actor=actor, case=case)
            messages.success(request, f"The legal hold on case {case.reference} has been lifted.")
            return redirect(back)
        if form.is_valid():
            try:
                retention.legal_hold_place(
                    actor=actor, case=case, reason=form.cleaned_data["reason"]
                )
            except (ValidationFailed, Conflict) as exc:
                form_error(form, exc)
            else:
                messages.success(
                    request, f"Case {case.reference} is under a legal hold: it cannot be deleted."
                )
                return redirect(back)
    return render(request, "web/legal_hold.html", {"case": case, "hold": hold, "form": form})
