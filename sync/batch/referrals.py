"""Batch sync of referrals (POST /sync/referrals), keyed by the caller's referral ids.

Record by record through casework.services.referral_create, so casework's rules (who may add to a
case, deadlines), access log and journal stay in one place; each record in its own savepoint with
its ExternalRef. What the batch needs to decide (the caller's ids, the people and cases it names,
the referrals it already has) is read in bulk, so an unchanged re-push writes nothing. Access
checks that log a refusal run before the record's savepoint, so the refusal stays in the log.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from cases import access as case_access
from cases.identifiers import Scheme
from cases.models import Case, Person
from casework import access as casework_access
from casework import services as casework_services
from casework.models import Referral, Urgency
from core.errors import DomainError
from partners.actor import Actor
from sync.batch.common import (
    CREATED,
    UNCHANGED,
    Pending,
    RecordResult,
    cases_named,
    concurrent,
    contributor_refused,
    external_refs,
    fields_required,
    from_domain,
    identifier_holders,
    named_case,
    named_subject,
    record_error,
    stale,
    validated,
)
from sync.models import ExternalRef
from sync.records import ReferralRecordSerializer


def _people_named(actor: Actor, pending: list[Pending]) -> tuple[dict[str, Any], dict]:
    """Subjects by the caller's `local` person ids → person ids, and the named people the actor
    can see (missing and hidden alike are left out)."""
    partner_id = actor.partner.pk
    locals_ = {i.data["subject_local_id"] for i in pending if "subject_local_id" in i.data}
    by_local = {
        value: person_id
        for (_, value, _), person_id in identifier_holders(
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


@transaction.atomic
def sync_referrals(*, actor: Actor, records: list) -> list[RecordResult]:
    """Upsert referrals by the caller's referral ids, through casework.referral_create: the subject
    by local or person id (or that of a given case), linked to the given case only if the caller's
    partner works it. A referral is kept as received: the same data again is unchanged, a record
    that differs fails with `referral_received` rather than silently rewriting what was referred."""
    actor = actor.via("sync")
    pending, results = validated(ReferralRecordSerializer, records)
    refs = external_refs(actor.partner.pk, "referral", (i.local_id for i in pending))
    referrals = (
        {
            r.pk: r
            for r in casework_access.referrals_visible_to(actor).filter(pk__in=set(refs.values()))
        }
        if refs
        else {}
    )
    people_by_local, people = _people_named(actor, pending)
    cases_by_local, cases = cases_named(actor, pending)
    for item in pending:
        subject_id, error = named_subject(item, people_by_local, people)
        case = None
        if error is None:
            case, error = named_case(item, cases_by_local, cases)
        if error is not None:
            results.append(error)
            continue
        referral_id = refs.get(item.local_id)
        if referral_id is None:
            subject = people.get(subject_id) if subject_id else (case.subject if case else None)
            results.append(_create_referral(actor, item, subject, case))
        elif (referral := referrals.get(referral_id)) is None:
            results.append(
                record_error(
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
    actor: Actor, item: Pending, subject: Person | None, case: Case | None
) -> RecordResult:
    if subject is None:
        return fields_required(
            item, "A new referral needs its subject (or its case).", ["subject_local_id"]
        )
    missing = [name for name in ("concerns", "description") if name not in item.data]
    if missing:
        return fields_required(
            item, "A new referral needs its concerns and a description.", missing
        )
    if case is not None and (refused := contributor_refused(actor, item, case, "refer")):
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
        return from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return concurrent(item)
    referral = intake.referral
    return RecordResult(item.index, item.local_id, CREATED, referral.pk, referral.version)


def _compare_referral(
    item: Pending, referral: Referral, subject_id, case: Case | None
) -> RecordResult:
    if item.version is not None and item.version != referral.version:
        return stale(item.index, item.local_id)
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
        return record_error(
            item.index,
            item.local_id,
            "referral_received",
            "This referral is kept as it was received and is not changed afterwards. Add what "
            "is new to its case's chronology (/sync/entries), or send a new referral with its "
            "own local_id.",
            {name: ["differs from the referral as received"] for name in differs},
        )
    return RecordResult(item.index, item.local_id, UNCHANGED, referral.pk, referral.version)
