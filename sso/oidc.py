"""The OpenID Connect client, built on Authlib: discovery and signing keys from the issuer (cached),
the authorization code flow with PKCE, `state` and `nonce`, id-token validation, the refresh
grant, and back-channel logout tokens.

Nothing here decides who may sign in (sso.services does); this only says whether the provider
really vouched for the claims.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from sso.models import IdentityProvider

# Asymmetric algorithms only: a shared-secret (HS*) or unsigned ("none") id token is refused, so a
# published public key can never be used as an HMAC secret.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
# Clock skew allowed on exp and iat.
LEEWAY_SECONDS = 60
SCOPES = "openid email profile"
# Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0, section 2.4).
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token issued longer ago than this is refused; its jti is remembered at least as long.
LOGOUT_TOKEN_MAX_AGE_SECONDS = 300
# A provider's error code, as it may appear in the security log.
ERROR_CODE = re.compile(r"[a-z_]{1,40}")
# One name for every provider's pending sign-ins in the session: the state names its provider.
STATE_STORE = DjangoIntegration("sso")


class ProviderUnavailable(Exception):
    """The provider cannot be used just now: unreachable, misconfigured, or no client secret."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InvalidIdToken(Exception):
    """The id token is not one the provider issued to us for this sign-in."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InvalidLogoutToken(InvalidIdToken):
    """The logout token is not one the provider issued to us."""


class RefreshRefused(Exception):
    """The provider refused a refresh token (`invalid_grant`): it no longer vouches for the
    person (disabled, deleted, signed out there, or the token revoked)."""


def client_secret(provider: IdentityProvider) -> str:
    """The client secret from the environment variable or the file the provider names."""
    if provider.secret_env:
        secret = os.environ.get(provider.secret_env, "")
    else:
        try:
            secret = Path(provider.secret_file).read_text()
        except OSError:
            secret = ""
    secret = secret.strip()
    if not secret:
        raise ProviderUnavailable("client_secret_missing")
    return secret


def _cache_key(kind: str, issuer: str) -> str:
    return f"sso:{kind}:{hashlib.sha256(issuer.encode()).hexdigest()}"


def _get_json(url: str, what: str) -> dict:
    try:
        response = requests.get(url, timeout=settings.SSO_HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError):
        raise ProviderUnavailable(f"{what}_unavailable") from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{what}_unavailable")
    return document


def discovery(provider: IdentityProvider) -> dict:
    """The issuer's `/.well-known/openid-configuration`, cached. Its `issuer` must be the
    configured one exactly (OpenID Connect Discovery, section 4.3)."""
    key = _cache_key("discovery", provider.issuer)
    metadata = cache.get(key)
    if metadata is None:
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        metadata = _get_json(url, "discovery")
        if metadata.get("issuer") != provider.issuer:
            raise ProviderUnavailable("discovery_issuer_mismatch")
        if not all(
            metadata.get(k) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        ):
            raise ProviderUnavailable("discovery_incomplete")
        cache.set(key, metadata, settings.SSO_METADATA_CACHE_SECONDS)
    return metadata


def signing_keys(provider: IdentityProvider, *, refresh: bool = False) -> dict:
    """The issuer's JWKS, cached; `refresh` fetches it again (a key id we do not know yet)."""
    key = _cache_key("jwks", provider.issuer)
    keys = None if refresh else cache.get(key)
    if keys is None:
        keys = _get_json(discovery(provider)["jwks_uri"], "jwks")
        cache.set(key, keys, settings.SSO_METADATA_CACHE_SECONDS)
    return keys


def _decode(id_token: str, keys: dict):
    return jwt.decode(
        id_token, KeySet.import_key_set(keys), registry=JWSRegistry(algorithms=ID_TOKEN_ALGORITHMS)
    )


def _decode_signed(provider: IdentityProvider, token: str):
    """The token's header and claims once its signature is good by the issuer's published keys,
    fetched again once for a key id not seen before (key rotation)."""
    try:
        return _decode(token, signing_keys(provider))
    except InvalidKeyIdError:
        return _decode(token, signing_keys(provider, refresh=True))


def _claim_reason(error: ClaimError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "expired"
    if isinstance(error, MissingClaimError):
        return f"missing_claim_{error.claim}"
    return {"iss": "wrong_issuer", "aud": "wrong_audience", "nonce": "nonce_mismatch"}.get(
        error.claim, f"invalid_claim_{error.claim}"
    )


def validate_id_token(
    provider: IdentityProvider,
    id_token: str,
    *,
    nonce: str,
    access_token: str | None = None,
    now: int | None = None,
) -> dict:
    """The id token's claims, once its signature (by the issuer's published keys; fetched again
    once for a key id not seen before, so key rotation needs nothing from us), `iss`, `aud`,
    `azp`, `exp`, `iat`, `nonce` and `at_hash` are checked. Raises InvalidIdToken with a reason."""
    if not nonce:
        raise InvalidIdToken("nonce_missing")
    try:
        token = _decode_signed(provider, id_token)
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
                "sub": {"essential": True},
            },
            params={"nonce": nonce, "client_id": provider.client_id, "access_token": access_token},
        )
        claims.validate(now=now, leeway=LEEWAY_SECONDS)
    except InvalidKeyIdError:
        raise InvalidIdToken("unknown_signing_key") from None
    except ClaimError as error:
        raise InvalidIdToken(_claim_reason(error)) from None
    except JoseError as error:
        # bad_signature, unsupported_algorithm, decode_error, ...
        raise InvalidIdToken(getattr(error, "error", "invalid_id_token")) from None
    except (ValueError, TypeError, KeyError):
        # A key set or token too malformed for the JOSE library to say more.
        raise InvalidIdToken("malformed") from None
    if not isinstance(claims.get("sub"), str):
        raise InvalidIdToken("invalid_claim_sub")
    return dict(claims)


def validate_logout_token(provider: IdentityProvider, logout_token: str, *, now: int | None = None):
    """A back-channel logout token's claims, once checked as OpenID Connect Back-Channel Logout
    1.0 (section 2.6) says: signed by the issuer's published keys (asymmetric algorithms only),
    `iss` the configured issuer, `aud` naming our client id, `iat` recent, a `jti`, the
    back-channel logout event, `sid` and/or `sub`, and no `nonce` (so an id token can never pass
    for one). Whether its jti was seen before is the caller's to check. Raises
    InvalidLogoutToken with a reason."""
    try:
        token = _decode_signed(provider, logout_token)
        claims = dict(token.claims)
        jwt.JWTClaimsRegistry(
            now=now,
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.client_id},
            iat={"essential": True},
            jti={"essential": True},
        ).validate(claims)
    except InvalidKeyIdError:
        raise InvalidLogoutToken("unknown_signing_key") from None
    except ClaimError as error:
        raise InvalidLogoutToken(_claim_reason(error)) from None
    except JoseError as error:
        raise InvalidLogoutToken(getattr(error, "error", "invalid_logout_token")) from None
    except (ValueError, TypeError, KeyError):
        raise InvalidLogoutToken("malformed") from None
    issued = claims["iat"]
    if (now if now is not None else time.time()) - issued > LOGOUT_TOKEN_MAX_AGE_SECONDS:
        raise InvalidLogoutToken("expired")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise InvalidLogoutToken("not_a_logout_event")
    if "nonce" in claims:
        raise InvalidLogoutToken("nonce_present")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise InvalidLogoutToken("invalid_claim_jti")
    sub, sid = claims.get("sub"), claims.get("sid")
    if sub is None and sid is None:
        raise InvalidLogoutToken("missing_claim_sub_or_sid")
    if any(value is not None and (not isinstance(value, str) or not value) for value in (sub, sid)):
        raise InvalidLogoutToken("invalid_claim_sub_or_sid")
    return claims


class ProviderClient(DjangoOAuth2App):
    """Authlib's Django OAuth 2 client for one provider: PKCE (S256), state and nonce kept in the
    session and used once, the code exchanged at the token endpoint. Discovery and keys come from
    the Django cache above, and the id token is checked by validate_id_token."""

    def __init__(self, provider: IdentityProvider):
        self.provider = provider
        super().__init__(
            STATE_STORE,
            name="sso",
            client_id=provider.client_id,
            client_secret=client_secret(provider),
            client_kwargs={
                "scope": SCOPES + (" offline_access" if provider.offline_access else ""),
                "code_challenge_method": "S256",
                "default_timeout": settings.SSO_HTTP_TIMEOUT_SECONDS,
            },
        )

    def load_server_metadata(self):
        self.server_metadata.update(discovery(self.provider))
        return self.server_metadata

    def fetch_jwk_set(self, force=False):
        return signing_keys(self.provider, refresh=force)

    def parse_id_token(self, token, nonce, claims_options=None, claims_cls=None, leeway=None):
        return validate_id_token(
            self.provider, token["id_token"], nonce=nonce, access_token=token.get("access_token")
        )

    def begin(self, request, *, redirect_uri: str, login_hint: str, next_url: str) -> str:
        """Remember a new sign-in (state, nonce, PKCE verifier, where to go afterwards) in the
        session and return the provider's authorization URL."""
        authorization = self.create_authorization_url(redirect_uri, login_hint=login_hint)
        self.save_authorize_data(
            request,
            redirect_uri=redirect_uri,
            provider=self.provider.pk,
            next=next_url,
            **authorization,
        )
        return authorization["url"]

    def refresh(self, refresh_token: str) -> dict:
        """The provider's answer to the refresh grant (a new access token, and a new refresh
        token when it rotates them). Raises RefreshRefused when the provider refuses the token
        itself, ProviderUnavailable when it cannot be asked or answers with another error."""
        metadata = self.load_server_metadata()
        try:
            with self._get_oauth_client(**metadata) as session:
                return session.refresh_token(
                    metadata["token_endpoint"], refresh_token=refresh_token
                )
        except OAuthError as error:
            if error.error == "invalid_grant":
                raise RefreshRefused("invalid_grant") from None
            code = error.error if ERROR_CODE.fullmatch(error.error or "") else "unknown"
            raise ProviderUnavailable(f"provider_error_{code}") from None
        except (requests.RequestException, ValueError):
            raise ProviderUnavailable("token_endpoint_unavailable") from None

    def end_session_url(self, *, id_token_hint: str, post_logout_redirect_uri: str) -> str | None:
        """The provider's RP-initiated logout URL, or None when it publishes no end_session
        endpoint."""
        if not self.load_server_metadata().get("end_session_endpoint"):
            return None
        return self.create_logout_url(
            post_logout_redirect_uri=post_logout_redirect_uri,
            id_token_hint=id_token_hint,
            client_id=self.client_id,
        )["url"]


def pending_sign_in(request, state: str | None) -> dict | None:
    """What `begin` remembered for this state, if it is still waiting (each state is used once)."""
    if not state:
        return None
    return STATE_STORE.get_state_data(request.session, state)
