"""A leaver's personal API tokens go when their account is disabled here, whichever way it is
disabled: partners.services.user_disable revokes them itself; saving the account inactive (the
Django admin's "active" box, a reconciliation script) is caught here."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from partners.models import User
from sso.models import ExternalIdentity
from sso.security import security_event
from sso.services import revoke_tokens_of_disabled


@receiver(post_save, sender=User, dispatch_uid="sso_revoke_tokens_of_disabled")
def revoke_tokens_when_disabled(sender, instance: User, created: bool, **kwargs) -> None:
    if created or instance.is_active:
        return
    if not ExternalIdentity.objects.filter(user=instance).exists():
        return
    if revoke_tokens_of_disabled(user=instance):
        security_event("sso_tokens_revoked", user=instance, reason="account_disabled")
