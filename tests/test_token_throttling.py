"""Failed bearer tokens are throttled per client address and per token prefix; a valid token is
never refused because of other callers' failures, and a client cannot choose its own address."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from core.addresses import client_address
from tests import factories
from tests.conftest import Api
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
PROXY = "10.0.0.2"  # the reverse proxy: every request reaches the app from here
A, B = "203.0.113.5", "198.51.100.7"
BEHIND_PROXY = override_settings(TRUSTED_PROXY_HEADER="X-Forwarded-For", TRUSTED_PROXY_COUNT=1)


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def bad_token() -> str:
    return "vrup_" + secrets.token_urlsafe(32)


def get_me(token: str, **meta):
    return Api(token).get("/api/v1/me", **meta)


def fail(times: int, **meta) -> list[int]:
    return [get_me(bad_token(), **meta).status_code for _ in range(times)]


@pytest.mark.django_db
class TestFailuresPerAddress:
    def test_it_lets_a_valid_token_in_after_25_bad_ones_from_its_address(self, officer, settings):
        assert settings.TOKEN_FAILURE_LIMIT == 20
        statuses = fail(25)
        assert statuses == [401] * 20 + [429] * 5
        assert get_me(factories.token_for(officer)).status_code == 200

    def test_further_bad_attempts_still_get_429_with_retry_after(self, officer, settings):
        fail(21)
        assert get_me(factories.token_for(officer)).status_code == 200
        response = get_me(bad_token())
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limited"
        assert 0 < int(response["Retry-After"]) <= settings.TOKEN_FAILURE_WINDOW

    def test_a_valid_client_token_is_not_refused_either(self, police):
        fail(25)
        assert get_me(factories.client_token(police)).status_code == 200

    def test_other_addresses_are_not_affected(self):
        fail(21, REMOTE_ADDR=A)
        assert get_me(bad_token(), REMOTE_ADDR=A).status_code == 429
        assert get_me(bad_token(), REMOTE_ADDR=B).status_code == 401

    def test_malformed_credentials_count_as_failures(self):
        for _ in range(20):
            client = Api()
            client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
            assert client.get("/api/v1/me").status_code == 401
        assert get_me(bad_token()).status_code == 429


@pytest.mark.django_db
class TestFailuresPerTokenPrefix:
    def test_one_bad_token_is_throttled_from_any_address(self):
        token = bad_token()
        for n in range(20):
            assert get_me(token, REMOTE_ADDR=f"192.0.2.{n + 1}").status_code == 401
        # A new address, the same stale token: throttled; another token from there is not.
        assert get_me(token, REMOTE_ADDR="192.0.2.200").status_code == 429
        assert get_me(bad_token(), REMOTE_ADDR="192.0.2.200").status_code == 401

    def test_a_valid_token_sharing_the_throttled_prefix_still_works(self, officer):
        good = factories.token_for(officer)
        bad = good[:12] + "x" * (len(good) - 12)
        for n in range(21):
            get_me(bad, REMOTE_ADDR=f"192.0.2.{n + 1}")
        assert get_me(bad, REMOTE_ADDR="192.0.2.250").status_code == 429
        assert get_me(good, REMOTE_ADDR="192.0.2.250").status_code == 200


@pytest.mark.django_db
class TestBehindTheReverseProxy:
    @BEHIND_PROXY
    def test_bad_tokens_from_one_client_do_not_affect_another(self, officer):
        assert fail(21, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=A)[-1] == 429
        assert get_me(bad_token(), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=B).status_code == 401
        token = factories.token_for(officer)
        assert get_me(token, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=B).status_code == 200
        assert get_me(token, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=A).status_code == 200

    @BEHIND_PROXY
    def test_only_the_address_the_proxy_appended_is_believed(self):
        # The client writes whatever it likes on the left; the proxy appends the real address.
        for n in range(21):
            forged = f"192.0.2.{n + 1}, {A}"
            get_me(bad_token(), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forged)
        forged = f"192.0.2.99, {A}"
        assert (
            get_me(bad_token(), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forged).status_code == 429
        )

    def test_the_header_is_ignored_when_not_configured(self, settings):
        assert settings.TRUSTED_PROXY_HEADER == ""
        for n in range(20):
            get_me(bad_token(), HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}")
        # A fresh forged address does not escape: the count is per REMOTE_ADDR.
        assert get_me(bad_token(), HTTP_X_FORWARDED_FOR="192.0.2.250").status_code == 429


class TestClientAddress:
    def request(self, **meta):
        return RequestFactory().get("/", REMOTE_ADDR=PROXY, **meta)

    def test_it_is_remote_addr_by_default(self):
        assert client_address(self.request(HTTP_X_FORWARDED_FOR=A)) == PROXY

    @BEHIND_PROXY
    def test_it_is_the_rightmost_entry_behind_one_proxy(self):
        assert client_address(self.request(HTTP_X_FORWARDED_FOR=f"192.0.2.1, {A}")) == A

    @override_settings(TRUSTED_PROXY_HEADER="X-Forwarded-For", TRUSTED_PROXY_COUNT=2)
    def test_it_counts_back_one_entry_per_trusted_proxy(self):
        assert client_address(self.request(HTTP_X_FORWARDED_FOR=f"192.0.2.1, {A}, 10.0.0.9")) == A
        # Fewer entries than proxies: it did not come through them all; trust none of it.
        assert client_address(self.request(HTTP_X_FORWARDED_FOR=A)) == PROXY

    @override_settings(TRUSTED_PROXY_HEADER="X-Real-IP")
    def test_any_header_can_be_named(self):
        assert client_address(self.request(HTTP_X_REAL_IP=B, HTTP_X_FORWARDED_FOR=A)) == B

    @BEHIND_PROXY
    def test_a_missing_or_garbled_header_falls_back_to_remote_addr(self):
        assert client_address(self.request()) == PROXY
        assert client_address(self.request(HTTP_X_FORWARDED_FOR="not-an-address")) == PROXY


@pytest.mark.django_db
class TestSignInLockoutUsesTheSameAddress:
    def login(self, client, email, password, **meta):
        return client.post("/login/", {"username": email, "password": password}, **meta)

    @BEHIND_PROXY
    def test_a_lockout_from_one_client_does_not_lock_the_user_out_elsewhere(
        self, client, officer, settings
    ):
        at_a = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": A}
        for _ in range(settings.AXES_FAILURE_LIMIT):
            self.login(client, officer.email, "wrong-password", **at_a)
        assert self.login(client, officer.email, PASSWORD, **at_a).status_code == 429
        at_b = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": B}
        assert self.login(client, officer.email, PASSWORD, **at_b).status_code == 302

    def test_a_forged_header_does_not_escape_a_lockout(self, client, officer, settings):
        for n in range(settings.AXES_FAILURE_LIMIT):
            self.login(client, officer.email, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}")
        response = self.login(client, officer.email, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")
        assert response.status_code == 429


def test_a_malformed_header_name_stops_start_up(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV": "test",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TRUSTED_PROXY_HEADER": "X-Forwarded-For: 1.2.3.4",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXY_HEADER must be a header name" in result.stderr
