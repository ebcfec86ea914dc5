"""Eligibility is re-checked when the case changes in a way the rules read: a date of birth
corrected, an adversity recorded. The explanation says when, and that it was automatic; each
reader still sees the verdict as they may."""

from __future__ import annotations

import pytest

from cases import services as case_services
from casework import services as casework_services
from programmes import services
from programmes.eligibility import seen_by
from programmes.models import Enrolment
from tests.programmes.conftest import actor, share, years_ago

pytestmark = pytest.mark.django_db

DETAILS = {
    "prison": "HMP Northshire",
    "imprisoned_family_member": {"name": "Dan", "relationship": "father"},
}


def adversity_rule(eligibility):
    [rule] = [r for r in eligibility["rules"] if r["rule"] == "adversities"]
    return rule


def test_recording_an_adversity_re_checks_the_open_enrolments_on_the_case(
    make_case, officer, coordinator, invisible_walls
):
    case = make_case(dob=years_ago(9))
    enrolment = services.enrolment_create(
        actor=actor(officer), programme=invisible_walls, person=case.subject, case=case,
        details=DETAILS,
    )  # fmt: skip
    assert adversity_rule(enrolment.eligibility)["outcome"] == "not_met"
    casework_services.adversity_create(
        actor=actor(officer), case=case, code="parental_incarceration", source="disclosed"
    )
    enrolment.refresh_from_db()
    assert adversity_rule(enrolment.eligibility)["outcome"] == "met"
    assert enrolment.eligibility["eligible"] is True and enrolment.eligibility["automatic"]
    assert enrolment.version == 2


def test_correcting_a_date_of_birth_re_checks_the_persons_enrolments(make_case, officer, divert):
    case = make_case(dob=years_ago(20))
    enrolment = services.enrolment_create(
        actor=actor(officer), programme=divert, person=case.subject, case=case,
        details={"cohort": "care_leaver"},
    )  # fmt: skip
    assert enrolment.eligibility["eligible"] is True
    person = case.subject
    case_services.person_update(
        actor=actor(officer), person=person, expected_version=person.version,
        data={"date_of_birth": years_ago(16)},
    )  # fmt: skip
    enrolment.refresh_from_db()
    assert enrolment.eligibility["eligible"] is False
    assert enrolment.eligibility["automatic"] is True


def test_a_closed_enrolment_is_left_as_it_was(make_case, officer, coordinator, divert):
    case = make_case(dob=years_ago(20))
    enrolment = services.enrolment_create(
        actor=actor(officer), programme=divert, person=case.subject, case=case,
        details={"cohort": "care_leaver"},
    )  # fmt: skip
    services.enrolment_transition(
        actor=actor(coordinator), enrolment=enrolment, to="withdrawn", reason="Moved away",
        expected_version=enrolment.version,
    )  # fmt: skip
    before = Enrolment.objects.get(pk=enrolment.pk).eligibility
    person = case.subject
    case_services.person_update(
        actor=actor(officer), person=person, expected_version=person.version,
        data={"date_of_birth": years_ago(16)},
    )  # fmt: skip
    assert Enrolment.objects.get(pk=enrolment.pk).eligibility == before


def test_a_re_check_on_someone_elses_view_reveals_nothing_to_a_reader(
    make_case, officer, teacher, school, invisible_walls
):
    """The school records a sensitive adversity the police may not see: the automatic re-check
    runs on the school's view, but the police still see the rule as not met."""
    case = make_case(dob=years_ago(9))
    share(case, school, officer)
    enrolment = services.enrolment_create(
        actor=actor(officer), programme=invisible_walls, person=case.subject, case=case,
        details=DETAILS,
    )  # fmt: skip
    casework_services.adversity_create(
        actor=actor(teacher), case=case, code="parental_incarceration", source="disclosed",
        sensitive=True,
    )  # fmt: skip
    enrolment.refresh_from_db()
    shown_to_police = seen_by(actor(officer), [enrolment])[enrolment.pk]
    assert adversity_rule(shown_to_police)["outcome"] == "not_met"
    assert "Recorded on the case" not in adversity_rule(shown_to_police)["explanation"]
    shown_to_school = seen_by(actor(teacher), [enrolment])[enrolment.pk]
    assert adversity_rule(shown_to_school)["outcome"] == "met"
