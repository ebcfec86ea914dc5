"""Retention, legal holds and disposal (UK GDPR Art. 5(1)(e) storage limitation; Art. 17).

- A case gets a retention date when it closes (`closing_fields`, called by case_transition): its
  closure date plus the longest retention period of the data sharing agreements it was shared under,
  else RETENTION_DEFAULT_MONTHS. Reopening clears it; a share made after closing can only lengthen it.
- From that date the case is due for review: it is listed for the lead partner's managers
  (`retention_due`), who are also given a follow-up by the retention-review sweep
  (followups.sweeps.sweep_retention_reviews). They extend it, with a reason and a new date, or
  dispose of it.
- Disposal deletes the case and everything in it in one transaction; its subject too when nothing
  else concerns them. Whoever could see what was deleted is told through the change feed and
  webhooks (sync/tombstones.py). The access log keeps its rows: ids and reasons, never content.
- A legal hold stops disposal until it is lifted.

Rights are decided in cases.access (can_decide_retention, can_hold) and enforced here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from audit.services import Access, access_record
from cases import access
from cases.models import (
    Case,
    CaseHistory,
    CaseStatus,
    ConsentRecord,
    DataSharingAgreement,
    LegalHold,
    Person,
)
from core.changes import record_change
from core.errors import Conflict, NotFound, ValidationFailed
from core.guards import guarded
from partners.actor import Actor
from partners.models import Membership, Partner

# --- the retention date --------------------------------------------------------------------


def retention_months(case: Case) -> int:
    """The longest retention period of the agreements the case was ever shared under (a partner
    may still hold what it received under any of them), else the partnership's default."""
    months = DataSharingAgreement.objects.filter(shares__case_id=case.pk).aggregate(
        m=Max("retention_months")
    )["m"]
    return months or settings.RETENTION_DEFAULT_MONTHS


def retention_date(case: Case, closed_at: datetime) -> date:
    return timezone.localdate(closed_at) + relativedelta(months=retention_months(case))


def closing_fields(case: Case, to: str, now: datetime) -> dict:
    """What the status transition service writes with a move to `to`: a closure date and a
    retention date on closing; neither once the case is open again."""
    if to == CaseStatus.CLOSED:
        return {"closed_at": now, "retention_until": retention_date(case, now)}
    return {"closed_at": None, "retention_until": None}


def lengthen_after_share(case: Case) -> None:
    """A closed case shared under an agreement with a longer retention period is kept longer.
    Called by case_share inside its transaction; never shortens (an extension stands)."""
    closed_at = Case.objects.filter(pk=case.pk).values_list("closed_at", flat=True).first()
    if closed_at is None:
        return
    Case.objects.filter(pk=case.pk, retention_until__lt=retention_date(case, closed_at)).update(
        retention_until=retention_date(case, closed_at)
    )


# --- reading -------------------------------------------------------------------------------


def live_hold(case_id) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(case_id=case_id, lifted_at__isnull=True)


def retention_due(actor: Actor, *, today: date | None = None) -> QuerySet[Case]:
    """Closed cases the actor's partner leads whose retention date has come, oldest first, each
    with `legal_hold` (a live hold stops disposal). Read through the partial index on
    (lead_partner, retention_until, id): the cost follows the cases due. Managers only."""
    if not access.reviews_retention(actor):
        return Case.objects.none()
    today = today or timezone.localdate()
    held = LegalHold.objects.filter(case_id=OuterRef("pk"), lifted_at__isnull=True)
    return (
        Case.objects.filter(
            lead_partner_id=actor.partner.pk,
            retention_until__isnull=False,
            retention_until__lte=today,
            status=CaseStatus.CLOSED,
        )
        .annotate(legal_hold=Exists(held))
        .select_related("lead_partner")
    )


# What disposal deletes, as (key, label, records of the case): counted for the confirmation page
# and the API's answer. Counts only: the manager learns how much, never what other partners wrote.
def _parts(case: Case) -> list[tuple[str, str, QuerySet]]:
    from casework.models import (
        Action,
        AdversityRecord,
        ChronologyEntry,
        Referral,
        Screening,
    )
    from followups.models import FollowUp
    from programmes.models import Enrolment, EnrolmentSession, Milestone

    return [
        ("entries", "chronology entries", ChronologyEntry.objects.filter(case=case)),
        (
            "adversities",
            "adversity and strength records",
            AdversityRecord.objects.filter(case=case),
        ),
        ("actions", "actions", Action.objects.filter(case=case)),
        ("referrals", "referrals", Referral.objects.filter(case=case)),
        ("screenings", "screening decisions", Screening.objects.filter(referral__case=case)),
        ("enrolments", "programme enrolments", Enrolment.objects.filter(case=case)),
        ("sessions", "programme sessions", EnrolmentSession.objects.filter(enrolment__case=case)),
        ("milestones", "programme milestones", Milestone.objects.filter(enrolment__case=case)),
        ("consents", "consent decisions", ConsentRecord.objects.filter(case=case)),
        ("shares", "shares (live and past)", case.shares.all()),
        ("history", "changes in the case history", CaseHistory.objects.filter(case=case)),
        ("follow_ups", "follow-ups", FollowUp.objects.filter(case=case)),
    ]


@dataclass
class DisposalSummary:
    counts: dict[str, int]
    labels: dict[str, str]
    # Why the subject's record is kept (None: it is deleted with the case).
    subject_kept_because: str | None
    household: int = 0

    @property
    def subject_deleted(self) -> bool:
        return self.subject_kept_because is None


def disposal_summary(case: Case) -> DisposalSummary:
    parts = _parts(case)
    return DisposalSummary(
        counts={key: qs.count() for key, _, qs in parts},
        labels={key: label for key, label, _ in parts},
        subject_kept_because=_kept_because(case.subject, case),
        household=case.household.count(),
    )


def _kept_because(person: Person, case: Case) -> str | None:
    """Why a person must outlive the case's disposal, or None when nothing else concerns them."""
    from casework.models import Referral
    from programmes.models import Enrolment

    others = Case.objects.exclude(pk=case.pk)
    if others.filter(Q(subject=person) | Q(household=person)).exists():
        return "another case concerns them"
    if Referral.objects.filter(subject=person).exclude(case=case).exists():
        return "another referral is about them"
    if Enrolment.objects.filter(person=person).exclude(case=case).exists():
        return "they are enrolled on a programme through another case"
    if ConsentRecord.objects.filter(person=person).exclude(case=case).exists():
        return "consent decisions on another case are theirs"
    return None


# --- deciding ------------------------------------------------------------------------------


def _case_access(case: Case, justification: str, person_id=None) -> Access:
    return Access(
        "case",
        case.pk,
        case_id=case.pk,
        person_id=person_id or case.subject_id,
        justification=justification,
    )


@guarded(
    lambda actor, case, **_: access.check_decide_retention(actor, case, action="extend_retention")
)
def retention_extend(*, actor: Actor, case: Case, until: date | None, reason: str) -> Case:
    """Keep a closed case longer: a reason and a new date, later than today and than the current
    one. Kept in the case's history; the review for the old date is done."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = ["Say why the case must be kept longer."]
    if until is None:
        errors["until"] = ["Give the date until which the case must be kept."]
    elif until <= timezone.localdate():
        errors["until"] = ["The new retention date must be in the future."]
    if errors:
        raise ValidationFailed(
            "Extending retention needs a reason and a future date.", fields=errors
        )
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.retention_until is None:
        raise Conflict(
            f"This case is {locked.status}: only a closed case has a retention date to extend.",
            code="case_not_closed",
        )
    if until <= locked.retention_until:
        raise ValidationFailed(
            f"The case is already kept until {locked.retention_until:%-d %B %Y}; give a later date.",
            fields={"until": ["not later than the current retention date"]},
        )
    old = locked.retention_until
    Case.objects.filter(pk=case.pk).update(
        retention_until=until, version=F("version") + 1, updated_at=timezone.now()
    )
    locked.refresh_from_db()
    CaseHistory.objects.create(
        case=locked, version=locked.version, changed_by=actor.user, changed_by_client=actor.client,
        partner=actor.partner, changes={"retention_until": [old.isoformat(), until.isoformat()]},
        reason=reason[:500],
    )  # fmt: skip
    _reviews_done(locked)
    record_change("case", locked.pk, "updated", case_id=locked.pk, person_id=locked.subject_id)
    access_record(
        actor=actor,
        action="extend_retention",
        accesses=[_case_access(locked, "lead partner's manager")],
        detail={"fields": ["retention_until"]},
    )
    return locked


def _reviews_done(case: Case) -> None:
    from followups import kinds
    from followups.models import FollowUp

    now = timezone.now()
    FollowUp.objects.filter(
        kind=kinds.RETENTION_REVIEW,
        case=case,
        status__in=[FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED],
    ).update(status=FollowUp.Status.DONE, completed_at=now, updated_at=now)


def _hold_conflict(hold: LegalHold, message: str) -> Conflict:
    who = hold.placed_by.get_full_name() if hold.placed_by_id else "unknown"
    return Conflict(
        f"{message} A legal hold was placed on {timezone.localtime(hold.placed_at):%-d %B %Y} by "
        f"{who} ({hold.placed_by_partner.name}): “{hold.reason}”.",
        code="legal_hold",
    )


@dataclass
class Disposal:
    case_id: UUID
    reference: str
    disposed_at: datetime
    summary: DisposalSummary


@guarded(lambda actor, case, **_: access.check_decide_retention(actor, case, action="dispose"))
def case_dispose(*, actor: Actor, case: Case) -> Disposal:
    """Delete a closed case not under a legal hold, and everything in it, in this transaction:
    entries, adversities, actions, referrals and their screening, programme enrolments (sessions,
    milestones), consents, shares, object permissions, history, follow-ups, break-glass records,
    the partners' own ids for them (sync), and stored API replies that mention them. The subject
    goes too when nothing else concerns them; household members stay (they are their own records).

    Whoever could see the case (or its subject) is told `deleted` in the change feed and webhooks;
    partners that could see a kept person only through this case are told `revoked`. The access
    log keeps its rows, and gains one for the disposal: ids, never content."""
    now = timezone.now()
    locked = Case.objects.select_for_update().filter(pk=case.pk).first()
    if locked is None:
        raise NotFound("Case not found.")
    if locked.status != CaseStatus.CLOSED:
        raise Conflict(
            f"Only a closed case can be disposed of; this one is {locked.status}.",
            code="case_not_closed",
        )
    hold = live_hold(locked.pk).select_related("placed_by", "placed_by_partner").first()
    if hold is not None:
        raise _hold_conflict(
            hold, "This case cannot be disposed of while it is under a legal hold."
        )
    summary = disposal_summary(locked)
    subject = locked.subject
    household = list(locked.household.all())
    audience = access.case_audience(locked, now)
    beyond_case = _seen_without_the_case(locked, audience)
    record_ids = _record_ids(locked)
    _forget_replies_and_refs(record_ids | {locked.pk}, now)
    from followups.models import FollowUp
    from programmes.models import Enrolment

    FollowUp.objects.filter(Q(case=locked) | Q(subject_id__in=record_ids)).delete()
    Enrolment.objects.filter(case=locked).delete()
    locked.referrals.all().delete()
    Case.objects.filter(pk=locked.pk).delete()
    subject_deleted = summary.subject_deleted and _delete_person(subject)
    if not subject_deleted and summary.subject_deleted:
        summary.subject_kept_because = "other records refer to them"

    from sync.tombstones import announce_deleted

    announce_deleted("case", locked.pk, audience, case_id=locked.pk, person_id=subject.pk)
    for resource, object_id, seen_by in beyond_case:
        announce_deleted(resource, object_id, seen_by, case_id=locked.pk, person_id=subject.pk)
    if subject_deleted:
        announce_deleted(
            "person",
            subject.pk,
            audience | {(subject.created_by_partner_id, None)},
            person_id=subject.pk,
        )
    kept = ([] if subject_deleted else [subject]) + household
    _revoke_people_out_of_sight(kept, audience, now)

    accesses = [_case_access(locked, "lead partner's manager")]
    if subject_deleted:
        accesses.append(
            Access("person", subject.pk, person_id=subject.pk, justification="subject of a disposed case")
        )  # fmt: skip
    access_record(
        actor=actor, action="dispose", accesses=accesses, detail={"count": sum(summary.counts.values())}
    )  # fmt: skip
    return Disposal(locked.pk, locked.reference, now, summary)


def _record_ids(case: Case) -> set[UUID]:
    """Ids of the records in the case that other tables may name without a foreign key
    (follow-ups, partners' own ids, stored API replies)."""
    ids: set[UUID] = set()
    for key, _, qs in _parts(case):
        if key not in ("history", "follow_ups"):
            ids |= set(qs.values_list("pk", flat=True))
    return ids


def _seen_without_the_case(case: Case, audience) -> list[tuple[str, UUID, set]]:
    """Records in the case that someone saw without seeing the case: a referral by the partner
    that sent it, an enrolment by its programme's coordinators. They are told of those records."""
    from casework.models import Referral
    from programmes.access import INTAKE_ROLES
    from programmes.models import Enrolment, Programme

    partners = {p for p, user in audience if user is None}
    told = []
    for referral_id, source in Referral.objects.filter(case=case).values_list(
        "pk", "source_partner_id"
    ):
        if source not in partners:
            told.append(("referral", referral_id, {(source, None)}))
    for enrolment_id, programme_id in Enrolment.objects.filter(case=case).values_list(
        "pk", "programme_id"
    ):
        users = Programme.coordinators.through.objects.filter(programme_id=programme_id).values(
            "user_id"
        )
        seen_by = {
            (partner, user)
            for user, partner in Membership.objects.filter(
                user_id__in=users, role__in=INTAKE_ROLES
            ).values_list("user_id", "partner_id")
            if partner not in partners and (partner, user) not in audience
        }
        if seen_by:
            told.append(("enrolment", enrolment_id, seen_by))
    return told


_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _forget_replies_and_refs(ids: set[UUID], now: datetime) -> None:
    """Partners' own ids for the records (batch sync's map), and stored replies to repeated API
    requests (Idempotency-Key, kept IDEMPOTENCY_KEY_HOURS) that name any of them: such a reply
    holds what the record said."""
    from sync.models import ExternalRef, IdempotencyRecord

    ExternalRef.objects.filter(object_id__in=ids).delete()
    wanted = {str(i).lower().encode() for i in ids}
    stale = [
        pk
        for pk, path, body in IdempotencyRecord.objects.filter(expires_at__gt=now).values_list(
            "pk", "path", "body"
        )
        if wanted & {m.lower() for m in _UUID.findall(path.encode() + b" " + bytes(body))}
    ]
    IdempotencyRecord.objects.filter(pk__in=stale).delete()


def _delete_person(person: Person) -> bool:
    """Delete the person (identifiers and relationships go with them) unless another record
    still refers to them; then keep them."""
    try:
        with transaction.atomic():
            Person.objects.filter(pk=person.pk).delete()
    except (ProtectedError, RestrictedError, IntegrityError):
        return False
    return True


def _revoke_people_out_of_sight(people, audience, now: datetime) -> None:
    """A partner that saw a kept person only through the disposed case no longer sees them:
    `revoked`, as when a share ends (cases.services.share_expiry_announce)."""
    partners = {p for p, user in audience if user is None}
    if not partners:
        return
    by_pk = Partner.objects.in_bulk(partners)
    for person in people:
        for partner_id in partners - access.partners_seeing_person(person, partners, now):
            record_change(
                "person",
                person.pk,
                "revoked",
                person_id=person.pk,
                audience_partner=by_pk[partner_id],
            )


# --- legal holds ---------------------------------------------------------------------------


def _hold_justification(actor: Actor, case: Case) -> str:
    if case.lead_partner_id == actor.partner.pk:
        return "lead partner's manager"
    return "partnership auditor"


@guarded(lambda actor, case, **_: access.check_hold(actor, case, action="place_legal_hold"))
def legal_hold_place(*, actor: Actor, case: Case, reason: str) -> LegalHold:
    """Stop the case being disposed of until the hold is lifted. One live hold per case."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say why the case must be held.", fields={"reason": ["Say why the case must be held."]}
        )
    existing = live_hold(case.pk).select_related("placed_by", "placed_by_partner").first()
    if existing is not None:
        raise _hold_conflict(existing, "This case is already under a legal hold.")
    try:
        with transaction.atomic():
            hold = LegalHold.objects.create(
                case=case, reason=reason, placed_by=actor.user, placed_by_partner=actor.partner
            )
    except IntegrityError:
        raise Conflict(
            "A legal hold was placed on this case at the same moment.", code="legal_hold"
        ) from None
    access_record(
        actor=actor,
        action="place_legal_hold",
        accesses=[_case_access(case, _hold_justification(actor, case))],
    )
    return hold


@guarded(lambda actor, case, **_: access.check_hold(actor, case, action="lift_legal_hold"))
def legal_hold_lift(*, actor: Actor, case: Case) -> LegalHold:
    hold = live_hold(case.pk).select_for_update().first()
    if hold is None:
        raise NotFound("This case is not under a legal hold.")
    LegalHold.objects.filter(pk=hold.pk).update(lifted_at=timezone.now(), lifted_by=actor.user)
    hold.refresh_from_db()
    access_record(
        actor=actor,
        action="lift_legal_hold",
        accesses=[_case_access(case, _hold_justification(actor, case))],
    )
    return hold
