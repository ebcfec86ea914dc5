"""Frontline fixes, in real headless Chromium: the session timeout across tabs, report tables at
1280 px, the auditor's break-glass review, and enrolment pages that read as people write.

Uses the browser, personas and helpers of tests/web/test_browser.py.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from playwright.sync_api import expect

from tests.web.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    Session,
    journey_data,
    save_shot,
    watch_csp,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"Chromium not installed at {CHROMIUM}"
    ),
]


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", email)
    page.click("button:has-text('Continue')")
    page.fill("#id_password", "correct-horse-battery-staple")
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()
    assert "/login/" not in page.url, "sign-in failed"


@pytest.mark.usefixtures("journey_data")
def test_an_idle_tab_does_not_sign_out_someone_working_in_another(browser, live_server, settings):
    settings.SESSION_IDLE_TIMEOUT = 6  # the warning shows 3 seconds before the end
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    idle = context.new_page()
    refused = watch_csp(idle)
    sign_in(idle, live_server.url, "officer@police.example")
    idle.goto(live_server.url + "/follow-ups/")
    working = context.new_page()
    working.goto(live_server.url + "/cases/")
    # Work in the second tab for well over the idle timeout: a page every 1.5 seconds.
    started = time.monotonic()
    while time.monotonic() - started < 14:
        working.goto(live_server.url + ("/cases/" if int(time.monotonic()) % 2 else "/"))
        working.wait_for_timeout(1500)
        assert "/login/" not in idle.url, "the idle tab signed the person out"
        assert "/login/" not in working.url, "the working tab was signed out"
    assert idle.url.endswith("/follow-ups/")
    # The idle tab's warning, if it showed, was withdrawn once the server said the session lives.
    expect(idle.locator("#session-timeout")).to_be_hidden(timeout=5000)
    status = working.evaluate(
        "fetch('/session/status/', {credentials: 'same-origin'}).then(r => r.json())"
    )
    assert status["remaining"] > 0
    # Left alone everywhere, both tabs end at the sign-in page, saying why.
    idle.wait_for_url(re.compile(r"/login/\?timeout=1"), timeout=15000)
    working.wait_for_url(re.compile(r"/login/\?timeout=1"), timeout=15000)
    expect(idle.locator("body")).to_contain_text(
        "You were signed out to keep people's information safe"
    )
    status = idle.evaluate(
        "fetch('/session/status/', {credentials: 'same-origin'}).then(r => r.json())"
    )
    assert status == {"remaining": 0}
    assert not refused, refused
    context.close()


@pytest.mark.usefixtures("journey_data")
def test_staying_signed_in_in_one_tab_closes_the_warning_in_the_other(
    browser, live_server, settings
):
    settings.SESSION_IDLE_TIMEOUT = 6
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    first = context.new_page()
    sign_in(first, live_server.url, "officer@police.example")
    second = context.new_page()
    second.goto(live_server.url + "/cases/")
    second.locator("#session-timeout").wait_for(state="visible", timeout=8000)
    second.click("#session-stay")
    expect(second.locator("#session-timeout")).to_be_hidden(timeout=3000)
    # The first tab heard of the choice and keeps the person signed in too.
    expect(first.locator("#session-timeout")).to_be_hidden(timeout=3000)
    assert "/login/" not in first.url
    context.close()
