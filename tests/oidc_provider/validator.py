from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """Puts each test user's configured claims (email, name, amr, acr) in their id token."""

    # Every configured claim goes into the id token, whatever scopes were granted.
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        return dict(settings.CONFIG["users"][request.user.username]["claims"])
