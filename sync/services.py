"""Batch sync (POST /api/v1/sync/{resource}) and the sync app's housekeeping.

A batch is up to 500 records keyed by the caller's own ids. Each record ends created, updated,
unchanged or error; one bad record never fails the others. Referrals and chronology entries go one
by one through casework's services, each in its own savepoint (see their section below). The shape of the work is what makes it
fast enough for a nightly full push: everything the batch needs is read in a few bulk queries,
each record is compared before anything is written (an unchanged record costs no write at all),
new records are inserted in bulk with their access-log and journal rows, and only records that
really changed go one by one through the same services the rest of the API uses (optimistic
versions, history, access log). If a bulk insert collides with a concurrent request, the batch
falls back to record-by-record creation, each in its own savepoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import serializers

from audit.services import Access, access_record
from cases import access as case_access
from cases import services as case_services
from cases.identifiers import InvalidIdentifier, Scheme
from cases.identifiers import normalise as normalise_identifier
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseHistory,
    CaseReferenceCounter,
    CaseStatus,
    Person,
    PersonIdentifier,
    Share,
)
from casework import access as casework_access
from casework import services as casework_services
from casework.models import ChronologyEntry, EntryVisibility, Referral, Urgency
from core.changes import record_change, record_changes
from core.errors import DomainError, ValidationFailed
from core.guards import guarded
from core.models import Change
from partners.actor import Actor
from partners.models import User
from sync.models import ExternalRef, FeedHorizon, IdempotencyRecord, Tombstone
from sync.records import (
    CaseRecordSerializer,
    EntryRecordSerializer,
    PersonRecordSerializer,
    ReferralRecordSerializer,
)

MAX_BATCH = 500

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


def _error(index: int, local_id, code: str, message: str, fields: dict | None = None):
    return RecordResult(
        index, local_id, ERROR, error={"code": code, "message": message, "fields": fields or {}}
    )


def _from_domain(index: int, local_id, exc: DomainError) -> RecordResult:
    return _error(index, local_id, exc.code, exc.message, exc.fields)


@dataclass
class _Pending:
    index: int
    local_id: str
    data: dict
    version: int | None
    identifiers: list[tuple[str, str, Any]] = field(default_factory=list)


def _validated(serializer_class, records: list) -> tuple[list[_Pending], list[RecordResult]]:
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
                _error(
                    index, local_id, "invalid", "Some fields are not valid.", _flatten(exc.detail)
                )
            )
            continue
        try:
            local_id = normalise_identifier(Scheme.LOCAL, data.pop("local_id"))
        except InvalidIdentifier as exc:
            errors.append(_error(index, local_id, "invalid", str(exc), {"local_id": [str(exc)]}))
            continue
        if local_id in seen:
            errors.append(
                _error(
                    index,
                    local_id,
                    "duplicate_in_batch",
                    "This local_id appears earlier in the same batch; send each record once.",
                    {"local_id": ["duplicate in batch"]},
                )
            )
            continue
        seen.add(local_id)
        pending.append(_Pending(index, local_id, data, data.pop("version", None)))
    return pending, errors


def _stale(index: int, local_id: str) -> RecordResult:
    return _error(
        index,
        local_id,
        "stale",
        "This record has changed here since the version you sent. Fetch it, reconcile, and "
        "send it again with the new version (or without a version to overwrite).",
        {"version": ["stale"]},
    )


# --- people --------------------------------------------------------------------------------


def _identifier_holders(keys: Iterable[tuple[str, str, Any]]) -> dict[tuple, Any]:
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


@guarded(lambda actor, **_: case_access.check_use_person_index(actor.via("sync"), action="sync"))
def sync_people(*, actor: Actor, records: list) -> list[RecordResult]:
    """Upsert people by the caller's `local` identifier. Only the caller's partner's own local ids
    key records; a person holding one who is no longer visible to the caller is not touched."""
    actor = actor.via("sync")
    partner_id = actor.partner.pk
    pending, results = _validated(PersonRecordSerializer, records)
    checked: list[_Pending] = []
    for item in pending:
        try:
            item.identifiers = [
                (scheme, value, issuer.pk if issuer else None)
                for scheme, value, issuer in case_services._clean_identifiers(
                    actor, item.data.pop("identifiers", [])
                )
            ]
            case_services._validate_person(item.data)
        except DomainError as exc:
            results.append(_from_domain(item.index, item.local_id, exc))
            continue
        checked.append(item)

    keys = [(Scheme.LOCAL.value, i.local_id, partner_id) for i in checked]
    keys += [k for i in checked for k in i.identifiers]
    holders = _identifier_holders(keys)
    holder_ids = {holders[k] for k in keys[: len(checked)] if k in holders}
    people = (
        {p.pk: p for p in case_access.persons_visible_to(actor).filter(pk__in=holder_ids)}
        if holder_ids
        else {}
    )

    creates: list[_Pending] = []
    claimed: set[tuple] = set()  # identifiers taken by records created earlier in this batch
    for item in checked:
        own = (Scheme.LOCAL.value, item.local_id, partner_id)
        person_id = holders.get(own)
        taken = [k for k in item.identifiers if k != own and holders.get(k, person_id) != person_id]
        taken += [k for k in item.identifiers if k in claimed]
        if taken:
            scheme, value, _ = taken[0]
            results.append(
                _error(
                    item.index,
                    item.local_id,
                    "identifier_in_use",
                    f"The {Scheme(scheme).label} {value} is already recorded for another person. "
                    "Check for a duplicate with POST /api/v1/people/matches.",
                    {"identifiers": [f"{scheme}:{value} is already in use"]},
                )
            )
            continue
        if person_id is None:
            if not item.data.get("given_name") or not item.data.get("family_name"):
                missing = [f for f in ("given_name", "family_name") if not item.data.get(f)]
                results.append(
                    _error(
                        item.index,
                        item.local_id,
                        "invalid",
                        "A new person needs a given name and a family name.",
                        {f: ["This field is required."] for f in missing},
                    )
                )
                continue
            claimed.update(item.identifiers)
            creates.append(item)
            continue
        person = people.get(person_id)
        if person is None:
            results.append(
                _error(
                    item.index,
                    item.local_id,
                    "not_found",
                    "The person with this local id is no longer visible to you.",
                )
            )
            continue
        results.append(_update_person(actor, item, person, holders))

    results.extend(_create_people(actor, creates))
    return sorted(results, key=lambda r: r.index)


def _update_person(actor: Actor, item: _Pending, person: Person, holders: dict) -> RecordResult:
    if item.version is not None and item.version != person.version:
        return _stale(item.index, item.local_id)
    changes = {k: v for k, v in item.data.items() if getattr(person, k) != v}
    new_identifiers = [k for k in item.identifiers if holders.get(k) != person.pk]
    if not changes and not new_identifiers:
        return RecordResult(item.index, item.local_id, UNCHANGED, person.pk, person.version)
    try:
        # Checked outside the record's savepoint so that a refusal stays in the access log.
        case_access.check_edit_person(actor, person)
    except DomainError as exc:
        return _from_domain(item.index, item.local_id, exc)
    try:
        with transaction.atomic():
            person = case_services.person_update(
                actor=actor,
                person=person,
                expected_version=person.version,
                data=changes,
                identifiers=[{"scheme": s, "value": v} for s, v, _ in new_identifiers],
            )
    except DomainError as exc:
        return _from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return _concurrent(item)
    return RecordResult(item.index, item.local_id, UPDATED, person.pk, person.version)


def _concurrent(item: _Pending) -> RecordResult:
    return _error(
        item.index,
        item.local_id,
        "conflict",
        "Another request changed this record at the same moment. Send it again.",
    )


def _create_people(actor: Actor, creates: list[_Pending]) -> list[RecordResult]:
    if not creates:
        return []
    partner = actor.partner
    now = timezone.now()
    try:
        with transaction.atomic():
            people = [
                Person(created_by_partner=partner, created_at=now, updated_at=now, **i.data)
                for i in creates
            ]
            Person.objects.bulk_create(people)
            identifiers = []
            for item, person in zip(creates, people, strict=True):
                identifiers.append(
                    PersonIdentifier(
                        person=person, scheme=Scheme.LOCAL, value=item.local_id, issuer=partner
                    )
                )
                identifiers += [
                    PersonIdentifier(person=person, scheme=s, value=v, issuer_id=issuer)
                    for s, v, issuer in item.identifiers
                    if (s, v, issuer) != (Scheme.LOCAL.value, item.local_id, partner.pk)
                ]
            PersonIdentifier.objects.bulk_create(identifiers)
            access_record(
                actor=actor,
                action="create",
                accesses=[
                    Access("person", p.pk, person_id=p.pk, justification="recorded by this partner")
                    for p in people
                ],
            )
            record_changes(
                [
                    {
                        "resource": "person",
                        "object_id": p.pk,
                        "action": Change.Action.CREATED,
                        "person_id": p.pk,
                        "changed_at": now,
                    }
                    for p in people
                ]
            )
    except IntegrityError:
        # A concurrent request took one of these ids: go record by record, each on its own.
        return [_create_person_alone(actor, item) for item in creates]
    return [
        RecordResult(i.index, i.local_id, CREATED, p.pk, p.version)
        for i, p in zip(creates, people, strict=True)
    ]


def _create_person_alone(actor: Actor, item: _Pending) -> RecordResult:
    identifiers = [{"scheme": Scheme.LOCAL.value, "value": item.local_id}]
    identifiers += [
        {"scheme": s, "value": v}
        for s, v, _ in item.identifiers
        if (s, v) != (Scheme.LOCAL.value, item.local_id)
    ]
    try:
        with transaction.atomic():
            person = case_services.person_create(
                actor=actor, data=item.data, identifiers=identifiers
            )
    except DomainError as exc:
        return _from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return _concurrent(item)
    return RecordResult(item.index, item.local_id, CREATED, person.pk, person.version)


# --- cases ---------------------------------------------------------------------------------

CASE_SYNC_FIELDS = ("risk_level", "summary", "goals", "what_matters", "review_date")
CREATE_STATUSES = (CaseStatus.REFERRED, CaseStatus.SCREENING, CaseStatus.OPEN)


def _refs(partner_id, resource: str, local_ids: Iterable[str]) -> dict[str, Any]:
    return dict(
        ExternalRef.objects.filter(
            partner_id=partner_id, resource=resource, local_id__in=list(local_ids)
        ).values_list("local_id", "object_id")
    )


@transaction.atomic
def sync_cases(*, actor: Actor, records: list) -> list[RecordResult]:
    """Upsert cases by the caller's case ids. A new case makes the caller's partner the lead, as
    POST /cases does; an existing one changes only if the caller's partner may change it (lead)."""
    actor = actor.via("sync")
    partner_id = actor.partner.pk
    pending, results = _validated(CaseRecordSerializer, records)
    refs = _refs(partner_id, "case", (i.local_id for i in pending))
    cases = {
        c.pk: c
        for c in case_access.cases_visible_to(actor, case_access.CHANGE).filter(
            pk__in=set(refs.values())
        )
    }
    subject_locals = {i.data["subject_local_id"] for i in pending if "subject_local_id" in i.data}
    by_local = {
        value: person_id
        for (_, value, _), person_id in _identifier_holders(
            (Scheme.LOCAL.value, v, partner_id) for v in subject_locals
        ).items()
    }
    candidates = set(by_local.values()) | {
        i.data["subject"] for i in pending if "subject" in i.data
    }
    visible_people = (
        set(
            case_access.persons_visible_to(actor)
            .filter(pk__in=candidates)
            .values_list("pk", flat=True)
        )
        if candidates
        else set()
    )
    may_create = case_access.can_create_case(actor)

    creates: list[tuple[_Pending, Any]] = []
    for item in pending:
        subject_id, subject_error = _subject(item, by_local, visible_people)
        if subject_error:
            results.append(subject_error)
            continue
        case_id = refs.get(item.local_id)
        if case_id is None:
            if subject_id is None:
                results.append(
                    _error(
                        item.index,
                        item.local_id,
                        "invalid",
                        "A new case needs its subject.",
                        {"subject_local_id": ["This field is required (or subject)."]},
                    )
                )
            elif not may_create:
                results.append(
                    _error(item.index, item.local_id, "forbidden", "Your role cannot open cases.")
                )
            elif item.data.get("status", CaseStatus.REFERRED) not in CREATE_STATUSES:
                results.append(
                    _error(
                        item.index,
                        item.local_id,
                        "invalid",
                        "A case starts referred, screening or open; close it once it exists.",
                        {"status": ["not a starting status"]},
                    )
                )
            else:
                creates.append((item, subject_id))
            continue
        case = cases.get(case_id)
        if case is None:
            results.append(
                _error(
                    item.index,
                    item.local_id,
                    "not_found",
                    "The case with this local id is no longer one you can change.",
                )
            )
        elif subject_id is not None and subject_id != case.subject_id:
            results.append(
                _error(
                    item.index,
                    item.local_id,
                    "invalid",
                    "A case's subject cannot change.",
                    {"subject_local_id": ["differs from the case's subject"]},
                )
            )
        else:
            results.append(_update_case(actor, item, case))
    results.extend(_create_cases(actor, creates))
    return sorted(results, key=lambda r: r.index)


def _subject(item: _Pending, by_local: dict, visible: set) -> tuple[Any, RecordResult | None]:
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
        return None, _error(
            item.index,
            item.local_id,
            "invalid",
            "No person you can see has that id.",
            {where: ["unknown person"]},
        )
    return person_id, None


def _update_case(actor: Actor, item: _Pending, case: Case) -> RecordResult:
    if item.version is not None and item.version != case.version:
        return _stale(item.index, item.local_id)
    changes = {
        k: v for k, v in item.data.items() if k in CASE_SYNC_FIELDS and getattr(case, k) != v
    }
    to = item.data.get("status")
    moves = to is not None and to != case.status
    if not changes and not moves:
        return RecordResult(item.index, item.local_id, UNCHANGED, case.pk, case.version)
    try:
        with transaction.atomic():
            if changes:
                case = case_services.case_update(
                    actor=actor,
                    case=case,
                    expected_version=case.version,
                    data=changes,
                    reason="batch sync",
                )
            if moves:
                case = case_services.case_transition(
                    actor=actor,
                    case=case,
                    to=to,
                    reason="batch sync",
                    closure_reason=item.data.get("closure_reason", ""),
                )
    except DomainError as exc:
        return _from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return _concurrent(item)
    return RecordResult(item.index, item.local_id, UPDATED, case.pk, case.version)


def _reserve_references(count: int) -> list[str]:
    """`count` consecutive case references at once, from the same per-year counter as
    cases.services (its row stays locked by our UPDATE until the batch commits)."""
    year = timezone.now().year
    try:
        with transaction.atomic():
            CaseReferenceCounter.objects.get_or_create(year=year)
    except IntegrityError:
        pass  # created at the same moment by someone else
    CaseReferenceCounter.objects.filter(year=year).update(last=F("last") + count)
    last = CaseReferenceCounter.objects.get(year=year).last
    return [f"VRU-{year}-{n:06d}" for n in range(last - count + 1, last + 1)]


def _create_cases(actor: Actor, creates: list[tuple[_Pending, Any]]) -> list[RecordResult]:
    """What cases.services.case_create does, for many at once: lead permissions, history,
    journal and access log, plus the caller's id for each."""
    if not creates:
        return []
    partner = actor.partner
    now = timezone.now()
    lead_practitioner = case_services.default_lead_practitioner(actor)
    try:
        with transaction.atomic():
            references = _reserve_references(len(creates))
            cases = [
                Case(
                    reference=reference,
                    subject_id=subject_id,
                    lead_partner=partner,
                    lead_practitioner=lead_practitioner,
                    created_at=now,
                    updated_at=now,
                    status=item.data.get("status", CaseStatus.REFERRED),
                    **{k: v for k, v in item.data.items() if k in CASE_SYNC_FIELDS},
                )
                for reference, (item, subject_id) in zip(references, creates, strict=True)
            ]
            Case.objects.bulk_create(cases)
            permissions = list(
                Permission.objects.filter(
                    content_type__app_label="cases",
                    content_type__model="case",
                    codename__in=case_access.LEAD_PERMISSIONS,
                ).values_list("pk", flat=True)
            )
            CaseGroupObjectPermission.objects.bulk_create(
                CaseGroupObjectPermission(
                    group_id=partner.group_id,
                    permission_id=permission,
                    content_object=case,
                    case_created_at=case.created_at,
                )
                for case in cases
                for permission in permissions
            )
            CaseHistory.objects.bulk_create(
                CaseHistory(
                    case=case,
                    version=1,
                    changed_by=actor.user,
                    changed_by_client=actor.client,
                    partner=partner,
                    changed_at=now,
                    reason="batch sync",
                    changes={"created": [None, case.reference], "status": [None, case.status]},
                )
                for case in cases
            )
            ExternalRef.objects.bulk_create(
                ExternalRef(
                    partner=partner, resource="case", local_id=item.local_id, object_id=case.pk
                )
                for (item, _), case in zip(creates, cases, strict=True)
            )
            record_changes(
                [
                    {
                        "resource": "case",
                        "object_id": c.pk,
                        "action": Change.Action.CREATED,
                        "case_id": c.pk,
                        "person_id": c.subject_id,
                        "changed_at": now,
                    }
                    for c in cases
                ]
            )
            access_record(
                actor=actor,
                action="create",
                accesses=[
                    Access(
                        "case",
                        c.pk,
                        case_id=c.pk,
                        person_id=c.subject_id,
                        justification="lead partner",
                    )
                    for c in cases
                ],
            )
    except IntegrityError:
        return [_create_case_alone(actor, item, subject_id) for item, subject_id in creates]
    return [
        RecordResult(item.index, item.local_id, CREATED, case.pk, case.version)
        for (item, _), case in zip(creates, cases, strict=True)
    ]


def _create_case_alone(actor: Actor, item: _Pending, subject_id) -> RecordResult:
    try:
        with transaction.atomic():
            subject = Person.objects.get(pk=subject_id)
            case = case_services.case_create(
                actor=actor,
                subject=subject,
                data={k: v for k, v in item.data.items() if k in CASE_SYNC_FIELDS},
                status=item.data.get("status", CaseStatus.REFERRED),
            )
            ExternalRef.objects.create(
                partner=actor.partner, resource="case", local_id=item.local_id, object_id=case.pk
            )
    except DomainError as exc:
        return _from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return _concurrent(item)
    return RecordResult(item.index, item.local_id, CREATED, case.pk, case.version)


# --- referrals and chronology entries -----------------------------------------------------
#
# These go record by record through casework's services, so its rules (who may add to a case,
# named users, deadlines, amendments), access log and journal stay in one place; each record in
# its own savepoint with its ExternalRef. What a batch needs to decide is still read in bulk (the
# caller's ids, the cases and people it names, the records it already has), so an unchanged
# re-push costs a handful of queries and writes nothing. Access checks that log a refusal run
# before the record's savepoint, so the refusal stays in the access log.

AMEND_REASON = "Corrected in the partner system (batch sync)"


def _people_named(actor: Actor, pending: list[_Pending]) -> tuple[dict[str, Any], dict]:
    """Subjects by the caller's `local` person ids → person ids, and the named people the actor
    can see (missing and hidden alike are left out)."""
    partner_id = actor.partner.pk
    locals_ = {i.data["subject_local_id"] for i in pending if "subject_local_id" in i.data}
    by_local = {
        value: person_id
        for (_, value, _), person_id in _identifier_holders(
            (Scheme.LOCAL.value, v, partner_id) for v in locals_
        ).items()
    }
    wanted = set(by_local.values()) | {i.data["subject"] for i in pending if "subject" in i.data}
    visible = (
        {p.pk: p for p in case_access.persons_visible_to(actor).filter(pk__in=wanted)}
        if wanted
        else {}
    )
    return by_local, visible


def _cases_named(actor: Actor, pending: list[_Pending]) -> tuple[dict[str, Any], dict]:
    """Cases by the caller's own case ids (its partner's map only) → case ids, and the named cases
    the actor can see."""
    by_local = _refs(
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


def _case(item: _Pending, by_local: dict, visible: dict) -> tuple[Case | None, RecordResult | None]:
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
        return None, _error(
            item.index,
            item.local_id,
            "invalid",
            "No case you can see has that id.",
            {where: ["unknown case"]},
        )
    return case, None


def _missing(item: _Pending, message: str, names: list[str]) -> RecordResult:
    return _error(
        item.index,
        item.local_id,
        "invalid",
        message,
        {name: ["This field is required."] for name in names},
    )


def _contributor(actor: Actor, item: _Pending, case: Case, what: str) -> RecordResult | None:
    """casework's rule for adding to a case, checked outside the record's savepoint so that a
    refusal stays in the access log (the service checks again inside)."""
    try:
        casework_access.check_contributor(actor, case, what=what)
    except DomainError as exc:
        return _from_domain(item.index, item.local_id, exc)
    return None


@transaction.atomic
def sync_referrals(*, actor: Actor, records: list) -> list[RecordResult]:
    """Upsert referrals by the caller's referral ids, through casework.referral_create: the subject
    by local or person id (or that of a given case), linked to the given case only if the caller's
    partner works it. A referral is kept as received: the same data again is unchanged, a record
    that differs fails with `referral_received` rather than silently rewriting what was referred."""
    actor = actor.via("sync")
    pending, results = _validated(ReferralRecordSerializer, records)
    refs = _refs(actor.partner.pk, "referral", (i.local_id for i in pending))
    referrals = (
        {
            r.pk: r
            for r in casework_access.referrals_visible_to(actor).filter(pk__in=set(refs.values()))
        }
        if refs
        else {}
    )
    people_by_local, people = _people_named(actor, pending)
    cases_by_local, cases = _cases_named(actor, pending)
    for item in pending:
        subject_id, error = _subject(item, people_by_local, people)
        case = None
        if error is None:
            case, error = _case(item, cases_by_local, cases)
        if error is not None:
            results.append(error)
            continue
        referral_id = refs.get(item.local_id)
        if referral_id is None:
            subject = people.get(subject_id) if subject_id else (case.subject if case else None)
            results.append(_create_referral(actor, item, subject, case))
        elif (referral := referrals.get(referral_id)) is None:
            results.append(
                _error(
                    item.index,
                    item.local_id,
                    "not_found",
                    "The referral with this local id is no longer visible to you.",
                )
            )
        else:
            results.append(_compare_referral(item, referral, subject_id, case))
    return sorted(results, key=lambda r: r.index)


def _create_referral(
    actor: Actor, item: _Pending, subject: Person | None, case: Case | None
) -> RecordResult:
    if subject is None:
        return _missing(
            item, "A new referral needs its subject (or its case).", ["subject_local_id"]
        )
    missing = [name for name in ("concerns", "description") if name not in item.data]
    if missing:
        return _missing(item, "A new referral needs its concerns and a description.", missing)
    if case is not None and (refused := _contributor(actor, item, case, "refer")):
        return refused
    try:
        with transaction.atomic():
            intake = casework_services.referral_create(
                actor=actor,
                subject=subject,
                case=case,
                concerns=item.data["concerns"],
                description=item.data["description"],
                urgency=item.data.get("urgency", Urgency.STANDARD),
                received_at=item.data.get("received_at"),
                # The caller's id is its reference: screeners see it, and a referral sent both
                # ways (POST /referrals/ and here) is refused as the duplicate it is.
                source_reference=item.local_id,
            )
            ExternalRef.objects.create(
                partner=actor.partner,
                resource="referral",
                local_id=item.local_id,
                object_id=intake.referral.pk,
            )
    except DomainError as exc:
        return _from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return _concurrent(item)
    referral = intake.referral
    return RecordResult(item.index, item.local_id, CREATED, referral.pk, referral.version)


def _compare_referral(
    item: _Pending, referral: Referral, subject_id, case: Case | None
) -> RecordResult:
    if item.version is not None and item.version != referral.version:
        return _stale(item.index, item.local_id)
    data = item.data
    differs = []
    if subject_id is not None and subject_id != referral.subject_id:
        differs.append("subject")
    if case is not None and case.pk != referral.case_id:
        differs.append("case")
    if "concerns" in data and list(dict.fromkeys(data["concerns"])) != referral.concerns:
        differs.append("concerns")
    for name in ("description", "urgency", "received_at"):
        if name in data and data[name] != getattr(referral, name):
            differs.append(name)
    if differs:
        return _error(
            item.index,
            item.local_id,
            "referral_received",
            "This referral is kept as it was received and is not changed afterwards. Add what "
            "is new to its case's chronology (/sync/entries), or send a new referral with its "
            "own local_id.",
            {name: ["differs from the referral as received"] for name in differs},
        )
    return RecordResult(item.index, item.local_id, UNCHANGED, referral.pk, referral.version)


def _users_named(pending: list[_Pending]) -> dict:
    wanted = {pk for i in pending for pk in i.data.get("named_users", ())}
    if not wanted:
        return {}
    return {u.pk: u for u in User.objects.filter(pk__in=wanted).select_related("membership")}


def _named(item: _Pending, users: dict) -> tuple[list | None, RecordResult | None]:
    """The named users, if the record names any (None: left as they are)."""
    if "named_users" not in item.data:
        return None, None
    ids = list(dict.fromkeys(item.data.pop("named_users")))
    unknown = [str(pk) for pk in ids if pk not in users]
    if unknown:
        return None, _error(
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
    pending, results = _validated(EntryRecordSerializer, records)
    refs = _refs(actor.partner.pk, "entry", (i.local_id for i in pending))
    entries = _own_entries(actor, set(refs.values()))
    cases_by_local, cases = _cases_named(actor, pending)
    users = _users_named(pending)
    for item in pending:
        case, error = _case(item, cases_by_local, cases)
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
                _error(
                    item.index,
                    item.local_id,
                    "not_found",
                    "The entry with this local id is no longer visible to you.",
                )
            )
        elif case is not None and case.pk != entry.case_id:
            results.append(
                _error(
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


def _create_entry(actor: Actor, item: _Pending, case: Case | None, named) -> RecordResult:
    data = item.data
    missing = [name for name in ("kind", "occurred_at", "body") if name not in data]
    if case is None:
        missing.insert(0, "case_local_id")
    if missing:
        return _missing(item, "A new entry needs its case, kind, occurred_at and body.", missing)
    if refused := _contributor(actor, item, case, "add_entry"):
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
        return _from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return _concurrent(item)
    return RecordResult(item.index, item.local_id, CREATED, entry.pk, entry.version)


def _update_entry(actor: Actor, item: _Pending, entry: ChronologyEntry, named) -> RecordResult:
    if item.version is not None and item.version != entry.version:
        return _stale(item.index, item.local_id)
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
        return _from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return _concurrent(item)
    return RecordResult(item.index, item.local_id, UPDATED, entry.pk, entry.version)


SYNCERS = {
    "people": sync_people,
    "cases": sync_cases,
    "referrals": sync_referrals,
    "entries": sync_entries,
}


def sync_batch(*, actor: Actor, resource: str, records: list) -> list[RecordResult]:
    """The one entry point for POST /sync/{resource}."""
    if len(records) > MAX_BATCH:
        raise ValidationFailed(f"A batch holds at most {MAX_BATCH} records.")
    return SYNCERS[resource](actor=actor, records=records)


# --- housekeeping --------------------------------------------------------------------------


def share_expiry_announce(*, now=None) -> int:
    """A share that lapses by time ends the partner's access the moment it expires (the permission
    carries the expiry); this tells the partner, as share_revoke does for a revocation: a `revoked`
    journal row for that partner only, so its feed and webhooks say to delete its copy (and, via
    the feed, its subject when that went out of sight too).

    Each lapsed share is claimed once by a conditional UPDATE of `expiry_announced_at`, in the same
    transaction as its journal row, so a sweep that runs twice or on two workers announces nothing
    twice. A share revoked or replaced before the sweep reached it is not claimed (revocation told
    the partner; a replacement kept access). Returns how many were announced."""
    now = now or timezone.now()
    lapsed = Share.objects.filter(
        revoked_at__isnull=True, expiry_announced_at__isnull=True, expires_at__lte=now
    )
    announced = 0
    for share_id in list(lapsed.values_list("pk", flat=True)):
        with transaction.atomic():
            if lapsed.filter(pk=share_id).update(expiry_announced_at=now) != 1:
                continue  # another sweep, or a revocation, got there first
            share = Share.objects.select_related("case", "partner").get(pk=share_id)
            case = share.case
            if case_access.partners_with_access(case, now).filter(pk=share.partner_id).exists():
                continue  # still reaches the case another way: nothing to remove
            record_change(
                "case",
                case.pk,
                Change.Action.REVOKED,
                case_id=case.pk,
                person_id=case.subject_id,
                audience_partner=share.partner,
            )
            announced += 1
    return announced


def idempotency_purge(*, now=None) -> int:
    """Forget Idempotency-Keys past their retention (IDEMPOTENCY_KEY_HOURS, at least 24)."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


@transaction.atomic
def journal_prune(*, older_than: timedelta | None = None) -> int:
    """Drop journal rows older than the feed's retention (CHANGE_FEED_RETENTION_DAYS) and move
    the horizon: a cursor from before it is then 410 Gone. Only sequenced rows go; the newest row
    always stays, so the head never moves backwards."""
    from sync import feed

    feed.sequence()
    if older_than is None:
        older_than = timedelta(days=settings.CHANGE_FEED_RETENTION_DAYS)
    cutoff = timezone.now() - older_than
    head = feed.head()
    through = (
        Change.objects.filter(seq__isnull=False, seq__lt=head, changed_at__lt=cutoff)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    if through is None:
        return 0
    horizon, _ = FeedHorizon.objects.select_for_update().get_or_create(pk=1)
    pruned = Change.objects.filter(seq__isnull=False, seq__lte=through)
    Tombstone.objects.filter(change_id__in=pruned.values("pk")).delete()
    deleted, _ = pruned.delete()
    if through > horizon.pruned_through:
        FeedHorizon.objects.filter(pk=1).update(pruned_through=through, pruned_at=timezone.now())
    return deleted
