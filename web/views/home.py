"""My work: what needs the signed-in person's attention, for their role."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cases import access
from cases.selectors import visible_cases
from partners.middleware import idle_seconds_left
from web import worklists
from web.pages import page

LIMIT = 20


@page()
def my_work(request, actor):
    if access.reviews_access(actor):
        return redirect("web:access-log")
    if not access.reads_case_content(actor):
        return redirect("/admin/")
    cases = visible_cases(actor).exclude(status="closed").order_by("-updated_at")
    mine = list(cases.filter(lead_practitioner=actor.user)[:LIMIT])
    partner_led = list(
        cases.filter(lead_partner=actor.partner).exclude(lead_practitioner=actor.user)[:LIMIT]
    )
    shared = list(cases.exclude(lead_partner=actor.partner)[:LIMIT])
    shown = mine + partner_led + shared
    access.log_case_list(actor, shown, action="list")
    now = timezone.now()
    context = {
        "mine": mine,
        "partner_led": partner_led,
        "shared": shared,
        "now": now,
        **worklists.my_work_lists(actor),
        # A coach's or mentor's own enrolments, and what arrived for the partner lately.
        "caseload": worklists.caseload(actor),
        **worklists.inbox(actor, now),
    }
    worklists.name_followup_subjects(actor, context.get("followups", []))
    return render(request, "web/my_work.html", context)


@require_POST
@page()
def keep_alive(request, actor):
    """The session middleware has already recorded this request as activity."""
    return HttpResponse(status=204)


@never_cache
@require_GET
def session_status(request):
    """Seconds before the idle timeout signs this session out, asked by an open tab before it
    warns or signs out: another tab may have been in use meanwhile. Asking is not activity
    (partners.middleware.NOT_ACTIVITY), and a signed-out session answers 0 rather than a
    redirect to the sign-in page, so this is not a @page."""
    return JsonResponse({"remaining": idle_seconds_left(request)})
