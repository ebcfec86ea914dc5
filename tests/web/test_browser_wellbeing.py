"""Supervision in real headless Chromium, with axe-core on every page: a sergeant records a
check-in with an officer on high-exposure work (the form shows every error first), signs it off,
records their own and cannot sign it off, and reads the team's figures; the officer finds it on
"My supervision". Uses the browser, personas and helpers of tests/web/test_browser.py.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.web import test_browser
from tests.web.test_browser import CHROMIUM, Session

journey_data = test_browser.journey_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"Chromium not installed at {CHROMIUM}"
    ),
]


def fill_date(page, name: str, day) -> None:
    page.fill(f"#id_{name}_day", str(day.day))
    page.fill(f"#id_{name}_month", str(day.month))
    page.fill(f"#id_{name}_year", str(day.year))


def fill_check_in(page, today) -> None:
    fill_date(page, "held_on", today)
    page.check("label:has-text('Finding things hard')")
    page.fill("#id_wellbeing_notes", "Tired after a run of night shifts")
    page.check("label:has-text('A lot')")
    page.fill("#id_exposure_kind", "Images reviewed for an investigation")
    page.check("label:has-text('Stretched')")
    page.check("label:has-text('Peer support')")
    page.check("label:has-text('Counselling')")
    page.fill("#id_agreed_actions", "A week away from image review")
    fill_date(page, "next_check_in_on", today + timedelta(weeks=4))


def test_supervision_check_ins(browser, live_server, journey_data, settings):
    from django.utils import timezone

    from followups.sweeps import sweep_supervision_check_ins
    from wellbeing.models import CheckIn

    settings.DEBUG = False
    people = journey_data
    officer_user = people["officer"]
    sweep_supervision_check_ins()  # the officer's monthly check-in is due
    today = timezone.localdate()

    manager = Session(browser, live_server.url, people["sergeant"])
    page = manager.page
    manager.go("/manager/staff/")
    expect(page.locator("main")).to_contain_text("Check-in due")
    manager.axe("staff")
    page.click("a:has-text('Check-ins and training: PC Sam Okafor')")
    expect(page.locator("h1")).to_have_text("Supervision: PC Sam Okafor")
    expect(page.locator("main")).to_contain_text("next check-in is due")
    manager.axe("a member of staff's supervision")

    # Every problem at once, each naming its field.
    page.click("text=Record a check-in")
    page.click("button:has-text('Record the check-in')")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    for message in (
        "Enter the date of the check-in",
        "Select how they are",
        "Select how much traumatic material they have been exposed to",
        "Select how their workload is",
        "Select the support offered, or none needed",
        "Enter the date of the next check-in",
    ):
        expect(summary).to_contain_text(message)
    manager.axe("check-in form with errors")
    fill_check_in(page, today)
    page.click("button:has-text('Record the check-in')")
    expect(page.locator("body")).to_contain_text("Check-in recorded")
    expect(page.locator("main")).to_contain_text("Awaiting sign-off")
    manager.axe("a check-in")
    page.click("button:has-text('Sign off the check-in')")
    expect(page.locator("body")).to_contain_text("Check-in signed off")
    expect(page.locator("main")).to_contain_text("Signed off by Sgt Priya Shah")
    check_in = CheckIn.objects.get(subject=officer_user)
    assert check_in.signed_off_by == people["sergeant"]

    # The sergeant's own check-in: no sign-off for them, and the service refuses it anyway.
    manager.go("/supervision/")
    expect(page.locator("h1")).to_have_text("My supervision")
    manager.axe("my supervision (manager)")
    page.click("text=Record a check-in")
    fill_check_in(page, today)
    page.click("button:has-text('Record the check-in')")
    expect(page.locator("main")).to_contain_text("You cannot sign off your own check-in")
    expect(page.locator("button:has-text('Sign off the check-in')")).to_have_count(0)
    own = CheckIn.objects.get(subject=people["sergeant"])
    token = page.locator("#sign-out-form input[name=csrfmiddlewaretoken]").input_value()
    refused = page.request.post(
        f"{live_server.url}/supervision/check-ins/{own.pk}/sign-off/",
        form={"csrfmiddlewaretoken": token},
        headers={"Referer": page.url},
    )
    assert refused.status == 403
    assert "You cannot sign off your own check-in" in refused.text()
    own.refresh_from_db()
    assert not own.signed_off

    # The team's figures: counts only, small numbers suppressed, nobody named.
    manager.go("/manager/staff/")
    page.click("text=Staff wellbeing figures for your team")
    expect(page.locator("h1")).to_have_text("Staff wellbeing")
    expect(page.locator("main")).to_contain_text("<10")
    expect(page.locator("main")).not_to_contain_text("Okafor")
    manager.check("staff-wellbeing")
    manager.close()

    # The officer finds it on their own page; a colleague elsewhere cannot open it.
    officer = Session(browser, live_server.url, officer_user)
    officer.go("/supervision/")
    expect(officer.page.locator("main")).to_contain_text("Signed off")
    officer.axe("my supervision")
    officer.page.click(f"a[href='/supervision/check-ins/{check_in.pk}/']")
    expect(officer.page.locator("main")).to_contain_text("Images reviewed for an investigation")
    officer.close()
    outsider = Session(browser, live_server.url, people["outsider"])
    assert outsider.go(f"/supervision/check-ins/{check_in.pk}/") == 404
    outsider.close()
