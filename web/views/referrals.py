"""A new referral: the person and the concern, with the duplicate check shown before saving."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from cases import access
from cases.matching import find_matches
from casework import services as casework_services
from core.errors import Conflict, ValidationFailed
from web.forms import CaseworkReferralForm, ReferralDetailsForm
from web.pages import form_error, page

FIELD_ERRORS = {
    "identifiers": "identifier_value",
    "person.identifiers": "identifier_value",
    "person": "given_name",
}


def _cases_for(actor, persons) -> dict:
    """The visible cases of each matched person, so the user can open one instead."""
    by_person: dict = {}
    ids = [p.pk for p in persons]
    for case in access.cases_visible_to(actor).filter(subject_id__in=ids).order_by("-updated_at"):
        by_person.setdefault(case.subject_id, []).append(case)
    return by_person


def _saved(request, intake):
    referral = intake.referral
    text = f"Referral saved on case {referral.case.reference}."
    if not intake.case_opened:
        text += " It was added to the case already open for this person."
    if intake.withheld_identifiers:
        text += (
            " An identifier you gave is already held on a record not shared with your "
            "organisation; it was not copied, and joint screening will resolve it."
        )
    messages.success(request, text)
    return redirect("web:case", case_id=referral.case_id)


@page(access.writes_case_content)
def referral_new(request, actor):
    form = CaseworkReferralForm(request.POST or None)
    context: dict = {"form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data.get("confirm_new"):
            matches, hidden = find_matches(
                actor=actor,
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
                identifiers=form.identifiers(),
            )
            if matches or hidden:
                cases = _cases_for(actor, [m.person for m in matches])
                for m in matches:
                    m.cases = cases.get(m.person.pk, [])
                context.update({"matches": matches, "hidden": hidden, "checked": True})
                return render(request, "web/referral_new.html", context)
        try:
            intake = casework_services.referral_create(
                actor=actor,
                concerns=data["concerns"],
                description=data["description"],
                urgency=data["urgency"],
                person=form.person_data(),
                identifiers=form.identifiers(),
                channel="ui",
            )
        except (ValidationFailed, Conflict) as exc:
            form_error(form, exc, FIELD_ERRORS)
        else:
            return _saved(request, intake)
    return render(request, "web/referral_new.html", context)


@page(access.writes_case_content)
def referral_for_person(request, actor, person_id):
    """A new referral about someone already recorded: nothing about them is asked again."""
    person = access.person_get_for(actor, person_id)
    form = ReferralDetailsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            intake = casework_services.referral_create(
                actor=actor,
                concerns=data["concerns"],
                description=data["description"],
                urgency=data["urgency"],
                subject=person,
                channel="ui",
            )
        except (ValidationFailed, Conflict) as exc:
            form_error(form, exc)
        else:
            return _saved(request, intake)
    return render(request, "web/referral_for_person.html", {"person": person, "form": form})
