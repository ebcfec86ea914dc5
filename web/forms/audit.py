"""The access-log search form an auditor fills in."""

from __future__ import annotations

from django import forms

from web.forms.fields import GovukDateField


class AccessLogSearchForm(forms.Form):
    case = forms.CharField(
        label="Case reference or id", required=False, max_length=64,
        widget=forms.TextInput(attrs={"data-width": "govuk-input--width-20", "spellcheck": "false"}),
    )  # fmt: skip
    person = forms.UUIDField(
        label="Person id", required=False,
        help_text="The id shown against a person in the access log",
    )  # fmt: skip
    user = forms.CharField(
        label="User email address", required=False, max_length=254,
        widget=forms.TextInput(attrs={"data-width": "govuk-input--width-20", "spellcheck": "false"}),
    )  # fmt: skip
    date_from = GovukDateField(label="From", required=False, help_text="For example, 1 4 2026")
    date_to = GovukDateField(label="To", required=False, help_text="For example, 30 4 2026")
    refused_only = forms.BooleanField(label="Only refused attempts", required=False)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date must be the same as or after the start date")
        return data
