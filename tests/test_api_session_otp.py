"""A browser session that still owes its second factor is not signed in to the API either: the
password alone must not open the API for a user who has set up TOTP (nor for anyone when TOTP is
required). Bearer tokens are not affected."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tests.factories import PASSWORD


def login(client, user):
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content


def verify(client, device: TOTPDevice):
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post("/account/two-factor/", {"code": code}).status_code == 302


@pytest.fixture
def device(officer):
    return TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)


@pytest.mark.django_db
class TestOptionalTwoFactor:
    def test_a_password_only_session_of_a_user_with_a_device_gets_401(self, client, device):
        login(client, device.user)
        response = client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_it_refuses_writes_too(self, client, device):
        login(client, device.user)
        response = client.post("/api/v1/people/", {}, content_type="application/json")
        assert response.status_code == 401

    def test_after_the_second_factor_the_session_works(self, client, device):
        login(client, device.user)
        verify(client, device)
        assert client.get("/api/v1/me").status_code == 200

    def test_a_user_without_a_device_needs_none(self, client, officer, settings):
        assert settings.OTP_REQUIRED is False
        login(client, officer)
        assert client.get("/api/v1/me").status_code == 200

    def test_an_unconfirmed_device_does_not_count(self, client, officer):
        TOTPDevice.objects.create(user=officer, name="phone", confirmed=False)
        login(client, officer)
        assert client.get("/api/v1/me").status_code == 200

    def test_a_bearer_token_still_works_for_a_user_with_a_device(self, api, device):
        assert api(device.user).get("/api/v1/me").status_code == 200

    def test_a_bearer_token_wins_over_a_password_only_session(self, client, device):
        login(client, device.user)
        token = factories.token_for(device.user)
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200


@pytest.mark.django_db
class TestRequiredTwoFactor:
    @pytest.fixture(autouse=True)
    def required(self, settings):
        settings.OTP_REQUIRED = True

    def test_a_password_only_session_gets_401_without_a_device(self, client, officer):
        login(client, officer)
        assert client.get("/api/v1/me").status_code == 401

    def test_after_the_second_factor_the_session_works(self, client, device):
        login(client, device.user)
        assert client.get("/api/v1/me").status_code == 401
        verify(client, device)
        assert client.get("/api/v1/me").status_code == 200
