"""Who may see and do what with supervision check-ins and training records. Decided here only.

A check-in is private to its subject (the member of staff) and their supervisors: the managers of
the partner it was held at. Nobody else sees it: not colleagues, not other partners' managers, not
auditors or administrators, not partner systems; to them it does not exist (404, logged), in lists
and counts too. Reports see only published counts (wellbeing/reports.py).

- Recording: the member of staff starts their own; a manager records one with or for a member of
  staff of their own partner (not for themselves through the staff page: their own is "My
  supervision", like anyone's).
- Signing off: a manager of the partner it was held at who is not its subject. Nobody signs off
  their own check-in, whatever their role: a manager's own is signed off by another manager.
- Training records: the member of staff and their partner's managers record and see them.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet

from audit.services import Access, access_record, access_refused
from core.errors import Forbidden, NotFound
from partners.actor import Actor
from partners.models import Role, TrainingRecord, User
from wellbeing.models import CheckIn

CHECK_IN = "supervision_check_in"
TRAINING = "training_record"
STAFF = "user"


def is_staff_member(actor: Actor) -> bool:
    """Anyone signed in as a member of staff has supervision of their own (a partner system has
    none)."""
    return actor.user is not None


def supervises_staff(actor: Actor) -> bool:
    """A partner's managers supervise its staff (and read their team's wellbeing figures)."""
    return actor.user is not None and actor.role == Role.MANAGER


def _supervises(actor: Actor, partner_id) -> bool:
    return supervises_staff(actor) and actor.partner.pk == partner_id


def check_ins_visible_to(actor: Actor) -> QuerySet[CheckIn]:
    """Every read of check-ins starts here: one's own, and, for a manager, those held at their
    partner."""
    if actor.user is None:
        return CheckIn.objects.none()
    mine = Q(subject_id=actor.user.pk)
    if supervises_staff(actor):
        mine |= Q(partner_id=actor.partner.pk)
    return CheckIn.objects.filter(mine)


def check_in_get_for(actor: Actor, check_in_id: UUID | str, *, action: str) -> CheckIn:
    """The check-in if the actor may see it; otherwise not found, as for one that does not exist
    (and the attempt is logged)."""
    found = (
        check_ins_visible_to(actor)
        .filter(pk=check_in_id)
        .select_related("subject", "recorded_by", "signed_off_by", "partner")
        .first()
    )
    if found is None:
        access_refused(
            actor=actor, action=action, object_type=CHECK_IN, object_id=check_in_id,
            reason="not the subject or their supervisor",
        )  # fmt: skip
        raise NotFound("Check-in not found.")
    return found


def staff_visible_to(actor: Actor) -> QuerySet[User]:
    """The members of staff whose supervision a manager sees: the active staff of their own
    partner. Nobody else sees anyone's."""
    if not supervises_staff(actor):
        return User.objects.none()
    return User.objects.filter(is_active=True, membership__partner_id=actor.partner.pk)


def staff_member_for(actor: Actor, user_id: UUID | str, *, action: str) -> User:
    """A member of staff of the manager's own partner; not found for anyone else (logged)."""
    found = (
        staff_visible_to(actor)
        .filter(pk=user_id)
        .select_related("membership__partner", "profile")
        .first()
    )
    if found is None:
        access_refused(
            actor=actor, action=action, object_type=STAFF, object_id=user_id,
            reason="not a manager of this member of staff's partner",
        )  # fmt: skip
        raise NotFound("Member of staff not found.")
    return found


def _partner_id_of(user: User):
    membership = getattr(user, "membership", None)
    return membership.partner_id if membership is not None else None


def can_record_for(actor: Actor, subject: User) -> bool:
    """One's own check-in (and training), or one a manager records for their partner's staff."""
    if actor.user is None or not subject.is_active:
        return False
    if subject.pk == actor.user.pk:
        return True
    return _supervises(actor, _partner_id_of(subject))


def check_record_for(actor: Actor, subject: User, *, action: str) -> None:
    """The service checks again, whichever channel called it: 404 for someone the actor does not
    supervise (they may not learn who exists)."""
    if not can_record_for(actor, subject):
        access_refused(
            actor=actor, action=action, object_type=STAFF, object_id=subject.pk,
            reason="not this member of staff or their supervisor",
        )  # fmt: skip
        raise NotFound("Member of staff not found.")


def can_sign_off(actor: Actor, check_in: CheckIn) -> bool:
    """A manager of the partner it was held at, who is not its subject."""
    return _supervises(actor, check_in.partner_id) and actor.user.pk != check_in.subject_id


def check_sign_off(actor: Actor, check_in: CheckIn) -> None:
    """404 for a check-in the actor may not see. Everyone else who sees it supervises it, except
    its subject: 403, saying who signs it off."""
    check_in_get_for(actor, check_in.pk, action="sign_off_check_in")
    if can_sign_off(actor, check_in):
        return
    who = "Another manager" if supervises_staff(actor) else "A manager"
    access_refused(
        actor=actor, action="sign_off_check_in", object_type=CHECK_IN, object_id=check_in.pk,
        reason="subject of the check-in",
    )  # fmt: skip
    raise Forbidden(
        f"You cannot sign off your own check-in. {who} at {check_in.partner.name} signs it off.",
        code="own_check_in",
    )


def training_visible_to(actor: Actor) -> QuerySet[TrainingRecord]:
    """One's own training records, and a manager's partner's staff's."""
    if actor.user is None:
        return TrainingRecord.objects.none()
    mine = Q(user_id=actor.user.pk)
    if supervises_staff(actor):
        mine |= Q(user__membership__partner_id=actor.partner.pk)
    return TrainingRecord.objects.filter(mine)


def justification(actor: Actor, subject_id) -> str:
    return "own supervision" if actor.user and actor.user.pk == subject_id else "supervisor"


def log_check_ins(actor: Actor, check_ins, *, action: str) -> None:
    """One row per check-in read or written, by id: never what it says."""
    access_record(
        actor=actor,
        action=action,
        accesses=[
            Access(CHECK_IN, c.pk, justification=justification(actor, c.subject_id))
            for c in check_ins
        ],
    )


def log_training(actor: Actor, records, *, action: str) -> None:
    access_record(
        actor=actor,
        action=action,
        accesses=[
            Access(TRAINING, r.pk, justification=justification(actor, r.user_id)) for r in records
        ],
    )


def can_read_team_figures(actor: Actor) -> bool:
    """A partner's managers read their own team's wellbeing figures (counts only)."""
    return supervises_staff(actor)


def check_team_figures(actor: Actor) -> None:
    if not can_read_team_figures(actor):
        access_refused(
            actor=actor, action="view_report", object_type="report", object_id="staff_wellbeing",
            reason="not a manager",
        )  # fmt: skip
        raise Forbidden("Only managers can read their team's wellbeing figures.")
