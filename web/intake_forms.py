"""A programme's intake form, built from its intake schema (programmes are data, not code).

Scalar properties become GOV.UK fields; an object of scalars becomes a group of fields named
`parent__child`. Arrays are left to the coordinator (the API takes them). The programme's own
validation (programmes.config.validate_details) stays the judge: its errors come back to the fields.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from web.forms import GovukDateField

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
        return forms.DateTimeField(
            label=label,
            help_text=hint or "Date and time",
            required=required,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
            error_messages={
                "required": f"Enter the {label.lower()}",
                "invalid": "Enter a real date and time",
            },
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


def intake_form_class(schema: dict) -> type[forms.Form]:
    fields: dict[str, forms.Field] = {}
    required = set(schema.get("required", []))
    for name, spec in (schema.get("properties") or {}).items():
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
