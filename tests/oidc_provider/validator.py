import secrets

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """Puts each test user's configured claims (email, name, amr, acr) in their id token, with a
    session id (`sid`) of its own, and refuses the refresh token of a user disabled here, as real
    providers (Entra ID, Keycloak) do."""

    # Every configured claim goes into the id token, whatever scopes were granted.
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        return {
            **settings.CONFIG["users"][request.user.username]["claims"],
            "sid": secrets.token_urlsafe(12),
        }

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        return valid and request.user.is_active
