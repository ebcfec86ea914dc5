"""Finding cases and working a case: summary, the person's voice, status, shares, access log."""

from __future__ import annotations

import contextlib
import re
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from audit.services import access_refused as audit_refused
from cases import access, retention, services
from cases.models import CaseStatus
from cases.selectors import (
    active_break_glass,
    case_consents,
    case_id_for_break_glass,
    case_members,
    case_people,
    case_search,
    case_shares,
    live_share,
    relationships_between,
    share_candidates,
    visible_cases,
)
from casework import access as casework_access
from casework import selectors as casework_selectors
from casework import services as casework_services
from casework.models import EntryKind
from casework.vocabularies import group, label
from core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from programmes import selectors as programme_selectors
from web.access_log import access_log_for_display
from web.forms.cases import (
    BreakGlassForm,
    CaseSearchForm,
    RevokeForm,
    ShareForm,
    SummaryForm,
    TransitionForm,
    VoiceForm,
)
from web.pages import form_error, page
from web.views.safety import safety_context

PAGE_SIZE = 25
REFERENCE = re.compile(r"^VRU-\d{4}-\d{6}$", re.IGNORECASE)


SEARCHES_KEPT = 10


def _remember_search(request, q: str) -> str:
    """A search names a person (a name, an NHS number), so it never goes in a URL, where browser
    history, proxies and access logs would keep it: the form posts it, the session keeps it, and
    the results page is named by a random token."""
    token = secrets.token_urlsafe(9)
    searches = {**request.session.get("case_searches", {}), token: q}
    request.session["case_searches"] = dict(list(searches.items())[-SEARCHES_KEPT:])
    return token


@page(access.reads_case_content)
def case_list(request, actor):
    token = ""
    if request.method == "POST":
        form = CaseSearchForm(request.POST)
        if form.is_valid():
            q = form.cleaned_data["q"].strip()
            if not q:
                return redirect("web:cases")
            return redirect(f"{reverse('web:cases')}?search={_remember_search(request, q)}")
    else:
        token = request.GET.get("search", "")
        saved = request.session.get("case_searches", {}).get(token) if token else None
        # ?q= still answers, for links made before searches were posted; nothing makes them now.
        form = CaseSearchForm({"q": saved} if saved else request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    results = case_search(actor, q) if q else visible_cases(actor).order_by("-updated_at")
    paginator = Paginator(results, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    access.log_case_list(actor, page_obj.object_list, action="search" if q else "list")
    return render(
        request,
        "web/case_list.html",
        {
            "form": form,
            "q": q,
            "query": f"search={token}" if q and token else "",
            "page_obj": page_obj,
            "count": paginator.count,
            "can_break_glass": casework_access.can_break_glass(actor),
            "looks_like_reference": bool(REFERENCE.match(q)),
        },
    )


def _case_context(actor, case) -> dict:
    lead = case.lead_partner_id == actor.partner.pk
    can_change = access.can(actor, case, access.CHANGE)
    can_share = access.can(actor, case, access.SHARE)
    shares = case_shares(case)
    people = case_people(actor, case)
    if len(people) > 1:
        access.log_person_access(actor, people[1:], action="list")
    relationships = relationships_between(people)
    members = case_members(case)
    others = people[1:]
    return {
        "case": case,
        "person": case.subject,
        "identifiers": access.identifiers_shown_to(actor, case.subject.identifiers.all()),
        "household": [p for p in others if members[p.pk].in_household],
        "family_elsewhere": [(p, members[p.pk]) for p in others if not members[p.pk].in_household],
        "relationships": relationships,
        "break_glass": active_break_glass(actor, case),
        "consents": case_consents(case),
        "is_lead": lead,
        "can_change": can_change,
        "can_share": can_share,
        "can_read_log": access.can_read_access_log(actor, case),
        "legal_hold": retention.live_hold(case.pk).select_related("placed_by_partner").first(),
        "can_hold": access.can_hold(actor, case),
        "can_manage_rights": access.can_restrict_processing(actor, case.subject),
        "live_shares": [s for s in shares if s.active],
        "past_shares": [s for s in shares if not s.active],
        "next_statuses": [(s, CaseStatus(s).label) for s in services.moves_from(case.status)],
        **_casework_sections(actor, case),
        **safety_context(actor, case.subject, case=case),
    }


def _casework_sections(actor, case) -> dict:
    """The case-work and programme sections of the case page (each read is access-logged)."""
    entries = casework_selectors.chronology_with_amendments(actor, case)
    for e in entries:
        for a in e.amendments.all():
            a.before = _before(a.previous)
    adversities = casework_selectors.case_adversities(actor, case)
    for a in adversities:
        a.label = label("adversities", a.code)
        a.group = group("adversities", a.code)
        a.can_share = a.sensitive and casework_access.can_share_adversity(actor, a)
    actions = casework_selectors.case_actions(actor, case)
    referrals = casework_selectors.case_referrals(actor, case)
    enrolments = programme_selectors.case_enrolments(actor, case)
    contributor = casework_access.partner_on_case(actor, case)
    return {
        "casework": True,
        "programmes_enabled": True,
        "entries": entries,
        "adversities": [a for a in adversities if a.group != "protective"],
        "strengths": [a for a in adversities if a.group == "protective"],
        "actions": actions,
        "referrals": referrals,
        "enrolments": enrolments,
        "contributor": contributor,
        "now": timezone.now(),
    }


def _before(previous: dict) -> dict:
    """An amendment's previous values, readable."""
    before = {"body": previous.get("body", "")}
    if previous.get("kind") in EntryKind.values:
        before["kind"] = EntryKind(previous["kind"]).label
    if previous.get("occurred_at"):
        with contextlib.suppress(TypeError, ValueError):
            before["occurred_at"] = timezone.localtime(
                datetime.fromisoformat(previous["occurred_at"])
            )
    return before


@page(access.reads_case_content)
def case_detail(request, actor, case_id):
    case = access.case_get_for(actor, case_id)
    return render(request, "web/case_detail.html", _case_context(actor, case))


NOT_OPENABLE = (
    "No case that can be opened with emergency access has this reference. Check the reference, "
    "or ask the partner who holds the case to share it with you."
)


@page(casework_access.can_break_glass)
def case_emergency_access(request, actor):
    """Break-glass: a practitioner asks to see a case not shared with their organisation.

    Nothing is looked up until they have confirmed and given a reason, so a reference typed and
    then abandoned reveals nothing; a restricted case is refused exactly as a missing one.
    """
    form = BreakGlassForm(
        request.POST or None, initial={"reference": request.GET.get("reference", "")[:30]}
    )
    if request.method == "POST" and form.is_valid():
        reference, reason = form.cleaned_data["reference"], form.cleaned_data["reason"]
        case_id = case_id_for_break_glass(reference)
        grant = None
        try:
            if case_id is None:
                audit_refused(
                    actor=actor, action="break_glass", object_type="case", object_id=reference,
                    reason="not found",
                )  # fmt: skip
                raise NotFound("Case not found.")
            grant = casework_services.break_glass_open(actor=actor, case_id=case_id, reason=reason)
        except NotFound:
            form.add_error("reference", NOT_OPENABLE)
        except Conflict:
            # They can already see it: nothing to open, nothing revealed.
            return redirect("web:case", case_id=case_id)
        except Forbidden as exc:
            form.add_error("reference", exc.message)
        except ValidationFailed as exc:
            form_error(form, exc)
        if grant is not None and grant.opened_at is None:
            messages.success(
                request,
                "You have used emergency access in the last 24 hours, so this request needs one "
                "of your managers to approve it. They have been told; you will be notified when "
                "they decide.",
            )
            return redirect("web:home")
        if grant is not None:
            until = timezone.localtime(grant.expires_at)
            messages.success(
                request,
                f"You can see this case until {until:%H:%M} on {until:%-d %B %Y}. Your reason "
                f"has been recorded and {grant.case.lead_partner.name}’s managers have been told.",
            )
            return redirect("web:case", case_id=case_id)
    return render(
        request,
        "web/emergency_access.html",
        {"form": form, "hours": settings.BREAK_GLASS_HOURS},
    )


@page(access.writes_case_content)
def case_voice(request, actor, case_id):
    case = access.case_get_for(actor, case_id, access.CHANGE, log_as="view")
    form = VoiceForm(
        request.POST or None,
        initial={"version": case.version, "goals": case.goals, "what_matters": case.what_matters},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_update(
                actor=actor,
                case=case,
                expected_version=data["version"],
                data={"goals": data["goals"], "what_matters": data["what_matters"]},
                reason="The person's voice updated",
            )
        except PreconditionFailed:
            form.add_error(
                None,
                "Someone else changed this case while you were writing. Your words are still "
                "below: copy them, reload the page and add them again.",
            )
        else:
            messages.success(request, "The person's voice has been saved.")
            return redirect("web:case", case_id=case.pk)
    return render(request, "web/case_voice.html", {"case": case, "form": form})


@page(access.writes_case_content)
def case_summary(request, actor, case_id):
    """The summary, changed at any stage (after screening too) by those who may change the case;
    each change, with its reason, is kept in the case's history and shown here."""
    case = access.case_get_for(actor, case_id, access.CHANGE, log_as="view")
    form = SummaryForm(
        request.POST or None, initial={"version": case.version, "summary": case.summary}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_update(
                actor=actor, case=case, expected_version=data["version"],
                data={"summary": data["summary"].strip()}, reason=data["reason"],
            )  # fmt: skip
        except PreconditionFailed:
            form.add_error(
                None,
                "Someone else changed this case while you were writing. Your words are still "
                "below: copy them, reload the page and change the summary again.",
            )
        else:
            messages.success(request, "The case summary has been saved.")
            return redirect("web:case", case_id=case.pk)
    earlier = [
        h for h in case.history.select_related("changed_by", "partner").order_by("-version")
        if "summary" in h.changes
    ]  # fmt: skip
    return render(
        request, "web/case_summary.html", {"case": case, "form": form, "earlier": earlier}
    )


@page(access.writes_case_content)
def case_status(request, actor, case_id):
    case = access.case_get_for(actor, case_id, access.CHANGE, log_as="view")
    allowed = [(s, CaseStatus(s).label) for s in services.moves_from(case.status)]
    form = TransitionForm(request.POST or None, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_transition(
                actor=actor,
                case=case,
                to=data["to"],
                reason=data["reason"],
                closure_reason=data["closure_reason"] if data["to"] == "closed" else "",
            )
        except (ValidationFailed, Conflict) as exc:
            form_error(form, exc, {"to": "to", "closure_reason": "closure_reason"})
        else:
            messages.success(request, f"The case is now {CaseStatus(data['to']).label.lower()}.")
            return redirect("web:case", case_id=case.pk)
    return render(request, "web/case_status.html", {"case": case, "form": form})


@page(access.writes_case_content)
def case_share(request, actor, case_id):
    case = access.case_get_for(actor, case_id, access.SHARE, log_as="view")
    offered, not_offered = share_candidates(case)
    form = ShareForm(request.POST or None, partners=offered)
    if request.method == "POST" and form.is_valid():
        partner = next(p for p, _ in offered if p.slug == form.cleaned_data["partner"])
        try:
            share = services.case_share(
                actor=actor,
                case=case,
                partner=partner,
                lawful_basis=form.cleaned_data["lawful_basis"],
                reason=form.cleaned_data["reason"],
                expires_at=form.expires_at(),
            )
        except DomainError as exc:
            form_error(form, exc, {"expires_at": "expires_on"})
        else:
            messages.success(
                request,
                f"The case is now shared with {partner.name}, under the data sharing agreement "
                f"“{share.agreement.name}”.",
            )
            return redirect(reverse("web:case", args=[case.pk]) + "#sharing")
    return render(
        request,
        "web/case_share.html",
        {"case": case, "form": form, "offered": offered, "not_offered": not_offered},
    )


@page(access.writes_case_content)
def case_unshare(request, actor, case_id, partner_slug):
    case = access.case_get_for(actor, case_id, access.SHARE, log_as="view")
    share = live_share(case, partner_slug)
    if share is None:
        return render(request, "core/404.html", status=404)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.share_revoke(
            actor=actor, case=case, partner=share.partner, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"{share.partner.name} can no longer see this case.")
        return redirect(reverse("web:case", args=[case.pk]) + "#sharing")
    return render(request, "web/case_unshare.html", {"case": case, "share": share, "form": form})


@page()
def case_access_log(request, actor, case_id):
    case = access.case_for_access_log(actor, case_id)
    rows = access.case_access_log_rows(actor, case).select_related("user", "partner", "client")
    page_obj = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "web/case_access_log.html",
        {
            "case": case,
            "page_obj": page_obj,
            "rows": access_log_for_display(page_obj.object_list),
            "now": timezone.now(),
            "can_hold": access.can_hold(actor, case),
        },
    )
