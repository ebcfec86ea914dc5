"""Forms a key worker uses on an enrolment: sessions held and booked, milestones reached."""

from __future__ import annotations

from django import forms

from programmes.models import Attendance

# A session's date and optional time are read as a chronology entry's are.
from web.forms.casework import EntryForm
from web.forms.fields import GovukDateField, GovukDateTimeField, radio


class SessionForm(forms.Form):
    kind = forms.ChoiceField(
        label="What kind of session?", error_messages={"required": "Select the kind of session"}
    )
    occurred_on = GovukDateField(
        label="Date", help_text="For example, 27 3 2026", past_only=True,
        error_messages={"required": "Enter the date of the session"},
    )  # fmt: skip
    occurred_time = EntryForm.base_fields["occurred_time"]
    attendance = radio(
        Attendance.choices,
        "Did they come?",
        error_messages={"required": "Select whether they came"},
    )
    notes = forms.CharField(
        label="Notes (optional)", widget=forms.Textarea, required=False, max_length=5000
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, prefix="session", **kwargs)
        self.fields["kind"].choices = [("", "Choose"), *kinds]

    occurred_at = EntryForm.occurred_at


class BookSessionForm(forms.Form):
    """The next session with the person: when, and what kind."""

    kind = forms.ChoiceField(
        label="What kind of session?", error_messages={"required": "Select the kind of session"}
    )
    at = GovukDateTimeField(
        label="When?",
        help_text="For example, 27 3 2026, then the time on the 24-hour clock: 16 30",
        error_label="The time of the next session",
        error_messages={"required": "Enter when the next session is"},
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, prefix="booking", **kwargs)
        self.fields["kind"].choices = [("", "Choose"), *kinds]


class MilestoneForm(forms.Form):
    code = forms.ChoiceField(label="Milestone", error_messages={"required": "Select the milestone"})
    achieved_on = GovukDateField(
        label="When was it reached?", help_text="For example, 27 3 2026", past_only=True,
        error_messages={"required": "Enter the date it was reached"},
    )  # fmt: skip
    note = forms.CharField(
        label="Note (optional)", widget=forms.Textarea, required=False, max_length=5000
    )

    def __init__(self, *args, milestones=(), **kwargs):
        super().__init__(*args, prefix="milestone", **kwargs)
        self.fields["code"].choices = [("", "Choose"), *milestones]
