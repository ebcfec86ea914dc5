"""Who may manage a partner's webhook subscriptions, and who hears about them."""

from __future__ import annotations

from django.db.models import QuerySet

from partners.actor import Actor
from partners.models import Role, Scope, User

WEBHOOK_ROLES = (Role.MANAGER, Role.ADMIN)


def can_manage_webhooks(actor: Actor) -> bool:
    """Partner systems with the sync scope, and the partner's managers and administrators."""
    if actor.is_client:
        return Scope.SYNC in actor.scopes
    return actor.role in WEBHOOK_ROLES


def webhook_managers(partner_id) -> QuerySet[User]:
    """The people told when a subscription of their partner is turned off."""
    return User.objects.filter(
        is_active=True, membership__partner_id=partner_id, membership__role__in=WEBHOOK_ROLES
    )
