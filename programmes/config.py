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

intake_schema: a JSON Schema (draft 2020-12) for an object, valid against the metaschema. It is
self-contained: `$ref` only to a JSON pointer into the same schema ("#" or "#/$defs/..."), which must
resolve, and never in a loop that does not move into the data (which would never finish). No
`$id`, anchors or dynamic references, and `$schema` only at the top, naming draft 2020-12. Nothing
is ever fetched from elsewhere: a remote `$ref` would make the server fetch a URL on each referral.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

import referencing
import referencing.exceptions
from django.utils.dateparse import parse_datetime
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from core.errors import Conflict, ValidationFailed
from core.text import contains_unstorable_text

logger = logging.getLogger(__name__)

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


# Intake schemas: which keywords hold subschemas. "Same instance" ones apply their subschemas to the
# value being validated itself; following only those round a `$ref` loop never ends.
_SAME_INSTANCE = {"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas"}
_ONE_SUBSCHEMA = {
    "not", "if", "then", "else", "items", "additionalItems", "contains", "additionalProperties",
    "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema",
}  # fmt: skip
_SUBSCHEMA_LIST = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SUBSCHEMA_MAP = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_NOT_ALLOWED = (
    "$id",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
)
_DRAFT_2020_12 = (
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2020-12/schema#",
)
# Referral validation never fetches anything: an unknown reference is an error, not a download
# (jsonschema's default registry would still fetch a remote `$ref` with urlopen).
_NO_RETRIEVAL = referencing.Registry()


def _subschemas(schema: dict, pointer: tuple) -> list[tuple[tuple, Any, bool]]:
    """(pointer, subschema, applies to the same instance) for each subschema of `schema`."""
    found = []
    for keyword, value in schema.items():
        same = keyword in _SAME_INSTANCE
        if keyword in _ONE_SUBSCHEMA:
            found.append(((*pointer, keyword), value, same))
        elif keyword in _SUBSCHEMA_LIST and isinstance(value, list):
            found.extend(((*pointer, keyword, i), v, same) for i, v in enumerate(value))
        elif keyword in _SUBSCHEMA_MAP and isinstance(value, dict):
            # $defs are not applied at all until referenced; they are checked for what they hold.
            found.extend(((*pointer, keyword, k), v, same) for k, v in value.items())
    return found


def _resolve(root: dict, ref: str) -> tuple[tuple, Any] | None:
    """A local `$ref` ("#" or "#/a/b") → (pointer, target schema), or None if it goes nowhere."""
    if ref == "#":
        return (), root
    if not ref.startswith("#/"):
        return None
    pointer: list = []
    target: Any = root
    for raw in ref[2:].split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
            pointer.append(token)
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
            pointer.append(int(token))
        else:
            return None
    if not isinstance(target, dict | bool):
        return None
    return tuple(pointer), target


def _path(pointer: tuple) -> str:
    return ".".join(["intake_schema", *(str(t) for t in pointer)])


def intake_schema_errors(schema: dict) -> dict[str, list[str]]:
    """What makes a (metaschema-valid) intake schema unusable: a reference that is remote, goes
    nowhere or loops without moving into the data; identifiers and anchors that change how
    references resolve. {"intake_schema.<path>": [message]}."""
    fields: dict[str, list[str]] = {}
    same_instance: dict[tuple, list[tuple]] = {}  # pointer → pointers applied to the same value
    seen: set[tuple] = set()
    stack: list[tuple[tuple, Any]] = [((), schema)]
    while stack:
        pointer, node = stack.pop()
        if pointer in seen or not isinstance(node, dict):
            continue
        seen.add(pointer)
        edges = same_instance.setdefault(pointer, [])
        for keyword in _NOT_ALLOWED:
            if keyword in node:
                fields.setdefault(_path(pointer), []).append(
                    f"{keyword} is not supported in an intake schema."
                )
        if "$schema" in node and (pointer or node["$schema"] not in _DRAFT_2020_12):
            fields.setdefault(_path(pointer), []).append(
                f"$schema may only be {_DRAFT_2020_12[0]}, at the top of the schema."
            )
        if "$ref" in node:
            ref = node["$ref"]
            resolved = _resolve(schema, ref)
            if resolved is None:
                why = (
                    "must point into this schema, such as '#/$defs/address'"
                    if not ref.startswith("#")
                    else "does not point at a schema in this intake schema"
                )
                fields.setdefault(_path((*pointer, "$ref")), []).append(f"'{ref}' {why}.")
            else:
                edges.append(resolved[0])
                stack.append(resolved)
        for sub_pointer, sub, same in _subschemas(node, pointer):
            if same:
                edges.append(sub_pointer)
            if sub_pointer[-2:-1] == ("properties",) and not isinstance(sub, dict):
                # The web intake form is built from each property's description.
                fields.setdefault(_path(sub_pointer), []).append(
                    "Describe each property with a schema object, not true or false."
                )
            stack.append((sub_pointer, sub))
    if not fields:
        loop = _loop(same_instance)
        if loop is not None:
            fields[_path(loop)] = [
                "This $ref leads back to itself without moving into the data, so validating "
                "against it would never finish."
            ]
    return fields


def _loop(edges: dict[tuple, list[tuple]]) -> tuple | None:
    """A pointer on a cycle of same-instance edges, if there is one (iterative depth-first)."""
    done: set[tuple] = set()
    for start in edges:
        if start in done:
            continue
        on_path = {start}
        path = [(start, iter(edges.get(start, ())))]
        while path:
            node, children = path[-1]
            child = next(children, None)
            if child is None:
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                return child
            elif child not in done:
                on_path.add(child)
                path.append((child, iter(edges.get(child, ()))))
    return None


def _misconfigured(exc: Exception) -> Conflict:
    logger.warning("Unusable programme intake schema: %s", exc.__class__.__name__)
    return Conflict(
        "This programme's intake form is misconfigured, so it cannot take referrals until a "
        "coordinator or administrator corrects its intake schema.",
        code="intake_schema_invalid",
    )


# An intake property marked {"x-filled-by": "programme"} belongs to the programme's own team (a
# coach, a coordinator): the referrer is not asked for it, and it is not required at referral.
# Whoever runs the intake records it afterwards, on the enrolment.
FILLED_BY = "x-filled-by"
PROGRAMME = "programme"


def programme_fields(intake_schema: dict) -> list[str]:
    """The top-level intake properties the programme's team fills in, in schema order."""
    properties = intake_schema.get("properties") if isinstance(intake_schema, dict) else None
    if not isinstance(properties, dict):
        return []  # an unusable stored schema is reported by validate_details, not here
    return [
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get(FILLED_BY) == PROGRAMME
    ]


def at_referral(intake_schema: dict) -> dict:
    """The intake schema as it applies to a referral: the programme's fields are not required
    there (at the top, or in a top-level if/then/else or allOf), though when given they must
    still be valid."""
    ours = set(programme_fields(intake_schema))
    if not ours or not isinstance(intake_schema, dict):
        return intake_schema

    def relaxed(node):
        if not isinstance(node, dict):
            return node
        node = dict(node)
        if isinstance(node.get("required"), list):
            node["required"] = [n for n in node["required"] if n not in ours]
        for key in ("then", "else"):
            if key in node:
                node[key] = relaxed(node[key])
        if isinstance(node.get("allOf"), list):
            node["allOf"] = [relaxed(n) for n in node["allOf"]]
        return node

    return relaxed(intake_schema)


def validate_details(intake_schema: dict, details: Any) -> None:
    """Referral details must satisfy the programme's intake schema: 400 naming each field.

    A stored schema that cannot be used (saved before schemas were checked, or edited in the
    database) is 409 for the programme, never a 500: nothing can be referred until it is fixed."""
    if not isinstance(details, dict):
        raise ValidationFailed(
            "details must be a JSON object.", fields={"details": ["Must be an object."]}
        )
    schema = intake_schema or {}
    try:
        if not isinstance(schema, dict):
            raise SchemaError("not an object")
        Draft202012Validator.check_schema(schema)
        if intake_schema_errors(schema):
            raise SchemaError("unusable references")
        validator = Draft202012Validator(
            schema, format_checker=FORMAT_CHECKER, registry=_NO_RETRIEVAL
        )
    except (SchemaError, RecursionError) as exc:
        raise _misconfigured(exc) from None
    try:
        errors = sorted(validator.iter_errors(details), key=lambda e: list(e.absolute_path))
    except referencing.exceptions.Unresolvable as exc:
        raise _misconfigured(exc) from None
    except RecursionError:
        raise ValidationFailed(
            "The intake details are nested too deeply.",
            fields={"details": ["Nested too deeply."]},
        ) from None
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
    for name, value in config.items():
        if contains_unstorable_text(value):  # e.g. "\u0000" typed into the admin's JSON
            fields[name] = ["Contains a NUL character (U+0000) or an unpaired surrogate."]
    if fields:
        raise ValidationFailed("The programme configuration is not valid.", fields=fields)
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
            except RecursionError:
                fields["intake_schema"] = ["Nested too deeply."]
            else:
                if schema.get("type", "object") != "object":
                    fields["intake_schema"] = ['The intake schema must have "type": "object".']
                else:
                    fields.update(intake_schema_errors(schema))
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
