"""Forms for retention reviews: keeping a case longer, disposing of it, a legal hold."""

from __future__ import annotations

from django import forms

from web.forms.fields import GovukDateField


class RetentionExtendForm(forms.Form):
    until = GovukDateField(
        label="Keep the case until",
        help_text="For example, 31 12 2030.",
        future_only=True,
        error_messages={"required": "Enter the date until which the case must be kept"},
    )
    reason = forms.CharField(
        label="Why must it be kept longer?",
        help_text="Kept in the case's history. Say what the longer period is needed for.",
        widget=forms.Textarea,
        max_length=2000,
        error_messages={"required": "Say why the case must be kept longer"},
    )


class DisposeForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have reviewed this case and it can be deleted",
        error_messages={"required": "Confirm that the case can be deleted"},
    )


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label="Why must the case be held?",
        help_text="For example, the claim, inquiry or request it is held for. The lead partner's "
        "managers and the partnership's auditors see this.",
        widget=forms.Textarea,
        max_length=2000,
        error_messages={"required": "Say why the case must be held"},
    )
