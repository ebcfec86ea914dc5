"""A programme's intake form, built from its intake schema (programmes are data, not code).

Scalar properties become GOV.UK fields; an object of scalars becomes a group of fields named
`parent__child`. Arrays are left to the coordinator (the API takes them). The programme's own
validation (programmes.config.validate_details) stays the judge: its errors come back to the fields.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from programmes.config import at_referral, programme_fields
from web.forms.fields import GovukDateField, GovukDateTimeField

SEP = "__"
# Friendlier labels for codes the seeded programmes use; anything else is humanised.
CODE_LABELS = {
    "ae": "A&E patient",
    "care_leaver": "Care leaver",
    "custody": "In police custody",
    "not_suitable": "Not suitable",
    "not_approached": "Not approached",
}


def code_label(code) -> str:
    return CODE_LABELS.get(str(code), str(code).replace("_", " ").capitalize())


# Showing the details: as a person would write them, from the programme's own intake schema.


def _label(name: str, spec: dict) -> str:
    return spec.get("title") or name.replace("_", " ").capitalize()


def _when(value, spec: dict) -> str | None:
    """A date or date-time in words ("29 November 2026", "29 November 2026, 21:40" local time);
    None when the value is not one."""
    fmt = spec.get("format")
    if not isinstance(value, str) or fmt not in ("date", "date-time"):
        return None
    try:
        if fmt == "date":
            return dt.date.fromisoformat(value).strftime("%-d %B %Y")
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%-d %B %Y, %H:%M")


def _scalar(value, spec: dict) -> str:
    if "enum" in spec or "const" in spec:
        return code_label(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    when = _when(value, spec)
    if when is not None:
        return when
    return str(value)  # typed by a person: shown as typed, names keep their capitals


def _thing(value: dict, spec: dict) -> str:
    """One object (a family member, a mentor, a child) in a line: its name or title first, then
    the rest ("Daniel Williams, father"; "Amy, date of birth 3 March 2014, school Riverside")."""
    properties = spec.get("properties") or {}
    main = next((k for k in ("name", "title") if value.get(k) not in (None, "")), None)
    parts = [str(value[main])] if main else []
    for key, item in value.items():
        if key == main or item in (None, "", [], {}):
            continue
        inner = properties.get(key, {})
        shown = _scalar(item, inner) if not isinstance(item, dict | list) else _text(item, inner)
        if "enum" in inner:
            parts.append(shown.lower() if main else shown)
        else:
            parts.append(f"{_label(key, inner).lower()} {shown}")
    return ", ".join(parts)


def _text(value, spec: dict) -> str:
    if isinstance(value, dict):
        return _thing(value, spec)
    if isinstance(value, list):
        return "; ".join(_text(v, spec.get("items") or {}) for v in value)
    return _scalar(value, spec)


def details_shown(schema: dict, details: dict) -> list[tuple[str, str | list[str]]]:
    """An enrolment's intake details for a page: each field's title, and its value as words (a
    list of lines for a list). Never the raw JSON."""
    properties = (schema or {}).get("properties") or {}
    shown: list[tuple[str, str | list[str]]] = []
    for name, value in (details or {}).items():
        if value in (None, "", [], {}):
            continue
        spec = properties.get(name, {})
        if isinstance(value, list):
            items = spec.get("items") or {}
            shown.append((_label(name, spec), [_text(v, items) for v in value]))
        else:
            shown.append((_label(name, spec), _text(value, spec)))
    return shown


def _field(spec: dict, required: bool, label: str) -> forms.Field | None:
    hint = spec.get("description", "")
    if "enum" in spec:
        return forms.ChoiceField(
            label=label,
            help_text=hint if not any(str(v) in hint for v in spec["enum"]) else "",
            required=required,
            choices=[(str(v), code_label(v)) for v in spec["enum"]],
            widget=forms.RadioSelect,
            error_messages={"required": f"Select {label.lower()}"},
        )
    kind = spec.get("type")
    fmt = spec.get("format")
    if kind == "string" and fmt == "date":
        return GovukDateField(
            label=label, help_text=hint or "For example, 27 3 2026", required=required
        )
    if kind == "string" and fmt == "date-time":
        return GovukDateTimeField(
            label=label,
            help_text=hint or "For example, 27 3 2026, then the time on the 24-hour clock: 21 30",
            required=required,
            error_messages={"required": f"Enter the {label.lower()}"},
        )
    if kind == "string":
        return forms.CharField(
            label=label,
            help_text=hint,
            required=required,
            max_length=spec.get("maxLength"),
            error_messages={"required": f"Enter the {label.lower()}"},
        )
    if kind == "integer":
        return forms.IntegerField(label=label, help_text=hint, required=required)
    if kind == "boolean":
        return forms.BooleanField(label=label, help_text=hint, required=False)
    return None


REFERRER, PROGRAMME = "referrer", "programme"


def intake_form_class(schema: dict, part: str | None = None) -> type[forms.Form]:
    """The intake form for a programme's schema: all of it, or only the referrer's part (the
    fields the programme's team fills in are left out: programmes.config.programme_fields) or
    only the programme's part. Required as the referral needs it (programmes.config.at_referral)."""
    ours = set(programme_fields(schema))
    fields: dict[str, forms.Field] = {}
    required = set(at_referral(schema).get("required", []))
    for name, spec in (schema.get("properties") or {}).items():
        if (part == REFERRER and name in ours) or (part == PROGRAMME and name not in ours):
            continue
        label = spec.get("title") or name.replace("_", " ").capitalize()
        if spec.get("type") == "object":
            inner_required = set(spec.get("required", []))
            for inner, inner_spec in (spec.get("properties") or {}).items():
                inner_label = (
                    f"{label}: {(inner_spec.get('title') or inner.replace('_', ' ')).lower()}"
                )
                field = _field(
                    inner_spec, name in required and inner in inner_required, inner_label
                )
                if field is not None:
                    fields[f"{name}{SEP}{inner}"] = field
            continue
        field = _field(spec, name in required, label)
        if field is not None:
            fields[name] = field
    return type("IntakeForm", (forms.Form,), fields)


def _json(value):
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def details_from(form: forms.Form) -> dict:
    details: dict = {}
    for name, value in form.cleaned_data.items():
        if value in (None, "") or (value is False):
            continue
        if SEP in name:
            parent, child = name.split(SEP, 1)
            details.setdefault(parent, {})[child] = _json(value)
        else:
            details[name] = _json(value)
    return details


def error_field(path: str) -> str:
    """'details.imprisoned_family_member.name' → the form field it belongs to."""
    parts = path.split(".")[1:] if path.startswith("details") else path.split(".")
    return SEP.join(parts[:2])
