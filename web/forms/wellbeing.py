"""Forms for staff wellbeing: supervision check-ins and trauma training records."""

from __future__ import annotations

from django import forms

from partners.models import TraumaTrainingLevel
from web.forms.fields import GovukDateField
from wellbeing.models import Exposure, Support, Wellbeing, Workload


class CheckInForm(forms.Form):
    """A supervision check-in. Every field is checked by wellbeing.services.check_in_problems, so
    the form shows every problem at once, in the service's words."""

    held_on = GovukDateField(
        label="Date of the check-in",
        help_text="For example, 27 3 2026.",
        required=False,
        error_label="The date of the check-in",
    )
    wellbeing = forms.TypedChoiceField(
        label="How are they?",
        help_text="As they describe it.",
        choices=Wellbeing.choices,
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
        required=False,
    )
    wellbeing_notes = forms.CharField(
        label="In their words (optional)",
        widget=forms.Textarea,
        required=False,
    )
    exposure = forms.ChoiceField(
        label="Exposure to traumatic material since the last check-in",
        choices=Exposure.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    exposure_kind = forms.CharField(
        label="What kind of material?",
        help_text="For example, images of abuse, accounts of violence, a serious incident "
        "attended. Not the details of a case.",
        widget=forms.Textarea,
        required=False,
    )
    workload = forms.ChoiceField(
        label="Workload",
        choices=Workload.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    support_offered = forms.MultipleChoiceField(
        label="Support offered",
        help_text="Select all that apply.",
        choices=Support.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    agreed_actions = forms.CharField(
        label="Agreed actions (optional)",
        help_text="What each of you will do before the next check-in.",
        widget=forms.Textarea,
        required=False,
    )
    next_check_in_on = GovukDateField(
        label="Date of the next check-in",
        help_text="Within 3 months. For example, 24 4 2026.",
        required=False,
        error_label="The date of the next check-in",
    )

    def clean(self):
        from wellbeing.services import check_in_problems

        data = super().clean()
        for name, message in check_in_problems(data).items():
            if name not in self.errors:
                self.add_error(name, message)
        return data


class TrainingRecordForm(forms.Form):
    """Trauma training completed, at a level of the National Trauma Training Framework."""

    course = forms.CharField(label="Course", help_text='For example, "ACE TIME".', required=False)
    level = forms.ChoiceField(
        label="Level of the National Trauma Training Framework",
        choices=[(v, label) for v, label in TraumaTrainingLevel.choices if v],
        widget=forms.RadioSelect,
        required=False,
    )
    completed_on = GovukDateField(
        label="Date completed",
        help_text="For example, 12 1 2026.",
        required=False,
        error_label="The date completed",
    )
    notes = forms.CharField(label="Notes (optional)", widget=forms.Textarea, required=False)

    def clean(self):
        from wellbeing.services import training_problems

        data = super().clean()
        for name, message in training_problems(data).items():
            if name not in self.errors:
                self.add_error(name, message)
        return data
