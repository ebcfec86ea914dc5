"""Signing in through the police's own identity provider in real headless Chromium: the email,
the provider's sign-in page, back signed in, the case list, and signing out (there too)."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.sso.conftest import register, start_providers
from tests.sso.provider import PROVIDER_PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told the caller knows what it is doing (as tests/web/conftest.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"Chromium not installed at {CHROMIUM}"
    ),
]


@pytest.fixture(scope="module")
def idps(tmp_path_factory, live_server):
    started = start_providers(tmp_path_factory, [live_server.url])
    try:
        yield started
    finally:
        for idp in started:
            idp.kill()


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pw = sync_api.sync_playwright().start()
    try:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-dev-shm-usage",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


def test_signing_in_and_out_through_the_partner_s_provider(
    browser, live_server, idps, transactional_db, settings, monkeypatch, police
):
    from cases import services as case_services
    from partners.actor import actor_for_user
    from partners.models import Role
    from tests import factories

    settings.SITE_URL = live_server.url
    settings.OTP_REQUIRED = True  # the provider's MFA assertion stands in for TOTP
    police_idp = idps[0]
    register(police, police_idp, "police.example", monkeypatch)
    sergeant = factories.make_user(police, Role.MANAGER, email="sergeant@police.example")
    actor = actor_for_user(sergeant, channel="ui")
    person = case_services.person_create(
        actor=actor,
        data={"given_name": "Jordan", "family_name": "Blake", "date_of_birth": date(2011, 2, 3)},
    )
    case_services.case_create(actor=actor, subject=person, data={"summary": "Seen at the park"})

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    refused: list[str] = []
    page.on(
        "console",
        lambda m: (
            refused.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    try:
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", "sergeant@police.example")
        page.click("button:has-text('Continue')")
        # Our hand-off page moves on to the provider's own sign-in page.
        page.wait_for_url(re.compile(re.escape(police_idp.issuer) + r"/accounts/login/"))
        page.fill("#idp-username", "sergeant")
        page.fill("#idp-password", PROVIDER_PASSWORD)
        page.click("#idp-sign-in")
        page.wait_for_url(live_server.url + "/")
        page.goto(live_server.url + "/cases/")
        assert page.url == live_server.url + "/cases/"  # no TOTP step: MFA was asserted
        expect(page.locator("body")).to_contain_text("Jordan Blake")
        page.click("button:has-text('Sign out')")
        # Signed out here, then at the provider, which sends the person back to sign in.
        page.wait_for_url(re.compile(re.escape(live_server.url) + r"/login/"))
        expect(page.locator("h1")).to_contain_text("Sign in")
        page.goto(live_server.url + "/cases/")
        assert "/login/" in page.url
        # The provider's session ended too: signing in again asks for the password there.
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", "sergeant@police.example")
        page.click("button:has-text('Continue')")
        page.wait_for_url(re.compile(re.escape(police_idp.issuer) + r"/accounts/login/"))
        assert not refused, refused
    finally:
        context.close()
