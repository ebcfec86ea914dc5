"""Identity providers in the Django admin. The client secret is not here: only where it is kept."""

from django import forms
from django.contrib import admin

from core.errors import DomainError
from sso import services
from sso.models import EmailDomain, ExternalIdentity, IdentityProvider


class IdentityProviderForm(forms.ModelForm):
    issuer = forms.URLField(max_length=500, assume_scheme="https")
    mfa_amr = forms.CharField(
        required=False,
        label="MFA amr values",
        help_text="Comma-separated `amr` values that count as multi-factor, e.g. mfa,otp,hwk.",
    )

    class Meta:
        model = IdentityProvider
        fields = [
            "partner", "issuer", "client_id", "secret_env", "secret_file", "create_users",
            "default_role", "mfa_amr", "mfa_acr", "backchannel_logout", "refresh_minutes",
            "offline_access", "active",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["mfa_amr"] = ",".join(self.instance.mfa_amr)

    def clean_mfa_amr(self):
        return [v.strip() for v in self.cleaned_data["mfa_amr"].split(",") if v.strip()]

    def clean(self):
        cleaned = super().clean()
        try:
            services.check_provider_settings(
                issuer=cleaned.get("issuer") or "",
                secret_env=cleaned.get("secret_env") or "",
                secret_file=cleaned.get("secret_file") or "",
                default_role=cleaned.get("default_role") or "",
                mfa_amr=cleaned.get("mfa_amr") or [],
            )
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return cleaned


class EmailDomainInline(admin.TabularInline):
    model = EmailDomain
    extra = 1
    min_num = 1


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = IdentityProviderForm
    inlines = [EmailDomainInline]
    list_display = [
        "partner", "issuer", "client_id", "create_users", "default_role", "backchannel_logout",
        "refresh_minutes", "active",
    ]  # fmt: skip
    list_filter = ["active", "create_users"]
    search_fields = ["partner__name", "issuer", "domains__domain"]


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    """Links are made by signing in, never by hand: deleting one makes the next sign-in link by
    email address again (for a person whose identity at the provider was re-created)."""

    list_display = ["user", "provider", "subject", "created_at", "last_sign_in_at"]
    list_filter = ["provider"]
    search_fields = ["user__email", "subject"]
    readonly_fields = [
        "user", "provider", "issuer", "subject", "name", "confirmed", "created_at",
        "last_sign_in_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
