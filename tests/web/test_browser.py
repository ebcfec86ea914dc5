"""The journey in real headless Chromium, with axe-core on the main pages and README screenshots.

A practitioner submits a referral and sees the duplicate warning, shares the case and screens it
jointly with another partner, adds a chronology entry and refers to DIVERT; a coordinator enrols
from the waiting list; a user of an unrelated partner reaches none of it by URL.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# README screenshots are refreshed only on request (UPDATE_SCREENSHOTS=1): tests never rewrite
# tracked files otherwise.
SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
UPDATE_SHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"


def save_shot(page, name: str, **options) -> None:
    if UPDATE_SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), **options)


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"Chromium not installed at {CHROMIUM}"
    ),
]


def watch_csp(page) -> list[str]:
    """Everything the Content-Security-Policy refuses on `page`, as Chromium reports it."""
    refused: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return refused


class Session:
    """One signed-in person in their own browser context."""

    def __init__(self, browser, base_url: str, user):
        self.base = base_url
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(10000)
        self.csp_violations = watch_csp(self.page)
        self.go("/login/")
        self.page.fill("#id_username", user.email)
        self.page.click("button:has-text('Continue')")  # email first, then the password
        self.page.fill("#id_password", "correct-horse-battery-staple")
        self.page.click("button:has-text('Sign in')")
        self.page.wait_for_load_state()
        assert "/login/" not in self.page.url, "sign-in failed"

    def go(self, path: str):
        response = self.page.goto(self.base + path)
        return response.status if response else None

    def axe(self, label: str) -> None:
        """No serious or critical WCAG 2.x A/AA violations on the current page, and nothing the
        Content-Security-Policy refused so far."""
        assert not getattr(self, "csp_violations", []), f"CSP violations by {label}"
        # Evaluated over the DevTools protocol: a <script> tag (add_script_tag) would be inline
        # script, which the Content-Security-Policy refuses.
        self.page.evaluate(AXE.read_text())
        result = self.page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
                resultTypes: ['violations']})"""
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {label}:\n" + "\n".join(bad)

    def shot(self, name: str, *, full_page: bool = True) -> None:
        save_shot(self.page, name, full_page=full_page)

    def check(self, name: str, *, full_page: bool = True) -> None:
        self.axe(name)
        self.shot(name, full_page=full_page)

    def close(self):
        self.context.close()


@pytest.fixture
def journey_data(transactional_db):
    from cases import services as case_services
    from partners.models import Role
    from programmes.catalogue import install_standard_programmes
    from programmes.models import Programme
    from tests import factories
    from tests.factories import ui_actor

    police = factories.make_partner("police", sector="police", name="Northshire Police")
    school = factories.make_partner("school", sector="education", name="Riverside School")
    vru = factories.make_partner("vru", sector="vru", name="Northshire VRU")
    elsewhere = factories.make_partner("elsewhere", sector="housing", name="Elsewhere Homes")
    case_services.agreement_create(
        name="Northshire partnership agreement",
        parties=[police, school, vru, elsewhere],
        review_date=date(2030, 1, 1),
    )
    people = {
        "officer": factories.make_user(police, Role.PRACTITIONER, email="officer@police.example", name="PC Sam Okafor"),
        "sergeant": factories.make_user(police, Role.MANAGER, email="sergeant@police.example", name="Sgt Priya Shah"),
        "teacher": factories.make_user(school, Role.PRACTITIONER, email="dsl@school.example", name="Jo Hughes"),
        "coordinator": factories.make_user(vru, Role.COORDINATOR, email="coordinator@vru.example", name="Alex Morgan"),
        "auditor": factories.make_user(vru, Role.AUDITOR, email="auditor@vru.example", name="Chris Doyle"),
        "outsider": factories.make_user(elsewhere, Role.PRACTITIONER, email="outsider@elsewhere.example", name="Pat Outsider"),
    }  # fmt: skip
    people["officer"].profile.trauma_training_level = "skilled"
    people["officer"].profile.high_exposure = True
    people["officer"].profile.save()
    # transactional_db empties tables between tests, data migrations' rows included.
    install_standard_programmes(Programme)
    Programme.objects.get(slug="divert").coordinators.set([people["coordinator"]])
    # Elsewhere Homes already knows someone like the person about to be referred: not shared.
    today = timezone.localdate()
    dob = today.replace(year=today.year - 20, month=3, day=2)
    case_services.person_create(
        actor=ui_actor(people["outsider"]),
        data={"given_name": "Tyler", "family_name": "Brookes", "date_of_birth": dob},
    )
    people["dob"] = dob
    return people


def test_the_referral_journey(browser, live_server, journey_data, settings):
    from casework.models import ChronologyEntry, Referral
    from programmes.models import Enrolment

    settings.DEBUG = False
    people = journey_data
    dob = people["dob"]
    officer = Session(browser, live_server.url, people["officer"])
    page = officer.page

    # My work, then a new referral.
    officer.check("my-work")
    page.click("text=Make a new referral")
    page.fill("#id_given_name", "Tyler")
    page.fill("#id_family_name", "Brooks")
    page.fill("#id_pronouns", "they/them")
    page.fill("#id_date_of_birth_day", str(dob.day))
    page.fill("#id_date_of_birth_month", str(dob.month))
    page.fill("#id_date_of_birth_year", str(dob.year))
    page.check("label:has-text('Carrying a knife or weapon')")
    page.check("label:has-text('Gang association')")
    page.fill(
        "#id_description", 'Arrested after a fight outside the station. Said: "I just want a job."'
    )
    page.check("label:has-text('Standard')")
    officer.axe("new referral")
    page.click("button:has-text('Check and save referral')")

    # The duplicate check, before anything is saved: a match held elsewhere is only counted.
    warning = page.locator(".app-duplicate-warning")
    assert "1 possible match held by other partners" in warning.inner_text()
    assert "Brookes" not in page.content()
    assert not Referral.objects.exists()
    officer.check("referral-duplicate-check", full_page=False)
    page.click("button:has-text('This is a different person: save the referral')")
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]+/$"))
    referral = Referral.objects.get()
    assert referral.concerns == ["gang_association", "weapon_carrying"]
    case_url = f"/cases/{referral.case_id}/"
    assert "Tyler Brooks" in page.locator("h1").inner_text()
    assert "they/them" in page.locator(".app-person-header").inner_text()

    # Share with the school, so the screening can be joint.
    page.click("text=Share with another partner")
    expect(page.locator("form .govuk-radios").first).to_contain_text(
        "Under the data sharing agreement"
    )
    page.check("label:has-text('Riverside School')")
    page.check("label:has-text('Public task')")
    page.fill("#id_reason", "Joint screening with the school's DSL")
    officer.check("share-case")
    page.click("button:has-text('Share case')")
    expect(page.locator("body")).to_contain_text("now shared with Riverside School")

    # Joint screening, with the school taking part.
    page.click("text=Record joint screening")
    page.check("label:has-text('Programme referral')")
    page.fill("#id_reasons", "Agreed with the DSL: eligible for custody coaching.")
    page.check("input[name=participants][value=school]")
    officer.check("joint-screening")
    page.click("button:has-text('Save')")
    expect(page.locator("body")).to_contain_text("joint screening decision has been recorded")

    # A chronology entry, kept to the police.
    page.click("text=Add an entry")
    page.select_option("#id_kind", "custody_contact")
    today = timezone.localdate()
    page.fill("#id_occurred_on_day", str(today.day))
    page.fill("#id_occurred_on_month", str(today.month))
    page.fill("#id_occurred_on_year", str(today.year))
    page.fill("#id_body", "Spoke with Tyler in custody. They asked about the coaching.")
    page.check('label:has-text("partner only")')
    officer.axe("add entry")
    page.click("button:has-text('Add entry')")
    assert ChronologyEntry.objects.get().visibility == "partner"

    # Refer to DIVERT.
    page.click("text=Refer to a programme")
    page.click("text=DIVERT custody coaching")
    page.check("label:has-text('In police custody')")
    page.fill("#id_custody_suite", "Northshire Central")
    expect(page.locator("#eligibility-preview")).to_be_visible()
    expect(page.locator("#id_approached_at_day")).to_have_count(0)  # the coach records it
    officer.check("refer-to-divert")
    page.click("button:has-text('Send referral')")
    expect(page.locator("body")).to_contain_text("Referred to DIVERT custody coaching")
    officer.go(case_url)
    officer.check("case")
    # Correct their details: the person's own pronouns, kept everywhere.
    page.click("text=Change Tyler Brooks’s details")
    page.fill("#id_town", "Northshire")
    officer.check("person-details")
    page.click("button:has-text('Save details')")
    expect(page.locator("body")).to_contain_text("details have been saved")
    enrolment = Enrolment.objects.get()

    # The manager's screening queue and staff (after the screening, the queue is empty).
    manager = Session(browser, live_server.url, people["sergeant"])
    manager.go("/manager/caseload/")
    manager.check("manager-caseload")
    manager.go("/manager/staff/")
    manager.check("manager-staff")
    manager.go("/manager/screening/")
    manager.axe("screening queue")
    manager.close()

    # The coordinator: check eligibility, waiting list, offer the next place, enrol.
    coordinator = Session(browser, live_server.url, people["coordinator"])
    k = coordinator.page
    coordinator.go("/programmes/")
    k.click("text=Intake board")
    expect(k.locator("body")).to_contain_text("Tyler Brooks")
    k.click("a:has-text('Tyler Brooks')")
    coordinator.check("enrolment")
    k.check("label:has-text('Eligibility checked')")
    k.click("button:has-text('Save')")
    k.click("a:has-text('Tyler Brooks')")
    k.check("label:has-text('On the waiting list')")
    k.click("button:has-text('Save')")
    coordinator.check("intake-board")
    k.click("button:has-text('Offer the next place')")
    expect(k.locator("body")).to_contain_text("first on the waiting list")
    k.click("a:has-text('Tyler Brooks')")
    k.check("label:has-text('Enrolled')")
    k.click("button:has-text('Save')")
    enrolment.refresh_from_db()
    assert enrolment.status == "enrolled"
    # A session on the enrolment page, then the partnership figures (suppressed).
    coordinator.go(f"/enrolments/{enrolment.pk}/")
    k.click("text=Record a session")
    k.select_option("#id_session-kind", "coaching")
    k.fill("#id_session-occurred_on_day", str(today.day))
    k.fill("#id_session-occurred_on_month", str(today.month))
    k.fill("#id_session-occurred_on_year", str(today.year))
    k.check("label:has-text('Attended')")
    k.click("button:has-text('Record session')")
    expect(k.locator("body")).to_contain_text("The session has been recorded")
    coordinator.go("/reports/")
    expect(k.locator("body")).to_contain_text("<10")
    coordinator.check("reports")
    coordinator.close()

    # The unrelated partner cannot reach any of it by URL, or find it.
    outsider = Session(browser, live_server.url, people["outsider"])
    for path in [case_url, f"{case_url}share/", f"{case_url}entries/new/",
                 f"/enrolments/{enrolment.pk}/", f"/referrals/{referral.pk}/screen/",
                 "/programmes/divert/intake/", f"/people/{referral.subject_id}/new-referral/"]:  # fmt: skip
        assert outsider.go(path) == 404, path
        assert "Tyler Brooks" not in outsider.page.content()
    outsider.check("not-found")
    # Emergency access: the form reveals nothing about the reference until confirmed.
    outsider.go(f"/cases/emergency-access/?reference={referral.case.reference}")
    assert "Tyler" not in outsider.page.content()
    outsider.check("emergency-access")
    outsider.go("/cases/?q=Brooks")
    expect(outsider.page.locator("body")).to_contain_text("0 cases found")
    outsider.close()

    # The auditor sees who opened the record, never its content.
    auditor = Session(browser, live_server.url, people["auditor"])
    auditor.go(f"/audit/access-log/?case={referral.case.reference}")
    expect(auditor.page.locator("body")).to_contain_text(
        "outsider@elsewhere.example"
    )  # the refused attempts
    expect(auditor.page.locator("body")).to_contain_text("Refused")
    auditor.check("audit-access-log", full_page=False)
    auditor.close()
    officer.close()


def test_sign_in_pages_and_the_session_timeout_warning(
    browser, live_server, journey_data, settings
):
    settings.SESSION_IDLE_TIMEOUT = 4  # the warning shows halfway through
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused = watch_csp(page)
    page.goto(live_server.url + "/login/")
    Session.axe(type("S", (), {"page": page, "csp_violations": refused})(), "sign in")
    page.fill("#id_username", "officer@police.example")
    page.click("button:has-text('Continue')")
    page.fill("#id_password", "wrong password")
    page.click("button:has-text('Sign in')")
    expect(page.locator("body")).to_contain_text("Enter a correct email address and password")
    save_shot(page, "sign-in-error", full_page=True)
    page.fill("#id_username", "officer@police.example")
    page.fill("#id_password", "correct-horse-battery-staple")
    page.click("button:has-text('Sign in')")
    dialog = page.locator("#session-timeout")
    dialog.wait_for(state="visible", timeout=5000)
    assert "You will be signed out soon" in dialog.inner_text()
    save_shot(page, "session-timeout-warning")
    page.click("#session-stay")
    dialog.wait_for(state="hidden", timeout=3000)
    # Left alone, the page signs the person out and says why.
    page.wait_for_url(re.compile(r"/login/\?timeout=1"), timeout=10000)
    expect(page.locator("body")).to_contain_text(
        "You were signed out to keep people's information safe"
    )
    assert not refused, refused
    context.close()


def test_the_content_security_policy_refuses_nothing_the_pages_need(
    browser, live_server, journey_data, settings
):
    """GOV.UK Frontend starts (js-enabled, components initialised), the session timeout script
    runs, the search posts, and the self-hosted API docs render, all under a policy with no
    inline script or style; Chromium reports nothing refused on any of them."""
    settings.DEBUG = False
    officer = Session(browser, live_server.url, journey_data["officer"])
    page = officer.page
    for path in ["/", "/cases/", "/referrals/new/", "/follow-ups/", "/programmes/"]:
        assert officer.go(path) == 200, path
        assert page.evaluate("document.body.classList.contains('js-enabled')"), path
        assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    officer.go("/cases/")
    page.fill("#id_q", "Brookes")
    page.click("button:has-text('Search')")
    page.wait_for_url(re.compile(r"/cases/\?search="))
    assert "Brookes" not in page.url
    expect(page.locator("body")).to_contain_text("found for ‘Brookes’")
    officer.axe("case search results")
    officer.go("/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15000)
    assert not officer.csp_violations, officer.csp_violations
    coordinator = Session(browser, live_server.url, journey_data["coordinator"])
    coordinator.go("/reports/")
    coordinator.axe("reports")
    assert not coordinator.csp_violations, coordinator.csp_violations
    coordinator.close()
    officer.close()
