from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from partners.models import PersonalToken
from partners.services import api_client_revoke, personal_token_revoke, user_disable
from tests import factories


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.django_db
class TestBearerTokens:
    def test_it_accepts_a_valid_personal_token(self, api, officer):
        assert api(officer).get("/api/v1/me").status_code == 200

    def test_it_refuses_no_credentials_with_401_and_challenge(self, api):
        response = api().get("/api/v1/me")
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_it_refuses_an_unknown_token(self, api):
        assert_error(api("vrup_not-a-real-token").get("/api/v1/me"), 401)

    def test_it_refuses_an_expired_token(self, api, officer):
        token = factories.token_for(officer)
        PersonalToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        error = assert_error(api(token).get("/api/v1/me"), 401)
        assert "expired" in error["message"]

    def test_it_refuses_a_revoked_token(self, api, officer):
        token = factories.token_for(officer)
        personal_token_revoke(token=PersonalToken.objects.get())
        assert_error(api(token).get("/api/v1/me"), 401)

    def test_it_refuses_the_wrong_scheme(self, api, officer):
        token = factories.token_for(officer)
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
        assert_error(client.get("/api/v1/me"), 401)

    def test_disabling_an_account_ends_its_tokens_at_once(self, api, officer):
        client = api(officer)
        assert client.get("/api/v1/me").status_code == 200
        user_disable(user=officer)
        assert_error(client.get("/api/v1/me"), 401)

    def test_it_refuses_a_revoked_client_token(self, api, police):
        token = factories.client_token(police)
        assert api(token).get("/api/v1/me").status_code == 200
        from partners.models import ApiClient

        api_client_revoke(client=ApiClient.objects.get())
        assert_error(api(token).get("/api/v1/me"), 401)

    def test_an_inactive_partner_acts_for_nobody(self, api, officer, police):
        client = api(officer)
        police.active = False
        police.save()
        assert client.get("/api/v1/me").status_code == 403

    @override_settings(TOKEN_FAILURE_LIMIT=3)
    def test_repeated_bad_tokens_are_throttled_but_a_good_one_is_not(self, api, officer):
        from django.core.cache import cache

        cache.clear()
        for _ in range(3):
            assert api("vrup_wrong").get("/api/v1/me").status_code == 401
        response = api("vrup_wrong").get("/api/v1/me")
        assert_error(response, 429, "rate_limited")
        assert int(response["Retry-After"]) > 0
        # Other callers' failures (here: the same address) never lock out a valid token.
        assert api(officer).get("/api/v1/me").status_code == 200
        cache.clear()


@pytest.mark.django_db
class TestScopes:
    def test_a_read_only_client_cannot_write(self, api, police):
        token = factories.client_token(police, scopes="read")
        error = assert_error(api(token).post("/api/v1/partners/", {}, format="json"), 403)
        assert "'write' scope" in error["message"]
