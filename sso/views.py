"""Signing in and out through a partner's identity provider.

The sign-in page (partners.views.LoginView) asks for the email address first and hands addresses at
a provider's domains to `sign_in_at_provider`; the provider sends the person back to `callback`.

The way to the provider is a page of ours that moves on by itself (meta refresh, and a link), never
a redirect answering a form: the Content-Security-Policy's `form-action 'self'` forbids a form
submission to end up at another site, and it should stay that strict.
"""

from __future__ import annotations

import hashlib

import requests
from authlib.integrations.base_client import OAuthError
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login

from core.addresses import client_address
from sso import services
from sso.models import IdentityProvider
from sso.oidc import (
    ERROR_CODE,
    STATE_STORE,
    InvalidIdToken,
    InvalidLogoutToken,
    ProviderClient,
    ProviderUnavailable,
    pending_sign_in,
)
from sso.security import security_event

# The session remembers which provider signed it in (for signing out there too) and the id token
# to name the session to it (`id_token_hint`). Sessions are kept server-side.
SESSION_PROVIDER = "sso_provider"
SESSION_ID_TOKEN = "sso_id_token"
# The email step of the sign-in page is limited per client address: settings
# SSO_EMAIL_STEP_LIMIT look-ups per SSO_EMAIL_STEP_WINDOW_SECONDS.

# What the person is told, by reason; the security log has the reason itself.
_NOT_SET_UP = (
    "Your organisation vouched for you, but there is no account here that you can use. Ask the "
    "person who manages VRU Case Coordination accounts at your organisation."
)
MESSAGES = {
    "state_unknown_or_used": "This sign-in was already used or has expired. Start again.",
    "account_disabled": "Your account here is disabled. Ask your manager if you need it back.",
    "unknown_user": _NOT_SET_UP,
    "partner_mismatch": _NOT_SET_UP,
    "email_domain_not_served": _NOT_SET_UP,
    "no_verified_email": _NOT_SET_UP,
    "account_linked_to_another_identity": _NOT_SET_UP,
    "account_not_created": _NOT_SET_UP,
    "identity_of_another_provider": _NOT_SET_UP,
    "partner_inactive": _NOT_SET_UP,
}
_UNAVAILABLE = "Your organisation's sign-in service did not answer as expected. Try again later."
_FAILED = "Your organisation's sign-in did not complete, so you are not signed in. Start again."


def _callback_url() -> str:
    return settings.SITE_URL + reverse("sso:callback")


def _refused(request, *, reason: str, provider=None, user=None, status: int = 403):
    event = "sso_sign_in_failed" if status >= 500 or status == 400 else "sso_sign_in_refused"
    security_event(event, request=request, provider=provider, user=user, reason=reason)
    message = MESSAGES.get(reason, _UNAVAILABLE if status >= 500 else _FAILED)
    return render(request, "sso/sign_in_refused.html", {"message": message}, status=status)


def _handoff(request, *, url: str, heading: str, message: str):
    return render(request, "sso/handoff.html", {"url": url, "heading": heading, "message": message})


def _email_step_key(address: str) -> str:
    return "sso:email-step:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def email_step_reset(address: str) -> None:
    """Forget a client address's count (the tests start each test afresh)."""
    cache.delete(_email_step_key(address))


def email_step_window() -> int:
    return settings.SSO_EMAIL_STEP_WINDOW_SECONDS


def email_step_limited(request) -> bool:
    """Whether this client address has looked up more email addresses than the limit allows
    in the current window (SSO_EMAIL_STEP_LIMIT per SSO_EMAIL_STEP_WINDOW_SECONDS). Which
    provider a domain uses is no secret worth much, but the step must not be a free oracle or a
    way to make this service call providers at will. Counted in the cache (Redis in production,
    shared by every web worker)."""
    window = email_step_window()
    key = _email_step_key(client_address(request))
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the window's first
        cache.set(key, 1, window)
        count = 1
    return count > settings.SSO_EMAIL_STEP_LIMIT


def _email_step_paused(request, email: str):
    security_event("sso_email_step_limited", request=request, reason="rate_limited")
    minutes = max(1, email_step_window() // 60)
    return render(
        request,
        "partners/login.html",
        {
            "email_step_paused": minutes,
            "email": email.strip(),
            "next": request.POST.get("next", ""),
        },
        status=429,
    )


def sign_in_at_provider(request, email: str, *, next_url: str):
    """For an address at a provider's domain, the page that takes the person to the provider;
    None for any other address (it signs in with a password here). Every address looked up
    counts towards the client address's limit; over it, the sign-in page says to wait."""
    if email_step_limited(request):
        return _email_step_paused(request, email)
    provider = services.provider_for_email(email)
    if provider is None:
        return None
    try:
        url = ProviderClient(provider).begin(
            request, redirect_uri=_callback_url(), login_hint=email.strip(), next_url=next_url
        )
    except ProviderUnavailable as error:
        return _refused(request, reason=error.reason, provider=provider, status=502)
    security_event("sso_sign_in_started", request=request, provider=provider)
    return _handoff(
        request,
        url=url,
        heading="Signing in with your organisation's account",
        message=f"{provider.partner.name} signs you in. You will come back here afterwards.",
    )


@require_GET
def callback(request):
    """The provider sends the person back here with a code (or an error) and the state."""
    state = request.GET.get("state")
    pending = pending_sign_in(request, state)
    if pending is None:
        return _refused(request, reason="state_unknown_or_used", status=400)
    provider = (
        IdentityProvider.objects.filter(pk=pending.get("provider"), active=True)
        .select_related("partner")
        .first()
    )
    if provider is None:
        STATE_STORE.clear_state_data(request.session, state)
        return _refused(request, reason="provider_inactive", status=400)
    try:
        # Pops the state (used once), exchanges the code with the PKCE verifier, and checks the
        # id token with the nonce (sso.oidc.validate_id_token).
        token = ProviderClient(provider).authorize_access_token(request)
    except ProviderUnavailable as error:
        return _refused(request, reason=error.reason, provider=provider, status=502)
    except InvalidIdToken as error:
        return _refused(request, reason=error.reason, provider=provider, status=400)
    except OAuthError as error:
        code = error.error if ERROR_CODE.fullmatch(error.error or "") else "unknown"
        return _refused(request, reason=f"provider_error_{code}", provider=provider, status=400)
    except (requests.RequestException, ValueError):
        # Unreachable, or an answer that is not the JSON the token endpoint must give.
        return _refused(request, reason="token_endpoint_unavailable", provider=provider, status=502)
    finally:
        STATE_STORE.clear_state_data(request.session, state)
    claims = token.get("userinfo")
    if not claims:
        return _refused(request, reason="no_id_token", provider=provider, status=400)
    try:
        identity = services.identity_sign_in(provider=provider, claims=claims)
    except services.SignInRefused as refusal:
        return _refused(request, reason=refusal.reason, provider=provider, user=refusal.user)
    user = identity.user
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    mfa = provider.asserts_mfa(claims)
    if mfa:
        # The provider checked a second factor: the session is verified by this identity, and
        # the local TOTP step is skipped (partners.twofactor asks user.is_verified()).
        otp_login(request, identity)
    request.session[SESSION_PROVIDER] = provider.pk
    request.session[SESSION_ID_TOKEN] = token["id_token"]
    # Found again by the person or the provider's session id when the provider no longer
    # vouches for them (back-channel logout, a refused refresh).
    sid = claims.get("sid") if isinstance(claims.get("sid"), str) else ""
    services.provider_session_start(
        identity=identity,
        session_key=request.session.session_key,
        sid=sid,
        refresh_token=token.get("refresh_token") or "",
    )
    security_event(
        "sso_sign_in",
        request=request,
        provider=provider,
        user=user,
        reason="mfa_asserted" if mfa else "local_second_factor_due",
    )
    target = pending.get("next") or settings.LOGIN_REDIRECT_URL
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = settings.LOGIN_REDIRECT_URL
    return redirect(target)


class SignOutView(auth_views.LogoutView):
    """Signs out here; a session that a provider signed in is then sent to the provider's
    `end_session_endpoint` (RP-initiated logout), so the person is signed out there too."""

    next_page = "/login/"

    def post(self, request, *args, **kwargs):
        provider_id = request.session.get(SESSION_PROVIDER)
        id_token = request.session.get(SESSION_ID_TOKEN, "")
        user = request.user if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        provider = IdentityProvider.objects.filter(pk=provider_id).select_related("partner").first()
        if provider is None:
            return response
        try:
            url = ProviderClient(provider).end_session_url(
                id_token_hint=id_token, post_logout_redirect_uri=settings.SITE_URL + "/login/"
            )
        except ProviderUnavailable as error:
            security_event("sso_sign_out", request=request, provider=provider, user=user,
                           reason=f"local_only_{error.reason}")  # fmt: skip
            return response
        security_event(
            "sso_sign_out",
            request=request,
            provider=provider,
            user=user,
            reason="at_provider" if url else "local_only_no_end_session_endpoint",
        )
        if url is None:
            return response
        return _handoff(
            request,
            url=url,
            heading="You are signed out here",
            message=f"Now signing you out of your {provider.partner.name} account too.",
        )


def _logout_error(description: str, status: int = 400) -> JsonResponse:
    return JsonResponse(
        {"error": "invalid_request", "error_description": description}, status=status
    )


@csrf_exempt
@never_cache
@require_POST
def back_channel_logout(request, partner: str):
    """OpenID Connect Back-Channel Logout 1.0: the provider of `partner` POSTs a signed logout
    token (form field `logout_token`) and the sessions it names end here. 200 when taken
    (whether or not a session was open), 400 when refused, 404 for a partner whose provider does
    not send them. Called by the provider's server, never a browser: no CSRF token, no cookie."""
    provider = (
        IdentityProvider.objects.filter(partner__slug=partner, active=True, backchannel_logout=True)
        .select_related("partner")
        .first()
    )
    if provider is None:
        return _logout_error("No back-channel logout here.", status=404)
    logout_token = request.POST.get("logout_token", "")
    if not logout_token:
        security_event(
            "sso_back_channel_logout_refused",
            request=request,
            provider=provider,
            reason="no_logout_token",
        )
        return _logout_error("logout_token is missing.")
    try:
        user, ended = services.back_channel_logout(provider=provider, logout_token=logout_token)
    except InvalidLogoutToken as error:
        security_event(
            "sso_back_channel_logout_refused",
            request=request,
            provider=provider,
            reason=error.reason,
        )
        return _logout_error("The logout token was not accepted.")
    except ProviderUnavailable as error:
        security_event(
            "sso_back_channel_logout_refused",
            request=request,
            provider=provider,
            reason=error.reason,
        )
        return _logout_error("The provider's keys could not be fetched.", status=503)
    security_event(
        "sso_back_channel_logout",
        request=request,
        provider=provider,
        user=user,
        reason="sessions_ended" if ended else "no_session",
    )
    return JsonResponse({}, status=200)
