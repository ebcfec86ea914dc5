"""A coach's morning, in real headless Chromium with axe-core: My work shows their caseload and
the partner's inbox; they open an enrolment and see how to contact the person safely first.

Uses the browser, personas and helpers of tests/web/test_browser.py.
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


def test_a_coach_opens_their_caseload_and_an_enrolment(browser, live_server, journey_data):
    from django.utils import timezone

    from cases import services as case_services
    from followups.models import FollowUp
    from partners.models import Role
    from programmes import access, services
    from programmes.models import Programme
    from tests import factories
    from tests.factories import ui_actor

    people = journey_data
    officer, coordinator = ui_actor(people["officer"]), ui_actor(people["coordinator"])
    vru = people["coordinator"].membership.partner
    coach = factories.make_user(vru, Role.PRACTITIONER, email="coach@vru.example", name="Jay Coach")
    divert = Programme.objects.get(slug="divert")
    Programme.objects.filter(pk=divert.pk).update(owner=vru)  # the VRU runs DIVERT
    today = timezone.localdate()
    person = case_services.person_create(
        actor=officer,
        data={"given_name": "Tyler", "family_name": "Brooks", "pronouns": "they/them",
              "date_of_birth": today.replace(year=today.year - 20) - timedelta(days=40)},
    )  # fmt: skip
    case = case_services.case_create(actor=officer, subject=person, data={"summary": "Custody"})
    # The case is shared with the VRU: it arrives in the coach's partner's inbox.
    case_services.case_share(
        actor=officer, case=case, partner=vru, lawful_basis="public_task", reason="DIVERT"
    )
    person.refresh_from_db()
    case_services.person_update(
        actor=officer, person=person, expected_version=person.version, data={},
        contact_safety={"do_not_tell": "Their older brother: he must not know they are engaging",
                        "safe_contact_how": "Text first, from a withheld number",
                        "safe_contact_when": "After 4pm on weekdays"},
    )  # fmt: skip
    enrolment = services.enrolment_create(
        actor=officer, programme=divert, person=person, case=case,
        details={"cohort": "custody", "custody_suite": "Northshire Central",
                 "approached_at": "2026-03-01T02:15:00+00:00"},
    )  # fmt: skip
    for to in ("eligibility_checked", "enrolled"):
        enrolment = services.enrolment_transition(actor=coordinator, enrolment=enrolment, to=to)
    visible = access.enrolments_visible_to(coordinator).get(pk=enrolment.pk)
    services.enrolment_update(
        actor=coordinator, enrolment=visible, expected_version=visible.version,
        data={"key_worker": coach},
    )  # fmt: skip
    FollowUp.objects.create(
        kind="divert_check_in", due_at=timezone.now() - timedelta(days=2),
        subject_resource="enrolment", subject_id=enrolment.pk, assignee_user=coach,
        title="DIVERT check-in",
    )  # fmt: skip

    session = Session(browser, live_server.url, coach)
    page = session.page
    session.go("/")
    caseload = page.locator("#caseload + table")
    expect(caseload).to_contain_text("Tyler Brooks")
    expect(caseload).to_contain_text("1 overdue check-in")
    expect(page.locator("#inbox")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Cases newly shared with us")
    expect(page.locator("body")).to_contain_text(f"shared case {case.reference}")
    session.axe("my work with a caseload and inbox")

    caseload.get_by_role("link", name="Tyler Brooks", exact=True).click()
    page.wait_for_load_state()
    assert f"/enrolments/{enrolment.pk}/" in page.url
    banner = page.locator("#contact-safety")
    expect(banner).to_contain_text("Contacting Tyler Brooks safely")
    expect(banner).to_contain_text("Do not tell: Their older brother")
    expect(banner).to_contain_text("After 4pm on weekdays")
    # Shown before anything else about them: the first thing under their name.
    heading_box = page.locator("h1").bounding_box()
    banner_box = banner.bounding_box()
    details_box = page.locator(".govuk-summary-list").last.bounding_box()
    assert heading_box["y"] < banner_box["y"] < details_box["y"]
    session.axe("enrolment with the safety summary")
    session.close()
