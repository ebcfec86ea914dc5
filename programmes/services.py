"""Writes for programmes and enrolments. One transaction each; the access log and the change
journal are written in the same transaction as the change they record.

Capacity is the one rule that must hold under concurrency: every move that takes a place locks
the programme row first (then the enrolment), counts the places taken, and refuses when full. Two
coordinators enrolling into the last place at once therefore queue on that lock: one gets the
place, the other a 409.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from audit.services import Access, access_record
from cases.models import Case, Person
from cases.services import ensure_processing_allowed
from core.changes import record_change
from core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from core.guards import guarded
from followups.services import (
    followup_create,
    followups_cancel_pending,
    followups_reassign_open,
    notify,
)
from partners.actor import Actor
from partners.models import User
from programmes import access, selectors
from programmes.config import as_date, at_referral, codes, validate_config, validate_details
from programmes.eligibility import evaluate
from programmes.models import (
    CLOSED,
    PLACE_HOLDING,
    Attendance,
    Enrolment,
    EnrolmentSession,
    EnrolmentStatus,
    EnrolmentTransition,
    Milestone,
    Programme,
    ProgrammeConfigChange,
)

S = EnrolmentStatus

# Which status may follow which. Closed statuses are final: a new referral starts a new enrolment.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REFERRED: frozenset({S.ELIGIBILITY_CHECKED, S.INELIGIBLE, S.WITHDRAWN, S.DECLINED}),
    S.ELIGIBILITY_CHECKED: frozenset(
        {S.WAITLISTED, S.OFFERED, S.ENROLLED, S.INELIGIBLE, S.WITHDRAWN, S.DECLINED}
    ),
    S.WAITLISTED: frozenset({S.OFFERED, S.WITHDRAWN, S.DECLINED}),
    # An offer not taken up can go back to the waiting list, in its old place.
    S.OFFERED: frozenset({S.ENROLLED, S.WAITLISTED, S.DECLINED, S.WITHDRAWN}),
    S.ENROLLED: frozenset({S.ACTIVE, S.WITHDRAWN}),
    S.ACTIVE: frozenset({S.COMPLETED, S.WITHDRAWN}),
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.DECLINED: frozenset(),
    S.INELIGIBLE: frozenset(),
}
# Saying no to someone, or someone leaving, is always explained.
REASON_REQUIRED = frozenset({S.INELIGIBLE, S.WITHDRAWN, S.DECLINED})
# Ways out of the workflow, offered after the moves along it.
LEAVING = (S.INELIGIBLE, S.DECLINED, S.WITHDRAWN)
EXITS = frozenset({S.COMPLETED, S.WITHDRAWN})
NOTIFY_REFERRER = frozenset(
    {S.OFFERED, S.ENROLLED, S.INELIGIBLE, S.DECLINED, S.COMPLETED, S.WITHDRAWN}
)
CONFIG_FIELDS = (
    "eligibility",
    "followup_schedule",
    "intake_schema",
    "milestones",
    "outcomes",
    "session_kinds",
    "capacity",
)
PROGRAMME_FIELDS = ("name", "description", "duration_days", "active", *CONFIG_FIELDS)
FOLLOWUP_TIME = time(9, 0)


# Programmes


@transaction.atomic
def programme_update(
    *, actor: Actor, programme: Programme, expected_version: int, data: dict[str, Any]
) -> Programme:
    """Coordinators (and administrators) change a programme without code. The whole resulting
    configuration is validated (e.g. a schedule anchored on a date field the intake schema no
    longer has is refused), and only if nobody else changed the programme since it was read."""
    access.check_can_configure(actor, programme)
    fields = {k: v for k, v in data.items() if k in PROGRAMME_FIELDS}
    validate_config({name: fields.get(name, getattr(programme, name)) for name in CONFIG_FIELDS})
    coordinator_ids = data.get("coordinators")
    coordinators = _coordinators(coordinator_ids) if coordinator_ids is not None else None
    # The values being replaced, read under lock at the expected version, for the change log.
    current = (
        Programme.objects.select_for_update()
        .filter(pk=programme.pk, version=expected_version)
        .first()
    )
    updated = (
        0
        if current is None
        else Programme.objects.filter(pk=programme.pk, version=expected_version).update(
            version=F("version") + 1, updated_at=timezone.now(), **fields
        )
    )
    if updated != 1:
        raise PreconditionFailed(
            "This programme has been changed since you read it. Fetch it again and reapply your change."
        )
    before = {k: getattr(current, k) for k, v in fields.items() if getattr(current, k) != v}
    after = {k: fields[k] for k in before}
    if coordinators is not None:
        old = sorted(str(pk) for pk in current.coordinators.values_list("pk", flat=True))
        new = sorted(str(u.pk) for u in coordinators)
        if old != new:
            before["coordinators"], after["coordinators"] = old, new
        programme.coordinators.set(coordinators)
    programme.refresh_from_db()
    programme_config_change_record(
        programme=programme, before=before, after=after, user=actor.user, client=actor.client,
        partner=actor.partner, role=actor.role or "",
    )  # fmt: skip
    record_change("programme", programme.pk, "updated")
    return programme


def programme_config_change_record(
    *, programme: Programme, before: dict, after: dict, user=None, client=None, partner=None,
    role: str = "",
) -> None:  # fmt: skip
    """Every change of configuration is kept (append-only), whether made through the API or the
    admin, so a rule edited and put back is still seen by information governance. Called inside
    the change's transaction; nothing is written when nothing changed."""
    if not before:
        return
    ProgrammeConfigChange.objects.create(
        programme=programme, version=programme.version, user=user, client=client, partner=partner,
        role=role, changed=sorted(before), before=before, after=after,
    )  # fmt: skip


def _coordinators(user_ids) -> list[User]:
    users = list(
        User.objects.filter(
            pk__in=user_ids, is_active=True, membership__role__in=access.INTAKE_ROLES
        )
    )
    if len(users) != len(set(user_ids)):
        raise ValidationFailed(
            "Every coordinator must be an active practitioner, manager or coordinator.",
            fields={"coordinators": ["unknown or ineligible user"]},
        )
    return users


# Provisioning (manage.py set_programme_coordinators, set_programme_owner): an administrator at the
# command line, so there is no actor. Each change is kept in the configuration log like one made in
# the admin or through the API, with no user: made outside the application.


@transaction.atomic
def programme_set_coordinators(*, programme: Programme, emails: list[str]) -> Programme:
    """Replace the programme's coordinators with the staff who have these emails. Every one must
    be an active member of staff whose role may run intake."""
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    if not wanted:
        raise ValidationFailed(
            "Give at least one coordinator's email.", fields={"emails": ["required"]}
        )
    users = list(User.objects.filter(email__in=wanted).select_related("membership"))
    unknown = sorted(set(wanted) - {u.email for u in users})
    if unknown:
        raise ValidationFailed(
            f"No member of staff has the email {', '.join(unknown)}.",
            fields={"emails": ["unknown"]},
        )
    ineligible = sorted(u.email for u in users if not _may_coordinate(u))
    if ineligible:
        raise ValidationFailed(
            f"{', '.join(ineligible)} cannot coordinate a programme: coordinators are active "
            "practitioners, managers or coordinators.",
            fields={"emails": ["ineligible"]},
        )
    locked = Programme.objects.select_for_update().get(pk=programme.pk)
    old = sorted(str(pk) for pk in locked.coordinators.values_list("pk", flat=True))
    new = sorted(str(u.pk) for u in users)
    if old != new:
        locked.coordinators.set(users)
        _configured(locked, before={"coordinators": old}, after={"coordinators": new})
    return locked


def _may_coordinate(user: User) -> bool:
    membership = getattr(user, "membership", None)  # none for a superuser made by createsuperuser
    return user.is_active and membership is not None and membership.role in access.INTAKE_ROLES


@transaction.atomic
def programme_set_owner(*, programme: Programme, partner) -> Programme:
    """The partner that runs the programme (its follow-ups without a key worker go to it)."""
    locked = Programme.objects.select_for_update().get(pk=programme.pk)
    if locked.owner_id != partner.pk:
        before = {"owner": str(locked.owner_id) if locked.owner_id else None}
        Programme.objects.filter(pk=locked.pk).update(owner=partner)
        _configured(locked, before=before, after={"owner": str(partner.pk)})
    locked.refresh_from_db()
    return locked


def _configured(programme: Programme, *, before: dict, after: dict) -> None:
    """A new version (API clients holding the old ETag must re-read), the change kept in the
    configuration log, and a change-feed entry."""
    Programme.objects.filter(pk=programme.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    programme.refresh_from_db()
    programme_config_change_record(programme=programme, before=before, after=after)
    record_change("programme", programme.pk, "updated")


# Referral and the intake workflow


def _check_person_on_case(person: Person, case: Case) -> None:
    if person.pk != case.subject_id and not case.household.filter(pk=person.pk).exists():
        raise ValidationFailed(
            "The person must be the subject of the case or a member of its household.",
            fields={"person": ["not on this case"]},
        )


def _record_transition(
    enrolment: Enrolment, actor: Actor, from_status: str, to: str, reason: str, detail=None
) -> EnrolmentTransition:
    return EnrolmentTransition.objects.create(
        enrolment=enrolment,
        from_status=from_status,
        to_status=to,
        reason=reason,
        user=actor.user,
        client=actor.client,
        partner=actor.partner,
        detail=detail or {},
    )


def _log(actor: Actor, enrolment: Enrolment, action: str, justification: str, detail=None):
    access_record(
        actor=actor,
        action=action,
        accesses=[
            Access(
                "enrolment",
                enrolment.pk,
                case_id=enrolment.case_id,
                person_id=enrolment.person_id,
                justification=justification,
            )
        ],
        detail=detail,
    )


def _active_coordinators(programme: Programme):
    return programme.coordinators.filter(is_active=True)


@guarded(lambda actor, case, **_: access.check_can_refer(actor, case))
def enrolment_create(
    *,
    actor: Actor,
    programme: Programme,
    person: Person,
    case: Case,
    details: dict[str, Any],
    priority: int = 3,
) -> Enrolment:
    """Refer a person on a case the actor can see into a programme: an enrolment in `referred`.

    The details must satisfy the programme's intake schema; eligibility is evaluated at once and
    kept, rule by rule. One open enrolment per person per programme."""
    if not programme.active:
        raise Conflict(f"{programme.name} is not taking referrals.", code="not_taking_referrals")
    _check_person_on_case(person, case)
    ensure_processing_allowed(person.pk, "referred to a programme")
    validate_details(at_referral(programme.intake_schema), details)
    now = timezone.now()
    eligibility = evaluate(
        programme.eligibility, actor=actor, person=person, case=case, details=details, on=now
    )
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(
                programme=programme, person=person, case=case, priority=priority, details=details,
                eligibility=eligibility, referred_at=now, status_changed_at=now,
                referred_by=actor.user, referred_by_client=actor.client,
                referred_by_partner=actor.partner, created_at=now, updated_at=now,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(
            f"This person already has an open referral to {programme.name}.",
            code="already_referred",
        ) from None
    # The verdict is not copied into the history: it is the referrer's view, and the history is
    # read by others (the enrolment's `eligibility` is shown to each reader as they may see it).
    _record_transition(enrolment, actor, "", S.REFERRED, "referred")
    _log(actor, enrolment, "create", "referrer: case visible")
    record_change("enrolment", enrolment.pk, "created", case_id=case.pk, person_id=person.pk)
    notify(
        recipients=_active_coordinators(programme),
        kind="programme_referral",
        title=f"New referral to {programme.name}",
        link=reverse("web:intake", args=[programme.slug]),
        dedupe_key=f"enrolment:{enrolment.pk}:referred",
    )
    return enrolment


@guarded(
    lambda actor, enrolment, **_: access.check_can_run_intake(actor, enrolment, action="update")
)
def enrolment_update(
    *,
    actor: Actor,
    enrolment: Enrolment,
    expected_version: int,
    data: dict[str, Any],
    reason: str = "",
) -> Enrolment:
    """Change the intake details (validated against the intake schema; eligibility re-evaluated),
    the priority or the key worker. Priority decides the waiting-list order, so only coordinators
    change it, and always with a reason (kept in the enrolment's history)."""
    if enrolment.status in CLOSED:
        raise Conflict(f"A {enrolment.status} enrolment cannot be changed.", code="closed")
    programme = enrolment.programme
    fields: dict[str, Any] = {}
    audit: dict[str, Any] = {}
    if "details" in data:
        # The programme's own fields may still be unrecorded (the coach adds them when known).
        validate_details(at_referral(programme.intake_schema), data["details"])
        fields["details"] = data["details"]
        fields["eligibility"] = evaluate(
            programme.eligibility,
            actor=actor,
            person=enrolment.person,
            case=enrolment.case,
            details=data["details"],
            on=enrolment.referred_at,
        )
        audit["details"] = sorted(data["details"])
    if "priority" in data and data["priority"] != enrolment.priority:
        if not reason.strip():
            raise ValidationFailed(
                "Say why the priority changes: it moves the person on the waiting list.",
                fields={"reason": ["required when priority changes"]},
            )
        fields["priority"] = data["priority"]
        audit["priority"] = [enrolment.priority, data["priority"]]
    if "key_worker" in data:
        key_worker = data["key_worker"]
        if (
            key_worker is not None
            and not access.key_worker_candidates(programme).filter(pk=key_worker.pk).exists()
        ):
            raise ValidationFailed(
                f"The key worker must be an active practitioner, manager or coordinator who "
                f"coordinates {programme.name} or works for the partner that runs it.",
                fields={"key_worker": ["ineligible user"]},
            )
        fields["key_worker"] = key_worker
        audit["key_worker"] = str(key_worker.pk) if key_worker else None
    updated = Enrolment.objects.filter(pk=enrolment.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields
    )
    if updated != 1:
        raise PreconditionFailed(
            "This enrolment has been changed since you read it. Fetch it again and reapply your change."
        )
    if "key_worker" in fields and fields["key_worker"] != enrolment.key_worker:
        # The check-ins follow the enrolment to its new coach or mentor (else to the partner
        # that runs the programme), so they are on the caseload of whoever now works it.
        followups_reassign_open(
            subject_resource="enrolment", subject_ids=[enrolment.pk],
            assignee_user=fields["key_worker"],
            assignee_partner=None if fields["key_worker"] else programme.owner,
        )  # fmt: skip
    if "priority" in fields:
        # Why someone moved on the waiting list is about them: it is kept in the enrolment's
        # history (read by those who see the enrolment), never in the access log.
        priority = audit.pop("priority")
        _record_transition(
            enrolment, actor, enrolment.status, enrolment.status, reason.strip(),
            {"priority": priority},
        )  # fmt: skip
    # The access log says what kind of change, never its content (statuses, values, reasons).
    _log(
        actor,
        enrolment,
        "update",
        access.justification(enrolment),
        {"fields": sorted(fields), **audit},
    )
    record_change(
        "enrolment",
        enrolment.pk,
        "updated",
        case_id=enrolment.case_id,
        person_id=enrolment.person_id,
    )
    enrolment.refresh_from_db()
    return enrolment


@guarded(
    lambda actor, enrolment, **_: access.check_can_run_intake(
        actor, enrolment, action="recheck_eligibility"
    )
)
def enrolment_recheck_eligibility(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """Run the programme's rules again, now, on what the coordinator may see: the case may have
    changed since the referral (a date of birth corrected, an adversity recorded). Age is still
    judged at referral. Kept as the enrolment's eligibility, with when it was checked; the
    enrolment's status does not move (that is the coordinator's decision)."""
    locked = Enrolment.objects.select_for_update().select_related("programme", "person", "case")
    locked = locked.get(pk=enrolment.pk)
    if locked.status in CLOSED:
        raise Conflict(f"A {locked.status} enrolment is not checked again.", code="closed")
    result = evaluate(
        locked.programme.eligibility,
        actor=actor,
        person=locked.person,
        case=locked.case,
        details=locked.details,
        on=locked.referred_at,
    )
    Enrolment.objects.filter(pk=locked.pk).update(
        eligibility=result, version=F("version") + 1, updated_at=timezone.now()
    )
    # The verdict stays with the enrolment (shown to each reader as they may see it), not here.
    _log(actor, locked, "recheck_eligibility", access.justification(enrolment))
    record_change(
        "enrolment", locked.pk, "updated", case_id=locked.case_id, person_id=locked.person_id
    )
    locked.refresh_from_db()
    return locked


def eligibility_refresh(*, actor: Actor, person_id=None, case_id=None, **_) -> int:
    """The case changed in a way the rules read (a date of birth corrected, an adversity
    recorded): run the rules again for the open enrolments of that person or on that case, in the
    same transaction, so the explanation is never older than the facts. Age is still judged at
    referral. Done on the changer's view (each reader still sees the verdict as they may:
    `seen_by`), and marked automatic. Not access-logged as the changer's: they read nothing of
    the enrolments. Returns how many were re-checked."""
    open_enrolments = Enrolment.objects.exclude(status__in=CLOSED).select_related(
        "programme", "person", "case"
    )
    if person_id is not None:
        open_enrolments = open_enrolments.filter(person_id=person_id)
    elif case_id is not None:
        open_enrolments = open_enrolments.filter(case_id=case_id)
    else:
        return 0
    now = timezone.now()
    count = 0
    for enrolment in open_enrolments.select_for_update(of=("self",)):
        result = evaluate(
            enrolment.programme.eligibility, actor=actor, person=enrolment.person,
            case=enrolment.case, details=enrolment.details, on=enrolment.referred_at,
        )  # fmt: skip
        result["automatic"] = True
        Enrolment.objects.filter(pk=enrolment.pk).update(
            eligibility=result, version=F("version") + 1, updated_at=now
        )
        record_change(
            "enrolment", enrolment.pk, "updated",
            case_id=enrolment.case_id, person_id=enrolment.person_id,
        )  # fmt: skip
        count += 1
    return count


def _check_capacity(programme: Programme) -> None:
    """Called with the programme row locked: the count cannot change until we commit."""
    taken = selectors.places_taken(programme)
    if taken >= programme.capacity:
        raise Conflict(
            f"{programme.name} is full: {taken} of {programme.capacity} places are taken. "
            "Put the person on the waiting list; the next free place goes to the head of the list.",
            code="capacity_full",
        )


def _check_queue(programme: Programme, enrolment: Enrolment) -> None:
    """A place goes to whoever is first in the fair order (priority, then referral time)."""
    ahead = (
        selectors.waiting_list(programme)
        .exclude(pk=enrolment.pk)
        .filter(
            Q(priority__lt=enrolment.priority)
            | Q(priority=enrolment.priority, referred_at__lt=enrolment.referred_at)
            | Q(priority=enrolment.priority, referred_at=enrolment.referred_at, id__lt=enrolment.pk)
        )
        .count()
    )
    if ahead:
        raise Conflict(
            f"{ahead} {'person is' if ahead == 1 else 'people are'} ahead on the waiting list. "
            "Offer the place to the head of the list (offer-next), or change priorities with a reason.",
            code="waiting_list_order",
        )


def moves_from(status: str) -> list[str]:
    """The statuses an enrolment may move to, as the workflow runs: onward first (eligibility,
    the waiting list, an offer, enrolment, ...), then back (an offer returned to the waiting list),
    then the ways out."""
    order = list(S)
    here = order.index(status)
    along = [s for s in order if s in TRANSITIONS[status] and s not in LEAVING]
    onward = [s for s in along if order.index(s) > here]
    back = [s for s in along if order.index(s) < here]
    return [*onward, *back, *(s for s in LEAVING if s in TRANSITIONS[status])]


def _check_skip_reason(programme: Programme, from_status: str, to: str, reason: str) -> bool:
    """Offering a place (or enrolling) straight after the eligibility check, while people wait
    for one, passes them by: that is explained. True when the move skips the waiting list."""
    if from_status != S.ELIGIBILITY_CHECKED or to not in PLACE_HOLDING:
        return False
    if not selectors.waiting_list(programme).exists():
        return False
    if not reason:
        raise ValidationFailed(
            "People are waiting for a place. Say why this person is given one without joining "
            "the waiting list.",
            fields={"reason": ["required when skipping the waiting list"]},
        )
    return True


def _check_outcome(programme: Programme, to: str, outcome: str) -> None:
    allowed = codes(programme.outcomes)
    if to not in EXITS:
        if outcome:
            raise ValidationFailed(
                "An outcome is recorded only at exit (completed or withdrawn).",
                fields={"outcome": ["only at exit"]},
            )
        return
    if to == S.COMPLETED and allowed and not outcome:
        raise ValidationFailed(
            f"Completing needs an outcome: one of {', '.join(sorted(allowed))}.",
            fields={"outcome": ["required"]},
        )
    if outcome and allowed and outcome not in allowed:
        raise ValidationFailed(
            f"'{outcome}' is not an outcome of {programme.name}; use one of: {', '.join(sorted(allowed))}.",
            fields={"outcome": ["invalid"]},
        )


def _explain(eligibility: dict) -> str:
    failing = [r["explanation"] for r in eligibility["rules"] if r["outcome"] != "met"]
    return " ".join(failing)


def _move(
    *,
    actor: Actor,
    programme: Programme,
    locked: Enrolment,
    to: str,
    reason: str,
    outcome: str = "",
    outcome_notes: str = "",
    override_eligibility: bool = False,
    justification: str,
) -> Enrolment:
    """The move itself, on rows the caller has locked (programme first, then enrolment)."""
    from_status = locked.status
    if to not in TRANSITIONS[from_status]:
        allowed = ", ".join(moves_from(from_status)) or "nothing (it is closed)"
        raise Conflict(
            f"A {from_status} enrolment cannot move to {to}. From {from_status} it can move to: {allowed}.",
            code="illegal_transition",
        )
    reason = reason.strip()
    if to in REASON_REQUIRED and not reason:
        raise ValidationFailed(
            f"Say why the enrolment is {to}.", fields={"reason": [f"required when moving to {to}"]}
        )
    _check_outcome(programme, to, outcome)
    now = timezone.now()
    fields: dict[str, Any] = {"status": to, "status_changed_at": now}
    detail: dict[str, Any] = {}
    if to == S.ELIGIBILITY_CHECKED:
        # Age is judged at referral; adversities and details as they are now.
        # On what the acting user may see: never on records hidden from them.
        result = evaluate(
            programme.eligibility,
            actor=actor,
            person=locked.person,
            case=locked.case,
            details=locked.details,
            on=locked.referred_at,
        )
        fields["eligibility"] = result
        if result["eligible"] is not True:
            if not override_eligibility:
                raise Conflict(
                    f"{result['summary']} {_explain(result)} Move it to ineligible, or confirm "
                    "eligibility with override_eligibility and a reason.",
                    code="not_eligible",
                )
            if not reason:
                raise ValidationFailed(
                    "Say why eligibility is confirmed although a rule is not met.",
                    fields={"reason": ["required with override_eligibility"]},
                )
            detail["override_eligibility"] = True
    if to in PLACE_HOLDING and from_status not in PLACE_HOLDING:
        _check_queue(programme, locked)
        _check_capacity(programme)
    if _check_skip_reason(programme, from_status, to, reason):
        detail["skipped_waiting_list"] = True
    if to == S.OFFERED:
        fields["offered_at"] = now
    elif to == S.ENROLLED:
        fields["enrolled_at"] = now
        # Someone must own the follow-ups: by default, the coordinator who enrols the person.
        if locked.key_worker_id is None and actor.user and access.is_coordinator(actor, programme):
            fields["key_worker"] = actor.user
            detail["key_worker"] = str(actor.user.pk)
    elif to == S.ACTIVE:
        fields["started_at"] = now
    elif to in CLOSED:
        fields["ended_at"] = now
        if outcome:
            fields["outcome"] = outcome
            detail["outcome"] = outcome
        if outcome_notes:
            fields["outcome_notes"] = outcome_notes
    Enrolment.objects.filter(pk=locked.pk).update(
        version=F("version") + 1, updated_at=now, **fields
    )
    locked.refresh_from_db()
    transition = _record_transition(locked, actor, from_status, to, reason, detail)
    if to == S.ENROLLED:
        schedule_followups(programme=programme, enrolment=locked, enrolled_at=now)
    if to in CLOSED:
        _cancel_followups(locked)
        if from_status in PLACE_HOLDING:
            _place_freed(programme, transition)
    # From, to and why are in the enrolment's history; the access log keeps no content.
    _log(actor, locked, "transition", justification)
    record_change(
        "enrolment", locked.pk, "updated", case_id=locked.case_id, person_id=locked.person_id
    )
    if (
        to in NOTIFY_REFERRER
        and locked.referred_by_id
        and locked.referred_by_id != getattr(actor.user, "pk", None)
    ):
        notify(
            recipients=User.objects.filter(pk=locked.referred_by_id, is_active=True),
            kind="programme_referral_update",
            title=f"A referral you made to {programme.name} is now: {S(to).label.lower()}",
            link=reverse("web:enrolment", args=[locked.pk]),
            dedupe_key=f"enrolment:{locked.pk}:transition:{transition.pk}",
        )
    return locked


def enrolment_transition(
    *,
    actor: Actor,
    enrolment: Enrolment,
    to: str,
    reason: str = "",
    outcome: str = "",
    outcome_notes: str = "",
    override_eligibility: bool = False,
    expected_version: int | None = None,
) -> Enrolment:
    """Moves along the intake workflow (TRANSITIONS) only; anything else is a 409. Reason and
    actor are kept for every move. Taking a place (offered, enrolled) is refused when the programme
    is full or someone is ahead on the waiting list; eligibility must pass (or be overridden with a
    reason) to be checked; completing records an outcome; enrolling schedules the follow-ups."""
    if to not in S.values:
        raise ValidationFailed(
            f"'{to}' is not an enrolment status; use one of: {', '.join(S.values)}.",
            fields={"to": ["invalid"]},
        )
    # Checked before the transaction opens, so that the logged refusal is not rolled back with it.
    access.check_can_transition(actor, enrolment, to)
    with transaction.atomic():
        programme = enrolment.programme
        if to in PLACE_HOLDING:
            # Lock order everywhere: programme, then enrolment. Every move that may take a place
            # queues here, so the count of places taken cannot change under us.
            programme = Programme.objects.select_for_update().get(pk=programme.pk)
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if expected_version is not None and locked.version != expected_version:
            raise PreconditionFailed(
                "This enrolment has been changed since you read it. Fetch it again and decide again."
            )
        return _move(
            actor=actor, programme=programme, locked=locked, to=to, reason=reason,
            outcome=outcome, outcome_notes=outcome_notes,
            override_eligibility=override_eligibility,
            justification=access.justification(enrolment),
        )  # fmt: skip


@transaction.atomic
def programme_offer_next(*, actor: Actor, programme: Programme, reason: str = "") -> Enrolment:
    """Offer a free place to the head of the waiting list (priority, then referral time): the fair
    order is the service's to keep, not the caller's to choose. 409 when full or nobody waits."""
    if not access.is_coordinator(actor, programme):
        raise Forbidden(f"Only the coordinators of {programme.name} can offer places.")
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    head = selectors.waiting_list(programme).select_for_update().first()
    if head is None:
        raise Conflict(f"Nobody is waiting for {programme.name}.", code="waiting_list_empty")
    return _move(
        actor=actor,
        programme=programme,
        locked=head,
        to=S.OFFERED,
        reason=reason.strip() or "next on the waiting list",
        justification=f"coordinator of {programme.slug}",
    )


# Follow-ups


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _occurrences(item: dict, anchor: date) -> list[date]:
    offset, every = item.get("offset", {}), item.get("every", {})
    days_of = lambda p: p.get("days", 0) + 7 * p.get("weeks", 0)  # noqa: E731
    return [
        _add_months(anchor, offset.get("months", 0) + n * every.get("months", 0))
        + timedelta(days=days_of(offset) + n * days_of(every))
        for n in range(item.get("repeat", 1))
    ]


def followup_dates(
    schedule: list[dict], *, enrolled_on: date, details: dict
) -> list[tuple[dict, date]]:
    """Each schedule item's due dates, anchored on the enrolment date or on a date in the details
    (e.g. weeks before the expected release date). An anchor with no date yields nothing."""
    due = []
    for item in schedule or []:
        anchor = item["anchor"]
        base = (
            enrolled_on
            if anchor == "enrolled"
            else as_date((details or {}).get(anchor.split(".", 1)[1]))
        )
        if base is not None:
            due.extend((item, day) for day in _occurrences(item, base))
    return due


def schedule_followups(*, programme: Programme, enrolment: Enrolment, enrolled_at: datetime):
    """The programme's follow-up schedule for one enrolment, due at 09:00 local time. Dates already
    past when the person enrols are skipped (preparation weeks that have gone). Safe to repeat:
    followup_create never creates the same kind, subject and due time twice.

    They go to the key worker (else to the owning partner) and are deliberately not tied to the
    case: programme staff work the enrolment, and often may not see the case itself, which would
    hide the follow-up from them (followups only shows case follow-ups to those who see the case)."""
    today = timezone.localdate(enrolled_at)
    zone = timezone.get_current_timezone()
    created = []
    numbered: dict[int, int] = {}
    for item, day in followup_dates(
        programme.followup_schedule, enrolled_on=today, details=enrolment.details
    ):
        # A repeating item's follow-ups say which they are: six "DIVERT check-in" in a list read
        # as one follow-up made six times.
        n = numbered[id(item)] = numbered.get(id(item), 0) + 1
        if day < today:
            continue
        repeat = item.get("repeat", 1)
        title = f"{item['title']} ({n} of {repeat})" if repeat > 1 else item["title"]
        created.append(
            followup_create(
                kind=item["kind"],
                due_at=datetime.combine(day, FOLLOWUP_TIME, tzinfo=zone),
                subject_resource="enrolment",
                subject_id=enrolment.pk,
                title=title[:200],
                assignee_user=enrolment.key_worker,
                assignee_partner=None if enrolment.key_worker_id else programme.owner,
            )
        )
    return created


def _cancel_followups(enrolment: Enrolment) -> None:
    followups_cancel_pending(subject_resource="enrolment", subject_ids=[enrolment.pk])


def _place_freed(programme: Programme, transition: EnrolmentTransition) -> None:
    waiting = selectors.waiting_list(programme).count()
    if not waiting:
        return
    notify(
        recipients=_active_coordinators(programme),
        kind="programme_place_free",
        title=f"A place is free on {programme.name}; {waiting} waiting",
        link=reverse("web:intake", args=[programme.slug]) + "#col-waitlisted",
        dedupe_key=f"programme:{programme.pk}:place-freed:{transition.pk}",
    )


# Sessions and milestones


@guarded(
    lambda actor, enrolment, **_: access.check_can_work_enrolment(
        actor, enrolment, action="record_session"
    )
)
def session_create(
    *,
    actor: Actor,
    enrolment: Enrolment,
    kind: str,
    occurred_at: datetime,
    attendance: str,
    notes: str = "",
    missed_reason: str = "",
) -> EnrolmentSession:
    """A session and whether the person came, on an open enrolment; the kind must be one the
    programme defines (when it defines any). A missed session says why it was missed."""
    programme = enrolment.programme
    if enrolment.status in CLOSED:
        raise Conflict(
            f"Sessions cannot be added to a {enrolment.status} enrolment.", code="closed"
        )
    allowed = codes(programme.session_kinds)
    if allowed and kind not in allowed:
        raise ValidationFailed(
            f"'{kind}' is not a session kind of {programme.name}; use one of: {', '.join(sorted(allowed))}.",
            fields={"kind": ["invalid"]},
        )
    if attendance not in Attendance.values:
        raise ValidationFailed(
            "Attendance must be attended, missed or cancelled.", fields={"attendance": ["invalid"]}
        )
    missed_reason = missed_reason.strip()
    if attendance == Attendance.MISSED and not missed_reason:
        raise ValidationFailed(
            "Say why the session was missed.", fields={"missed_reason": ["required when missed"]}
        )
    if attendance != Attendance.MISSED and missed_reason:
        raise ValidationFailed(
            "A reason for missing is given only for a missed session.",
            fields={"missed_reason": ["only when missed"]},
        )
    now = timezone.now()
    session = EnrolmentSession.objects.create(
        enrolment=enrolment, kind=kind, occurred_at=occurred_at, attendance=attendance, notes=notes,
        missed_reason=missed_reason, recorded_by=actor.user, recorded_by_client=actor.client, partner=actor.partner,
        created_at=now, updated_at=now,
    )  # fmt: skip
    # The booked session has happened (or been missed): the booking is done with.
    Enrolment.objects.filter(
        pk=enrolment.pk,
        next_session_at__isnull=False,
        next_session_at__date__lte=timezone.localdate(occurred_at),
    ).update(next_session_at=None, next_session_kind="", updated_at=now)
    access_record(
        actor=actor,
        action="create",
        accesses=[
            Access(
                "enrolment_session",
                session.pk,
                case_id=enrolment.case_id,
                person_id=enrolment.person_id,
                justification=access.justification(enrolment),
            )
        ],
    )
    record_change(
        "enrolment_session",
        session.pk,
        "created",
        case_id=enrolment.case_id,
        person_id=enrolment.person_id,
    )
    return session


@guarded(
    lambda actor, enrolment, **_: access.check_can_work_enrolment(
        actor, enrolment, action="book_session"
    )
)
def session_book(
    *, actor: Actor, enrolment: Enrolment, at: datetime | None, kind: str = ""
) -> Enrolment:
    """Book the next session with the person (or, with `at` None, cancel the booking): shown on
    the key worker's caseload and the enrolment page. In the future, on an open enrolment, of a
    kind the programme defines."""
    programme = enrolment.programme
    if enrolment.status in CLOSED:
        raise Conflict(f"A {enrolment.status} enrolment has no next session.", code="closed")
    if at is not None:
        if at <= timezone.now():
            raise ValidationFailed(
                "The next session must be in the future.", fields={"at": ["in the past"]}
            )
        allowed = codes(programme.session_kinds)
        if allowed and kind not in allowed:
            raise ValidationFailed(
                f"'{kind}' is not a session kind of {programme.name}; use one of: "
                f"{', '.join(sorted(allowed))}.",
                fields={"kind": ["invalid"]},
            )
    Enrolment.objects.filter(pk=enrolment.pk).update(
        next_session_at=at, next_session_kind=kind if at else "", updated_at=timezone.now()
    )
    # When, never what: the booking is on the enrolment.
    _log(actor, enrolment, "book_session", access.justification(enrolment))
    record_change(
        "enrolment",
        enrolment.pk,
        "updated",
        case_id=enrolment.case_id,
        person_id=enrolment.person_id,
    )
    enrolment.refresh_from_db()
    return enrolment


@guarded(
    lambda actor, enrolment, **_: access.check_can_work_enrolment(
        actor, enrolment, action="record_milestone"
    )
)
def milestone_create(
    *, actor: Actor, enrolment: Enrolment, code: str, achieved_on: date, note: str = ""
) -> Milestone:
    """A milestone the programme defines, reached while enrolled or active, recorded once."""
    programme = enrolment.programme
    if enrolment.status not in (S.ENROLLED, S.ACTIVE):
        raise Conflict(
            f"Milestones are recorded while enrolled or active, not {enrolment.status}.",
            code="not_enrolled",
        )
    allowed = codes(programme.milestones)
    if allowed and code not in allowed:
        raise ValidationFailed(
            f"'{code}' is not a milestone of {programme.name}; use one of: {', '.join(sorted(allowed))}.",
            fields={"code": ["invalid"]},
        )
    if achieved_on > timezone.localdate():
        raise ValidationFailed(
            "A milestone cannot be reached in the future.",
            fields={"achieved_on": ["in the future"]},
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            milestone = Milestone.objects.create(
                enrolment=enrolment, code=code, achieved_on=achieved_on, note=note,
                recorded_by=actor.user, recorded_by_client=actor.client, partner=actor.partner,
                created_at=now, updated_at=now,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(
            f"The milestone '{code}' is already recorded for this enrolment.", code="duplicate"
        ) from None
    access_record(
        actor=actor,
        action="create",
        accesses=[
            Access(
                "milestone",
                milestone.pk,
                case_id=enrolment.case_id,
                person_id=enrolment.person_id,
                justification=access.justification(enrolment),
            )
        ],
    )
    record_change(
        "milestone",
        milestone.pk,
        "created",
        case_id=enrolment.case_id,
        person_id=enrolment.person_id,
    )
    return milestone
