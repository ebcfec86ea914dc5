"""API authentication: `Authorization: Bearer <token>` for users and clients, or a browser session."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions

from partners.models import ApiClient, PersonalToken
from partners.tokens import CLIENT_PREFIX, PERSONAL_PREFIX, hash_token

LAST_USED_RESOLUTION = timedelta(minutes=5)


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
    default_detail = "Too many failed sign-in attempts from this address. Try again later."


def _failure_key(request) -> str:
    return f"token-failures:{request.META.get('REMOTE_ADDR', '')}"


def _refuse(request, message: str):
    """Count a failed token attempt for this address (django-axes does not cover bearer tokens)."""
    key = _failure_key(request)
    cache.add(key, 0, settings.TOKEN_FAILURE_WINDOW)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, settings.TOKEN_FAILURE_WINDOW)
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
        if (cache.get(_failure_key(request)) or 0) >= settings.TOKEN_FAILURE_LIMIT:
            raise TokenThrottled(wait=settings.TOKEN_FAILURE_WINDOW)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            if scheme.lower() in ("basic", "token", "digest"):
                _refuse(request, "Use 'Authorization: Bearer <token>'.")
            return None
        token = token.strip()
        if not token or " " in token:
            _refuse(request, "The bearer token is missing or malformed.")
        digest = hash_token(token)
        now = timezone.now()
        if token.startswith(CLIENT_PREFIX):
            client = ApiClient.objects.select_related("partner").filter(token_hash=digest).first()
            if client is None or not client.usable:
                _refuse(request, "This token is not valid, or has been revoked.")
            _touch(ApiClient, client, now)
            return ClientPrincipal(client), client
        if token.startswith(PERSONAL_PREFIX):
            record = (
                PersonalToken.objects.select_related("user__membership__partner")
                .filter(token_hash=digest)
                .first()
            )
            if record is None or record.revoked_at is not None:
                _refuse(request, "This token is not valid, or has been revoked.")
            if record.expires_at <= now:
                _refuse(request, "This token has expired.")
            if not record.user.is_active:
                _refuse(request, "This account is disabled.")
            _touch(PersonalToken, record, now)
            return record.user, record
        _refuse(request, "This token is not valid, or has been revoked.")
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """Browser sessions work on the API too, but only after two-factor when it is required."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        if settings.OTP_REQUIRED and not user.is_verified():
            return None
        return result
