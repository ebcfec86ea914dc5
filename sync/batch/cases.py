"""Batch sync of cases (POST /sync/cases), keyed by the caller's case ids.

A new case makes the caller's partner the lead, as POST /cases does; new cases are inserted in
bulk with what cases.services.case_create writes for one (lead permissions, history, journal,
access log) and references reserved from the same counter. A changed case goes through
case_update and case_transition. If the bulk insert collides with a concurrent request, the batch
falls back to case_create record by record, each in its own savepoint.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import Access, access_record
from cases import access as case_access
from cases import services as case_services
from cases.identifiers import Scheme
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseHistory,
    CaseReferenceCounter,
    CaseStatus,
    Person,
)
from core.changes import record_changes
from core.errors import DomainError
from core.models import Change
from partners.actor import Actor
from sync.batch.common import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Pending,
    RecordResult,
    concurrent,
    external_refs,
    from_domain,
    identifier_holders,
    named_subject,
    record_error,
    stale,
    validated,
)
from sync.models import ExternalRef
from sync.records import CaseRecordSerializer

CASE_SYNC_FIELDS = ("risk_level", "summary", "goals", "what_matters", "review_date")
CREATE_STATUSES = (CaseStatus.REFERRED, CaseStatus.SCREENING, CaseStatus.OPEN)


@transaction.atomic
def sync_cases(*, actor: Actor, records: list) -> list[RecordResult]:
    """Upsert cases by the caller's case ids. A new case makes the caller's partner the lead, as
    POST /cases does; an existing one changes only if the caller's partner may change it (lead)."""
    actor = actor.via("sync")
    partner_id = actor.partner.pk
    pending, results = validated(CaseRecordSerializer, records)
    refs = external_refs(partner_id, "case", (i.local_id for i in pending))
    cases = {
        c.pk: c
        for c in case_access.cases_visible_to(actor, case_access.CHANGE).filter(
            pk__in=set(refs.values())
        )
    }
    subject_locals = {i.data["subject_local_id"] for i in pending if "subject_local_id" in i.data}
    by_local = {
        value: person_id
        for (_, value, _), person_id in identifier_holders(
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

    creates: list[tuple[Pending, Any]] = []
    for item in pending:
        subject_id, subject_error = named_subject(item, by_local, visible_people)
        if subject_error:
            results.append(subject_error)
            continue
        case_id = refs.get(item.local_id)
        if case_id is None:
            if subject_id is None:
                results.append(
                    record_error(
                        item.index,
                        item.local_id,
                        "invalid",
                        "A new case needs its subject.",
                        {"subject_local_id": ["This field is required (or subject)."]},
                    )
                )
            elif not may_create:
                results.append(
                    record_error(
                        item.index, item.local_id, "forbidden", "Your role cannot open cases."
                    )
                )
            elif item.data.get("status", CaseStatus.REFERRED) not in CREATE_STATUSES:
                results.append(
                    record_error(
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
                record_error(
                    item.index,
                    item.local_id,
                    "not_found",
                    "The case with this local id is no longer one you can change.",
                )
            )
        elif subject_id is not None and subject_id != case.subject_id:
            results.append(
                record_error(
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


def _update_case(actor: Actor, item: Pending, case: Case) -> RecordResult:
    if item.version is not None and item.version != case.version:
        return stale(item.index, item.local_id)
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
        return from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return concurrent(item)
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


def _create_cases(actor: Actor, creates: list[tuple[Pending, Any]]) -> list[RecordResult]:
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


def _create_case_alone(actor: Actor, item: Pending, subject_id) -> RecordResult:
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
        return from_domain(item.index, item.local_id, exc)
    except IntegrityError:
        return concurrent(item)
    return RecordResult(item.index, item.local_id, CREATED, case.pk, case.version)
