"""A partner manager's views: the partner's caseload and staff (with trauma-training levels and
supervision: each person's check-ins are on their own page, web/views/wellbeing.py)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone

from audit.services import Access, access_record
from cases import access
from cases.models import CaseStatus
from cases.selectors import visible_cases
from casework import access as casework_access
from casework import selectors as casework_selectors
from casework import services as casework_services
from casework.vocabularies import label
from core.errors import DomainError
from followups import selectors as followup_selectors
from followups.kinds import SUPERVISION_CHECK_IN
from partners.models import Membership, TrainingRecord
from web.forms.manager import BreakGlassDecisionForm
from web.pages import form_error, page
from wellbeing import access as wellbeing_access
from wellbeing import selectors as wellbeing_selectors


@page(access.oversees_partner)
def caseload(request, actor):
    cases = visible_cases(actor).filter(lead_partner=actor.partner)
    counts = dict(cases.order_by().values_list("status").annotate(n=Count("pk")))
    status = request.GET.get("status", "")
    if status in CaseStatus.values:
        cases = cases.filter(status=status)
    else:
        status = ""
    page_obj = Paginator(cases.order_by("status", "-updated_at"), 50).get_page(
        request.GET.get("page")
    )
    access.log_case_list(actor, page_obj.object_list, action="list")
    return render(
        request,
        "web/manager_caseload.html",
        {
            "page_obj": page_obj,
            "status": status,
            "statuses": [(s, label, counts.get(s, 0)) for s, label in CaseStatus.choices],
        },
    )


@page(access.oversees_partner)
def staff(request, actor):
    members = list(
        Membership.objects.filter(partner=actor.partner, user__is_active=True)
        .select_related("user", "user__profile")
        .order_by("role", "user__full_name")
    )
    latest: dict = {}
    for record in TrainingRecord.objects.filter(user_id__in=[m.user_id for m in members]).order_by(
        "user_id", "-completed_on"
    ):
        latest.setdefault(record.user_id, record)
    checkins: dict = {}
    for f in (
        followup_selectors.open_followups(actor)
        .filter(kind=SUPERVISION_CHECK_IN)
        .order_by("due_at")
    ):
        checkins.setdefault(f.assignee_user_id, f)
    # That a check-in waits for sign-off is about the person: logged like any list of them.
    awaiting = list(wellbeing_selectors.awaiting_sign_off(actor=actor).only("pk", "subject_id"))
    wellbeing_access.log_check_ins(actor, awaiting, action="list_check_ins")
    waiting = {c.subject_id for c in awaiting}
    rows = []
    for m in members:
        profile = getattr(m.user, "profile", None)
        rows.append(
            {
                "user": m.user,
                "role": m.get_role_display(),
                "job_title": profile.job_title if profile else "",
                "level": profile.get_trauma_training_level_display() if profile else "Not recorded",
                "high_exposure": bool(profile and profile.high_exposure),
                "training": latest.get(m.user_id),
                "checkin": checkins.get(m.user_id),
                "awaiting_sign_off": m.user_id in waiting,
            }
        )
    return render(request, "web/manager_staff.html", {"rows": rows})


@page(access.oversees_partner)
def screening_queue(request, actor):
    """Referrals on cases the partner leads that still wait for joint screening, soonest first."""
    referrals = list(
        casework_selectors.referrals_with_related(
            casework_access.referrals_visible_to(actor).filter(
                case__lead_partner=actor.partner, screened_at__isnull=True
            )
        )
        .select_related("case__subject")
        .order_by("screening_due_at")
    )
    for r in referrals:
        r.concern_labels = [label("concerns", c) for c in r.concerns]
    casework_access.log_records(actor, "referral", referrals, action="list")
    return render(
        request,
        "web/manager_screening.html",
        {"referrals": referrals, "now": timezone.now()},
    )


@page(casework_access.can_approve_break_glass)
def break_glass_requests(request, actor):
    """Second break-glass requests within 24 hours from the manager's own staff, to approve or
    refuse. Only the case reference and the reason are shown: the case stays closed until then."""
    form = BreakGlassDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = casework_services.break_glass_decide(
                actor=actor,
                request_id=form.cleaned_data["request"],
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            done = "approved" if grant.opened_at else "refused"
            messages.success(
                request, f"Request {done}. {grant.user.get_full_name()} has been told."
            )
            return redirect("web:break-glass-requests")
    pending = list(
        casework_access.break_glass_requests_for_approval(actor)
        .select_related("user", "case")
        .order_by("requested_at")
    )
    # The reasons are free text about a case: reading them is logged, by id.
    access_record(
        actor=actor,
        action="list_break_glass_requests",
        accesses=[Access("break_glass", r.pk, case_id=r.case_id) for r in pending],
    )
    return render(request, "web/manager_break_glass.html", {"pending": pending, "form": form})
