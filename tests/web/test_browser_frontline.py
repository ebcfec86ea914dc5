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

from tests.web import test_browser
from tests.web.test_browser import CHROMIUM, Session, watch_csp

# The personas and partnership of the referral journey.
journey_data = test_browser.journey_data

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


def test_report_tables_scroll_inside_their_own_region_at_1280(browser, live_server, journey_data):
    from casework.services import referral_create, referral_screen
    from tests.web.conftest import ui_actor

    officer = ui_actor(journey_data["officer"])
    for k in range(3):
        intake = referral_create(
            actor=officer, concerns=["neglect"], description=f"Referral {k}",
            person={"given_name": "Sam", "family_name": f"Reed{k}"},
        )  # fmt: skip
        referral_screen(
            actor=officer, referral=intake.referral, outcome="early_help", reasons="Agreed"
        )
    coordinator = Session(browser, live_server.url, journey_data["coordinator"])
    page = coordinator.page
    page.set_viewport_size({"width": 1280, "height": 800})
    for months in (6, 12, 24):
        assert coordinator.go(f"/reports/?months={months}") == 200
        # Nothing on the page is wider than the window: no sideways scrolling of the page.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px ({months} months)"
        # Every table is inside a labelled, focusable region, and is never cut off: the region
        # scrolls (or the table fits).
        tables = page.evaluate(
            """() => [...document.querySelectorAll('main table')].map(t => {
                const region = t.closest('[role=region]');
                return {
                    caption: t.caption ? t.caption.textContent.trim() : '',
                    region: !!region,
                    label: region ? region.getAttribute('aria-label') : null,
                    tabindex: region ? region.tabIndex : null,
                    overflowX: region ? getComputedStyle(region).overflowX : null,
                    regionWidth: region ? region.clientWidth : 0,
                    regionScroll: region ? region.scrollWidth : 0,
                    tableRight: t.getBoundingClientRect().right,
                    regionRight: region ? region.getBoundingClientRect().right : 0,
                    // The first ancestor that clips the table must be its own region.
                    clippedByRegion: (() => {
                        for (let e = t.parentElement; e; e = e.parentElement) {
                            if (getComputedStyle(e).overflowX !== 'visible') return e === region;
                        }
                        return t.getBoundingClientRect().right <= window.innerWidth;
                    })(),
                };
            })"""
        )
        assert tables
        for t in tables:
            assert t["region"], f"table not in a scroll region: {t['caption']}"
            assert t["label"] == t["caption"], t
            assert t["tabindex"] == 0, t
            assert t["overflowX"] == "auto", t
            assert t["regionRight"] <= 1280, t
            assert t["clippedByRegion"], t
        wide = [t for t in tables if t["regionScroll"] > t["regionWidth"]]
        if months == 24:
            assert wide, "24 months of columns should need scrolling"
            # The region scrolls with the keyboard once focused (it is a tab stop).
            region = (
                page.locator("main [role=region]")
                .filter(has=page.locator("table"))
                .nth(next(i for i, t in enumerate(tables) if t in wide))
            )
            region.focus()
            page.keyboard.press("ArrowRight")
            page.keyboard.press("End")
            page.wait_for_timeout(200)
            assert region.evaluate("r => r.scrollLeft") > 0
            coordinator.axe(f"reports, {months} months, 1280 wide")
    coordinator.close()
