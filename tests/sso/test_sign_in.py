"""Signing in through a partner's own identity provider, end to end: the email-first sign-in page,
a real OpenID Connect provider in another process (code flow with PKCE, state and nonce), the
callback, matching and provisioning, MFA, refusals, and signing out at the provider.

Our side is driven with Django's test client; the provider is reached over HTTP with `requests`.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import override_settings

from partners.models import MembershipChange, PersonalToken, Role, User
from partners.services import user_disable
from sso.models import ExternalIdentity
from tests import factories
from tests.sso.conftest import register, start_providers
from tests.sso.provider import handoff_url, sign_in_at_provider

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture(scope="module")
def idps(tmp_path_factory):
    started = start_providers(tmp_path_factory, ["http://testserver"])
    try:
        yield started
    finally:
        for idp in started:
            idp.kill()


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def police_sso(police, idps, monkeypatch):
    return register(police, idps[0], "police.example", monkeypatch)


@pytest.fixture
def school_sso(school, idps, monkeypatch):
    return register(school, idps[1], "school.example", monkeypatch)


@pytest.fixture
def security_log(caplog):
    caplog.set_level(logging.INFO, logger="vru.security")
    return lambda: [r.security for r in caplog.records if r.name == "vru.security"]


def begin(client, email: str, **extra) -> str:
    """Type the email on the sign-in page; return the provider URL our hand-off page leads to."""
    page = client.post("/login/", {"username": email, **extra})
    assert page.status_code == 200
    return handoff_url(page.content.decode())


def come_back(client, callback_url: str):
    parts = urlsplit(callback_url)
    assert parts.netloc == "testserver" and parts.path == "/sso/callback/"
    return client.get(parts.path, parse_qs(parts.query))


def sign_in(client, email: str, username: str):
    return come_back(
        client, sign_in_at_provider(requests.Session(), begin(client, email), username)
    )


class TestSigningIn:
    def test_the_code_flow_signs_in_and_links_the_identity(
        self, client, officer, police_sso, security_log
    ):
        url = begin(client, "officer@police.example", next="/cases/")
        query = parse_qs(urlsplit(url).query)
        assert url.startswith(police_sso.issuer + "/authorize/")
        assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
        assert query["client_id"] == [police_sso.client_id]
        response = come_back(client, sign_in_at_provider(requests.Session(), url, "officer"))
        assert response.status_code == 302 and response.url == "/cases/"
        assert client.session["_auth_user_id"] == str(officer.pk)
        identity = ExternalIdentity.objects.get(user=officer)
        assert identity.issuer == police_sso.issuer and identity.subject
        assert identity.provider == police_sso and identity.last_sign_in_at
        # The provider is the only way in from now on.
        officer.refresh_from_db()
        assert not officer.has_usable_password()
        # The provider did not assert MFA (the officer's amr is only pwd), so TOTP is due here,
        # even where it is optional: the identity counts as the user's device.
        assert client.get("/cases/").url.startswith("/account/two-factor/")
        [started, signed_in] = security_log()
        assert started["event"] == "sso_sign_in_started" and started["provider"] == "police"
        assert signed_in["event"] == "sso_sign_in" and signed_in["user"] == str(officer.pk)
        assert signed_in["reason"] == "local_second_factor_due"  # officer's amr is only pwd

    @override_settings(OTP_REQUIRED=True)
    def test_without_mfa_from_the_provider_totp_is_still_due(self, client, officer, police_sso):
        sign_in(client, "officer@police.example", "officer")
        assert client.get("/").url.startswith("/account/two-factor/")
        assert client.get("/api/v1/me").status_code in (401, 403)

    @override_settings(OTP_REQUIRED=True)
    def test_mfa_asserted_by_the_provider_stands_in_for_totp(
        self, client, sergeant, police_sso, security_log
    ):
        sign_in(client, "sergeant@police.example", "sergeant")
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/me").status_code == 200
        assert client.get("/account/two-factor/").status_code == 302  # nothing owed
        assert security_log()[-1]["reason"] == "mfa_asserted"

    def test_afterwards_the_identity_not_the_email_finds_the_account(
        self, client, officer, police_sso, security_log
    ):
        sign_in(client, "officer@police.example", "officer")
        client.post("/logout/")
        # Someone else at the provider now claims the officer's address: refused, and the
        # officer's account is not theirs.
        response = sign_in(client, "officer@police.example", "impostor")
        assert response.status_code == 403
        assert "_auth_user_id" not in client.session
        assert security_log()[-1]["reason"] == "account_linked_to_another_identity"
        # The officer changes address here: iss + sub still find the account.
        User.objects.filter(pk=officer.pk).update(email="pat@police.example")
        sign_in(client, "officer@police.example", "officer")
        assert client.session["_auth_user_id"] == str(officer.pk)
        assert ExternalIdentity.objects.filter(user=officer).count() == 1

    def test_a_password_is_never_checked_for_an_address_the_provider_serves(
        self, client, officer, police_sso
    ):
        response = client.post(
            "/login/", {"username": officer.email, "password": factories.PASSWORD}
        )
        assert response.status_code == 200 and b"sso-continue" in response.content
        assert "_auth_user_id" not in client.session

    def test_other_addresses_go_on_to_their_password(self, client, outsider, police_sso):
        page = client.post("/login/", {"username": outsider.email})
        assert page.status_code == 200
        body = page.content.decode()
        assert 'id="id_password"' in body and outsider.email in body
        assert "sso-continue" not in body
        response = client.post(
            "/login/", {"username": outsider.email, "password": factories.PASSWORD}
        )
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(outsider.pk)

    def test_the_first_page_asks_only_for_the_email(self, client):
        body = client.get("/login/").content.decode()
        assert 'id="id_username"' in body and 'id="id_password"' not in body

    def test_first_sign_in_creates_the_account_when_the_provider_allows_it(
        self, client, police, idps, monkeypatch
    ):
        register(police, idps[0], "police.example", monkeypatch, create_users=True)
        sign_in(client, "newcomer@police.example", "newcomer")
        user = User.objects.get(email="newcomer@police.example")
        assert client.session["_auth_user_id"] == str(user.pk)
        assert user.membership.partner == police and user.membership.role == Role.PRACTITIONER
        assert user.full_name == "Nat Newcomer" and not user.has_usable_password()
        assert MembershipChange.objects.get(user=user).channel == "sso"


class TestRefusals:
    def test_an_unknown_person_when_accounts_are_not_created(
        self, client, police_sso, security_log
    ):
        response = sign_in(client, "newcomer@police.example", "newcomer")
        assert response.status_code == 403
        assert b"no account here that you can use" in response.content
        assert "_auth_user_id" not in client.session
        assert not User.objects.filter(email="newcomer@police.example").exists()
        event = security_log()[-1]
        assert event == {**event, "event": "sso_sign_in_refused", "reason": "unknown_user"}

    def test_a_disabled_account(self, client, police, police_sso, security_log):
        leaver = factories.make_user(police, email="leaver@police.example")
        user_disable(user=leaver)
        response = sign_in(client, "leaver@police.example", "leaver")
        assert response.status_code == 403 and b"disabled" in response.content
        assert "_auth_user_id" not in client.session
        assert security_log()[-1]["reason"] == "account_disabled"
        assert security_log()[-1]["user"] == str(leaver.pk)

    def test_a_linked_account_disabled_later(self, client, officer, police_sso):
        sign_in(client, "officer@police.example", "officer")
        client.post("/logout/")
        user_disable(user=officer)
        assert sign_in(client, "officer@police.example", "officer").status_code == 403

    def test_an_address_of_the_provider_s_domain_whose_account_is_at_another_partner(
        self, client, school, police_sso, security_log
    ):
        factories.make_user(school, email="stray@police.example")
        response = sign_in(client, "stray@police.example", "stray")
        assert response.status_code == 403
        assert security_log()[-1]["reason"] == "partner_mismatch"
        assert not ExternalIdentity.objects.exists()

    def test_the_school_s_provider_cannot_sign_in_a_police_officer(
        self, client, officer, teacher, police_sso, school_sso, security_log
    ):
        # The school's provider is asked (a school address), but vouches for the officer.
        url = begin(client, "teacher@school.example")
        response = come_back(
            client, sign_in_at_provider(requests.Session(), url, "officer-at-school")
        )
        assert response.status_code == 403
        assert "_auth_user_id" not in client.session
        event = security_log()[-1]
        assert event["provider"] == "school" and event["reason"] == "email_domain_not_served"

    def test_a_replayed_state_is_refused(self, client, officer, police_sso, security_log):
        callback = sign_in_at_provider(
            requests.Session(), begin(client, "officer@police.example"), "officer"
        )
        assert come_back(client, callback).status_code == 302
        client.post("/logout/")
        # The same answer again, in the same browser or in another one: the state was used.
        assert come_back(client, callback).status_code == 400
        assert "_auth_user_id" not in client.session
        other = client.__class__()
        assert come_back(other, callback).status_code == 400
        assert "_auth_user_id" not in other.session
        assert security_log()[-1]["reason"] == "state_unknown_or_used"

    def test_a_state_from_another_browser_is_refused(self, client, officer, police_sso):
        # An attacker's own sign-in answer, fed to the victim's browser (login CSRF).
        attacker = client.__class__()
        callback = sign_in_at_provider(
            requests.Session(), begin(attacker, "officer@police.example"), "officer"
        )
        begin(client, "officer@police.example")
        assert come_back(client, callback).status_code == 400
        assert "_auth_user_id" not in client.session

    def test_a_bad_signature_is_refused_and_logged_without_the_token(
        self, client, officer, police_sso, security_log
    ):
        from django.core.cache import cache
        from joserfc.jwk import KeySet, RSAKey

        from sso import oidc

        callback = sign_in_at_provider(
            requests.Session(), begin(client, "officer@police.example"), "officer"
        )
        # Someone else's key under the provider's key id: the provider's real signature fails.
        kid = oidc.signing_keys(police_sso)["keys"][0]["kid"]
        forged = KeySet([RSAKey.generate_key(2048, parameters={"kid": kid})])
        cache.set(oidc._cache_key("jwks", police_sso.issuer), forged.as_dict(private=False))
        response = come_back(client, callback)
        assert response.status_code == 400 and "_auth_user_id" not in client.session
        event = security_log()[-1]
        assert event["event"] == "sso_sign_in_failed" and event["provider"] == "police"
        assert event["reason"] == "bad_signature"
        code = parse_qs(urlsplit(callback).query)["code"][0]
        assert code not in repr(security_log())
        assert not ExternalIdentity.objects.exists()

    def test_an_error_from_the_provider(self, client, police_sso, security_log):
        state = parse_qs(urlsplit(begin(client, "officer@police.example")).query)["state"][0]
        response = client.get("/sso/callback/", {"state": state, "error": "access_denied"})
        assert response.status_code == 400
        assert security_log()[-1]["reason"] == "provider_error_access_denied"
        # and the state is spent
        assert client.get("/sso/callback/", {"state": state, "code": "x"}).status_code == 400

    def test_a_provider_that_does_not_answer(self, client, police, monkeypatch, security_log):
        from sso.services import provider_create

        monkeypatch.setenv("SSO_DEAD_SECRET", "s")
        provider_create(
            partner=police,
            issuer="http://127.0.0.1:9/",
            client_id="x",
            domains=["police.example"],
            secret_env="SSO_DEAD_SECRET",
        )
        response = client.post("/login/", {"username": "officer@police.example"})
        assert response.status_code == 502
        assert security_log()[-1]["reason"] == "discovery_unavailable"

    def test_a_missing_client_secret(self, client, police_sso, monkeypatch, security_log):
        monkeypatch.delenv(police_sso.secret_env)
        assert client.post("/login/", {"username": "officer@police.example"}).status_code == 502
        assert security_log()[-1]["reason"] == "client_secret_missing"


class TestSigningOut:
    def test_signing_out_ends_the_session_at_the_provider_too(
        self, client, sergeant, police_sso, security_log
    ):
        browser = requests.Session()
        callback = sign_in_at_provider(
            browser, begin(client, "sergeant@police.example"), "sergeant"
        )
        come_back(client, callback)
        page = client.post("/logout/")
        assert page.status_code == 200
        assert "_auth_user_id" not in client.session
        end_session = handoff_url(page.content.decode())
        query = parse_qs(urlsplit(end_session).query)
        assert end_session.startswith(police_sso.issuer + "/logout/")
        assert query["id_token_hint"] and query["client_id"] == [police_sso.client_id]
        assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
        answer = browser.get(end_session, allow_redirects=False, timeout=10)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("http://testserver/login/")
        # Signed out at the provider: the next sign-in asks for the password there again.
        again = browser.get(begin(client, "sergeant@police.example"), allow_redirects=False)
        assert "/accounts/login/" in again.headers["Location"]
        assert security_log()[-2]["event"] == "sso_sign_out"
        assert security_log()[-2]["reason"] == "at_provider"

    def test_a_password_session_signs_out_here_only(self, client, outsider, police_sso):
        client.force_login(outsider)
        response = client.post("/logout/")
        assert response.status_code == 302 and response.url == "/login/"


class TestLeavers:
    def test_disabling_an_sso_account_revokes_its_tokens_however_it_is_done(
        self, client, officer, police_sso, security_log
    ):
        sign_in(client, "officer@police.example", "officer")
        factories.token_for(officer)
        officer.refresh_from_db()
        officer.is_active = False
        officer.save()  # as the Django admin's "active" box does
        assert not PersonalToken.objects.filter(user=officer, revoked_at__isnull=True).exists()
        assert security_log()[-1]["event"] == "sso_tokens_revoked"
        assert client.get("/").status_code == 302  # the session is gone too

    def test_tokens_of_a_password_account_are_left_to_user_disable(self, sergeant):
        factories.token_for(sergeant)
        sergeant.is_active = False
        sergeant.save()
        assert PersonalToken.objects.filter(user=sergeant, revoked_at__isnull=True).exists()
