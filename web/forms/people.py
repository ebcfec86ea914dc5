"""Forms about people: their details, household members, relationships and consent."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from cases.identifiers import Scheme
from cases.models import ConsentDecision, LawfulBasis, RelationshipKind, Whereabouts
from web.forms.fields import GovukDateField, radio


class PersonForm(forms.Form):
    given_name = forms.CharField(
        label="First name",
        max_length=100,
        error_messages={"required": "Enter their first name"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    family_name = forms.CharField(
        label="Last name",
        max_length=100,
        error_messages={"required": "Enter their last name"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    preferred_name = forms.CharField(
        label="Preferred name (optional)",
        help_text="The name they like to be called. We show it first, everywhere.",
        max_length=100,
        required=False,
    )
    pronouns = forms.CharField(
        label="Pronouns (optional)",
        help_text="For example, she/her, he/him or they/them. Leave blank if you do not know.",
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"data-width": "govuk-input--width-10"}),
    )
    date_of_birth = GovukDateField(
        label="Date of birth",
        help_text="For example, 27 3 2012. If you only know roughly, give your best guess and tick "
        "the box below.",
        required=False,
        past_only=True,
    )
    date_of_birth_approximate = forms.BooleanField(
        label="The date of birth is approximate", required=False
    )
    gender = forms.CharField(
        label="Gender (optional)",
        help_text="In their own words",
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"data-width": "govuk-input--width-20"}),
    )
    language = forms.CharField(
        label="Main language (optional)",
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"data-width": "govuk-input--width-20"}),
    )
    interpreter_needed = forms.BooleanField(label="They need an interpreter", required=False)
    identifier_scheme = forms.ChoiceField(
        label="Identifier type (optional)",
        choices=[("", "No identifier"), *Scheme.choices],
        required=False,
    )
    identifier_value = forms.CharField(
        label="Identifier",
        help_text="An NHS number, Unique Pupil Number, PNC ID, National Insurance number or your "
        "organisation's own reference. It helps us find an existing record.",
        max_length=64,
        required=False,
        widget=forms.TextInput(
            attrs={"data-width": "govuk-input--width-20", "spellcheck": "false"}
        ),
    )

    def clean(self):
        data = super().clean()
        scheme, value = data.get("identifier_scheme"), (data.get("identifier_value") or "").strip()
        if value and not scheme:
            self.add_error("identifier_scheme", "Select the type of identifier")
        if scheme and not value:
            self.add_error("identifier_value", "Enter the identifier, or select No identifier")
        return data

    def person_data(self) -> dict:
        d = self.cleaned_data
        return {
            k: d[k]
            for k in (
                "given_name", "family_name", "preferred_name", "pronouns", "date_of_birth",
                "date_of_birth_approximate", "gender", "language", "interpreter_needed",
            )
        }  # fmt: skip

    def identifiers(self) -> list[dict]:
        d = self.cleaned_data
        if d.get("identifier_scheme") and d.get("identifier_value"):
            return [{"scheme": d["identifier_scheme"], "value": d["identifier_value"].strip()}]
        return []


class PersonDetailsForm(PersonForm):
    """Editing a person: their details and address, with the version the editor read."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    address_line_1 = forms.CharField(
        label="Address line 1 (optional)", max_length=200, required=False
    )
    address_line_2 = forms.CharField(
        label="Address line 2 (optional)", max_length=200, required=False
    )
    town = forms.CharField(
        label="Town or city (optional)", max_length=100, required=False,
        widget=forms.TextInput(attrs={"data-width": "govuk-!-width-two-thirds"}),
    )  # fmt: skip
    postcode = forms.CharField(
        label="Postcode (optional)", max_length=10, required=False,
        widget=forms.TextInput(attrs={"data-width": "govuk-input--width-10", "autocomplete": "off"}),
    )  # fmt: skip

    ADDRESS = ("address_line_1", "address_line_2", "town", "postcode")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["identifier_scheme"], self.fields["identifier_value"]

    def person_data(self) -> dict:
        data = super().person_data()
        data.update({k: self.cleaned_data[k].strip() for k in self.ADDRESS})
        return data


class HouseholdMemberForm(PersonForm):
    kind = radio(
        RelationshipKind.choices,
        "Who are they to the person this case is about?",
        error_messages={"required": "Select how they are related"},
    )
    note = forms.CharField(
        label="Anything else about the relationship (optional)",
        help_text="For example, ‘stepdad, lives with them most weekends’",
        max_length=200,
        required=False,
    )

    whereabouts = radio(
        Whereabouts.choices,
        "Where do they live?",
        initial=Whereabouts.HOUSEHOLD,
        required=False,  # left unanswered: in the household, as the page first offers
    )
    place = forms.CharField(
        label="Which prison? (if in prison)",
        help_text="For example, HMP Northshire",
        max_length=120,
        required=False,
    )
    expected_release_date = GovukDateField(
        label="Expected release date (if in prison, optional)",
        help_text="For example, 27 3 2027",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["identifier_scheme"], self.fields["identifier_value"]
        self.fields["whereabouts"].choice_hints = {
            Whereabouts.ELSEWHERE: "Family who matter to them but live at another address",
            Whereabouts.PRISON: "For example, a parent in prison (Invisible Walls)",
        }
        self.fields["kind"].choice_hints = {
            RelationshipKind.PARENT: "They are the person's parent",
            RelationshipKind.CARER: "They look after the person",
            RelationshipKind.SIBLING: "Brother or sister, including half and step",
        }

    def clean(self):
        data = super().clean()
        data["whereabouts"] = data.get("whereabouts") or Whereabouts.HOUSEHOLD
        if data["whereabouts"] != Whereabouts.PRISON:
            if data.get("place"):
                self.add_error("place", "Only give a prison for someone in prison")
            if data.get("expected_release_date"):
                self.add_error(
                    "expected_release_date", "Only give a release date for someone in prison"
                )
        return data


class RelationshipForm(forms.Form):
    person = forms.ChoiceField(label="Person", error_messages={"required": "Select a person"})
    kind = radio(
        RelationshipKind.choices,
        "What are they to the other person?",
        error_messages={"required": "Select how they are related"},
    )
    related_to = forms.ChoiceField(
        label="The other person", error_messages={"required": "Select the other person"}
    )
    note = forms.CharField(label="Note (optional)", max_length=200, required=False)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Choose"), *((str(p.pk), p.display_name) for p in people)]
        self.fields["person"].choices = choices
        self.fields["related_to"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("person") and data.get("person") == data.get("related_to"):
            self.add_error("related_to", "Choose two different people")
        return data


class ConsentForm(forms.Form):
    person = radio(
        [], "Whose decision is this?", error_messages={"required": "Select whose decision this is"}
    )
    decision = radio(
        ConsentDecision.choices,
        "What did they decide?",
        error_messages={"required": "Select what they decided"},
    )
    scope = forms.CharField(
        label="What does the decision cover?",
        help_text="In plain words, for example ‘sharing school attendance with the youth team’",
        max_length=300,
        error_messages={"required": "Say what the decision covers"},
    )
    lawful_basis = radio(
        LawfulBasis.choices,
        "Lawful basis for the work this covers",
        error_messages={"required": "Select the lawful basis"},
    )
    given_by = forms.CharField(
        label="Who gave or refused it (optional)",
        help_text="The person themselves, or who decided for them, for example ‘mum’",
        max_length=100,
        required=False,
    )
    expires_on = GovukDateField(
        label="Review or expiry date (optional)",
        help_text="For example, 31 3 2027",
        required=False,
        future_only=True,
    )
    notes = forms.CharField(
        label="Their words (optional)",
        help_text="What they said about it, in their own words where you can.",
        widget=forms.Textarea,
        required=False,
        max_length=5000,
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(str(p.pk), p.display_name) for p in people]

    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59)))
