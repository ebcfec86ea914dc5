"""The world the rights table is run against, built once per module through the services.

It is built inside a transaction opened for the module and rolled back at its end, and every test
runs in a savepoint of it (pytest-django's `db`), so a cell's writes never reach the next cell
and nothing is left behind for other modules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from cases import services as case_services
from cases.identifiers import Scheme
from cases.models import LawfulBasis, PersonIdentifier
from casework import services as casework_services
from governance import services as governance_services
from partners.models import Role
from programmes import access as programme_access
from programmes import services as programme_services
from programmes.catalogue import install_standard_programmes
from programmes.models import Programme
from sync.models import ExternalRef
from tests import factories
from tests.rights.table import SITUATIONS

BREAK_GLASS_REASON = "Missing overnight; police need the school's concerns now."


class Browser:
    """A signed-in browser that checks CSRF as a real one does (enforce_csrf_checks): it reads a
    page once for its CSRF cookie and posts the token with every form.

    It signs in while the world is built, so its session outlives each test's savepoint."""

    def __init__(self, user):
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)
        page = self.client.get("/", follow=True)  # an auditor's home is the access log
        assert page.status_code == 200, page.status_code
        self.token = self.client.cookies["csrftoken"].value
        # The token the page's forms carry is the one posted (masked, as a browser sends it).
        found = _FORM_TOKEN.search(page.content)
        if found:
            self.token = found.group(1).decode()

    def get(self, url):
        return self.client.get(url)

    def post(self, url, data: dict):
        return self.client.post(url, {**data, "csrfmiddlewaretoken": self.token})


_FORM_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Persona:
    user: object | None  # None for the partner system
    token: str
    browser: Browser | None = None  # None for the partner system, which has no web pages


@dataclass
class Situation:
    """A case and its subject, as the police stand towards them."""

    case_id: object
    reference: str
    subject_id: object
    family_name: str
    referral_id: object
    case_local_id: str  # the police's own id for the case (ExternalRef)
    person_local_id: str  # the police's local identifier on the subject


@dataclass
class World:
    police: object
    school: object
    third: object  # a third partner party to the agreement: what the lead shares with
    vru: object
    personas: dict[str, Persona]
    situations: dict[str, Situation]
    divert: object
    # The programme table.
    enrolment_id: object
    programme_personas: dict[str, Persona] = field(default_factory=dict)
    # A subject access request the police's managers made about another police case's subject
    # (its pack ready), and that person.
    subject_access_id: object = None
    subject_access_person_id: object = None


_actor = factories.actor


def _twenty_years_old():
    today = timezone.localdate()
    return today.replace(year=today.year - 20, day=1)


def _case(lead_user, name: str, given: str, family: str):
    """A case led by the user's partner about a new 20-year-old (DIVERT takes 18 to 25)."""
    actor = _actor(lead_user)
    person = case_services.person_create(
        actor=actor,
        data={"given_name": given, "family_name": family, "date_of_birth": _twenty_years_old()},
    )
    case = case_services.case_create(
        actor=actor, subject=person, data={"summary": f"Rights table: {name} case."}
    )
    return case


def _situation(name, *, lead_user, police, police_user_for_break_glass=None, share_to=None):
    family = f"Rightstable{name.title().replace('_', '')}"
    case = _case(lead_user, name, "Sam", family)
    actor = _actor(lead_user)
    if share_to is not None:
        case_services.case_share(
            actor=actor,
            case=case,
            partner=share_to,
            lawful_basis=LawfulBasis.PUBLIC_TASK,
            reason="Joint safeguarding work",
        )
    if police_user_for_break_glass is not None:
        casework_services.break_glass_open(
            actor=_actor(police_user_for_break_glass), case_id=case.pk, reason=BREAK_GLASS_REASON
        )
    intake = casework_services.referral_create(
        actor=actor,
        concerns=["gang_association"],
        description="Seen with older youths.",
        subject=case.subject,
        case=case,
    )
    # The police system knows the case and the person by its own ids (batch sync keys).
    case_local_id = f"RMS-CASE-{name}"
    person_local_id = f"RMS-PERSON-{name}"
    ExternalRef.objects.create(
        partner=police, resource="case", local_id=case_local_id, object_id=case.pk
    )
    PersonIdentifier.objects.create(
        person=case.subject, scheme=Scheme.LOCAL, value=person_local_id, issuer=police
    )
    return Situation(
        case_id=case.pk,
        reference=case.reference,
        subject_id=case.subject_id,
        family_name=family,
        referral_id=intake.referral.pk,
        case_local_id=case_local_id,
        person_local_id=person_local_id,
    )


def _persona(user) -> Persona:
    return Persona(user, factories.token_for(user), Browser(user))


def build_world() -> World:
    police = factories.make_partner("police", sector="police", name="Northshire Police")
    school = factories.make_partner("school", sector="education", name="Riverside School")
    third = factories.make_partner("youth-team", sector="youth_justice", name="Youth Team")
    vru = factories.make_partner("vru", sector="vru", name="Northshire VRU")
    case_services.agreement_create(
        name="Rights table agreement",
        parties=[police, school, third],
        review_date=timezone.localdate() + timedelta(days=365),
    )

    personas = {
        role: _persona(factories.make_user(police, role, email=f"{role}@police.example"))
        for role in (Role.PRACTITIONER, Role.MANAGER, Role.COORDINATOR, Role.AUDITOR, Role.ADMIN)
    }
    personas["client"] = Persona(None, factories.client_token(police, "read,write,sync"))

    # The cases are opened by colleagues, not by the actors themselves.
    police_caseworker = factories.make_user(police, Role.PRACTITIONER, email="pc@police.example")
    school_lead = factories.make_user(school, Role.PRACTITIONER, email="dsl@school.example")
    practitioner = personas["practitioner"].user
    situations = {
        "lead": _situation("lead", lead_user=police_caseworker, police=police),
        "shared": _situation("shared", lead_user=school_lead, police=police, share_to=police),
        "break_glass": _situation(
            "break_glass",
            lead_user=school_lead,
            police=police,
            police_user_for_break_glass=practitioner,
        ),
        "unrelated": _situation("unrelated", lead_user=school_lead, police=police),
    }
    assert set(situations) == set(SITUATIONS)

    # Programmes: DIVERT run by the VRU, one of its coordinators named, one not.
    install_standard_programmes(Programme)
    Programme.objects.filter(slug__in=["divert", "invisible-walls", "street-and-arrow"]).update(
        owner=vru
    )
    programme_coordinator = factories.make_user(vru, Role.COORDINATOR, email="divert@vru.example")
    other_coordinator = factories.make_user(vru, Role.COORDINATOR, email="other@vru.example")
    divert = Programme.objects.get(slug="divert")
    divert.coordinators.set([programme_coordinator])
    Programme.objects.get(slug="street-and-arrow").coordinators.set([other_coordinator])

    # An enrolment in DIVERT, status enrolled, on another case the police lead (the lead case of
    # the main table is referred to DIVERT by the cells themselves).
    programme_case = _case(police_caseworker, "programme", "Tyler", "Rightstableprogramme")
    enrolment = programme_services.enrolment_create(
        actor=_actor(police_caseworker),
        programme=divert,
        person=programme_case.subject,
        case=programme_case,
        details={"cohort": "care_leaver"},
    )
    coordinator_actor = _actor(programme_coordinator)
    for to in ("eligibility_checked", "enrolled"):
        visible = programme_access.enrolment_get_for(coordinator_actor, enrolment.pk, log_as=None)
        enrolment = programme_services.enrolment_transition(
            actor=coordinator_actor, enrolment=visible, to=to
        )
    assert enrolment.status == "enrolled"
    # A school practitioner who reads the programme case only through break-glass.
    school_practitioner = factories.make_user(school, Role.PRACTITIONER, email="bg@school.example")
    casework_services.break_glass_open(
        actor=_actor(school_practitioner), case_id=programme_case.pk, reason=BREAK_GLASS_REASON
    )
    programme_personas = {
        "programme_coordinator": _persona(programme_coordinator),
        "other_coordinator": _persona(other_coordinator),
        "case_practitioner": personas["practitioner"],
        "break_glass_practitioner": _persona(school_practitioner),
        "auditor": _persona(factories.make_user(vru, Role.AUDITOR, email="auditor@vru.example")),
    }

    # Information rights: a subject access pack the police's managers asked for, built. About the
    # programme case's subject, whom no cell disposes of (disposal deletes the person's packs).
    request = governance_services.subject_access_request(
        actor=_actor(personas["manager"].user), person=programme_case.subject
    )
    assert governance_services.subject_access_generate(request.pk) == "ready"

    return World(
        subject_access_id=request.pk,
        subject_access_person_id=programme_case.subject_id,
        police=police,
        school=school,
        third=third,
        vru=vru,
        personas=personas,
        situations=situations,
        divert=divert,
        enrolment_id=enrolment.pk,
        programme_personas=programme_personas,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module in a transaction that is rolled back afterwards; each test runs
    in a savepoint inside it (pytest-django supports wrapping tests in wider transactions).
    Subject access packs are written under the test run's own temporary directory."""
    packs = override_settings(SUBJECT_ACCESS_DIR=tmp_path_factory.mktemp("packs"))
    packs.enable()
    try:
        yield from _world(django_db_blocker)
    finally:
        packs.disable()


def _world(django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module", params=["few", "many"], autouse=True)
def visibility_form(request):
    """Every cell is answered by both forms of the visibility rule: listed from the partner's few
    cases, and (every partner counted as large) joined through the ordered access index."""
    from cases import access

    with pytest.MonkeyPatch.context() as patch:
        if request.param == "many":
            patch.setattr(access, "FEW_CASES", 0)
        yield request.param
