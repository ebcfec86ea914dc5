"""Programme fixtures. The three standard programmes come from the same catalogue as the data
migration (re-installed here so tests do not depend on a flushed or unflushed database), run by
the VRU, with `coordinator` on DIVERT and Invisible Walls and `other_coordinator` on Street and
Arrow only. Cases are led by the police and NOT shared with the VRU unless a test says so."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from partners.models import Role
from programmes import services
from programmes.catalogue import install_standard_programmes
from programmes.models import Enrolment, Programme
from tests import factories
from tests.factories import actor

DIVERT_CUSTODY = {
    "cohort": "custody",
    "custody_suite": "Northshire Central",
    "approached_at": "2026-03-01T02:15:00+00:00",
    "approach_outcome": "engaged",
    "pathway": "training",
}


def years_ago(years: int, days: int = 30) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=days)


@pytest.fixture
def other_coordinator(vru):
    return factories.make_user(vru, Role.COORDINATOR, email="other-coordinator@vru.example")


@pytest.fixture
def programmes(db, vru, coordinator, other_coordinator):
    install_standard_programmes(Programme)
    by_slug = {p.slug: p for p in Programme.objects.all()}
    for slug in ("divert", "invisible-walls", "street-and-arrow"):
        Programme.objects.filter(slug=slug).update(owner=vru)
    by_slug["divert"].coordinators.set([coordinator])
    by_slug["invisible-walls"].coordinators.set([coordinator])
    by_slug["street-and-arrow"].coordinators.set([other_coordinator])
    return {slug: Programme.objects.get(slug=slug) for slug in by_slug}


@pytest.fixture
def divert(programmes):
    return programmes["divert"]


@pytest.fixture
def invisible_walls(programmes):
    return programmes["invisible-walls"]


@pytest.fixture
def street_and_arrow(programmes):
    return programmes["street-and-arrow"]


@pytest.fixture
def make_case(officer, agreement):
    """make_case(by=officer, dob=..., given_name=...) → a case led by `by`'s partner."""

    def make(by=None, *, dob=None, given_name="Tyler", **person):
        return factories.CaseFactory(
            by=by or officer,
            summary="Secret case summary.",
            subject__given_name=given_name,
            subject__family_name="Brooks",
            subject__date_of_birth=dob if dob is not None else years_ago(21),
            **{f"subject__{name}": value for name, value in person.items()},
        )

    return make


@pytest.fixture
def case(make_case):
    return make_case()


def share(case, partner, by):
    case_services.case_share(
        actor=actor(by), case=case, partner=partner, lawful_basis="public_task", reason="intake"
    )


@pytest.fixture
def refer(officer):
    """refer(programme, case, details=..., priority=..., by=officer) through the service."""

    def make(programme, case, details=None, *, priority=3, by=None, person=None) -> Enrolment:
        return services.enrolment_create(
            actor=actor(by or officer),
            programme=programme,
            person=person or case.subject,
            case=case,
            details=DIVERT_CUSTODY if details is None else details,
            priority=priority,
        )

    return make


@pytest.fixture
def move(coordinator):
    """move(enrolment, "to", by=coordinator, **kwargs) through the service, as the API does."""
    from programmes import access

    def make(enrolment, to, *, by=None, **kwargs) -> Enrolment:
        who = actor(by or coordinator)
        visible = access.enrolments_visible_to(who).select_related("programme").get(pk=enrolment.pk)
        return services.enrolment_transition(actor=who, enrolment=visible, to=to, **kwargs)

    return make


@pytest.fixture
def checked(refer, move, case):
    """A DIVERT enrolment whose eligibility is checked: ready for a place."""

    def make(programme, a_case=None, **kwargs):
        enrolment = refer(programme, a_case or case, **kwargs)
        return move(enrolment, "eligibility_checked")

    return make
