"""A partner manager's views: the partner's caseload and staff (with trauma-training levels)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from cases import access
from cases.models import CaseStatus
from casework import access as casework_access
from casework import selectors as casework_selectors
from casework.vocabularies import label
from followups import selectors as followup_selectors
from followups.kinds import SUPERVISION_CHECK_IN
from followups.models import FollowUp
from partners.models import Membership, TrainingRecord
from web.pages import page
from web.selectors import visible_cases

OPEN_FOLLOWUPS = (FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED)


@page("manager")
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


@page("manager")
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
        followup_selectors.followups_visible_to(actor)
        .filter(kind=SUPERVISION_CHECK_IN, status__in=OPEN_FOLLOWUPS)
        .order_by("due_at")
    ):
        checkins.setdefault(f.subject_id, f)
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
            }
        )
    return render(request, "web/manager_staff.html", {"rows": rows})


@page("manager")
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
