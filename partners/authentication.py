"""API authentication: `Authorization: Bearer <token>` for users and clients, or a browser session."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions

from core.addresses import client_address
from partners.models import ApiClient, PersonalToken
from partners.tokens import CLIENT_PREFIX, PERSONAL_PREFIX, display_prefix, hash_token
from partners.twofactor import second_factor_pending

LAST_USED_RESOLUTION = timedelta(minutes=5)
# Token prefixes go into cache keys: only the characters our tokens are made of.
_PREFIX_CHARS = re.compile(r"[A-Za-z0-9_-]+")


class ClientPrincipal:
    """Stands in for request.user when a partner system calls: authenticated, but not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, client: ApiClient):
        self.client = client
        self.pk = self.id = client.id

    def __str__(self) -> str:
        return f"client:{self.client.name}"


class TokenThrottled(exceptions.Throttled):
    default_detail = (
        "Too many failed token attempts from this address, or with this token. Try again later."
    )


def _window() -> tuple[int, int]:
    """The current fixed failure window: its number, and the seconds left in it."""
    length = settings.TOKEN_FAILURE_WINDOW
    now = int(time.time())
    return now // length, length - now % length


def _failure_keys(request, prefix: str | None, window: int) -> list[str]:
    """Failures are counted per client address and, when the token looks like ours, per token
    prefix (a stale token in one partner's configuration is throttled wherever it is sent from)."""
    keys = [f"token-failures:addr:{client_address(request)}:{window}"]
    if prefix:
        keys.append(f"token-failures:prefix:{prefix}:{window}")
    return keys


def _prefix(token: str) -> str | None:
    if not token.startswith((CLIENT_PREFIX, PERSONAL_PREFIX)):
        return None
    prefix = display_prefix(token)
    return prefix if _PREFIX_CHARS.fullmatch(prefix) else None


def _refuse(request, message: str, prefix: str | None = None):
    """Refuse a failed token attempt (django-axes does not cover bearer tokens): 401, or 429 with
    Retry-After once this address or this token prefix has failed too often in the window.

    Only failures are ever refused here: a valid token authenticates before this is reached, so
    one caller's failures never lock out another caller behind the same address (tokens are
    256-bit random, so the throttle is not what stops guessing; it slows noise and says why).

    The counts are in the cache. While Redis is unreachable the cache counts in local memory
    (core/cache.py): the lockout still holds, but per web worker process.
    """
    number, left = _window()
    keys = _failure_keys(request, prefix, number)
    counts = cache.get_many(keys)
    if any(counts.get(key, 0) >= settings.TOKEN_FAILURE_LIMIT for key in keys):
        raise TokenThrottled(wait=left)
    for key in keys:
        if not cache.add(key, 1, left + 1):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, left + 1)
            # Some backends (file, database) reset the expiry on incr: keep it at the window's end.
            cache.touch(key, left + 1)
    raise exceptions.AuthenticationFailed(message)


def _touch(model, record, now) -> None:
    """Record when a token was last used, at most every few minutes: not a write per request."""
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        model.objects.filter(pk=record.pk).update(last_used_at=now)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            if scheme.lower() in ("basic", "token", "digest"):
                _refuse(request, "Use 'Authorization: Bearer <token>'.")
            return None
        token = token.strip()
        if not token or " " in token:
            _refuse(request, "The bearer token is missing or malformed.")
        prefix = _prefix(token)
        digest = hash_token(token)
        now = timezone.now()
        if token.startswith(CLIENT_PREFIX):
            client = ApiClient.objects.select_related("partner").filter(token_hash=digest).first()
            if client is None or not client.usable:
                _refuse(request, "This token is not valid, or has been revoked.", prefix)
            _touch(ApiClient, client, now)
            return ClientPrincipal(client), client
        if token.startswith(PERSONAL_PREFIX):
            record = (
                PersonalToken.objects.select_related("user__membership__partner")
                .filter(token_hash=digest)
                .first()
            )
            if record is None or record.revoked_at is not None:
                _refuse(request, "This token is not valid, or has been revoked.", prefix)
            if record.expires_at <= now:
                _refuse(request, "This token has expired.", prefix)
            if not record.user.is_active:
                _refuse(request, "This account is disabled.", prefix)
            _touch(PersonalToken, record, now)
            return record.user, record
        _refuse(request, "This token is not valid, or has been revoked.")
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """Browser sessions work on the API too, but only once they have passed two-factor whenever
    the user owes it (required everywhere, or set up by the user): a password-only session is not
    authenticated here, so the API answers 401. Bearer tokens are not affected."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        if second_factor_pending(user):
            return None
        return result
