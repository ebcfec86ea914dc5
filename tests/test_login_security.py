import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def login(client, email, password):
    return client.post("/login/", {"username": email, "password": password})


@pytest.mark.django_db
class TestLockout:
    def test_it_locks_out_after_repeated_failures(self, client, officer, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert login(client, officer.email, "wrong-password").status_code == 200
        response = login(client, officer.email, "wrong-password")
        assert response.status_code == 429
        assert b"paused" in response.content
        # Even the right password is refused while locked out.
        assert login(client, officer.email, PASSWORD).status_code == 429
        assert "_auth_user_id" not in client.session

    def test_a_good_password_signs_in(self, client, officer):
        response = login(client, officer.email, PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(officer.pk)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.django_db
class TestTwoFactor:
    @override_settings(OTP_REQUIRED=True)
    def test_staff_must_set_up_and_use_totp_when_required(self, client, officer):
        login(client, officer.email, PASSWORD)
        assert client.get("/").url.startswith("/account/two-factor/")
        # The API refuses a password-only session too.
        assert client.get("/api/v1/me").status_code in (401, 403)
        page = client.get("/account/two-factor/")
        assert b"Set up two-factor" in page.content
        device = TOTPDevice.objects.get(user=officer)
        assert client.post("/account/two-factor/", {"code": "000000"}).status_code == 200
        device.refresh_from_db()
        assert device.throttling_failure_count == 1  # wrong codes slow further guesses
        device.throttle_reset()
        response = client.post("/account/two-factor/", {"code": current_code(device)})
        assert response.status_code == 302
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/me").status_code == 200

    def test_optional_in_development_but_enforced_once_set_up(self, client, officer):
        login(client, officer.email, PASSWORD)
        assert client.get("/").status_code == 200
        TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
        client.post("/logout/")
        login(client, officer.email, PASSWORD)
        assert client.get("/").url.startswith("/account/two-factor/")


@pytest.mark.django_db
class TestSessionLifetime:
    def test_idle_sessions_end(self, client, officer, settings):
        client.force_login(officer)
        assert client.get("/").status_code == 200
        session = client.session
        session["vru_session_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 1
        session.save()
        response = client.get("/")
        assert response.status_code == 302 and "timeout=1" in response.url
        assert "_auth_user_id" not in client.session

    def test_sessions_end_at_their_absolute_lifetime(self, client, officer, settings):
        client.force_login(officer)
        client.get("/")
        session = client.session
        session["vru_session_started"] = int(time.time()) - settings.SESSION_ABSOLUTE_LIFETIME - 1
        session.save()
        assert "timeout=1" in client.get("/").url

    def test_disabling_an_account_ends_its_sessions(self, client, officer):
        from partners.services import user_disable

        client.force_login(officer)
        assert client.get("/").status_code == 200
        user_disable(user=officer)
        assert client.get("/").status_code == 302


def test_check_deploy_is_clean_in_production(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 20 + "-production-secret-key-that-is-long-and-random-0123456789",
        "ALLOWED_HOSTS": "vru.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV": "production",
        "ALLOWED_HOSTS": "x.example",
        "VAR_DIR": str(tmp_path),
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
    assert "SECRET_KEY is required" in result.stderr
