"""The referral form: the person, the concern and, from the police, the PPN details."""

from __future__ import annotations

from django import forms

from casework.models import Urgency
from casework.vocabularies import CONCERNS
from web.forms.cases import SUMMARY_HINT
from web.forms.fields import GovukDateField, GovukTimeField, grouped_choices, radio
from web.forms.people import PersonForm

CONCERN_GROUPS = {
    "harm": "Harm",
    "exploitation": "Exploitation",
    "violence": "Violence",
    "welfare": "Welfare",
    "behaviour": "Behaviour",
    "family": "Family",
    "other": "Other",
}


# The children in the household a referral can name: a PPN rarely lists more.
CHILD_SLOTS = 4


class ReferralDetailsForm(forms.Form):
    """The concern, the person's own words and the Police Protection Notice (PPN) details, written
    for an officer at the end of a shift. Every PPN field is optional: other partners leave them."""

    concerns = forms.MultipleChoiceField(
        label="What are you worried about?",
        help_text="Select all that apply.",
        choices=grouped_choices(CONCERNS, CONCERN_GROUPS),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one concern"},
    )
    description = forms.CharField(
        label="What has happened?",
        help_text=SUMMARY_HINT,
        widget=forms.Textarea,
        max_length=20000,
        error_messages={"required": "Describe what has happened"},
    )
    urgency = radio(
        Urgency.choices,
        "How soon does this need joint screening?",
        initial=Urgency.STANDARD,
        error_messages={"required": "Select how soon this needs screening"},
    )

    voice = forms.CharField(
        label="What did they say, in their own words? (optional)",
        help_text="Ask them what happened and what they want to happen next. Write down what they "
        "said, as they said it. Keep your own view for the box about what you saw.",
        widget=forms.Textarea,
        max_length=20000,
        required=False,
    )
    incident_date = GovukDateField(
        label="Date of the incident",
        help_text="For example, 27 3 2026",
        required=False,
        past_only=True,
        error_label="The date of the incident",
    )
    incident_time = GovukTimeField(
        label="Time of the incident",
        help_text="Use the 24-hour clock, for example 21 30 for half past nine at night",
        required=False,
        error_label="The time of the incident",
    )
    incident_place = forms.CharField(
        label="Where did it happen?",
        help_text="An address, street or place, as in your pocket notebook",
        max_length=200,
        required=False,
    )
    occurrence_number = forms.CharField(
        label="Occurrence or log number",
        help_text="From your force's system, so screeners can find the full record",
        max_length=50,
        required=False,
        widget=forms.TextInput(
            attrs={"data-width": "govuk-input--width-20", "spellcheck": "false"}
        ),
    )
    present = forms.CharField(
        label="Who was present?",
        help_text="Everyone there when you arrived: adults, children, other agencies. Add the "
        "children who live in the household below as well.",
        widget=forms.Textarea,
        max_length=5000,
        required=False,
    )
    officer_observations = forms.CharField(
        label="What did you see?",
        help_text="Your own observations: injuries, the state of the home, how people behaved "
        "and spoke to each other. Keep what the person told you for the box about their own words.",
        widget=forms.Textarea,
        max_length=20000,
        required=False,
    )

    def __init__(self, *args, siblings=(), **kwargs):
        """`siblings`: (person, how they are family) the referral may be made for too."""
        super().__init__(*args, **kwargs)
        self.fields["urgency"].choice_hints = {
            Urgency.STANDARD: "Within 3 days",
            Urgency.URGENT: "Within 24 hours",
        }
        if siblings:
            self.fields["siblings"] = forms.MultipleChoiceField(
                label="Refer their brothers and sisters too? (optional)",
                help_text="Each child gets the same referral, on their own case, and whoever "
                "screens one sees that they were referred together.",
                choices=[(str(p.pk), p.display_name) for p, _ in siblings],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
            self.fields["siblings"].choice_hints = {str(p.pk): how for p, how in siblings}
        for n in range(1, CHILD_SLOTS + 1):
            self.fields[f"child_{n}_given_name"] = forms.CharField(
                label="First name", max_length=100, required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )  # fmt: skip
            self.fields[f"child_{n}_family_name"] = forms.CharField(
                label="Last name", max_length=100, required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )  # fmt: skip
            self.fields[f"child_{n}_date_of_birth"] = GovukDateField(
                label="Date of birth", help_text="If you do not know it, leave it blank",
                required=False, past_only=True, error_label=f"Child {n}'s date of birth",
            )  # fmt: skip
            # The answer to "is this child someone already known?": a person id, or "new".
            self.fields[f"child_{n}_person"] = forms.CharField(
                label=f"Is child {n} someone already known?", required=False, max_length=40,
                widget=forms.HiddenInput,
            )  # fmt: skip

    def clean(self):
        data = super().clean()
        for n in range(1, CHILD_SLOTS + 1):
            given = (data.get(f"child_{n}_given_name") or "").strip()
            family = (data.get(f"child_{n}_family_name") or "").strip()
            if (given or family or data.get(f"child_{n}_date_of_birth")) and not (given and family):
                name = "child_{n}_given_name" if not given else "child_{n}_family_name"
                self.add_error(
                    name.format(n=n),
                    f"Enter child {n}'s {'first' if not given else 'last'} name",
                )
        time_alone = data.get("incident_time") and not data.get("incident_date")
        if time_alone and "incident_date" not in self.errors:
            self.add_error("incident_date", "Enter the date of the incident with its time")
        return data

    def ppn(self) -> dict:
        d = self.cleaned_data
        return {
            name: d.get(name)
            for name in (
                "incident_date", "incident_time", "incident_place", "occurrence_number",
                "present", "officer_observations", "voice",
            )
        }  # fmt: skip

    def child_slots(self) -> list[dict]:
        """The children filled in: slot number, details, and the answer given to their match."""
        d, slots = self.cleaned_data, []
        for n in range(1, CHILD_SLOTS + 1):
            given = (d.get(f"child_{n}_given_name") or "").strip()
            if not given:
                continue
            slots.append(
                {
                    "n": n,
                    "details": {
                        "given_name": given,
                        "family_name": d[f"child_{n}_family_name"].strip(),
                        "date_of_birth": d.get(f"child_{n}_date_of_birth"),
                    },
                    "answer": (d.get(f"child_{n}_person") or "").strip(),
                }
            )
        return slots

    def children_fields(self) -> list[dict]:
        """The child slots as bound fields, for the template."""
        return [
            {
                "n": n,
                "given_name": self[f"child_{n}_given_name"],
                "family_name": self[f"child_{n}_family_name"],
                "date_of_birth": self[f"child_{n}_date_of_birth"],
                "person": self[f"child_{n}_person"],
            }
            for n in range(1, CHILD_SLOTS + 1)
        ]


class CaseworkReferralForm(PersonForm, ReferralDetailsForm):
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The page's order, so the error summary lists problems as the page shows them.
    field_order = [*PersonForm.base_fields, *ReferralDetailsForm.base_fields]
