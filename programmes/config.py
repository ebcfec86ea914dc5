"""A programme's configuration is data; this module says what shape that data must have, and
validates referral `details` against a programme's intake schema.

Shapes (each checked by a JSON Schema below whenever a programme is written):

eligibility::

    {"age": {"min": 18, "max": 25},                       # age in whole years at referral
     "cohort": {"field": "cohort", "allowed": ["custody", "care_leaver", "ae"]},  # details.<field>
     "adversities": {"codes": ["parental_incarceration"], "match": "all"}}  # on the case

followup_schedule (a list)::

    {"kind": "divert_check_in", "title": "DIVERT check-in",
     "anchor": "enrolled" | "details.<a date field>",
     "offset": {"months": 1, "weeks": 0, "days": 0},    # may be negative: weeks before release
     "repeat": 1, "every": {"months": 1}}                 # optional: more occurrences

milestones, outcomes, session_kinds: lists of {"code", "label"}.

intake_schema: any JSON Schema (draft 2020-12) for an object.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from core.errors import ValidationFailed

_PERIOD = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "months": {"type": "integer"},
        "weeks": {"type": "integer"},
        "days": {"type": "integer"},
    },
}

_CODES = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "label"],
        "properties": {
            "code": {"type": "string", "pattern": "^[a-z0-9_]{1,60}$"},
            "label": {"type": "string", "minLength": 1, "maxLength": 200},
        },
    },
}

ELIGIBILITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "age": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "min": {"type": "integer", "minimum": 0, "maximum": 130},
                "max": {"type": "integer", "minimum": 0, "maximum": 130},
            },
        },
        "cohort": {
            "type": "object",
            "additionalProperties": False,
            "required": ["allowed"],
            "properties": {
                "field": {"type": "string", "pattern": "^[A-Za-z0-9_]+$", "default": "cohort"},
                "allowed": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            },
        },
        "adversities": {
            "type": "object",
            "additionalProperties": False,
            "required": ["codes"],
            "properties": {
                "codes": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "match": {"enum": ["all", "any"], "default": "all"},
            },
        },
    },
}

SCHEDULE_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "title", "anchor", "offset"],
        "properties": {
            "kind": {"type": "string", "pattern": "^[a-z0-9_]{1,50}$"},
            "title": {"type": "string", "minLength": 1, "maxLength": 150},
            "anchor": {"type": "string", "pattern": r"^(enrolled|details\.[A-Za-z0-9_]+)$"},
            "offset": _PERIOD,
            "repeat": {"type": "integer", "minimum": 1, "maximum": 60},
            "every": _PERIOD,
        },
    },
}

CODES_SCHEMA = _CODES

_DETAIL_FIELD = re.compile(r"^details\.(\w+)$")


def _format_checker() -> FormatChecker:
    """Draft 2020-12 formats, with `date-time` checked without an optional dependency: ISO 8601
    with an offset, as API.md requires of every time."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value) -> bool:
        if not isinstance(value, str):
            return True
        parsed = parse_datetime(value)
        return parsed is not None and parsed.tzinfo is not None

    return checker


FORMAT_CHECKER = _format_checker()


def _messages(errors) -> dict[str, list[str]]:
    """jsonschema errors → {"details.path": ["message"]}, naming the field, never the root."""
    fields: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        if message not in fields.setdefault(path, []):
            fields[path].append(message)

    for error in errors:
        path = ["details", *(str(p) for p in error.absolute_path)]
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [p for p in error.validator_value if p not in error.instance]
            for name in missing:
                add(".".join([*path, name]), "This field is required.")
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            for name in sorted(set(error.instance) - known):
                add(
                    ".".join([*path, name]),
                    "This field is not part of this programme's intake form.",
                )
            continue
        if error.validator == "enum":
            message = "Must be one of: " + ", ".join(str(v) for v in error.validator_value) + "."
        elif error.validator == "format":
            message = f"Must be a valid {error.validator_value}."
        else:
            message = error.message
        add(".".join(path), message)
    return fields


def validate_details(intake_schema: dict, details: Any) -> None:
    """Referral details must satisfy the programme's intake schema: 400 naming each field."""
    if not isinstance(details, dict):
        raise ValidationFailed(
            "details must be a JSON object.", fields={"details": ["Must be an object."]}
        )
    validator = Draft202012Validator(intake_schema or {}, format_checker=FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(details), key=lambda e: list(e.absolute_path))
    if errors:
        raise ValidationFailed(
            "Some intake details are not valid for this programme.", fields=_messages(errors)
        )


def _check(name: str, schema: dict, value: Any, fields: dict) -> None:
    for error in Draft202012Validator(schema).iter_errors(value):
        path = ".".join([name, *(str(p) for p in error.absolute_path)])
        fields.setdefault(path, []).append(error.message)


def validate_config(config: dict[str, Any]) -> None:
    """A programme's JSON configuration must have the documented shapes, its intake schema must be
    a valid JSON Schema for an object, and every schedule anchor on a detail must name a date field
    of that schema. `config` holds any of: eligibility, followup_schedule, intake_schema,
    milestones, outcomes, session_kinds, capacity."""
    fields: dict[str, list[str]] = {}
    if "eligibility" in config:
        _check("eligibility", ELIGIBILITY_SCHEMA, config["eligibility"], fields)
        age = (config["eligibility"] or {}).get("age") if not fields else None
        if age and "min" in age and "max" in age and age["min"] > age["max"]:
            fields["eligibility.age"] = ["min must not be above max."]
    if "followup_schedule" in config:
        _check("followup_schedule", SCHEDULE_SCHEMA, config["followup_schedule"], fields)
    for name in ("milestones", "outcomes", "session_kinds"):
        if name in config:
            _check(name, CODES_SCHEMA, config[name], fields)
            codes = [c.get("code") for c in config[name] or [] if isinstance(c, dict)]
            if len(codes) != len(set(codes)):
                fields.setdefault(name, []).append("Codes must be unique.")
    if "intake_schema" in config:
        schema = config["intake_schema"]
        if not isinstance(schema, dict):
            fields["intake_schema"] = ["Must be a JSON Schema object."]
        else:
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                fields["intake_schema"] = [f"Not a valid JSON Schema: {exc.message}"]
            else:
                if schema.get("type", "object") != "object":
                    fields["intake_schema"] = ['The intake schema must have "type": "object".']
    if "capacity" in config and (not isinstance(config["capacity"], int) or config["capacity"] < 0):
        fields["capacity"] = ["Must be a whole number, 0 or more."]
    if not fields and "followup_schedule" in config and "intake_schema" in config:
        properties = (config["intake_schema"] or {}).get("properties", {})
        for index, item in enumerate(config["followup_schedule"] or []):
            match = _DETAIL_FIELD.match(item["anchor"])
            if match and (properties.get(match.group(1)) or {}).get("format") != "date":
                fields[f"followup_schedule.{index}.anchor"] = [
                    f"'{match.group(1)}' is not a date field of the intake schema."
                ]
    if fields:
        raise ValidationFailed("The programme configuration is not valid.", fields=fields)


def codes(items: list[dict]) -> set[str]:
    return {item["code"] for item in items or []}


def as_date(value: Any) -> date | None:
    """A schedule anchor's value: a date, a datetime, or an ISO 8601 string of either."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None
