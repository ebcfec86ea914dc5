"""Web fixtures: a police-led case shared with the school; the usual personas from tests/conftest.py."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import LawfulBasis
from partners.models import Role
from programmes import access as programme_access
from programmes import services as programme_services
from tests import factories
from tests.factories import ui_actor

# `make screenshots` (UPDATE_SCREENSHOTS=1) takes the README images at a fixed moment, so a refresh
# changes only what changed on the pages, not every date on them. The clock ticks from there.
SCREENSHOT_CLOCK = "2026-11-30T09:30:00+00:00"


@pytest.fixture(scope="session", autouse=True)
def fixed_clock_for_screenshots():
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        yield
        return
    import time_machine
    from django.test import override_settings

    # Cookies must not carry an expiry date computed from the fixed clock: the browser keeps
    # real time and would drop them.
    with (
        time_machine.travel(SCREENSHOT_CLOCK, tick=True),
        override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=True, CSRF_COOKIE_AGE=None),
    ):
        yield


# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told the caller knows what it is doing (live_server runs elsewhere).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture
def agreement(police, school, vru, outsider_partner):
    # The outsider is party too: access must come from shares, not from agreements.
    return factories.AgreementFactory(
        name="Test partnership agreement",
        parties=[police, school, vru, outsider_partner],
        review_date=timezone.localdate() + timedelta(days=365),
    )


@pytest.fixture
def person(officer):
    return case_services.person_create(
        actor=ui_actor(officer),
        data={
            "given_name": "Jayden",
            "family_name": "Clarke",
            "preferred_name": "Jay",
            "pronouns": "he/him",
            "date_of_birth": date(2010, 3, 14),
        },
        identifiers=[{"scheme": "nhs", "value": "9434765919"}],
    )


@pytest.fixture
def case(officer, person, school, agreement):
    """Led by the police (officer is lead practitioner), shared with the school."""
    actor = ui_actor(officer)
    case = case_services.case_create(
        actor=actor,
        subject=person,
        data={
            "summary": "Seen with older youths near the station late at night.",
            "goals": "To stay in school",
        },
    )
    case_services.case_share(
        actor=actor,
        case=case,
        partner=school,
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        reason="Joint safeguarding work",
    )
    return case


@pytest.fixture
def hidden_case(outsider):
    """A case led by the unrelated partner, shared with nobody."""
    actor = ui_actor(outsider)
    person = case_services.person_create(
        actor=actor,
        data={"given_name": "Morgan", "family_name": "Reed", "date_of_birth": date(2009, 5, 1)},
        identifiers=[{"scheme": "nhs", "value": "9434765870"}],
    )
    return case_services.case_create(actor=actor, subject=person, data={"summary": "Private"})


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for every browser test under tests/web/."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pw = sync_api.sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path="/usr/bin/chromium",
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-dev-shm-usage",
        ],
    )
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def divert(coordinator):
    from programmes.catalogue import install_standard_programmes
    from programmes.models import Programme

    # A transactional test elsewhere may have emptied the tables the data migration filled.
    install_standard_programmes(Programme)
    programme = Programme.objects.get(slug="divert")
    programme.coordinators.set([coordinator])
    return programme


@pytest.fixture
def young_case(officer, school, agreement):
    """A 20-year-old's case, led by the police and shared with the school: DIVERT-eligible by age."""
    actor = ui_actor(officer)
    today = timezone.localdate()
    person = case_services.person_create(
        actor=actor,
        data={
            "given_name": "Tyler",
            "family_name": "Brooks",
            "pronouns": "they/them",
            "date_of_birth": today.replace(year=today.year - 20, day=1),
        },
    )
    case = case_services.case_create(actor=actor, subject=person, data={"summary": "Arrested"})
    case_services.case_share(
        actor=actor, case=case, partner=school, lawful_basis="public_task", reason="Joint work"
    )
    return case


DO_NOT_TELL = "Their stepfather: do not say where they live"


@pytest.fixture
def mentor(vru):
    return factories.make_user(vru, Role.PRACTITIONER, email="mentor@vru.example", name="Jay Coach")


@pytest.fixture
def enrolment(young_case, divert, officer, coordinator, mentor, vru):
    """Tyler's DIVERT enrolment, enrolled, with the mentor (of the VRU, which runs DIVERT) as
    key worker, and a safety summary."""
    divert.owner = vru
    divert.save(update_fields=["owner"])
    person = young_case.subject
    case_services.person_update(
        actor=ui_actor(officer), person=person, expected_version=person.version, data={},
        contact_safety={"do_not_tell": DO_NOT_TELL, "safe_contact_how": "Text only"},
    )  # fmt: skip
    enrolment = programme_services.enrolment_create(
        actor=ui_actor(officer), programme=divert, person=person, case=young_case,
        details={"cohort": "custody", "custody_suite": "Central",
                 "approached_at": "2026-03-01T02:15:00+00:00"},
    )  # fmt: skip
    for to in ("eligibility_checked", "enrolled"):
        enrolment = programme_services.enrolment_transition(
            actor=ui_actor(coordinator), enrolment=enrolment, to=to
        )
    visible = programme_access.enrolments_visible_to(ui_actor(coordinator)).get(pk=enrolment.pk)
    return programme_services.enrolment_update(
        actor=ui_actor(coordinator), enrolment=visible, expected_version=visible.version,
        data={"key_worker": mentor},
    )  # fmt: skip
