"""Forms on a case: finding it, sharing it, moving it on, its summary and the person's voice, and
asking for emergency (break-glass) access."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from cases.models import ClosureReason, LawfulBasis
from web.forms.fields import GovukDateField, radio

SUMMARY_HINT = (
    "Say what happened and what worries you, in plain words. Where you can, write the person's "
    "own words in quotation marks. Describe what happened to them, not what is wrong with them."
)


class CaseSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, case reference or identifier",
        help_text="For example, Sam Smith, a case reference or an NHS number",
        required=False,
        max_length=100,
    )


class ShareForm(forms.Form):
    partner = radio(
        (),
        "Partner organisation",
        help_text="Only partners with a data sharing agreement in force with yours are offered.",
        error_messages={"required": "Select a partner organisation"},
    )
    lawful_basis = radio(
        LawfulBasis.choices,
        "Lawful basis for sharing",
        error_messages={"required": "Select the lawful basis for sharing"},
    )
    reason = forms.CharField(
        label="Why are you sharing this case?",
        help_text="This is kept with the share and shown to auditors and the person if they ask.",
        widget=forms.Textarea,
        max_length=2000,
        error_messages={"required": "Say why you are sharing this case"},
    )
    expires_on = GovukDateField(
        label="Share until (optional)",
        help_text="Leave blank if the share should last until someone ends it. For example, 31 12 2026.",
        required=False,
        future_only=True,
    )

    def __init__(self, *args, partners=(), **kwargs):
        """`partners`: (partner, agreement) pairs; each choice names the agreement it relies on."""
        super().__init__(*args, **kwargs)
        field = self.fields["partner"]
        field.choices = [(p.slug, p.name) for p, _ in partners]
        field.choice_hints = {p.slug: _relies_on(agreement) for p, agreement in partners}

    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59)))


def _relies_on(agreement) -> str:
    review = f", due for review on {agreement.review_date:%-d %B %Y}"
    return f"Under the data sharing agreement “{agreement.name}”{review}"


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why are you ending this share?",
        widget=forms.Textarea,
        max_length=2000,
        error_messages={"required": "Say why you are ending this share"},
    )


class TransitionForm(forms.Form):
    to = radio([], "Move the case to", error_messages={"required": "Select the new status"})
    closure_reason = radio(ClosureReason.choices, "Why is the case closing?", required=False)
    reason = forms.CharField(
        label="Note (optional)",
        help_text="Anything the next person to read the case should know about this decision.",
        widget=forms.Textarea,
        max_length=2000,
        required=False,
    )

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = list(allowed)

    def clean(self):
        data = super().clean()
        if data.get("to") == "closed" and not data.get("closure_reason"):
            self.add_error("closure_reason", "Select why the case is closing")
        return data


class VoiceForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    goals = forms.CharField(
        label="Their goals",
        help_text="What they want to achieve, in their own words",
        widget=forms.Textarea,
        required=False,
        max_length=5000,
    )
    what_matters = forms.CharField(
        label="What matters to them",
        help_text="People, places, routines or things that help. Include how they like to be "
        "contacted and anything they have asked us not to do.",
        widget=forms.Textarea,
        required=False,
        max_length=5000,
    )


class SummaryForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    summary = forms.CharField(
        label="Case summary",
        help_text=SUMMARY_HINT + " The summary it replaces is kept in the case's history.",
        widget=forms.Textarea,
        max_length=20000,
        error_messages={"required": "Enter the case summary"},
    )
    reason = forms.CharField(
        label="Why are you changing it?",
        help_text="For example, ‘updated after joint screening’",
        max_length=500,
        error_messages={"required": "Enter why you are changing the summary"},
    )


class BreakGlassForm(forms.Form):
    reference = forms.CharField(
        label="Case reference",
        help_text="For example, VRU-2026-000123. Ask the partner who holds the case for it.",
        max_length=30,
        error_messages={"required": "Enter the case reference"},
        widget=forms.TextInput(
            attrs={"data-width": "govuk-input--width-20", "spellcheck": "false"}
        ),
    )
    reason = forms.CharField(
        label="Why do you need to see this case now?",
        help_text="Say what has happened and why it cannot wait for the lead partner to share "
        "the case. The lead partner's managers and auditors will read this.",
        widget=forms.Textarea,
        min_length=10,
        max_length=2000,
        error_messages={
            "required": "Say why you need to see this case now",
            "min_length": "Give a little more detail about why you need to see this case now",
        },
    )
    confirm = forms.BooleanField(
        label="I understand that my access will be recorded, will end automatically, and that "
        "the lead partner's managers will be told",
        error_messages={"required": "Confirm that you understand how emergency access works"},
    )

    def clean_reference(self):
        return self.cleaned_data["reference"].strip().upper()
