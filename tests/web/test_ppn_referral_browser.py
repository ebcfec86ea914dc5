"""A PPN referral at the end of a shift, in real headless Chromium: the officer records the
incident, what they saw, the person's own words and two children in the household, one of whom
the police already know; the duplicate check asks about that child, the officer says it is the
same child, and the case opens with both children in its household. axe-core on each page.

Uses the browser, personas and helpers of tests/web/test_browser.py.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
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


def test_an_officer_records_a_ppn_with_two_children(browser, live_server, journey_data, settings):
    from cases import services as case_services
    from casework.models import Referral
    from tests.factories import ui_actor

    settings.DEBUG = False
    known = case_services.person_create(
        actor=ui_actor(journey_data["officer"]),
        data={"given_name": "Leo", "family_name": "Wells", "date_of_birth": date(2016, 7, 4)},
    )
    officer = Session(browser, live_server.url, journey_data["officer"])
    page = officer.page
    officer.go("/referrals/new/")
    page.fill("#id_given_name", "Dana")
    page.fill("#id_family_name", "Wells")
    page.check("label:has-text('Domestic abuse in the household')")
    page.fill("#id_description", "Attended a domestic incident at the family home.")
    page.check("label:has-text('Urgent')")
    page.fill("#id_voice", '"I want him to leave and the kids to be safe."')
    yesterday = timezone.localdate() - timedelta(days=1)
    page.fill("#id_incident_date_day", str(yesterday.day))
    page.fill("#id_incident_date_month", str(yesterday.month))
    page.fill("#id_incident_date_year", str(yesterday.year))
    page.fill("#id_incident_time_hour", "21")
    page.fill("#id_incident_time_minute", "30")
    page.fill("#id_incident_place", "14 Mill Lane, Northshire")
    page.fill("#id_occurrence_number", "NP-2026-0456")
    page.fill("#id_present", "Dana, her partner, two children")
    page.fill("#id_officer_observations", "Broken door frame; a red mark on Dana's cheek.")
    page.fill("#id_child_1_given_name", "Leo")
    page.fill("#id_child_1_family_name", "Wells")
    page.fill("#id_child_1_date_of_birth_day", "4")
    page.fill("#id_child_1_date_of_birth_month", "7")
    page.fill("#id_child_1_date_of_birth_year", "2016")
    page.fill("#id_child_2_given_name", "Mia")
    page.fill("#id_child_2_family_name", "Wells")
    officer.axe("new referral with PPN details")

    # Missing the minute: the error summary names the field; nothing is saved.
    page.fill("#id_incident_time_minute", "")
    page.click("button:has-text('Check and save referral')")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The time of the incident must include a minute"
    )
    officer.axe("new referral, with an error")
    assert not Referral.objects.exists()
    page.fill("#id_incident_time_minute", "30")
    page.click("button:has-text('Check and save referral')")

    # Leo is already known: asked about, never duplicated.
    expect(page.locator(".app-duplicate-warning")).to_contain_text("A child in the household")
    question = page.locator(".app-child-match")
    expect(question).to_contain_text("Is Leo Wells someone already known?")
    officer.axe("referral, child match check")
    page.check("label:has-text('Yes, Leo Wells')")
    page.click("button:has-text('Check and save referral')")
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]+/$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "2 children were added to the household"
    )
    referral = Referral.objects.get()
    household = set(referral.case.household.values_list("given_name", flat=True))
    assert household == {"Leo", "Mia"} and known in referral.case.household.all()
    assert referral.case.risk_level == "high"
    ppn = page.locator(".app-ppn")
    expect(ppn).to_contain_text("NP-2026-0456")
    expect(ppn).to_contain_text("21:30")
    expect(page.locator(".app-referral-voice")).to_contain_text("the kids to be safe")
    officer.axe("case page with the PPN")

    # Another partner reaches none of it.
    outsider = Session(browser, live_server.url, journey_data["outsider"])
    assert outsider.go(f"/cases/{referral.case_id}/") == 404
    expect(outsider.page.locator("body")).not_to_contain_text("Mill Lane")
    outsider.close()
    officer.close()
