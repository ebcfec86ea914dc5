"""Reads of follow-ups and notifications, always for an acting user or partner system."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from followups.kinds import MANAGER_KINDS, PRIVATE_KINDS
from followups.models import FollowUp, Notification
from partners.actor import Actor
from partners.models import Role

# Roles that work a partner's follow-ups; auditors and administrators see only their own.
PARTNER_WORK_ROLES = (Role.PRACTITIONER, Role.MANAGER, Role.COORDINATOR)


def followups_visible_to(actor: Actor) -> QuerySet[FollowUp]:
    """Follow-ups assigned to the actor, or to their partner, and, where a follow-up concerns a
    case, only while the actor can see that case (cases.access decides).

    Partner-wide follow-ups of MANAGER_KINDS, and anyone's private ones (a colleague's wellbeing
    check-in), are for the partner's managers only. A partner system sees its partner's
    partner-wide follow-ups, as a practitioner would.
    """
    from cases.access import cases_visible_to

    mine = Q(pk__in=[])  # matches nothing; built up below
    if actor.user is not None:
        mine |= Q(assignee_user_id=actor.user.pk)
    works_for_partner = actor.is_client or actor.role in PARTNER_WORK_ROLES
    if works_for_partner:
        partner = Q(assignee_partner_id=actor.partner.pk)
        if actor.role == Role.MANAGER:
            mine |= partner
        else:
            mine |= (
                partner & Q(assignee_user__isnull=True) & ~Q(kind__in=MANAGER_KINDS | PRIVATE_KINDS)
            )
    case_visible = Exists(cases_visible_to(actor).filter(pk=OuterRef("case_id")).values("pk"))
    return FollowUp.objects.filter(mine).filter(Q(case__isnull=True) | case_visible)


def notifications_for(user) -> QuerySet[Notification]:
    """A person's own notifications; nobody else's, whatever their role."""
    if user is None:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    if user is None:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# Not yet done: waiting, the assignee told, or escalated.
OPEN_STATUSES = (FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED)


def open_followups(actor: Actor) -> QuerySet[FollowUp]:
    """The actor's follow-ups (followups_visible_to) that are not yet done."""
    return followups_visible_to(actor).filter(status__in=OPEN_STATUSES)


def unread_notifications(user) -> QuerySet[Notification]:
    """A person's own notifications they have not read yet."""
    return notifications_for(user).filter(read_at__isnull=True)
