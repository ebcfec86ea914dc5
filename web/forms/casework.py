"""Forms for the work on a case: chronology entries and their corrections, adversities and
strengths, actions, and joint screening."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from casework.models import AdversitySource, EntryKind, EntryVisibility
from casework.vocabularies import ADVERSITIES, ScreeningOutcome
from web.forms.fields import GovukDateField, grouped_choices, radio

ADVERSITY_GROUPS = {
    "ace": "Adverse childhood experiences",
    "wider": "Wider adversities",
    "protective": "Protective factors (strengths)",
}


class EntryForm(forms.Form):
    kind = forms.ChoiceField(
        label="What kind of entry is this?",
        choices=[("", "Choose"), *EntryKind.choices],
        error_messages={"required": "Select the kind of entry"},
    )
    occurred_on = GovukDateField(
        label="When did it happen?",
        help_text="For example, 27 3 2026",
        past_only=True,
        error_messages={"required": "Enter the date it happened"},
    )
    occurred_time = forms.TimeField(
        label="Time (optional)",
        help_text="For example, 14:30",
        required=False,
        widget=forms.TextInput(attrs={"data-width": "govuk-input--width-5"}),
        error_messages={"invalid": "Enter a time like 14:30"},
    )
    body = forms.CharField(
        label="What happened?",
        help_text="Write facts and the person's own words. Say what happened to them, not what is "
        "wrong with them.",
        widget=forms.Textarea,
        max_length=20000,
        error_messages={"required": "Say what happened"},
    )
    visibility = radio(
        EntryVisibility.choices,
        "Who can see this entry?",
        initial=EntryVisibility.CASE,
        error_messages={"required": "Select who can see this entry"},
    )
    named_users = forms.MultipleChoiceField(
        label="Named people",
        help_text="Only if you chose ‘Named people only’. They are told they have been named, "
        "but not what the entry says.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["named_users"].choices = [
            (str(u.pk), f"{u.get_full_name()} ({u.membership.partner.name})") for u in users
        ]
        self.fields["visibility"].choice_hints = {
            EntryVisibility.CASE: "Everyone working on this case, in every partner it is shared with",
            EntryVisibility.PARTNER: "Only people in your organisation",
            EntryVisibility.NAMED: "Only you and the people you name below",
        }

    def clean(self):
        data = super().clean()
        if data.get("visibility") == EntryVisibility.NAMED and not data.get("named_users"):
            self.add_error("named_users", "Select at least one person to name")
        return data

    def occurred_at(self):
        d = self.cleaned_data
        when = d.get("occurred_time") or dt.time(12, 0)
        value = timezone.make_aware(dt.datetime.combine(d["occurred_on"], when))
        return min(value, timezone.now())


class AdversityForm(forms.Form):
    code = forms.ChoiceField(
        label="What are you recording?",
        choices=[("", "Choose"), *grouped_choices(ADVERSITIES, ADVERSITY_GROUPS)],
        error_messages={"required": "Select what you are recording"},
    )
    source = radio(
        AdversitySource.choices,
        "How do you know?",
        error_messages={"required": "Select how you know"},
    )
    sensitive = forms.BooleanField(
        label="This is sensitive",
        help_text="Only your organisation will see it, unless you choose to share it with another "
        "partner on the case.",
        required=False,
    )
    note = forms.CharField(
        label="Note (optional)",
        help_text="In the person's words where you can.",
        widget=forms.Textarea,
        required=False,
        max_length=5000,
    )


class ActionForm(forms.Form):
    title = forms.CharField(
        label="What needs doing?",
        max_length=200,
        error_messages={"required": "Say what needs doing"},
    )
    description = forms.CharField(
        label="Details (optional)", widget=forms.Textarea, required=False, max_length=5000
    )
    due_date = GovukDateField(
        label="Due by",
        help_text="For example, 30 4 2026",
        error_messages={"required": "Enter the date it is due by"},
    )
    owner = forms.ChoiceField(label="Who will do it?")

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            (str(u.pk), f"{u.get_full_name()} ({u.membership.partner.name})") for u in users
        ]

    def clean_due_date(self):
        value = self.cleaned_data["due_date"]
        if value and value < timezone.localdate():
            raise forms.ValidationError("The due date must be today or in the future")
        return value


class ScreeningForm(forms.Form):
    outcome = radio(
        ScreeningOutcome.choices,
        "What did you decide together?",
        error_messages={"required": "Select the outcome of the screening"},
    )
    reasons = forms.CharField(
        label="Why?",
        help_text="The reasons are kept with the decision and shown to everyone on the case.",
        widget=forms.Textarea,
        max_length=5000,
        error_messages={"required": "Give the reasons for the decision"},
    )
    participants = forms.MultipleChoiceField(
        label="Which partners took part?",
        help_text="Your organisation is included. Joint screening means at least one other partner.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    participant_names = forms.CharField(
        label="Who took part (optional)",
        help_text="Roles or names, for example ‘DSL, PC Okafor, Early Help lead’",
        required=False,
        max_length=500,
    )

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].choices = [(p.slug, p.name) for p in partners]


class EntryCorrectionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    kind = EntryForm.base_fields["kind"]
    occurred_on = GovukDateField(
        label="When did it happen?",
        help_text="For example, 27 3 2026",
        past_only=True,
        error_messages={"required": "Enter the date it happened"},
    )
    occurred_time = EntryForm.base_fields["occurred_time"]
    body = forms.CharField(
        label="What happened?",
        help_text="The entry as it should read. What it said before is kept and shown with it.",
        widget=forms.Textarea,
        max_length=20000,
        error_messages={"required": "Say what happened"},
    )
    reason = forms.CharField(
        label="Why are you correcting it?",
        help_text="For example, ‘wrong date’ or ‘the person asked us to correct what they said’.",
        max_length=500,
        error_messages={"required": "Say why you are correcting the entry"},
    )

    occurred_at = EntryForm.occurred_at


class ActionChangeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    owner = forms.ChoiceField(
        label="Who will do it?",
        help_text="A named person, or anyone at a partner organisation on the case.",
        error_messages={"required": "Select who will do it"},
    )
    due_date = GovukDateField(
        label="Due by",
        help_text="For example, 30 4 2026",
        error_messages={"required": "Enter the date it is due by"},
    )

    def __init__(self, *args, users=(), partners=(), current_due=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_due = current_due
        self.fields["owner"].choices = [
            ("People", [(f"user:{u.pk}", f"{u.get_full_name()} ({u.membership.partner.name})") for u in users]),
            ("Organisations", [(f"partner:{p.slug}", f"Anyone at {p.name}") for p in partners]),
        ]  # fmt: skip

    def clean_due_date(self):
        value = self.cleaned_data["due_date"]
        if value and value != self.current_due and value < timezone.localdate():
            raise forms.ValidationError("The due date must be today or in the future")
        return value


class ActionStatusForm(forms.Form):
    """Mark an action done or cancelled: the "Mark done" button on the case page posts this, and
    the page asks the question itself when a post cannot be used (no status, an unknown one)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)
    status = radio(
        [("done", "Done"), ("cancelled", "Cancelled: it no longer needs doing")],
        "Mark this action as",
        error_messages={
            "required": "Select whether the action is done or cancelled",
            "invalid_choice": "Select whether the action is done or cancelled",
        },
    )
