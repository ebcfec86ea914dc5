"""A new referral: the person, the concern, the person's own words and the Police Protection
Notice (PPN) details, with the duplicate check shown before saving: for the person and for each
child in the household."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render

from cases import access
from cases.matching import find_matches
from cases.selectors import siblings_of
from casework import services as casework_services
from core.errors import Conflict, NotFound, ValidationFailed
from web.forms.referrals import CaseworkReferralForm, ReferralDetailsForm
from web.pages import form_error, page

FIELD_ERRORS = {
    "identifiers": "identifier_value",
    "person.identifiers": "identifier_value",
    "person": "given_name",
}
NEW_CHILD = "new"


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
    if intake.household and intake.household_added:
        count = len(intake.household)
        text += f" {count} {'child was' if count == 1 else 'children were'} added to the household."
    elif intake.household:
        text += (
            f" The children you named are on the referral; {referral.case.lead_partner.name} "
            "leads the case and can add them to its household."
        )
    if intake.withheld_identifiers:
        text += (
            " An identifier you gave is already held on a record not shared with your "
            "organisation; it was not copied, and joint screening will resolve it."
        )
    messages.success(request, text)
    return redirect("web:case", case_id=referral.case_id)


def _visible_person(actor, value: str):
    """The person a posted answer names, if the user can see them (refusals are access-logged)."""
    try:
        return access.person_get_for(actor, uuid.UUID(value), log_as=None)
    except (NotFound, ValueError):
        return None


def _household(actor, form) -> tuple[list, list[dict]]:
    """The children to send with the referral, and those needing an answer first: a child with a
    possible match the user can see, not yet said to be that person or someone new. Each child's
    answer is checked: a person id must be one the user can see."""
    children, unanswered = [], []
    for slot in form.child_slots():
        answer = slot["answer"]
        if answer and answer != NEW_CHILD:
            person = _visible_person(actor, answer)
            if person is None:
                form.add_error(f"child_{slot['n']}_person", f"Select who child {slot['n']} is")
                continue
            children.append(casework_services.HouseholdChild(person=person))
            continue
        child = casework_services.HouseholdChild(
            details=slot["details"], new_person=answer == NEW_CHILD
        )
        if not child.new_person:
            matches, hidden = casework_services.household_child_matches(actor, child)
            if matches:
                unanswered.append({**slot, "matches": matches, "hidden": hidden})
        children.append(child)
    return children, unanswered


def _answer_errors(form, unanswered: list[dict]) -> None:
    for slot in unanswered:
        details = slot["details"]
        form.add_error(
            f"child_{slot['n']}_person",
            f"Say whether {details['given_name']} {details['family_name']} (child {slot['n']}) "
            "is someone already known",
        )


def _child_questions(unanswered: list[dict]) -> dict:
    return {slot["n"]: slot for slot in unanswered}


def _send(request, actor, form, children, *, subject=None, person=None, identifiers=()):
    data = form.cleaned_data
    return casework_services.referral_create(
        actor=actor, concerns=data["concerns"], description=data["description"],
        urgency=data["urgency"], subject=subject, person=person, identifiers=identifiers,
        channel="ui", ppn=form.ppn(), household_children=children,
    )  # fmt: skip


def _refused(form, exc, slots) -> None:
    """A service refusal against the fields it is about; a child's offered match against the
    child's question (the service's `household_children.<i>` is the i-th child filled in)."""
    fields = dict(FIELD_ERRORS)
    for index, slot in enumerate(slots):
        fields[f"household_children.{index}"] = f"child_{slot['n']}_person"
    form_error(form, exc, fields)


@page(access.writes_case_content)
def referral_new(request, actor):
    form = CaseworkReferralForm(request.POST or None)
    context: dict = {"form": form, "children": form.children_fields()}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        children, unanswered = _household(actor, form)
        same_person = request.POST.get("same_person", "").strip()
        subject = None
        if same_person:
            # "Same person": the referral is about the matched record, what was typed is kept
            # with it, and it joins that person's open case if there is one.
            subject = _visible_person(actor, same_person)
            if subject is None:
                form.add_error("given_name", "Select who this referral is about")
        matched = False
        if not form.errors and subject is None and not data.get("confirm_new"):
            matches, hidden = find_matches(
                actor=actor,
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
                identifiers=form.identifiers(),
            )
            if matches or hidden:
                matched = True
                cases = _cases_for(actor, [m.person for m in matches])
                for m in matches:
                    m.cases = cases.get(m.person.pk, [])
                context.update({"matches": matches, "hidden": hidden})
        if unanswered and (subject is not None or data.get("confirm_new")):
            # They chose for the person but not yet for every child: ask, all at once.
            _answer_errors(form, unanswered)
        if form.errors or matched or unanswered:
            context.update(
                {
                    "checked": matched or bool(unanswered),
                    "subject_matched": matched,
                    "child_questions": _child_questions(unanswered),
                }
            )
            return render(request, "web/referral_new.html", context)
        try:
            intake = _send(
                request, actor, form, children, subject=subject, person=form.person_data(),
                identifiers=() if subject is not None else form.identifiers(),
            )  # fmt: skip
        except (ValidationFailed, Conflict) as exc:
            _refused(form, exc, form.child_slots())
        else:
            return _saved(request, intake)
    return render(request, "web/referral_new.html", context)


@page(access.writes_case_content)
def referral_for_person(request, actor, person_id):
    """A new referral about someone already recorded: nothing about them is asked again."""
    person = access.person_get_for(actor, person_id)
    siblings = siblings_of(actor, person)
    form = ReferralDetailsForm(request.POST or None, siblings=siblings)
    context = {"person": person, "form": form, "children": form.children_fields()}
    if request.method == "POST" and form.is_valid():
        children, unanswered = _household(actor, form)
        if form.errors or unanswered:
            context["child_questions"] = _child_questions(unanswered)
            return render(request, "web/referral_for_person.html", context)
        chosen = set(form.cleaned_data.get("siblings") or ())
        together = [p for p, _ in siblings if str(p.pk) in chosen]
        data = form.cleaned_data
        try:
            intakes = casework_services.referrals_create_together(
                actor=actor, subjects=[person, *together], concerns=data["concerns"],
                description=data["description"], urgency=data["urgency"], channel="ui",
                ppn=form.ppn(), household_children=children,
            )  # fmt: skip
        except (ValidationFailed, Conflict) as exc:
            _refused(form, exc, form.child_slots())
        else:
            if together:
                names = ", ".join(p.display_name for p in together)
                messages.info(
                    request, f"The same referral was made for {names}, on their own cases."
                )
            return _saved(request, intakes[0])
    return render(request, "web/referral_for_person.html", context)
