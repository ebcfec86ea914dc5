"""Announcing deletions: a `deleted` journal row, told only to whoever could see the record then.

A disposed-of record (cases/retention.py) cannot be asked who may see it, so its journal row
carries tombstones (sync.models.Tombstone) naming its audience at the moment of disposal: partners,
or single users who saw it by name. The change feed shows the row to that audience only
(`visibility_condition` below), and webhooks send it as `<resource>.deleted`. As with `revoked`
(cases.services.share_expiry_announce) nothing but the resource, the id and the time is revealed.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db.models import Exists, OuterRef, Q

from core.models import Change
from partners.actor import Actor
from sync.models import Tombstone

Audience = Iterable[tuple[UUID, UUID | None]]  # (partner id, user id or None for the whole partner)


def announce_deleted(
    resource: str, object_id, audience: Audience, *, case_id=None, person_id=None
) -> Change | None:
    """Journal the deletion for `audience`; call inside the deleting transaction. Nothing is
    journalled when nobody could see the record."""
    audience = sorted(set(audience), key=str)
    if not audience:
        return None
    change = Change.objects.create(
        resource=resource,
        object_id=object_id,
        action=Change.Action.DELETED,
        case_id=case_id,
        person_id=person_id,
    )
    Tombstone.objects.bulk_create(
        [Tombstone(change=change, partner_id=partner, user_id=user) for partner, user in audience]
    )
    return change


def told_to(actor: Actor):
    """The tombstones that tell the actor (its partner as a whole, or the actor by name)."""
    tombstones = Tombstone.objects.filter(partner_id=actor.partner.pk)
    if actor.user is None:
        return tombstones.filter(user__isnull=True)
    return tombstones.filter(Q(user__isnull=True) | Q(user_id=actor.user.pk))


def visibility_condition(actor: Actor) -> Q:
    """A filter on core.Change: the `deleted` rows whose tombstones name the actor's partner as a
    whole, or the actor by name."""
    tombstones = Tombstone.objects.filter(change=OuterRef("pk"), partner_id=actor.partner.pk)
    if actor.user is None:
        tombstones = tombstones.filter(user__isnull=True)
    else:
        tombstones = tombstones.filter(Q(user__isnull=True) | Q(user_id=actor.user.pk))
    return Q(action=Change.Action.DELETED, audience_partner__isnull=True) & Exists(tombstones)
