"""Reads of check-ins and training records, always for the acting user; each read is logged."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from followups import kinds
from followups.models import FollowUp
from followups.selectors import followups_visible_to
from partners.actor import Actor
from partners.models import TrainingRecord, User
from wellbeing import access
from wellbeing.models import CheckIn

OPEN = (FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED)


def check_in_list(*, actor: Actor, subject: User) -> list[CheckIn]:
    """The subject's check-ins the actor may see, newest first (what was said is not shown in a
    list, but that they took place is: logged, one row each)."""
    check_ins = list(
        access.check_ins_visible_to(actor)
        .filter(subject=subject)
        .select_related("recorded_by", "signed_off_by", "partner")
    )
    access.log_check_ins(actor, check_ins, action="list_check_ins")
    return check_ins


def check_in_detail(*, actor: Actor, check_in_id: UUID | str) -> CheckIn:
    """One check-in, in full, for its subject or supervisors (404 for anyone else); logged."""
    check_in = access.check_in_get_for(actor, check_in_id, action="view_check_in")
    access.log_check_ins(actor, [check_in], action="view_check_in")
    return check_in


def awaiting_sign_off(*, actor: Actor) -> QuerySet[CheckIn]:
    """Check-ins the actor could sign off now: held at their partner, about someone else."""
    if not access.supervises_staff(actor):
        return CheckIn.objects.none()
    return (
        access.check_ins_visible_to(actor)
        .filter(partner_id=actor.partner.pk, signed_off_at__isnull=True)
        .exclude(subject_id=actor.user.pk)
    )


def training_list(*, actor: Actor, subject: User) -> list[TrainingRecord]:
    records = list(access.training_visible_to(actor).filter(user=subject).order_by("-completed_on"))
    access.log_training(actor, records, action="list_training")
    return records


def next_check_in(*, actor: Actor, subject: User) -> FollowUp | None:
    """The subject's earliest open supervision follow-up the actor may see."""
    return (
        followups_visible_to(actor)
        .filter(kind=kinds.SUPERVISION_CHECK_IN, assignee_user=subject, status__in=OPEN)
        .order_by("due_at")
        .first()
    )
