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
    from tests.factories import ui_actor

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


def _police_case(people, given_name: str, years: int):
    from datetime import timedelta

    from django.utils import timezone

    from cases import services as case_services
    from tests.factories import ui_actor

    actor = ui_actor(people["officer"])
    today = timezone.localdate()
    person = case_services.person_create(
        actor=actor,
        data={
            "given_name": given_name,
            "family_name": "Brooks",
            "date_of_birth": today.replace(year=today.year - years) - timedelta(days=40),
        },
    )
    return case_services.case_create(actor=actor, subject=person, data={"summary": "Custody"})


def test_the_auditor_reviews_a_break_glass_use(browser, live_server, journey_data):
    from audit.models import BreakGlassReview
    from casework.services import break_glass_open
    from tests.factories import ui_actor

    case = _police_case(journey_data, "Casey", 15)
    break_glass_open(
        actor=ui_actor(journey_data["outsider"]), case_id=case.pk, reason="Missing overnight"
    )
    auditor = Session(browser, live_server.url, journey_data["auditor"])
    page = auditor.page
    auditor.go("/audit/break-glass/?show=to-review")
    expect(page.locator("main")).to_contain_text("Missing overnight")
    expect(page.locator("main")).to_contain_text(case.reference)
    auditor.axe("break-glass uses to review")
    page.fill("textarea[name=note]", "Matched a missing-person report that night")
    page.click("button:has-text('Mark as reviewed')")
    expect(page.locator("body")).to_contain_text("marked as reviewed")
    expect(page.locator("main")).to_contain_text("Reviewed")
    expect(page.locator("main")).to_contain_text("Chris Doyle")
    review = BreakGlassReview.objects.get()
    assert review.reviewed_by == journey_data["auditor"]
    auditor.go(f"/audit/access-log/?case={case.reference}")
    expect(page.locator("main")).to_contain_text("Reviewed a use of emergency access")
    expect(page.locator("main")).to_contain_text("Opened with emergency access")
    auditor.axe("access log with a review")
    auditor.close()


def test_the_coordinator_works_an_enrolment(browser, live_server, journey_data):
    from datetime import UTC, datetime

    from django.utils import timezone

    from programmes import services
    from programmes.models import Enrolment, EnrolmentSession, Programme
    from tests.factories import ui_actor

    divert = Programme.objects.get(slug="divert")
    officer, coordinator = ui_actor(journey_data["officer"]), ui_actor(journey_data["coordinator"])
    approached = datetime(2026, 11, 29, 21, 40, tzinfo=UTC)
    enrolments = {}
    for name, priority in (("Jordan", 4), ("Tyler", 1)):
        case = _police_case(journey_data, name, 20)
        enrolment = services.enrolment_create(
            actor=officer, programme=divert, person=case.subject, case=case, priority=priority,
            details={"cohort": "custody", "custody_suite": "Northshire Central",
                     "approached_at": approached.isoformat(), "coach": "Jay Campbell"},
        )  # fmt: skip
        enrolments[name] = services.enrolment_transition(
            actor=coordinator, enrolment=enrolment, to="eligibility_checked"
        )
    services.enrolment_transition(
        actor=coordinator, enrolment=enrolments["Jordan"], to="waitlisted"
    )
    tyler = enrolments["Tyler"]
    session = Session(browser, live_server.url, journey_data["coordinator"])
    page = session.page
    session.go(f"/enrolments/{tyler.pk}/")
    details = page.locator(".govuk-summary-list").inner_text()
    local = timezone.localtime(approached)
    assert f"{local:%-d %B %Y, %H:%M}" in details
    assert "Northshire Central" in details and "Jay Campbell" in details
    assert "2026-11-29" not in details
    # The moves, in the order the workflow runs.
    labels = page.locator("input[name=to] + label").all_inner_texts()
    assert [label.strip() for label in labels] == [
        "On the waiting list", "Offered a place", "Enrolled", "Ineligible", "Declined",
        "Withdrawn",
    ]  # fmt: skip
    session.axe("enrolment")
    # Offering a place past the person waiting needs a reason.
    page.check("label:has-text('Offered a place')")
    page.click("button:has-text('Save')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("People are waiting for a place")
    session.axe("enrolment with an error")
    page.check("label:has-text('Offered a place')")
    page.fill("#id_reason", "Court date next week: cannot wait")
    page.click("button:has-text('Save')")
    expect(page.locator("body")).to_contain_text("is now: offered a place")
    assert Enrolment.objects.get(pk=tyler.pk).status == "offered"
    # Enrolled, then a missed session: the page asks why.
    session.go(f"/enrolments/{tyler.pk}/")
    page.check("label:has-text('Enrolled')")
    page.click("button:has-text('Save')")
    session.go(f"/enrolments/{tyler.pk}/")
    page.click("text=Record a session")
    page.select_option("#id_session-kind", "coaching")
    today = timezone.localdate()
    page.fill("#id_session-occurred_on_day", str(today.day))
    page.fill("#id_session-occurred_on_month", str(today.month))
    page.fill("#id_session-occurred_on_year", str(today.year))
    page.check("label:has-text('Missed')")
    page.click("button:has-text('Record session')")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why they missed the session")
    page.fill("#id_session-missed_reason", "No credit on their phone")
    page.click("button:has-text('Record session')")
    expect(page.locator("body")).to_contain_text("The session has been recorded")
    expect(page.locator("#sessions + table")).to_contain_text("No credit on their phone")
    assert EnrolmentSession.objects.get().missed_reason == "No credit on their phone"
    session.axe("enrolment with a missed session")
    session.close()
