"""A person's contact details and safe-contact preferences: the summary shown on the case, person
and enrolment pages to those who may see it (cases.access.contact_safety_visible_ids), and the
page that changes it. Every read of it is access-logged by the person's id."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from cases import access, services
from core.errors import DomainError, PreconditionFailed
from web.pages import form_error, page


def safety_context(actor, person, *, case=None) -> dict:
    """`safety_person` (the person, when the actor may see their contact and safety details;
    None otherwise) and `safety_edit_url` (when they may change them from this case)."""
    if not access.can_see_contact_safety(actor, person):
        return {"safety_person": None, "safety_edit_url": None}
    access.log_contact_safety_read(actor, [person])
    edit_url = None
    if case is not None and access.can_edit_contact_safety(actor, person):
        edit_url = reverse("web:person-safety", args=[case.pk, person.pk])
    return {"safety_person": person, "safety_edit_url": edit_url}


class ContactSafetyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    safety_summary = forms.CharField(
        label="Safety summary (optional)",
        help_text="In a sentence or two: what keeps them, and whoever contacts them, safe.",
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    do_not_tell = forms.CharField(
        label="Who must not be told (optional)",
        help_text="Who must not learn where they are or how to reach them. For example, "
        "‘their father: a non-molestation order is in place’.",
        max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    safe_contact_how = forms.CharField(
        label="How it is safe to contact them (optional)",
        help_text="For example, ‘text only, never call; their own phone, not the family’s’.",
        max_length=300, required=False,
    )  # fmt: skip
    safe_contact_when = forms.CharField(
        label="When it is safe to contact them (optional)",
        help_text="For example, ‘weekdays after 4pm’.",
        max_length=200, required=False,
    )  # fmt: skip
    phone = forms.CharField(
        label="Phone number (optional)", max_length=30, required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off",
                                      "data-width": "govuk-input--width-20"}),
    )  # fmt: skip
    email = forms.EmailField(
        label="Email address (optional)", max_length=254, required=False,
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.com"},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )  # fmt: skip

    FIELDS = ("phone", "email", "safe_contact_how", "safe_contact_when", "do_not_tell",
              "safety_summary")  # fmt: skip

    def contact_safety(self) -> dict:
        return {k: self.cleaned_data[k].strip() for k in self.FIELDS}


STALE = (
    "Someone else changed {name}’s details while you were editing. Nothing you entered has been "
    "saved. What is saved now is shown above: check it against your changes, then save again."
)


@page(access.writes_case_content)
def person_safety(request, actor, case_id, person_id):
    """Change how to contact the person safely, from a case the actor's partner works."""
    case = access.case_get_for(actor, case_id, log_as="view")
    person = access.person_get_for(actor, person_id, log_as="view")
    if person.pk != case.subject_id and not case.household.filter(pk=person.pk).exists():
        raise Http404
    access.check_edit_contact_safety(actor, person)
    initial = {
        "version": person.version,
        **{f: getattr(person, f) for f in ContactSafetyForm.FIELDS},
    }
    form = ContactSafetyForm(request.POST or None, initial=initial)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(
                actor=actor, person=person, expected_version=form.cleaned_data["version"],
                data={}, contact_safety=form.contact_safety(),
            )  # fmt: skip
        except PreconditionFailed:
            person = access.person_get_for(actor, person.pk, log_as="view")
            data = request.POST.copy()
            data["version"] = str(person.version)
            form = ContactSafetyForm(data, initial=initial)
            form.is_valid()
            form.add_error(None, STALE.format(name=person.display_name))
            stale = True
        except DomainError as exc:
            form_error(form, exc, {f"contact_safety.{f}": f for f in ContactSafetyForm.FIELDS})
        else:
            messages.success(request, f"How to contact {person.display_name} safely is saved.")
            return redirect(reverse("web:case", args=[case.pk]) + "#contact-safety")
    access.log_contact_safety_read(actor, [person])
    return render(
        request,
        "web/people/safety_form.html",
        {"case": case, "person": person, "form": form, "stale": stale, "safety_person": person},
    )
