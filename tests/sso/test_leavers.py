"""Leavers lose their sessions here as soon as their provider stops vouching for them: a
back-channel logout token from the provider (signed with its key, as the provider would), or a
refresh token the provider refuses once the person is disabled there or their tokens revoked.
Also the daily reconciliation command, and the limit on the sign-in page's email step.

Against the real test provider (django-oauth-toolkit in its own process)."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta

import pytest
import requests
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import RSAKey

from partners.models import PersonalToken
from sso import oidc
from sso.models import ExternalIdentity, LogoutTokenSeen, ProviderSession
from sso.services import identities_refresh_due
from tests import factories
from tests.sso.conftest import register, start_providers
from tests.sso.test_sign_in import sign_in

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
    return register(police, idps[0], "police.example", monkeypatch, backchannel_logout=True)


@pytest.fixture
def school_sso(school, idps, monkeypatch):
    return register(school, idps[1], "school.example", monkeypatch, backchannel_logout=True)


@pytest.fixture
def security_log(caplog):
    caplog.set_level(logging.INFO, logger="vru.security")
    return lambda: [r.security for r in caplog.records if r.name == "vru.security"]


@pytest.fixture
def sergeant_disabled_at_provider(idps):
    """Disables the sergeant at the police's provider; enabled again afterwards."""
    try:
        yield lambda: idps[0].set_active("sergeant", False)
    finally:
        idps[0].set_active("sergeant", True)


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def two_sessions(django_client_class, who: str = "sergeant"):
    first, second = django_client_class(), django_client_class()
    for client in (first, second):
        sign_in(client, f"{who}@police.example", who)
        assert signed_in(client)
    return first, second


def logout_token(idp, provider, *, key: RSAKey | None = None, **changes) -> str:
    """A back-channel logout token as the provider makes one: signed with its own key."""
    now = int(time.time())
    claims = {
        "iss": idp.issuer,
        "aud": idp.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_hex(12),
        "events": {oidc.BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    kid = oidc.signing_keys(provider)["keys"][0]["kid"]
    key = key or RSAKey.import_key(idp.signing_key())
    return jwt.encode({"alg": "RS256", "kid": kid, "typ": "logout+jwt"}, claims, key)


def post_logout(client, partner: str, token: str | None):
    data = {} if token is None else {"logout_token": token}
    return client.post(f"/sso/back-channel-logout/{partner}/", data)


class TestBackChannelLogout:
    def test_a_logout_token_for_the_person_ends_all_their_sessions(
        self, client, idps, sergeant, officer, police_sso, security_log
    ):
        first, second = two_sessions(client.__class__)
        other = client.__class__()
        sign_in(other, "officer@police.example", "officer")
        subject = ExternalIdentity.objects.get(user=sergeant).subject
        token = logout_token(idps[0], police_sso, sub=subject)
        response = post_logout(client.__class__(), "police", token)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert not signed_in(first) and not signed_in(second)
        assert first.get("/").url.startswith("/login/")
        # Nobody else's session.
        assert ProviderSession.objects.filter(identity__user=officer).count() == 1
        event = security_log()[-1]
        assert event["event"] == "sso_back_channel_logout" and event["provider"] == "police"
        assert event["user"] == str(sergeant.pk) and event["reason"] == "sessions_ended"
        assert token not in repr(security_log())

    def test_a_logout_token_for_one_provider_session_ends_that_one(
        self, client, idps, sergeant, police_sso
    ):
        first, second = two_sessions(client.__class__)
        sid = ProviderSession.objects.get(session_id=first.session.session_key).sid
        assert sid  # the provider's id tokens carry their session id
        response = post_logout(client, "police", logout_token(idps[0], police_sso, sid=sid))
        assert response.status_code == 200
        assert not signed_in(first) and signed_in(second)

    def test_a_token_is_taken_once(self, client, idps, sergeant, police_sso, security_log):
        first, _ = two_sessions(client.__class__)
        subject = ExternalIdentity.objects.get(user=sergeant).subject
        token = logout_token(idps[0], police_sso, sub=subject)
        assert post_logout(client, "police", token).status_code == 200
        sign_in(first, "sergeant@police.example", "sergeant")
        response = post_logout(client, "police", token)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        assert signed_in(first)
        assert security_log()[-1]["reason"] == "replayed_jti"
        assert LogoutTokenSeen.objects.count() == 1

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"key": "another"}, "bad_signature"),
            ({"iss": "school"}, "wrong_issuer"),
            ({"aud": "someone-else"}, "wrong_audience"),
            ({"events": None}, "not_a_logout_event"),
            ({"events": {"http://schemas.openid.net/event/other": {}}}, "not_a_logout_event"),
            ({"nonce": "n-0S6"}, "nonce_present"),
            ({"jti": None}, "missing_claim_jti"),
            ({"iat": None}, "missing_claim_iat"),
            ({"iat": "old"}, "expired"),
            ({"sub": None}, "missing_claim_sub_or_sid"),
        ],
    )
    def test_refused_tokens_end_nothing(
        self, client, idps, sergeant, police_sso, school_sso, security_log, changes, reason
    ):
        session, _ = two_sessions(client.__class__)
        claims = {"sub": ExternalIdentity.objects.get(user=sergeant).subject, **changes}
        if claims.pop("key", None):
            claims["key"] = RSAKey.generate_key(2048)  # same key id, not the provider's key
        if claims.get("iss") == "school":
            claims["iss"] = school_sso.issuer  # partner B's issuer, for a partner A person
        if claims.get("iat") == "old":
            claims["iat"] = int(time.time()) - oidc.LOGOUT_TOKEN_MAX_AGE_SECONDS - 120
        token = logout_token(idps[0], police_sso, **claims)
        response = post_logout(client, "police", token)
        assert response.status_code == 400
        assert signed_in(session)
        event = security_log()[-1]
        assert event["event"] == "sso_back_channel_logout_refused"
        assert event["provider"] == "police" and event["reason"] == reason
        assert token not in repr(security_log())

    def test_a_token_sent_to_another_partner_s_endpoint(
        self, client, idps, sergeant, police_sso, school_sso, security_log
    ):
        session, _ = two_sessions(client.__class__)
        subject = ExternalIdentity.objects.get(user=sergeant).subject
        response = post_logout(client, "school", logout_token(idps[0], police_sso, sub=subject))
        assert response.status_code == 400
        assert signed_in(session)
        assert security_log()[-1]["provider"] == "school"

    def test_only_providers_that_send_them(self, client, idps, police, school, monkeypatch):
        provider = register(police, idps[0], "police.example", monkeypatch)
        assert not provider.backchannel_logout
        token = logout_token(idps[0], provider, sub="x")
        assert post_logout(client, "police", token).status_code == 404
        assert post_logout(client, "school", token).status_code == 404  # no provider at all
        assert post_logout(client, "nobody", token).status_code == 404
        assert client.get("/sso/back-channel-logout/police/").status_code == 405

    def test_no_token(self, client, police_sso, security_log):
        assert post_logout(client, "police", None).status_code == 400
        assert security_log()[-1]["reason"] == "no_logout_token"

    def test_an_unknown_person_is_taken_and_ends_nothing(
        self, client, idps, sergeant, police_sso, security_log
    ):
        session, _ = two_sessions(client.__class__)
        response = post_logout(client, "police", logout_token(idps[0], police_sso, sub="ghost"))
        assert response.status_code == 200 and signed_in(session)
        assert security_log()[-1]["reason"] == "no_session"


def make_due():
    ExternalIdentity.objects.update(refresh_due_at=timezone.now() - timedelta(seconds=1))


class TestRefresh:
    def test_a_refresh_keeps_the_session_and_the_rotated_token(self, client, sergeant, police_sso):
        sign_in(client, "sergeant@police.example", "sergeant")
        identity = ExternalIdentity.objects.get(user=sergeant)
        assert identity.refresh_token and identity.refresh_due_at > timezone.now()
        assert identities_refresh_due() == {}  # not due yet
        make_due()
        assert identities_refresh_due() == {"ok": 1}
        refreshed = ExternalIdentity.objects.get(user=sergeant)
        assert refreshed.refresh_token != identity.refresh_token  # the provider rotates them
        assert refreshed.refresh_due_at > timezone.now() + timedelta(minutes=14)
        assert signed_in(client)

    def test_a_person_disabled_at_the_provider_is_signed_out_everywhere(
        self, client, sergeant, police_sso, security_log, sergeant_disabled_at_provider
    ):
        first, second = two_sessions(client.__class__)
        factories.token_for(sergeant)
        sergeant_disabled_at_provider()
        make_due()
        assert identities_refresh_due() == {"refused": 1}
        assert not signed_in(first) and not signed_in(second)
        assert not ProviderSession.objects.exists()
        assert ExternalIdentity.objects.get(user=sergeant).refresh_token == ""
        event = security_log()[-1]
        assert event["event"] == "sso_refresh_refused" and event["provider"] == "police"
        assert event["reason"] == "invalid_grant" and event["user"] == str(sergeant.pk)
        # The account itself stays for the daily reconciliation (or an administrator) to disable.
        sergeant.refresh_from_db()
        assert sergeant.is_active
        assert PersonalToken.objects.filter(user=sergeant, revoked_at__isnull=True).exists()

    def test_tokens_revoked_at_the_provider_sign_the_person_out(
        self, client, idps, sergeant, police_sso
    ):
        sign_in(client, "sergeant@police.example", "sergeant")
        identity = ExternalIdentity.objects.get(user=sergeant)
        revoked = requests.post(
            f"{idps[0].issuer}/revoke_token/",
            data={"token": identity.refresh_token, "token_type_hint": "refresh_token"},
            auth=(idps[0].client_id, idps[0].client_secret),
            timeout=10,
        )
        assert revoked.status_code == 200
        make_due()
        assert identities_refresh_due() == {"refused": 1}
        assert not signed_in(client)

    def test_a_provider_that_does_not_answer_signs_nobody_out(
        self, client, sergeant, police_sso, security_log, monkeypatch
    ):
        sign_in(client, "sergeant@police.example", "sergeant")
        metadata = oidc.discovery(police_sso)
        monkeypatch.setattr(
            oidc,
            "discovery",
            lambda provider: {**metadata, "token_endpoint": "http://127.0.0.1:9/token/"},
        )
        make_due()
        assert identities_refresh_due() == {"unavailable": 1}
        assert signed_in(client)
        event = security_log()[-1]
        assert event["event"] == "sso_refresh_failed"
        assert event["reason"] == "token_endpoint_unavailable"
        assert identities_refresh_due() == {}  # asked again at the next interval, not at once

    def test_a_provider_with_refresh_off_is_not_asked(
        self, client, police, idps, sergeant, monkeypatch
    ):
        register(police, idps[0], "police.example", monkeypatch, refresh_minutes=0)
        sign_in(client, "sergeant@police.example", "sergeant")
        make_due()
        assert identities_refresh_due() == {}

    def test_two_refreshes_of_one_token_use_it_once(self, client, sergeant, police_sso):
        # A rotated refresh token used twice is refused the second time: that must never sign
        # the person out. The second refresh finds the token claimed and leaves it.
        from sso.services import identity_refresh

        sign_in(client, "sergeant@police.example", "sergeant")
        make_due()
        stale = ExternalIdentity.objects.get(user=sergeant)
        assert identity_refresh(ExternalIdentity.objects.get(user=sergeant)) == "ok"
        assert identity_refresh(stale) == "skipped"
        assert signed_in(client)

    def test_offline_access_is_asked_for_when_set(self, client, police, idps, monkeypatch):
        from urllib.parse import parse_qs, urlsplit

        from tests.sso.test_sign_in import begin

        register(police, idps[0], "police.example", monkeypatch, offline_access=True)
        url = begin(client, "sergeant@police.example")
        assert "offline_access" in parse_qs(urlsplit(url).query)["scope"][0].split()


class TestReconciliation:
    def test_a_dry_run_lists_leavers_and_changes_nothing(
        self, client, sergeant, officer, police_sso, capsys, sergeant_disabled_at_provider
    ):
        sergeant_session, _ = two_sessions(client.__class__)
        sign_in(client.__class__(), "officer@police.example", "officer")
        ExternalIdentity.objects.filter(user=officer).update(
            last_sign_in_at=timezone.now() - timedelta(days=40)
        )
        sergeant_disabled_at_provider()
        call_command("reconcile_sso_users", "--partner", "police")
        out = capsys.readouterr().out.splitlines()
        assert (
            f"would disable\t{officer.pk}\tofficer@police.example\tnot_signed_in_for_30_days" in out
        )
        assert f"would disable\t{sergeant.pk}\tsergeant@police.example\trefresh_refused" in out
        assert out[-1] == "2 found, 0 disabled (dry run: nothing changed; --disable to act)."
        sergeant.refresh_from_db()
        officer.refresh_from_db()
        assert sergeant.is_active and officer.is_active
        assert signed_in(sergeant_session)

    def test_disable_disables_them(
        self, client, sergeant, officer, police_sso, capsys, security_log,
        sergeant_disabled_at_provider,
    ):  # fmt: skip
        sergeant_session, _ = two_sessions(client.__class__)
        factories.token_for(sergeant)
        officer_session = client.__class__()
        sign_in(officer_session, "officer@police.example", "officer")
        sergeant_disabled_at_provider()
        call_command("reconcile_sso_users", "--partner", "police", "--disable", "--days", "7")
        out = capsys.readouterr().out.splitlines()
        assert out == [
            f"disabled\t{sergeant.pk}\tsergeant@police.example\trefresh_refused",
            "1 found, 1 disabled.",
        ]
        sergeant.refresh_from_db()
        assert not sergeant.is_active
        assert not PersonalToken.objects.filter(user=sergeant, revoked_at__isnull=True).exists()
        assert not signed_in(sergeant_session)
        officer.refresh_from_db()
        assert officer.is_active  # signed in just now, and the provider still vouches
        disabled = [e for e in security_log() if e["event"] == "sso_reconcile_disabled"]
        assert disabled == [{**disabled[0], "user": str(sergeant.pk), "reason": "refresh_refused"}]
        assert disabled[0]["provider"] == "police"

    def test_a_provider_that_does_not_answer_disables_nobody(
        self, client, sergeant, police_sso, capsys, monkeypatch
    ):
        sign_in(client, "sergeant@police.example", "sergeant")
        metadata = oidc.discovery(police_sso)
        monkeypatch.setattr(
            oidc,
            "discovery",
            lambda provider: {**metadata, "token_endpoint": "http://127.0.0.1:9/token/"},
        )
        call_command("reconcile_sso_users", "--partner", "police", "--disable")
        out = capsys.readouterr().out.splitlines()
        assert out[0] == f"unchecked\t{sergeant.pk}\tsergeant@police.example\tprovider_unavailable"
        sergeant.refresh_from_db()
        assert sergeant.is_active

    def test_only_accounts_of_that_partner_s_provider(
        self, client, sergeant, teacher, police_sso, school_sso, capsys
    ):
        sign_in(client, "teacher@school.example", "teacher")
        ExternalIdentity.objects.update(last_sign_in_at=timezone.now() - timedelta(days=90))
        call_command("reconcile_sso_users", "--partner", "police", "--disable")
        assert capsys.readouterr().out.splitlines() == ["0 found, 0 disabled."]
        teacher.refresh_from_db()
        assert teacher.is_active

    def test_a_partner_without_a_provider(self, school, police_sso):
        with pytest.raises(CommandError, match="no identity provider"):
            call_command("reconcile_sso_users", "--partner", "school")
        with pytest.raises(CommandError):
            call_command("reconcile_sso_users", "--partner", "nobody")


class TestEmailStepLimit:
    @override_settings(SSO_EMAIL_STEP_LIMIT=3)
    def test_too_many_addresses_from_one_address_wait(
        self, client, police_sso, outsider, security_log
    ):
        for email in ("a@police.example", outsider.email, "b@elsewhere.example"):
            assert client.post("/login/", {"username": email}).status_code == 200
        page = client.post("/login/", {"username": "c@police.example"})
        assert page.status_code == 429
        body = page.content.decode()
        assert "govuk-error-summary" in body and "Wait 5 minutes, then try again" in body
        assert 'id="id_username-error"' in body and "c@police.example" in body
        assert "sso-continue" not in body and 'id="id_password"' not in body
        # A password attempt for an address counts too: it would also name the provider.
        response = client.post(
            "/login/", {"username": outsider.email, "password": factories.PASSWORD}
        )
        assert response.status_code == 429 and "_auth_user_id" not in client.session
        event = security_log()[-1]
        assert event["event"] == "sso_email_step_limited" and event["reason"] == "rate_limited"
        assert "police.example" not in repr(security_log())
        # Another client address is not held up.
        other = client.post("/login/", {"username": "a@police.example"}, REMOTE_ADDR="10.9.8.7")
        assert other.status_code == 200 and b"sso-continue" in other.content
