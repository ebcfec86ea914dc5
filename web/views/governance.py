"""A person's information rights, for managers: subject access packs (UK GDPR Art. 15) with their
progress and download, and the restriction of processing (Art. 18). Rights are cases.access's and
governance.access's; the services check again."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render

from cases import access
from cases import services as case_services
from core.errors import Conflict, NotFound, ValidationFailed
from governance import access as governance_access
from governance import selectors, services
from governance.models import SubjectAccessRequest
from web.pages import form_error, page

MANAGERS_ONLY = "Only managers can act on a person's information rights."


class RestrictionForm(forms.Form):
    reason = forms.CharField(
        label="Why?",
        help_text="For example, what the person asked for and why. Managers of organisations "
        "that can see the person see this.",
        widget=forms.Textarea,
        max_length=2000,
        error_messages={"required": "Give a reason"},
    )


def _person(actor, person_id, action: str):
    return access.person_for_manager(actor, person_id, action=action, message=MANAGERS_ONLY)


def _back(person):
    return redirect("web:person-rights", person_id=person.pk)


@page(access.oversees_partner)
def person_rights(request, actor, person_id):
    person = _person(actor, person_id, "view")
    access.log_person_access(actor, [person], action="view")
    requests = list(selectors.subject_access_for_person(actor, person))
    restriction = case_services.live_restriction(person)
    return render(
        request,
        "web/governance/person_rights.html",
        {
            "person": person,
            "requests": requests,
            "restriction": restriction,
            "form": RestrictionForm(),
            "working": any(
                r.status
                in (SubjectAccessRequest.Status.QUEUED, SubjectAccessRequest.Status.RUNNING)
                for r in requests
            ),
        },
    )


@page(access.oversees_partner)
def subject_access_start(request, actor, person_id):
    person = _person(actor, person_id, "request_subject_access")
    if request.method == "POST":
        services.subject_access_request(actor=actor, person=person)
        messages.success(
            request,
            "The subject access pack is being prepared. It must be reviewed and sent within one "
            "month; you will be reminded a week before.",
        )
    return _back(person)


@page(access.oversees_partner)
def restriction(request, actor, person_id):
    """Restrict processing, or lift the restriction in place: a reason either way."""
    person = _person(actor, person_id, "restrict_processing")
    live = case_services.live_restriction(person)
    form = RestrictionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if live is None:
                case_services.processing_restrict(actor=actor, person=person, reason=reason)
                done = "The processing of their data is now restricted."
            else:
                case_services.processing_lift(actor=actor, person=person, reason=reason)
                done = "The restriction has been lifted."
        except (ValidationFailed, Conflict, NotFound) as exc:
            form_error(form, exc)
        else:
            messages.success(request, done)
            return _back(person)
    return render(
        request,
        "web/governance/restriction.html",
        {"person": person, "restriction": live, "form": form},
    )


def _request(actor, request_id, action: str):
    return governance_access.request_get_for(actor, request_id, action=action)


@page(access.oversees_partner)
def subject_access_download(request, actor, request_id):
    found = _request(actor, request_id, "download_subject_access")
    try:
        handle = services.pack_open(actor=actor, request=found)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("web:person-rights", person_id=found.person_id)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"subject-access-{found.pk}.zip",
        content_type="application/zip",
    )


@page(access.oversees_partner)
def subject_access_answered(request, actor, request_id):
    found = _request(actor, request_id, "answer_subject_access")
    if request.method == "POST":
        try:
            services.subject_access_answered(actor=actor, request=found)
        except Conflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Recorded: the subject access request has been answered.")
    return redirect("web:person-rights", person_id=found.person_id)
