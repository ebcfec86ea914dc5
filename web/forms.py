"""Forms in the GOV.UK Design System's patterns. They validate input; the services enforce rules."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from cases.identifiers import Scheme
from cases.models import ClosureReason, LawfulBasis
from partners.models import TraumaTrainingLevel
from wellbeing.models import Exposure, Support, Wellbeing, Workload

SUMMARY_HINT = (
    "Say what happened and what worries you, in plain words. Where you can, write the person's "
    "own words in quotation marks. Describe what happened to them, not what is wrong with them."
)


class GovukDateWidget(forms.MultiWidget):
    """The GOV.UK date input: separate day, month and year boxes."""

    parts = (("day", "Day", 2), ("month", "Month", 2), ("year", "Year", 4))

    def __init__(self, attrs=None):
        super().__init__(
            {"day": forms.TextInput(), "month": forms.TextInput(), "year": forms.TextInput()},
            attrs,
        )

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class GovukDateField(forms.MultiValueField):
    widget = GovukDateWidget

    def __init__(
        self, *, past_only: bool = False, future_only: bool = False, error_label: str = "", **kwargs
    ):
        self.past_only, self.future_only = past_only, future_only
        # How errors name the field when its label does not read well in a sentence.
        self.error_label = error_label
        # Optional parts: compress() names the missing part ("must include a month"), where
        # Django would say only "Enter a complete value."
        fields = tuple(forms.CharField(required=False) for _ in range(3))
        kwargs.setdefault("require_all_fields", False)
        super().__init__(fields, **kwargs)

    def compress(self, data_list):
        if not data_list or not any(data_list):
            return None
        label = self.error_label or self.label or "The date"
        if not all(data_list):
            missing = [n for n, v in zip(("day", "month", "year"), data_list, strict=True) if not v]
            raise forms.ValidationError(f"{label} must include a {' and '.join(missing)}")
        try:
            day, month, year = (int(str(v).strip()) for v in data_list)
            value = dt.date(year, month, day)
        except ValueError:
            raise forms.ValidationError(f"{label} must be a real date") from None
        if year < 1900:
            raise forms.ValidationError(f"{label} must be after 1900")
        if self.past_only and value > timezone.localdate():
            raise forms.ValidationError(f"{label} must be today or in the past")
        if self.future_only and value <= timezone.localdate():
            raise forms.ValidationError(f"{label} must be in the future")
        return value


class GovukTimeWidget(forms.MultiWidget):
    """A time in the GOV.UK date-input pattern: separate hour and minute boxes."""

    parts = (("hour", "Hour", 2), ("minute", "Minute", 2))

    def __init__(self, attrs=None):
        super().__init__({"hour": forms.TextInput(), "minute": forms.TextInput()}, attrs)

    def decompress(self, value):
        if isinstance(value, dt.time):
            return [f"{value.hour:02d}", f"{value.minute:02d}"]
        return [None, None]


class GovukTimeField(forms.MultiValueField):
    """A time of day on the 24-hour clock, in hour and minute boxes."""

    widget = GovukTimeWidget

    def __init__(self, *, error_label: str = "", **kwargs):
        self.error_label = error_label
        kwargs.setdefault("require_all_fields", False)
        super().__init__(
            (forms.CharField(required=False), forms.CharField(required=False)), **kwargs
        )

    def compress(self, data_list):
        if not data_list or not any(data_list):
            return None
        label = self.error_label or self.label or "The time"
        if not all(data_list):
            missing = [n for n, v in zip(("hour", "minute"), data_list, strict=True) if not v]
            raise forms.ValidationError(
                f"{label} must include {' and '.join(f'a {m}' if m == 'minute' else 'an hour' for m in missing)}"
            )
        try:
            hour, minute = (int(str(v).strip()) for v in data_list)
            return dt.time(hour, minute)
        except ValueError:
            raise forms.ValidationError(
                f"{label} must be a real time on the 24-hour clock, like 21 30"
            ) from None


class GovukDateTimeWidget(forms.MultiWidget):
    """A date and time in the GOV.UK date-input pattern: day, month, year, hour and minute."""

    parts = (
        ("day", "Day", 2), ("month", "Month", 2), ("year", "Year", 4),
        ("hour", "Hour", 2), ("minute", "Minute", 2),
    )  # fmt: skip

    def __init__(self, attrs=None):
        super().__init__({key: forms.TextInput() for key, _, _ in self.parts}, attrs)

    def decompress(self, value):
        if isinstance(value, str):
            from django.utils.dateparse import parse_datetime

            value = parse_datetime(value)
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return [value.day, value.month, value.year, f"{value.hour:02d}", f"{value.minute:02d}"]
        return [None] * 5


class GovukDateTimeField(forms.MultiValueField):
    """A moment in local time: a GOV.UK date input followed by hour and minute boxes."""

    widget = GovukDateTimeWidget

    def __init__(self, *, error_label: str = "", **kwargs):
        self.error_label = error_label
        kwargs.setdefault("require_all_fields", False)
        super().__init__(tuple(forms.CharField(required=False) for _ in range(5)), **kwargs)

    def compress(self, data_list):
        if not data_list or not any(data_list):
            return None
        label = self.error_label or self.label or "The date and time"
        names = ("day", "month", "year", "hour", "minute")
        if not all(data_list):
            missing = [n for n, v in zip(names, data_list, strict=True) if not v]
            raise forms.ValidationError(f"{label} must include a {' and '.join(missing)}")
        try:
            day, month, year, hour, minute = (int(str(v).strip()) for v in data_list)
            local = timezone.get_current_timezone()
            value = dt.datetime(year, month, day, hour, minute, tzinfo=local)
        except ValueError:
            raise forms.ValidationError(
                f"{label} must be a real date, and a time on the 24-hour clock like 21 30"
            ) from None
        if year < 1900:
            raise forms.ValidationError(f"{label} must be after 1900")
        return value


def _radio(choices, label, **kwargs):
    return forms.ChoiceField(choices=choices, label=label, widget=forms.RadioSelect, **kwargs)


class CaseSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, case reference or identifier",
        help_text="For example, Sam Smith, a case reference or an NHS number",
        required=False,
        max_length=100,
    )


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


class ShareForm(forms.Form):
    partner = _radio(
        (),
        "Partner organisation",
        help_text="Only partners with a data sharing agreement in force with yours are offered.",
        error_messages={"required": "Select a partner organisation"},
    )
    lawful_basis = _radio(
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
    to = _radio([], "Move the case to", error_messages={"required": "Select the new status"})
    closure_reason = _radio(ClosureReason.choices, "Why is the case closing?", required=False)
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


# Case work ---------------------------------------------------------------------------------------

from casework.models import AdversitySource, EntryKind, EntryVisibility, Urgency  # noqa: E402
from casework.vocabularies import ADVERSITIES, CONCERNS, ScreeningOutcome  # noqa: E402

ADVERSITY_GROUPS = {
    "ace": "Adverse childhood experiences",
    "wider": "Wider adversities",
    "protective": "Protective factors (strengths)",
}
CONCERN_GROUPS = {
    "harm": "Harm",
    "exploitation": "Exploitation",
    "violence": "Violence",
    "welfare": "Welfare",
    "behaviour": "Behaviour",
    "family": "Family",
    "other": "Other",
}


def _grouped(items, names):
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(names.get(item.group, item.group), []).append((item.code, item.label))
    return list(groups.items())


# The children in the household a referral can name: a PPN rarely lists more.
CHILD_SLOTS = 4


class ReferralDetailsForm(forms.Form):
    """The concern, the person's own words and the Police Protection Notice (PPN) details, written
    for an officer at the end of a shift. Every PPN field is optional: other partners leave them."""

    concerns = forms.MultipleChoiceField(
        label="What are you worried about?",
        help_text="Select all that apply.",
        choices=_grouped(CONCERNS, CONCERN_GROUPS),
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
    urgency = _radio(
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
    visibility = _radio(
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
        choices=[("", "Choose"), *_grouped(ADVERSITIES, ADVERSITY_GROUPS)],
        error_messages={"required": "Select what you are recording"},
    )
    source = _radio(
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
    outcome = _radio(
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


# Emergency (break-glass) access ------------------------------------------------------------------


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


# People, households and consent -----------------------------------------------------------------

from cases.models import ConsentDecision, RelationshipKind, Whereabouts  # noqa: E402


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
    kind = _radio(
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

    whereabouts = _radio(
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
    kind = _radio(
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
    person = _radio(
        [], "Whose decision is this?", error_messages={"required": "Select whose decision this is"}
    )
    decision = _radio(
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
    lawful_basis = _radio(
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


# Corrections and changes -------------------------------------------------------------------------


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
    status = _radio(
        [("done", "Done"), ("cancelled", "Cancelled: it no longer needs doing")],
        "Mark this action as",
        error_messages={
            "required": "Select whether the action is done or cancelled",
            "invalid_choice": "Select whether the action is done or cancelled",
        },
    )


# Programme sessions and milestones ---------------------------------------------------------------

from programmes.models import Attendance  # noqa: E402


class SessionForm(forms.Form):
    kind = forms.ChoiceField(
        label="What kind of session?", error_messages={"required": "Select the kind of session"}
    )
    occurred_on = GovukDateField(
        label="Date", help_text="For example, 27 3 2026", past_only=True,
        error_messages={"required": "Enter the date of the session"},
    )  # fmt: skip
    occurred_time = EntryForm.base_fields["occurred_time"]
    attendance = _radio(
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


class BreakGlassDecisionForm(forms.Form):
    request = forms.UUIDField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("refuse", "Refuse")],
        error_messages={"required": "Choose approve or refuse"},
    )
    reason = forms.CharField(
        label="Reason (needed to refuse)", required=False, max_length=2000, widget=forms.Textarea
    )


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
