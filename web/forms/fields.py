"""The GOV.UK Design System's date and time inputs as Django fields and widgets, and the
small helpers every form module uses to build its fields."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone


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


def radio(choices, label, **kwargs):
    """A GOV.UK radios question."""
    return forms.ChoiceField(choices=choices, label=label, widget=forms.RadioSelect, **kwargs)


def grouped_choices(items, names):
    """A vocabulary's (code, label) choices under headings: `names` maps each group to its heading."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(names.get(item.group, item.group), []).append((item.code, item.label))
    return list(groups.items())
