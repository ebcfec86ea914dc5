"""The whole family, in real headless Chromium with axe-core: an officer adds a father in prison
to a child's case and shares it under the named agreement; refers the child and her brother
together; refers the child to Invisible Walls with what the case already knows, seeing eligibility
first; the coordinator records the programme's part; the school's inbox marks what is new.

Uses the browser, personas and helpers of tests/web/test_browser.py.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

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


def test_a_family_with_a_father_in_prison(browser, live_server, journey_data):
    from django.utils import timezone

    from cases import services as case_services
    from casework.models import Referral
    from programmes.models import Enrolment, Programme
    from tests.web.conftest import ui_actor

    people = journey_data
    officer = ui_actor(people["officer"])
    Programme.objects.filter(slug="invisible-walls").update(active=True)
    Programme.objects.get(slug="invisible-walls").coordinators.set([people["coordinator"]])
    today = timezone.localdate()
    ella = case_services.person_create(
        actor=officer,
        data={"given_name": "Ella", "family_name": "Reid", "date_of_birth": date(today.year - 9, 5, 1)},
    )  # fmt: skip
    case = case_services.case_create(actor=officer, subject=ella, data={"summary": "Dad in HMP"})
    ben = case_services.person_create(
        actor=officer,
        data={"given_name": "Ben", "family_name": "Reid", "date_of_birth": date(today.year - 12, 2, 3)},
    )  # fmt: skip
    case_services.case_household_add(actor=officer, case=case, person=ben)
    case_services.relationship_add(actor=officer, person=ben, related_to=ella, kind="sibling")
    release = today + timedelta(days=90)

    school = Session(browser, live_server.url, people["teacher"])
    school.go("/")  # the school has looked at its inbox before anything arrives

    session = Session(browser, live_server.url, people["officer"])
    page = session.page
    session.go(f"/cases/{case.pk}/")

    # The father, in prison: on the case, outside the household.
    page.click("text=Add someone to the household or family")
    page.fill("#id_given_name", "Dan")
    page.fill("#id_family_name", "Reid")
    page.check("label:has-text('Parent')")
    page.check("label:has-text('In prison')")
    page.fill("#id_place", "HMP Northshire")
    page.fill("#id_expected_release_date_day", str(release.day))
    page.fill("#id_expected_release_date_month", str(release.month))
    page.fill("#id_expected_release_date_year", str(release.year))
    session.check("add-family-member-in-prison")
    page.click("button:has-text('Add to the case')")
    family = page.locator("#family-elsewhere + dl")
    expect(family).to_contain_text("Dan Reid")
    expect(family).to_contain_text("In prison at HMP Northshire")
    expect(family).to_contain_text(f"expected home {release:%-d %B %Y}")
    session.axe("case with family outside the household")

    # Share with the school: each partner offered names the agreement the share relies on.
    page.click("text=Share with another partner")
    option = page.locator(".govuk-radios__item", has_text="Riverside School")
    expect(option).to_contain_text(
        "Under the data sharing agreement “Northshire partnership agreement”"
    )
    page.check("label:has-text('Riverside School')")
    page.check("label:has-text('Public task')")
    page.fill("#id_reason", "Ella's school supports the family")
    session.check("share-names-the-agreement")
    page.click("button:has-text('Share case')")
    expect(page.locator("body")).to_contain_text(
        "under the data sharing agreement “Northshire partnership agreement”"
    )
    expect(page.locator("#sharing ~ table")).to_contain_text("Northshire partnership agreement")

    # Ella and her brother, referred together.
    session.go(f"/people/{ella.pk}/new-referral/")
    page.check("label:has-text('A parent in prison')")
    page.fill("#id_description", "Both children are struggling since their father went to prison.")
    page.check("label:has-text('Ben Reid')")
    session.check("siblings-referred-together")
    page.click("button:has-text('Save referral')")
    expect(page.locator("body")).to_contain_text("The same referral was made for Ben Reid")
    referrals = Referral.objects.filter(subject__in=[ella, ben])
    assert referrals.count() == 2 and len({r.referred_with for r in referrals}) == 1
    expect(page.locator(".app-referred-together")).to_contain_text("Ben Reid")

    # Invisible Walls: the referrer's part only, started from the father on the case, and the
    # eligibility shown before sending.
    session.go(f"/cases/{case.pk}/programmes/invisible-walls/refer/")
    expect(page.locator("#eligibility-preview")).to_be_visible()
    expect(page.locator("#id_prison")).to_have_value("HMP Northshire")
    expect(page.locator("#id_imprisoned_family_member__name")).to_have_value("Dan Reid")
    expect(page.locator("#id_materials_given")).to_have_count(0)  # the programme's part
    page.check("label:has-text('Father')")
    session.check("refer-to-invisible-walls")
    page.click("button:has-text('Send referral')")
    expect(page.locator("body")).to_contain_text("Referred to Invisible Walls")
    enrolment = Enrolment.objects.get(programme__slug="invisible-walls")
    assert enrolment.details["prison"] == "HMP Northshire"
    assert enrolment.details["expected_release_date"] == release.isoformat()
    session.close()

    # The school's inbox: the share is new since its last look.
    school.go("/")
    inbox = school.page.locator("#inbox")
    expect(inbox).to_be_visible()
    expect(school.page.locator(".app-inbox-since")).to_contain_text("new since you last looked")
    expect(school.page.locator("#inbox ~ ul .govuk-tag", has_text="New").first).to_be_visible()
    school.check("inbox-new-since-last-look")
    school.close()
