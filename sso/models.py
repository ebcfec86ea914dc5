"""Each partner's own identity provider (OpenID Connect), and the identities it has vouched for."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import models
from django.utils import timezone
from django_otp.models import Device

from partners.models import Partner, Role


class IdentityProvider(models.Model):
    """One partner's identity provider: staff with an address at its domains sign in there.

    The client secret is never stored here: `secret_env` names an environment variable, or
    `secret_file` a file readable by the service, that holds it (sso.oidc.client_secret).
    """

    partner = models.OneToOneField(
        Partner, on_delete=models.CASCADE, related_name="identity_provider"
    )
    issuer = models.URLField(
        max_length=500, help_text="Exactly as the provider's discovery document states it."
    )
    client_id = models.CharField(max_length=255)
    secret_env = models.CharField(
        max_length=100, blank=True, help_text="Environment variable holding the client secret."
    )
    secret_file = models.CharField(
        max_length=500, blank=True, help_text="File holding the client secret."
    )
    create_users = models.BooleanField(
        default=False,
        help_text="Create an account on first sign-in for a person the provider vouches for.",
    )
    default_role = models.CharField(max_length=20, choices=Role.choices, default=Role.PRACTITIONER)
    # Which authentication methods (`amr`, any one of them) or context (`acr`, exactly) count
    # as multi-factor: then the provider's check stands in for the local TOTP step.
    mfa_amr = models.JSONField(default=list, blank=True)
    mfa_acr = models.CharField(max_length=200, blank=True)
    # Leavers: a provider that sends OpenID Connect back-channel logout tokens ends sessions here
    # at once; one that issues refresh tokens is asked every `refresh_minutes` whether it still
    # knows each signed-in person (a refused refresh ends their sessions).
    backchannel_logout = models.BooleanField(
        default=False,
        help_text="The provider sends back-channel logout tokens to this service's endpoint.",
    )
    refresh_minutes = models.PositiveIntegerField(
        default=15,
        help_text="Refresh each signed-in person's token this often (0: never). A refused "
        "refresh signs them out.",
    )
    offline_access = models.BooleanField(
        default=False,
        help_text="Ask for the offline_access scope (Microsoft Entra ID issues refresh tokens "
        "only then).",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partner__name"]
        constraints = [
            models.CheckConstraint(
                name="sso_provider_default_role_not_privileged",
                condition=~models.Q(default_role__in=[Role.ADMIN, Role.AUDITOR]),
            ),
            models.CheckConstraint(
                name="sso_provider_secret_from_one_place",
                condition=(
                    (models.Q(secret_env="") & ~models.Q(secret_file=""))
                    | (~models.Q(secret_env="") & models.Q(secret_file=""))
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} ({self.issuer})"

    def asserts_mfa(self, claims: dict) -> bool:
        """Whether the id token says the person passed multi-factor authentication, by this
        provider's rule. No rule configured: never."""
        amr = claims.get("amr")
        if self.mfa_amr and isinstance(amr, list) and set(amr) & set(self.mfa_amr):
            return True
        return bool(self.mfa_acr) and claims.get("acr") == self.mfa_acr


class EmailDomain(models.Model):
    """A domain belongs to at most one provider: the sign-in page sends its addresses there."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class ExternalIdentity(Device):
    """A person at a provider (its `iss` and `sub`), linked to one account here.

    Linked on the first sign-in through the provider and used from then on: after that the email
    address never links an account again. It is also a django-otp device: when the provider
    asserts multi-factor authentication, the session is marked verified by this identity
    (django_otp.login), so the one check the project makes (user.is_verified() in
    partners.twofactor) covers it. It never accepts a code.
    """

    provider = models.ForeignKey(
        IdentityProvider, on_delete=models.PROTECT, related_name="identities"
    )
    issuer = models.URLField(max_length=500)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    # The newest refresh token the provider issued for this person (from a sign-in or a
    # refresh), and when to try it next. Useless without the client secret, which is never in
    # the database; never shown in the admin or logged.
    refresh_token = models.TextField(blank=True, default="")
    refresh_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "external identities"
        constraints = [
            # One account per person at an issuer, and so per provider (a provider has one
            # issuer): concurrent first sign-ins of the same person link it once (services).
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique"),
            models.UniqueConstraint(fields=["provider", "user"], name="sso_one_identity_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.issuer}"

    def verify_token(self, token) -> bool:
        return False


class ProviderSession(models.Model):
    """A session here that a provider signed in, recorded at sign-in so that it can be found by the
    person (all their sessions end when the provider no longer knows them) or by the provider's
    own session id, `sid` (back-channel logout). Goes with the session (signed out, expired)."""

    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    identity = models.ForeignKey(
        ExternalIdentity, on_delete=models.CASCADE, related_name="sessions"
    )
    sid = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"session of {self.identity_id}"


class LogoutTokenSeen(models.Model):
    """The `jti` of each back-channel logout token taken: a token is used once. Rows older than
    the oldest token still accepted are deleted as new ones arrive."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "jti"], name="sso_logout_token_once")
        ]
