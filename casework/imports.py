"""CSV import of referrals, for partners without an API integration: `manage.py import_referrals`
and the web upload (casework.uploads) both call `import_referrals_csv`.

One row is one referral. Each row is received on its own (a bad row does not stop the others) and
keyed, so importing the same file again creates nothing new: the key is the `reference` column
when the file has one, otherwise a hash of the row's contents.

Columns (header names are case-insensitive; spaces or dashes count as underscores):
  required  given_name, family_name, concerns (codes from /api/v1/vocabularies/concerns,
            separated by ";" or "|"), description
  optional  reference, date_of_birth (YYYY-MM-DD or DD/MM/YYYY), preferred_name, gender, pronouns,
            language, postcode, nhs_number, upn, pnc, ni_number, local_id, urgency (standard or
            urgent), received_at (ISO 8601, YYYY-MM-DD or DD/MM/YYYY [HH:MM], UK time if no offset)
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from casework import services
from casework.models import Referral, Urgency
from core.errors import DomainError
from partners.actor import Actor

MAX_ROWS = 10000
REQUIRED = ("given_name", "family_name", "concerns", "description")
PERSON_COLUMNS = ("given_name", "family_name", "preferred_name", "gender", "pronouns", "language")
IDENTIFIER_COLUMNS = {
    "nhs_number": "nhs",
    "nhs": "nhs",
    "upn": "upn",
    "pnc": "pnc",
    "pnc_id": "pnc",
    "ni_number": "ni",
    "ni": "ni",
    "local_id": "local",
}
KNOWN = {
    *REQUIRED,
    *PERSON_COLUMNS,
    *IDENTIFIER_COLUMNS,
    "reference",
    "date_of_birth",
    "postcode",
    "urgency",
    "received_at",
}
# The service's field names, as the file's columns (identifiers are matched by position below).
SERVICE_FIELDS = {"source_reference": "reference", "person.identifiers": "identifiers"}


@dataclass
class RowError:
    """A row that was not imported. Messages name columns and codes, never the row's values (they
    are shown on the web and kept with an upload job)."""

    row: int  # the line in the file: the header is row 1
    message: str
    fields: dict = field(default_factory=dict)

    def __str__(self) -> str:
        detail = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in self.fields.items())
        return f"row {self.row}: {self.message}" + (f" ({detail})" if detail else "")


@dataclass
class ImportResult:
    rows: int = 0
    created: list[tuple[int, Referral]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # already imported
    errors: list[RowError] = field(default_factory=list)


class RowInvalid(Exception):
    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message, self.fields = message, fields or {}


def _header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", (name or "").strip().lower())


def _date(value: str, name: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date, not a time
        except ValueError:
            continue
    raise RowInvalid("Not a date.", {name: ["use YYYY-MM-DD or DD/MM/YYYY"]})


def _datetime(value: str, name: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    parsed = None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        for fmt in ("%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
            try:
                parsed = datetime.strptime(value, fmt)  # noqa: DTZ007 - made aware below
                break
            except ValueError:
                continue
    if parsed is None:
        raise RowInvalid("Not a date and time.", {name: ["use ISO 8601"]})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # UK local time, as people write it
    return parsed


def missing_columns(names: Iterable[str]) -> list[str]:
    """The required columns a header row lacks."""
    have = {_header(n) for n in names}
    return [c for c in REQUIRED if c not in have]


def row_key(row: dict[str, str]) -> str:
    """The row's `reference`, or a hash of its contents (column order and spacing ignored)."""
    reference = (row.get("reference") or "").strip()
    if reference:
        return reference[:100]
    canonical = "\x1f".join(f"{k}={(row.get(k) or '').strip()}" for k in sorted(KNOWN))
    return "csv:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _parse(row: dict[str, str]) -> dict:
    missing = [c for c in REQUIRED if not (row.get(c) or "").strip()]
    if missing:
        raise RowInvalid(
            "Required values are missing.", {c: ["this column is required"] for c in missing}
        )
    person = {c: row[c].strip() for c in PERSON_COLUMNS if (row.get(c) or "").strip()}
    dob = _date(row.get("date_of_birth") or "", "date_of_birth")
    if dob:
        person["date_of_birth"] = dob
    if (row.get("postcode") or "").strip():
        person["postcode"] = row["postcode"].strip().upper()
    identifiers = [
        {"scheme": scheme, "value": row[column].strip()}
        for column, scheme in IDENTIFIER_COLUMNS.items()
        if (row.get(column) or "").strip()
    ]
    urgency = (row.get("urgency") or "").strip().lower() or Urgency.STANDARD
    concerns = [c.strip().lower() for c in re.split(r"[;|]", row["concerns"]) if c.strip()]
    return {
        "person": person,
        "identifiers": identifiers,
        "concerns": concerns,
        "description": row["description"].strip(),
        "urgency": urgency,
        "received_at": _datetime(row.get("received_at") or "", "received_at"),
    }


def import_referrals_csv(
    *,
    actor: Actor,
    lines: Iterable[str],
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Receives every valid row as a referral (each in its own transaction), skips rows already
    imported, and reports the others with their row numbers."""
    reader = csv.DictReader(lines)
    if reader.fieldnames is None:
        return ImportResult(errors=[RowError(1, "The file is empty.")])
    reader.fieldnames = [_header(h) for h in reader.fieldnames]
    result = ImportResult()
    missing = missing_columns(reader.fieldnames)
    if missing:
        result.errors.append(RowError(1, f"Missing columns: {', '.join(missing)}."))
        return result
    try:
        rows = list(reader)
    except csv.Error as exc:
        result.errors.append(RowError(reader.line_num, f"The file could not be read: {exc}"))
        return result
    if len(rows) > MAX_ROWS:
        result.errors.append(
            RowError(
                1, f"The file has {len(rows)} rows; split it into files of {MAX_ROWS} or fewer."
            )
        )
        return result
    result.rows = len(rows)
    for index, row in enumerate(rows):
        number = index + 2  # the header is row 1
        # A record that spans lines still counts once; extra values land under the None key.
        row = {k: v for k, v in row.items() if k is not None and isinstance(v, str)}
        if any(v.strip() for v in row.values()):
            _import_row(actor, row, number, result)
        if progress:
            progress(index + 1, len(rows))
    return result


def _import_row(actor: Actor, row: dict[str, str], number: int, result: ImportResult) -> None:
    key = row_key(row)
    if Referral.objects.filter(source_partner=actor.partner, source_reference=key).exists():
        result.skipped.append(number)
        return
    try:
        parsed = _parse(row)
        intake = services.referral_create(
            actor=actor, source_reference=key, channel="csv", **parsed
        )
    except RowInvalid as exc:
        result.errors.append(RowError(number, exc.message, exc.fields))
    except DomainError as exc:
        if exc.code == "duplicate_referral":
            result.skipped.append(number)
        else:
            result.errors.append(RowError(number, exc.message, _columns(row, exc.fields)))
    else:
        result.created.append((number, intake.referral))


def _columns(row: dict[str, str], fields: dict | None) -> dict:
    """A service's field errors under the file's column names: `identifiers.1.value` is the second
    identifier column the row fills in (the order `_parse` reads them)."""
    given = [c for c in IDENTIFIER_COLUMNS if (row.get(c) or "").strip()]
    named: dict = {}
    for name, notes in (fields or {}).items():
        match = re.fullmatch(r"identifiers\.(\d+)\.\w+", name)
        if match and int(match.group(1)) < len(given):
            name = given[int(match.group(1))]
        named.setdefault(SERVICE_FIELDS.get(name, name), []).extend(
            notes if isinstance(notes, list | tuple) else [notes]
        )
    return named
