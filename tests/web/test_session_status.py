"""/session/status/: how long the session has left, asked by open tabs before they warn or sign
out. Asking is not activity, and never ends the session itself."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db


def seen_ago(client, seconds: int) -> None:
    session = client.session
    session["vru_session_seen"] = int(time.time()) - seconds
    session.save()


def test_a_signed_out_browser_is_told_nothing_is_left(client):
    response = client.get("/session/status/")
    assert response.status_code == 200
    assert response.json() == {"remaining": 0}
    assert "no-store" in response["Cache-Control"]


def test_it_says_how_long_is_left_without_extending_the_session(login, officer, settings):
    settings.SESSION_IDLE_TIMEOUT = 600
    client = login(officer)
    assert client.get("/").status_code == 200
    seen_ago(client, 240)
    assert 355 <= client.get("/session/status/").json()["remaining"] <= 360
    # Asked again and again, the session is not kept alive by the asking.
    for _ in range(3):
        client.get("/session/status/")
    assert client.session["vru_session_seen"] <= int(time.time()) - 240
    # A page is activity: the full timeout again.
    assert client.get("/follow-ups/").status_code == 200
    assert client.get("/session/status/").json()["remaining"] >= 599


def test_an_idle_session_is_reported_ended_and_ended_by_the_next_page(login, officer, settings):
    client = login(officer)
    client.get("/")
    seen_ago(client, settings.SESSION_IDLE_TIMEOUT + 5)
    assert client.get("/session/status/").json() == {"remaining": 0}
    # Asking did not sign out (another tab may be signing out at that moment); a page does.
    assert "_auth_user_id" in client.session
    response = client.get("/")
    assert response.status_code == 302 and "timeout=1" in response.url


def test_the_absolute_lifetime_counts_too(login, officer, settings):
    client = login(officer)
    client.get("/")
    session = client.session
    session["vru_session_started"] = int(time.time()) - settings.SESSION_ABSOLUTE_LIFETIME - 1
    session.save()
    assert client.get("/session/status/").json() == {"remaining": 0}


def test_only_get(login, officer):
    assert login(officer).post("/session/status/").status_code == 405
