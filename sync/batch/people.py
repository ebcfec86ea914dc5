"""Batch sync of people (POST /sync/people), keyed by the caller's `local` identifiers.

Everything the batch needs is read in a few bulk queries; an unchanged record costs no write;
new people are inserted in bulk with their identifiers, access-log and journal rows; a changed
one goes through cases.services.person_update. If the bulk insert collides with a concurrent
request, the batch falls back to person_create record by record, each in its own savepoint.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Access, access_record
from cases import access as case_access
from cases import services as case_services
from cases.identifiers import Scheme
from cases.models import Person, PersonIdentifier
from core.changes import record_changes
from core.errors import DomainError
from core.guards import guarded
from core.models import Change
from partners.actor import Actor
from sync.batch.common import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Pending,
    RecordResult,
    concurrent,
    from_domain,
    identifier_holders,
    record_error,
    stale,
    validated,
)
from sync.records import PersonRecordSerializer


@guarded(lambda actor, **_: case_access.check_use_person_index(actor.via("sync"), action="sync"))
def sync_people(*, actor: Actor, records: list) -> list[RecordResult]:
    """Upsert people by the caller's `local` identifier. Only the caller's partner's own local ids
    key records; a person holding one who is no longer visible to the caller is not touched."""
    actor = actor.via("sync")
    partner_id = actor.partner.pk
    pending, results = validated(PersonRecordSerializer, records)
    checked: list[Pending] = []
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
            results.append(from_domain(item.index, item.local_id, exc))
            continue
        checked.append(item)

    keys = [(Scheme.LOCAL.value, i.local_id, partner_id) for i in checked]
    keys += [k for i in checked for k in i.identifiers]
    holders = identifier_holders(keys)
    holder_ids = {holders[k] for k in keys[: len(checked)] if k in holders}
    people = (
        {p.pk: p for p in case_access.persons_visible_to(actor).filter(pk__in=holder_ids)}
        if holder_ids
        else {}
    )

    creates: list[Pending] = []
    claimed: set[tuple] = set()  # identifiers taken by records created earlier in this batch
    for item in checked:
        own = (Scheme.LOCAL.value, item.local_id, partner_id)
        person_id = holders.get(own)
        taken = [k for k in item.identifiers if k != own and holders.get(k, person_id) != person_id]
        taken += [k for k in item.identifiers if k in claimed]
        if taken:
            scheme, value, _ = taken[0]
            results.append(
                record_error(
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
                    record_error(
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
                record_error(
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


def _update_person(actor: Actor, item: Pending, person: Person, holders: dict) -> RecordResult:
    if item.version is not None and item.version != person.version:
        return stale(item.index, item.local_id)
    changes = {k: v for k, v in item.data.items() if getattr(person, k) != v}
    new_identifiers = [k for k in item.identifiers if holders.get(k) != person.pk]
    if not changes and not new_identifiers:
        return RecordResult(item.index, item.local_id, UNCHANGED, person.pk, person.version)
    try:
        # Checked outside the record's savepoint so that a refusal stays in the access log.
        case_access.check_edit_person(actor, person)
    except DomainError as exc:
        return from_domain(item.index, item.local_id, exc)
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
        return from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return concurrent(item)
    return RecordResult(item.index, item.local_id, UPDATED, person.pk, person.version)


def _create_people(actor: Actor, creates: list[Pending]) -> list[RecordResult]:
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


def _create_person_alone(actor: Actor, item: Pending) -> RecordResult:
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
        return from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return concurrent(item)
    return RecordResult(item.index, item.local_id, CREATED, person.pk, person.version)
