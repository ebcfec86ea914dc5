"""Identity providers and signing people in through them. Each write is one transaction.

Who may sign in through a provider is decided here, once: the identity the provider vouched for
(`iss` + `sub`) names the account after the first sign-in; the first time, the email address must
be an account of the provider's own partner (or one is created, when the provider allows it); the
account must be active and act for the provider's partner, whatever the provider says.

Leavers lose their sessions here as soon as the provider says so: each session a provider signed
in is recorded (ProviderSession) with the person and the provider's `sid`, so a back-channel
logout token, or a refresh token the provider refuses, ends exactly the sessions it concerns.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, ValidationFailed
from partners.models import Partner, PersonalToken, Role, User
from partners.services import user_create, user_disable
from sso.models import (
    EmailDomain,
    ExternalIdentity,
    IdentityProvider,
    LogoutTokenSeen,
    ProviderSession,
)
from sso.oidc import (
    LOGOUT_TOKEN_MAX_AGE_SECONDS,
    InvalidLogoutToken,
    ProviderClient,
    ProviderUnavailable,
    RefreshRefused,
    validate_logout_token,
)
from sso.security import security_event

# Never handed out by a provider: these roles are given by an administrator here, by name.
ROLES_NEVER_PROVISIONED = frozenset({Role.ADMIN, Role.AUDITOR})
# Identities refreshed per run of the periodic task (sso.tasks.refresh_due).
REFRESH_BATCH = 200
# Refusals a first sign-in meets when a concurrent first sign-in of the same person linked them
# (or created their account) in the meantime: retried once, through that link.
_FIRST_LINK_RACES = frozenset({"account_linked_to_another_identity", "account_not_created"})


class SignInRefused(Exception):
    def __init__(self, reason: str, *, user: User | None = None):
        super().__init__(reason)
        self.reason = reason
        self.user = user


def email_domain(email: str) -> str:
    return email.strip().rpartition("@")[2].lower().rstrip(".")


def provider_for_email(email: str) -> IdentityProvider | None:
    """The active provider that serves this address's domain, if any."""
    domain = email_domain(email)
    if not domain or "@" not in email:
        return None
    found = (
        EmailDomain.objects.filter(domain=domain, provider__active=True)
        .select_related("provider__partner")
        .first()
    )
    return found.provider if found else None


def _clean_domains(domains: list[str]) -> list[str]:
    cleaned = sorted({d.strip().lower().rstrip(".") for d in domains if d.strip()})
    if not cleaned:
        raise ValidationFailed("Give at least one email domain.")
    for domain in cleaned:
        try:
            validate_email(f"someone@{domain}")
        except ValidationError:
            raise ValidationFailed(f"'{domain}' is not an email domain.") from None
    return cleaned


def check_provider_settings(
    *,
    issuer: str,
    secret_env: str,
    secret_file: str,
    default_role: str,
    mfa_amr: list[str],
) -> None:
    """The rules a provider's settings follow, whichever channel (command or admin) sets them."""
    # Plain http only outside production (a provider on this machine, in development or tests).
    schemes = ["https"] if settings.PRODUCTION else ["https", "http"]
    try:
        URLValidator(schemes=schemes)(issuer)
    except ValidationError:
        raise ValidationFailed(f"'{issuer}' is not an https issuer URL.") from None
    if bool(secret_env) == bool(secret_file):
        raise ValidationFailed(
            "Say where the client secret is: an environment variable or a file, not both."
        )
    if default_role not in Role.values:
        raise ValidationFailed(f"'{default_role}' is not a role.")
    if default_role in ROLES_NEVER_PROVISIONED:
        raise ValidationFailed(
            f"Accounts created on first sign-in cannot be {default_role}s: an administrator "
            "gives that role by hand."
        )
    if any(not value.strip() for value in mfa_amr):
        raise ValidationFailed("An amr value cannot be empty.")


@transaction.atomic
def provider_create(
    *,
    partner: Partner,
    issuer: str,
    client_id: str,
    domains: list[str],
    secret_env: str = "",
    secret_file: str = "",
    create_users: bool = False,
    default_role: str = Role.PRACTITIONER,
    mfa_amr: list[str] | None = None,
    mfa_acr: str = "",
    backchannel_logout: bool = False,
    refresh_minutes: int = 15,
    offline_access: bool = False,
) -> IdentityProvider:
    mfa_amr = [value.strip() for value in (mfa_amr or [])]
    if refresh_minutes < 0:
        raise ValidationFailed("Give the refresh interval in minutes: 0 or more.")
    check_provider_settings(
        issuer=issuer,
        secret_env=secret_env,
        secret_file=secret_file,
        default_role=default_role,
        mfa_amr=mfa_amr,
    )
    if not client_id.strip():
        raise ValidationFailed("Give the client id the provider registered for this service.")
    if IdentityProvider.objects.filter(partner=partner).exists():
        raise Conflict(f"{partner.name} already has an identity provider.")
    domains = _clean_domains(domains)
    taken = list(EmailDomain.objects.filter(domain__in=domains).values_list("domain", flat=True))
    if taken:
        raise Conflict(f"Another identity provider already serves {', '.join(taken)}.")
    provider = IdentityProvider.objects.create(
        partner=partner,
        issuer=issuer,
        client_id=client_id.strip(),
        secret_env=secret_env,
        secret_file=secret_file,
        create_users=create_users,
        default_role=default_role,
        mfa_amr=mfa_amr,
        mfa_acr=mfa_acr.strip(),
        backchannel_logout=backchannel_logout,
        refresh_minutes=refresh_minutes,
        offline_access=offline_access,
    )
    EmailDomain.objects.bulk_create(EmailDomain(provider=provider, domain=d) for d in domains)
    return provider


def _first_sign_in_account(provider: IdentityProvider, claims: dict) -> User:
    """The account a new identity is for: found by the email address the provider vouches for,
    at a domain it serves, or created when the provider allows it."""
    email = claims.get("email")
    if not isinstance(email, str) or not email or claims.get("email_verified") is False:
        raise SignInRefused("no_verified_email")
    email = email.strip().lower()
    if not provider.domains.filter(domain=email_domain(email)).exists():
        raise SignInRefused("email_domain_not_served")
    user = User.objects.filter(email=email).select_related("membership").first()
    if user is not None:
        if ExternalIdentity.objects.filter(user=user).exists():
            # Linked already, to another identity: an email address never links an account twice.
            raise SignInRefused("account_linked_to_another_identity", user=user)
        return user
    if not provider.create_users:
        raise SignInRefused("unknown_user")
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    try:
        # A savepoint: a concurrent first sign-in creating the same account must not leave this
        # transaction unusable (identity_sign_in retries through that sign-in's link).
        with transaction.atomic():
            return user_create(
                partner=provider.partner,
                role=provider.default_role,
                email=email,
                full_name=name[:200],
                channel="sso",
            )
    except DomainError:
        raise SignInRefused("account_not_created") from None


def identity_sign_in(*, provider: IdentityProvider, claims: dict) -> ExternalIdentity:
    """The identity (and through it the account) that validated claims from `provider` sign in
    as, linking it on the first sign-in. Raises SignInRefused with a reason.

    Two first sign-ins of the same new person at once (two tabs, a double click at the provider)
    both find no identity; the unique constraints on the identity (`iss` + `sub`, and one per
    account and provider) and on the account's email let only one link, and the other then signs
    in through that link instead of failing."""
    try:
        return _identity_sign_in(provider=provider, claims=claims)
    except IntegrityError:
        pass  # the other sign-in committed first: this one decides again, seeing what it made
    except SignInRefused as refusal:
        # Refused because the other sign-in linked this very identity in between: sign in
        # through that link. Any other refusal stands.
        linked = ExternalIdentity.objects.filter(
            issuer=claims.get("iss"), subject=claims.get("sub")
        ).exists()
        if refusal.reason not in _FIRST_LINK_RACES or not linked:
            raise
    try:
        return _identity_sign_in(provider=provider, claims=claims)
    except IntegrityError:
        raise SignInRefused("account_not_created") from None


@transaction.atomic
def _identity_sign_in(*, provider: IdentityProvider, claims: dict) -> ExternalIdentity:
    issuer, subject = claims.get("iss"), claims.get("sub")
    if issuer != provider.issuer or not isinstance(subject, str) or not subject:
        raise SignInRefused("wrong_issuer")
    identity = (
        ExternalIdentity.objects.select_for_update()
        .filter(issuer=issuer, subject=subject)
        .select_related("user")
        .first()
    )
    if identity is not None and identity.provider_id != provider.pk:
        raise SignInRefused("identity_of_another_provider", user=identity.user)
    user = identity.user if identity else _first_sign_in_account(provider, claims)
    if not user.is_active:
        raise SignInRefused("account_disabled", user=user)
    membership = getattr(user, "membership", None)
    if membership is None or membership.partner_id != provider.partner_id:
        raise SignInRefused("partner_mismatch", user=user)
    if not provider.partner.active:
        raise SignInRefused("partner_inactive", user=user)
    now = timezone.now()
    if identity is None:
        identity = ExternalIdentity.objects.create(
            user=user,
            provider=provider,
            issuer=issuer,
            subject=subject,
            name=f"Signed in by {provider.partner.name}"[:64],
            confirmed=True,
            last_sign_in_at=now,
        )
        # From now on the provider is the only way in: a leaver disabled there must not keep a
        # password here.
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
    else:
        ExternalIdentity.objects.filter(pk=identity.pk).update(last_sign_in_at=now)
    return identity


def revoke_tokens_of_disabled(*, user: User) -> int:
    """A disabled account keeps no personal API token, however it was disabled."""
    return PersonalToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def provider_session_start(
    *, identity: ExternalIdentity, session_key: str, sid: str = "", refresh_token: str = ""
) -> ProviderSession:
    """Record a session the provider just signed in, and keep the refresh token it issued (the
    newest one replaces any earlier one; it is first used `refresh_minutes` from now)."""
    record = ProviderSession.objects.create(
        session_id=session_key, identity=identity, sid=sid[:255]
    )
    if refresh_token:
        ExternalIdentity.objects.filter(pk=identity.pk).update(
            refresh_token=refresh_token,
            refresh_due_at=timezone.now() + timedelta(minutes=identity.provider.refresh_minutes),
        )
    return record


def _sessions_end(records) -> int:
    """Delete the sessions of these records (and, with them, the records)."""
    keys = list(records.values_list("session_id", flat=True))
    if not keys:
        return 0
    return Session.objects.filter(session_key__in=keys).delete()[1].get("sessions.Session", 0)


@transaction.atomic
def _refresh_refused(identity: ExternalIdentity, token: str) -> int | None:
    """The provider refused `token`: forget it and end the person's sessions, unless a newer
    sign-in replaced the token meanwhile (then the provider has just vouched for them). None
    when left alone."""
    current = (
        ExternalIdentity.objects.select_for_update()
        .filter(pk=identity.pk, refresh_token=token)
        .values_list("pk", flat=True)
        .first()
    )
    if current is None:
        return None
    ExternalIdentity.objects.filter(pk=identity.pk).update(refresh_token="", refresh_due_at=None)
    return _sessions_end(ProviderSession.objects.filter(identity=identity))


def identity_refresh(identity: ExternalIdentity, *, sign_out: bool = True) -> str:
    """Ask the provider, with the refresh grant, whether it still vouches for this person.

    Returns `ok` (the new refresh token is kept), `refused` (the provider refused the token: with
    `sign_out`, every session of the person ends), `unavailable` (the provider could not be
    asked: nothing changes, it is asked again next time), `no_refresh_token`, or `skipped` (a
    concurrent refresh of the same token claimed it first: a rotated refresh token must be used
    once, or the second use would be refused and sign the person out wrongly)."""
    provider = identity.provider
    token = identity.refresh_token
    if not token:
        return "no_refresh_token"
    next_due = timezone.now() + timedelta(minutes=max(provider.refresh_minutes, 1))
    claimed = ExternalIdentity.objects.filter(
        pk=identity.pk, refresh_token=token, refresh_due_at=identity.refresh_due_at
    ).update(refresh_due_at=next_due)
    if not claimed:
        return "skipped"
    try:
        answer = ProviderClient(provider).refresh(token)
    except RefreshRefused as refusal:
        ended = _refresh_refused(identity, token) if sign_out else None
        if sign_out and ended is None:
            return "skipped"
        security_event(
            "sso_refresh_refused", provider=provider, user=identity.user, reason=str(refusal)
        )
        return "refused"
    except ProviderUnavailable as error:
        security_event(
            "sso_refresh_failed", provider=provider, user=identity.user, reason=error.reason
        )
        return "unavailable"
    ExternalIdentity.objects.filter(pk=identity.pk, refresh_token=token).update(
        refresh_token=answer.get("refresh_token") or token
    )
    return "ok"


def identities_refresh_due(*, batch: int = REFRESH_BATCH) -> dict[str, int]:
    """Refresh the tokens of people signed in here whose refresh is due, by their provider's
    `refresh_minutes`. How many of each outcome (identity_refresh)."""
    now = timezone.now()
    due = (
        ExternalIdentity.objects.filter(
            provider__active=True,
            provider__refresh_minutes__gt=0,
            refresh_due_at__lte=now,
            sessions__session__expire_date__gt=now,
        )
        .exclude(refresh_token="")
        .select_related("provider__partner", "user")
        .distinct()
        .order_by("refresh_due_at")[:batch]
    )
    return dict(Counter(identity_refresh(identity) for identity in due))


def back_channel_logout(
    *, provider: IdentityProvider, logout_token: str
) -> tuple[User | None, int]:
    """End the sessions a provider's back-channel logout token names: those of its `sid`, or
    every session of its `sub` (both: the session of that person with that sid). The token is
    validated (sso.oidc.validate_logout_token) and used once (its `jti`). Returns the account, if
    the token names one known here, and how many sessions ended. Raises InvalidLogoutToken."""
    claims = validate_logout_token(provider, logout_token)
    if len(claims["jti"]) > 255:
        raise InvalidLogoutToken("invalid_claim_jti")
    sub, sid = claims.get("sub"), claims.get("sid")
    with transaction.atomic():
        now = timezone.now()
        LogoutTokenSeen.objects.filter(
            provider=provider, seen_at__lt=now - timedelta(seconds=2 * LOGOUT_TOKEN_MAX_AGE_SECONDS)
        ).delete()
        try:
            with transaction.atomic():
                LogoutTokenSeen.objects.create(provider=provider, jti=claims["jti"], seen_at=now)
        except IntegrityError:
            raise InvalidLogoutToken("replayed_jti") from None
        records = ProviderSession.objects.filter(identity__provider=provider)
        user = None
        if sub is not None:
            records = records.filter(identity__issuer=provider.issuer, identity__subject=sub)
            identity = (
                ExternalIdentity.objects.filter(
                    provider=provider, issuer=provider.issuer, subject=sub
                )
                .select_related("user")
                .first()
            )
            user = identity.user if identity else None
        if sid is not None:
            records = records.filter(sid=sid)
            if user is None:
                found = records.select_related("identity__user").first()
                user = found.identity.user if found else None
        return user, _sessions_end(records)


def users_to_reconcile(
    *, provider: IdentityProvider, inactive_days: int
) -> list[tuple[ExternalIdentity, str]]:
    """Active accounts linked to `provider` that look like leavers: not signed in through it
    within `inactive_days`, or whose refresh token it now refuses. Each with its reason
    (`not_signed_in_for_<n>_days`, `refresh_refused`, or `provider_unavailable`: not known).
    Asking the provider uses (and so, at a rotating provider, replaces) the stored refresh
    tokens, but ends no session and disables nobody."""
    cutoff = timezone.now() - timedelta(days=inactive_days)
    found = []
    identities = (
        ExternalIdentity.objects.filter(provider=provider, user__is_active=True)
        .select_related("user", "provider__partner")
        .order_by("user__email")
    )
    for identity in identities:
        if identity.last_sign_in_at is None or identity.last_sign_in_at < cutoff:
            found.append((identity, f"not_signed_in_for_{inactive_days}_days"))
            continue
        outcome = identity_refresh(identity, sign_out=False)
        if outcome == "refused":
            found.append((identity, "refresh_refused"))
        elif outcome == "unavailable":
            found.append((identity, "provider_unavailable"))
    return found


def reconciled_user_disable(*, identity: ExternalIdentity, reason: str) -> None:
    """Disable an account reconciliation found to be a leaver: its sessions end and its tokens
    are revoked (partners.services.user_disable)."""
    user_disable(user=identity.user)
    ExternalIdentity.objects.filter(pk=identity.pk).update(refresh_token="", refresh_due_at=None)
    security_event(
        "sso_reconcile_disabled", provider=identity.provider, user=identity.user, reason=reason
    )
