"""The security log: every sign-in through an identity provider, every failure and refusal.

One line per event on the `vru.security` logger, with the provider (its partner's slug), the
outcome, the reason and the account's id when known: never a token, a code or an email address.
Successful sign-ins are also in django-axes' access log, like password sign-ins.
"""

from __future__ import annotations

import logging

from core.addresses import client_address

logger = logging.getLogger("vru.security")
WARNINGS = frozenset(
    {
        "sso_sign_in_refused",
        "sso_sign_in_failed",
        "sso_tokens_revoked",
        "sso_email_step_limited",
        "sso_back_channel_logout_refused",
        "sso_refresh_refused",
        "sso_refresh_failed",
        "sso_reconcile_disabled",
    }
)


def security_event(event: str, *, request=None, provider=None, user=None, reason: str = "") -> None:
    fields = {
        "event": event,
        "provider": provider.partner.slug if provider is not None else "-",
        "reason": reason or "-",
        "user": str(user.pk) if user is not None else "-",
        "address": client_address(request) if request is not None else "-",
    }
    level = logging.WARNING if event in WARNINGS else logging.INFO
    logger.log(
        level,
        " ".join(f"{key}={value}" for key, value in fields.items()),
        extra={"security": fields},
    )
