"""Batch sync of chronology entries (POST /sync/entries), keyed by the caller's entry ids.

Record by record through casework's services (entry_create, entry_amend), so its rules (who may
add to a case, named users, amendments), access log and journal stay in one place; each record in
its own savepoint with its ExternalRef. What the batch needs to decide (the caller's ids, the cases
and users it names, the entries it already has) is read in bulk, so an unchanged re-push writes
nothing. Access checks that log a refusal run before the record's savepoint, so the refusal stays
in the access log.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from cases import access as case_access
from cases.models import Case
from casework import access as casework_access
from casework import services as casework_services
from casework.models import ChronologyEntry, EntryVisibility
from core.errors import DomainError
from partners.actor import Actor
from partners.models import User
from sync.batch.common import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Pending,
    RecordResult,
    cases_named,
    concurrent,
    contributor_refused,
    external_refs,
    fields_required,
    from_domain,
    named_case,
    record_error,
    stale,
    validated,
)
from sync.models import ExternalRef
from sync.records import EntryRecordSerializer

AMEND_REASON = "Corrected in the partner system (batch sync)"


def _users_named(pending: list[Pending]) -> dict:
    wanted = {pk for i in pending for pk in i.data.get("named_users", ())}
    if not wanted:
        return {}
    return {u.pk: u for u in User.objects.filter(pk__in=wanted).select_related("membership")}


def _named(item: Pending, users: dict) -> tuple[list | None, RecordResult | None]:
    """The named users, if the record names any (None: left as they are)."""
    if "named_users" not in item.data:
        return None, None
    ids = list(dict.fromkeys(item.data.pop("named_users")))
    unknown = [str(pk) for pk in ids if pk not in users]
    if unknown:
        return None, record_error(
            item.index,
            item.local_id,
            "invalid",
            "No such user.",
            {"named_users": [f"unknown user {pk}" for pk in unknown]},
        )
    return [users[pk] for pk in ids], None


def _own_entries(actor: Actor, ids: set) -> dict:
    """The entries behind the caller's ids, on cases the caller can see: those it may read, and
    those its partner wrote and it may correct. Not just entries_visible_to: a partner system
    never reads `named` entries back, yet it wrote them and corrects them."""
    if not ids:
        return {}
    candidates = list(
        ChronologyEntry.objects.filter(
            pk__in=ids,
            partner_id=actor.partner.pk,
            case_id__in=case_access.cases_visible_to(actor).values("pk"),
        )
        .select_related("case")
        .prefetch_related("named_users")
    )
    readable = set(
        casework_access.entries_visible_to(actor)
        .filter(pk__in=[e.pk for e in candidates])
        .values_list("pk", flat=True)
    )
    return {
        e.pk: e for e in candidates if e.pk in readable or casework_access.can_amend_entry(actor, e)
    }


@transaction.atomic
def sync_entries(*, actor: Actor, records: list) -> list[RecordResult]:
    """Upsert chronology entries by the caller's entry ids, through casework's services. A new
    entry goes on a case the caller's partner works (casework.entry_create); an entry that differs
    is corrected by casework.entry_amend, which keeps what it said before, and only where the
    caller may correct it. An entry's case never changes."""
    actor = actor.via("sync")
    pending, results = validated(EntryRecordSerializer, records)
    refs = external_refs(actor.partner.pk, "entry", (i.local_id for i in pending))
    entries = _own_entries(actor, set(refs.values()))
    cases_by_local, cases = cases_named(actor, pending)
    users = _users_named(pending)
    for item in pending:
        case, error = named_case(item, cases_by_local, cases)
        named = None
        if error is None:
            named, error = _named(item, users)
        if error is not None:
            results.append(error)
            continue
        entry_id = refs.get(item.local_id)
        if entry_id is None:
            results.append(_create_entry(actor, item, case, named))
        elif (entry := entries.get(entry_id)) is None:
            results.append(
                record_error(
                    item.index,
                    item.local_id,
                    "not_found",
                    "The entry with this local id is no longer visible to you.",
                )
            )
        elif case is not None and case.pk != entry.case_id:
            results.append(
                record_error(
                    item.index,
                    item.local_id,
                    "invalid",
                    "An entry's case cannot change.",
                    {"case": ["differs from the entry's case"]},
                )
            )
        else:
            results.append(_update_entry(actor, item, entry, named))
    return sorted(results, key=lambda r: r.index)


def _create_entry(actor: Actor, item: Pending, case: Case | None, named) -> RecordResult:
    data = item.data
    missing = [name for name in ("kind", "occurred_at", "body") if name not in data]
    if case is None:
        missing.insert(0, "case_local_id")
    if missing:
        return fields_required(
            item, "A new entry needs its case, kind, occurred_at and body.", missing
        )
    if refused := contributor_refused(actor, item, case, "add_entry"):
        return refused
    try:
        with transaction.atomic():
            entry = casework_services.entry_create(
                actor=actor,
                case=case,
                kind=data["kind"],
                occurred_at=data["occurred_at"],
                body=data["body"],
                visibility=data.get("visibility", EntryVisibility.CASE),
                named_users=named or (),
            )
            ExternalRef.objects.create(
                partner=actor.partner, resource="entry", local_id=item.local_id, object_id=entry.pk
            )
    except DomainError as exc:
        return from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return concurrent(item)
    return RecordResult(item.index, item.local_id, CREATED, entry.pk, entry.version)


def _update_entry(actor: Actor, item: Pending, entry: ChronologyEntry, named) -> RecordResult:
    if item.version is not None and item.version != entry.version:
        return stale(item.index, item.local_id)
    changes: dict[str, Any] = {
        name: item.data[name]
        for name in ("kind", "occurred_at", "body", "visibility")
        if name in item.data and getattr(entry, name) != item.data[name]
    }
    if named is not None and {u.pk for u in named} != {u.pk for u in entry.named_users.all()}:
        changes["named_users"] = named
    if not changes:
        return RecordResult(item.index, item.local_id, UNCHANGED, entry.pk, entry.version)
    try:
        # A guarded service: its own transaction is this record's savepoint, and a refusal it
        # logs stays logged.
        entry = casework_services.entry_amend(
            actor=actor,
            entry=entry,
            expected_version=entry.version,
            reason=item.data.get("reason") or AMEND_REASON,
            data=changes,
        )
    except DomainError as exc:
        return from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return concurrent(item)
    return RecordResult(item.index, item.local_id, UPDATED, entry.pk, entry.version)
