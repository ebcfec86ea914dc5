"""Identity providers and signing people in through them. Each write is one transaction.

Who may sign in through a provider is decided here, once: the identity the provider vouched for
(`iss` + `sub`) names the account after the first sign-in; the first time, the email address must
be an account of the provider's own partner (or one is created, when the provider allows it); the
account must be active and act for the provider's partner, whatever the provider says.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, ValidationFailed
from partners.models import Partner, PersonalToken, Role, User
from partners.services import user_create
from sso.models import EmailDomain, ExternalIdentity, IdentityProvider

# Never handed out by a provider: these roles are given by an administrator here, by name.
ROLES_NEVER_PROVISIONED = frozenset({Role.ADMIN, Role.AUDITOR})


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
) -> IdentityProvider:
    mfa_amr = [value.strip() for value in (mfa_amr or [])]
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
        return user_create(
            partner=provider.partner,
            role=provider.default_role,
            email=email,
            full_name=name[:200],
            channel="sso",
        )
    except DomainError:
        raise SignInRefused("account_not_created") from None


@transaction.atomic
def identity_sign_in(*, provider: IdentityProvider, claims: dict) -> ExternalIdentity:
    """The identity (and through it the account) that validated claims from `provider` sign in
    as, linking it on the first sign-in. Raises SignInRefused with a reason."""
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
