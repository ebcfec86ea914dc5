"""The form a manager decides on a request for emergency access with."""

from __future__ import annotations

from django import forms


class BreakGlassDecisionForm(forms.Form):
    request = forms.UUIDField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("refuse", "Refuse")],
        error_messages={"required": "Choose approve or refuse"},
    )
    reason = forms.CharField(
        label="Reason (needed to refuse)", required=False, max_length=2000, widget=forms.Textarea
    )
