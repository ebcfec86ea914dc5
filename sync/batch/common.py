"""What every resource's batch sync shares: the result of one record, field validation and the
caller's local ids, and the bulk look-ups by the caller's own ids (its people, cases and the map
from its ids to ours) that each resource's module builds on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from rest_framework import serializers

from cases import access as case_access
from cases.identifiers import InvalidIdentifier, Scheme
from cases.identifiers import normalise as normalise_identifier
from cases.models import Case, PersonIdentifier
from casework import access as casework_access
from core.errors import DomainError
from partners.actor import Actor
from sync.models import ExternalRef

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"


@dataclass
class RecordResult:
    index: int
    local_id: str | None
    status: str
    id: Any = None
    version: int | None = None
    error: dict | None = None

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "local_id": self.local_id,
            "status": self.status,
            "id": str(self.id) if self.id else None,
            "version": self.version,
            "error": self.error,
        }


def record_error(index: int, local_id, code: str, message: str, fields: dict | None = None):
    return RecordResult(
        index, local_id, ERROR, error={"code": code, "message": message, "fields": fields or {}}
    )


def from_domain(index: int, local_id, exc: DomainError) -> RecordResult:
    return record_error(index, local_id, exc.code, exc.message, exc.fields)


@dataclass
class Pending:
    index: int
    local_id: str
    data: dict
    version: int | None
    identifiers: list[tuple[str, str, Any]] = field(default_factory=list)


def validated(serializer_class, records: list) -> tuple[list[Pending], list[RecordResult]]:
    """Field validation record by record, and one local id once per batch."""
    from core.api.errors import _flatten

    # One serializer for the whole batch: building one per record (DRF deep-copies its fields
    # each time) would cost more than everything else a batch does.
    validator = serializer_class()
    pending, errors, seen = [], [], set()
    for index, raw in enumerate(records):
        local_id = raw.get("local_id") if isinstance(raw, dict) else None
        local_id = local_id if isinstance(local_id, str) else None
        try:
            data = dict(validator.run_validation(raw))
        except serializers.ValidationError as exc:
            errors.append(
                record_error(
                    index, local_id, "invalid", "Some fields are not valid.", _flatten(exc.detail)
                )
            )
            continue
        try:
            local_id = normalise_identifier(Scheme.LOCAL, data.pop("local_id"))
        except InvalidIdentifier as exc:
            errors.append(
                record_error(index, local_id, "invalid", str(exc), {"local_id": [str(exc)]})
            )
            continue
        if local_id in seen:
            errors.append(
                record_error(
                    index,
                    local_id,
                    "duplicate_in_batch",
                    "This local_id appears earlier in the same batch; send each record once.",
                    {"local_id": ["duplicate in batch"]},
                )
            )
            continue
        seen.add(local_id)
        pending.append(Pending(index, local_id, data, data.pop("version", None)))
    return pending, errors


def stale(index: int, local_id: str) -> RecordResult:
    return record_error(
        index,
        local_id,
        "stale",
        "This record has changed here since the version you sent. Fetch it, reconcile, and "
        "send it again with the new version (or without a version to overwrite).",
        {"version": ["stale"]},
    )


def identifier_holders(keys: Iterable[tuple[str, str, Any]]) -> dict[tuple, Any]:
    """(scheme, value, issuer_id) → person id, for those already recorded: one query."""
    groups: dict[tuple[str, Any], set[str]] = {}
    for scheme, value, issuer_id in keys:
        groups.setdefault((scheme, issuer_id), set()).add(value)
    if not groups:
        return {}
    condition = Q()
    for (scheme, issuer_id), values in groups.items():
        condition |= Q(scheme=scheme, issuer_id=issuer_id, value__in=values)
    return {
        (scheme, value, issuer_id): person_id
        for scheme, value, issuer_id, person_id in PersonIdentifier.objects.filter(
            condition
        ).values_list("scheme", "value", "issuer_id", "person_id")
    }


def concurrent(item: Pending) -> RecordResult:
    return record_error(
        item.index,
        item.local_id,
        "conflict",
        "Another request changed this record at the same moment. Send it again.",
    )


def external_refs(partner_id, resource: str, local_ids: Iterable[str]) -> dict[str, Any]:
    return dict(
        ExternalRef.objects.filter(
            partner_id=partner_id, resource=resource, local_id__in=list(local_ids)
        ).values_list("local_id", "object_id")
    )


def named_subject(item: Pending, by_local: dict, visible: set) -> tuple[Any, RecordResult | None]:
    if "subject_local_id" in item.data:
        person_id = by_local.get(item.data.pop("subject_local_id"))
        item.data.pop("subject", None)
        where = "subject_local_id"
    elif "subject" in item.data:
        person_id = item.data.pop("subject")
        where = "subject"
    else:
        return None, None
    if person_id is None or person_id not in visible:
        return None, record_error(
            item.index,
            item.local_id,
            "invalid",
            "No person you can see has that id.",
            {where: ["unknown person"]},
        )
    return person_id, None


def cases_named(actor: Actor, pending: list[Pending]) -> tuple[dict[str, Any], dict]:
    """Cases by the caller's own case ids (its partner's map only) → case ids, and the named cases
    the actor can see."""
    by_local = external_refs(
        actor.partner.pk,
        "case",
        {i.data["case_local_id"] for i in pending if "case_local_id" in i.data},
    )
    wanted = set(by_local.values()) | {i.data["case"] for i in pending if "case" in i.data}
    visible = (
        {
            c.pk: c
            for c in case_access.cases_visible_to(actor)
            .select_related("subject")
            .filter(pk__in=wanted)
        }
        if wanted
        else {}
    )
    return by_local, visible


def named_case(
    item: Pending, by_local: dict, visible: dict
) -> tuple[Case | None, RecordResult | None]:
    if "case_local_id" in item.data:
        case_id = by_local.get(item.data.pop("case_local_id"))
        item.data.pop("case", None)
        where = "case_local_id"
    elif "case" in item.data:
        case_id = item.data.pop("case")
        where = "case"
    else:
        return None, None
    case = visible.get(case_id)
    if case is None:
        # The same answer for a case that does not exist and one the caller may not see.
        return None, record_error(
            item.index,
            item.local_id,
            "invalid",
            "No case you can see has that id.",
            {where: ["unknown case"]},
        )
    return case, None


def fields_required(item: Pending, message: str, names: list[str]) -> RecordResult:
    return record_error(
        item.index,
        item.local_id,
        "invalid",
        message,
        {name: ["This field is required."] for name in names},
    )


def contributor_refused(actor: Actor, item: Pending, case: Case, what: str) -> RecordResult | None:
    """casework's rule for adding to a case, checked outside the record's savepoint so that a
    refusal stays in the access log (the service checks again inside)."""
    try:
        casework_access.check_contributor(actor, case, what=what)
    except DomainError as exc:
        return from_domain(item.index, item.local_id, exc)
    return None
