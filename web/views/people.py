"""The people on a case: correcting their details, their household and relationships, and their
consent decisions. Every page reaches the case through cases.access and the people through
persons_visible_to; both are access-logged."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from cases import access, services
from cases.selectors import case_people
from casework import access as casework_access
from core.errors import DomainError, PreconditionFailed
from web.forms.people import ConsentForm, HouseholdMemberForm, PersonDetailsForm, RelationshipForm
from web.pages import form_error, page
from web.views.safety import safety_context


def _to_case(case, anchor: str):
    return redirect(reverse("web:case", args=[case.pk]) + f"#{anchor}")


def _working_case(actor, case_id, what: str, codename: str = access.VIEW):
    """The case if the actor sees it (else 404) and their partner works it (else 403)."""
    case = access.case_get_for(actor, case_id, codename, log_as="view")
    casework_access.check_contributor(actor, case, what=what)
    return case


def _person_on_case(actor, case, person_id):
    """Only the case's own people are edited from it; anyone else is not found here."""
    person = access.person_get_for(actor, person_id, log_as="view")
    if person.pk != case.subject_id and not case.household.filter(pk=person.pk).exists():
        raise Http404
    return person


STALE = (
    "Someone else changed {name}’s details while you were editing. Nothing you entered has been "
    "saved. What is saved now is shown below: check it against your changes, then save again."
)


@page(access.writes_case_content)
def person_edit(request, actor, case_id, person_id):
    case = _working_case(actor, case_id, "update_person")
    person = _person_on_case(actor, case, person_id)
    initial = {
        "version": person.version,
        **{f: getattr(person, f) for f in PersonDetailsForm.base_fields if hasattr(person, f)},
    }
    form = PersonDetailsForm(request.POST or None, initial=initial)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(
                actor=actor,
                person=person,
                expected_version=form.cleaned_data["version"],
                data=form.person_data(),
            )
        except PreconditionFailed:
            # Keep what they typed; carry the version now saved, so saving again is a choice
            # made after seeing the other person's changes.
            person = access.person_get_for(actor, person.pk, log_as="view")
            data = request.POST.copy()
            data["version"] = str(person.version)
            form = PersonDetailsForm(data, initial=initial)
            form.is_valid()
            form.add_error(None, STALE.format(name=person.display_name))
            stale = True
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"{person.display_name}’s details have been saved.")
            return _to_case(case, "about")
    return render(
        request,
        "web/people/person_form.html",
        {
            "case": case,
            "person": person,
            "form": form,
            "stale": stale,
            **safety_context(actor, person, case=case),
        },
    )


@page(access.writes_case_content)
def household_add(request, actor, case_id):
    """A new household member, with how they are related to the person the case is about."""
    case = _working_case(actor, case_id, "add_household", access.CHANGE)
    subject = case.subject
    form = HouseholdMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                member = services.person_create(actor=actor, data=form.person_data())
                services.case_household_add(
                    actor=actor, case=case, person=member, reason="Household member added",
                    whereabouts=data["whereabouts"], place=data["place"],
                    expected_release_date=data["expected_release_date"],
                )  # fmt: skip
                services.relationship_add(
                    actor=actor, person=member, related_to=subject, kind=data["kind"],
                    note=data["note"],
                )  # fmt: skip
        except DomainError as exc:
            form_error(form, exc)
        else:
            where = "household" if data["whereabouts"] == "household" else "family"
            messages.success(request, f"{member.display_name} has been added to the {where}.")
            return _to_case(case, "household")
    return render(
        request,
        "web/people/household_form.html",
        {"case": case, "subject": subject, "form": form},
    )


@page(access.writes_case_content)
def relationship_add(request, actor, case_id):
    case = _working_case(actor, case_id, "relate")
    people = case_people(actor, case)
    form = RelationshipForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_id = {str(p.pk): p for p in people}
        try:
            services.relationship_add(
                actor=actor, person=by_id[data["person"]], related_to=by_id[data["related_to"]],
                kind=data["kind"], note=data["note"],
            )  # fmt: skip
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "The relationship has been recorded.")
            return _to_case(case, "household")
    return render(
        request,
        "web/people/relationship_form.html",
        {"case": case, "form": form, "enough": len(people) > 1},
    )


@page(access.writes_case_content)
def consent_add(request, actor, case_id):
    case = _working_case(actor, case_id, "record_consent")
    people = case_people(actor, case)
    form = ConsentForm(
        request.POST or None, people=people, initial={"person": str(case.subject_id)}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = next(p for p in people if str(p.pk) == data["person"])
        try:
            services.consent_record(
                actor=actor, case=case, person=person, decision=data["decision"],
                lawful_basis=data["lawful_basis"], scope=data["scope"], given_by=data["given_by"],
                expires_at=form.expires_at(), notes=data["notes"],
            )  # fmt: skip
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "The consent decision has been recorded.")
            return _to_case(case, "voice")
    return render(
        request,
        "web/casework/form_page.html",
        {
            "case": case,
            "form": form,
            "heading": "Record a consent decision",
            "button": "Record decision",
            "intro": "A new decision never replaces an old one: both are kept, newest first.",
        },
    )
