"""A person's contact details and safe-contact preferences: on the person resource only for those
working a case about them (or running their enrolment), changed with If-Match under their own
right, and every read and change in the access log by ids, never the values."""

from __future__ import annotations

from datetime import date

import pytest

from audit.models import AccessLog
from cases import access, services
from casework import services as casework_services
from partners.models import Role
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.django_db

SAFETY = {
    "phone": "07700 900123",
    "email": "jay@example.org",
    "safe_contact_how": "Text only, never call",
    "safe_contact_when": "Weekdays after 4pm",
    "do_not_tell": "Their father: a non-molestation order is in place",
    "safety_summary": "Lives with mum at a refuge address; never say where.",
}
SECRET_VALUES = [v for v in SAFETY.values()]


@pytest.fixture
def safe_case(shared_case, officer):
    services.person_update(
        actor=actor(officer),
        person=shared_case.subject,
        expected_version=shared_case.subject.version,
        data={},
        contact_safety=SAFETY,
    )
    shared_case.subject.refresh_from_db()
    return shared_case


def person_url(case) -> str:
    return f"/api/v1/people/{case.subject_id}"


class TestWhoSeesIt:
    def test_the_lead_partner_sees_it_and_the_read_is_logged(self, api, officer, safe_case):
        body = api(officer).get(person_url(safe_case)).json()
        assert body["contact_safety"]["do_not_tell"] == SAFETY["do_not_tell"]
        assert body["contact_safety"]["updated_at"] is not None
        row = AccessLog.objects.get(action="view_contact_safety", user=officer)
        assert row.object_id == str(safe_case.subject_id)
        assert not any(v in str(row.detail) for v in SECRET_VALUES)

    def test_a_partner_the_case_is_shared_with_sees_it(self, api, teacher, safe_case):
        body = api(teacher).get(person_url(safe_case)).json()
        assert body["contact_safety"]["safe_contact_how"] == "Text only, never call"

    def test_another_partner_gets_404_and_nothing_in_the_list(self, api, outsider, safe_case):
        client = api(outsider)
        assert client.get(person_url(safe_case)).status_code == 404
        listed = client.get("/api/v1/people/").json()["results"]
        assert str(safe_case.subject_id) not in {p["id"] for p in listed}
        assert not AccessLog.objects.filter(action="view_contact_safety", user=outsider).exists()

    def test_an_auditor_sees_no_person_at_all(self, api, auditor, safe_case):
        client = api(auditor)
        assert client.get(person_url(safe_case)).status_code == 404
        assert client.get("/api/v1/people/").json()["results"] == []

    def test_a_coordinator_who_can_open_the_case_but_runs_no_enrolment_does_not(
        self, api, officer, coordinator, vru, safe_case
    ):
        services.case_share(
            actor=actor(officer), case=safe_case, partner=vru, lawful_basis="public_task",
            reason="programme intake",
        )  # fmt: skip
        body = api(coordinator).get(person_url(safe_case)).json()
        assert body["id"] == str(safe_case.subject_id)
        assert "contact_safety" not in body
        assert not any(v in str(body) for v in SECRET_VALUES)

    def test_break_glass_reads_the_person_but_not_how_to_reach_them(
        self, api, police, outsider_partner, outsider, safe_case
    ):
        services.agreement_create(
            name="Emergency ISA", parties=[police, outsider_partner], review_date=date(2030, 1, 1)
        )
        casework_services.break_glass_open(
            actor=actor(outsider), case_id=safe_case.pk, reason="Missing child, out of hours"
        )
        body = api(outsider).get(person_url(safe_case)).json()
        assert body["id"] == str(safe_case.subject_id)
        assert "contact_safety" not in body

    def test_the_list_decides_it_per_person_in_constant_queries(
        self, api, officer, make_case, make_person, django_assert_max_num_queries
    ):
        for n in range(6):
            make_case(subject=make_person(given_name=f"P{n}"))
        for n in range(6):
            make_person(given_name=f"Q{n}")  # recorded by the police, no case: not shown
        client = api(officer)
        for size in (2, 12):
            with django_assert_max_num_queries(10):
                results = client.get("/api/v1/people/", {"page_size": size}).json()["results"]
            assert len(results) == size
        shown = {p["given_name"] for p in results if "contact_safety" in p}
        assert shown == {f"P{n}" for n in range(6)}


class TestChangingIt:
    def test_with_if_match_it_is_saved_and_logged_by_field_names_only(
        self, api, teacher, safe_case
    ):
        client = api(teacher)
        read = client.get(person_url(safe_case))
        response = client.patch(
            person_url(safe_case),
            {"contact_safety": {"safe_contact_when": "Only on Tuesdays"}},
            format="json",
            HTTP_IF_MATCH=read["ETag"],
        )
        assert response.status_code == 200
        assert response.json()["contact_safety"]["safe_contact_when"] == "Only on Tuesdays"
        assert response.json()["version"] == read.json()["version"] + 1
        row = AccessLog.objects.get(action="update_contact_safety", user=teacher)
        assert row.detail == {"fields": ["safe_contact_when"]}

    def test_a_stale_if_match_is_412_and_writes_nothing(self, api, officer, safe_case):
        client = api(officer)
        read = client.get(person_url(safe_case))
        client.patch(
            person_url(safe_case), {"pronouns": "they/them"}, format="json",
            HTTP_IF_MATCH=read["ETag"],
        )  # fmt: skip
        response = client.patch(
            person_url(safe_case),
            {"contact_safety": {"phone": "01632 960000"}},
            format="json",
            HTTP_IF_MATCH=read["ETag"],
        )
        assert response.status_code == 412
        safe_case.subject.refresh_from_db()
        assert safe_case.subject.phone == SAFETY["phone"]

    def test_without_if_match_it_is_428(self, api, officer, safe_case):
        response = api(officer).patch(
            person_url(safe_case), {"contact_safety": {"phone": "1"}}, format="json"
        )
        assert response.status_code == 428

    def test_an_invalid_email_is_400_with_the_field(self, api, officer, safe_case):
        client = api(officer)
        read = client.get(person_url(safe_case))
        response = client.patch(
            person_url(safe_case), {"contact_safety": {"email": "not an email"}}, format="json",
            HTTP_IF_MATCH=read["ETag"],
        )  # fmt: skip
        assert response.status_code == 400
        assert "contact_safety" in str(response.json()["error"]["fields"])

    def test_the_recording_partner_that_works_no_case_cannot_change_it(
        self, api, school, make_person, officer
    ):
        # The police recorded the person; the school works no case about them.
        person = make_person()
        teacher_at_police = factories.make_user(
            person.created_by_partner, Role.PRACTITIONER, email="pc2@police.example"
        )
        client = api(teacher_at_police)
        read = client.get(f"/api/v1/people/{person.pk}")
        assert "contact_safety" not in read.json()
        response = client.patch(
            f"/api/v1/people/{person.pk}", {"contact_safety": {"phone": "1"}}, format="json",
            HTTP_IF_MATCH=read["ETag"],
        )  # fmt: skip
        assert response.status_code == 403
        assert AccessLog.objects.filter(
            action="update_contact_safety", allowed=False, object_id=str(person.pk)
        ).exists()
        person.refresh_from_db()
        assert person.phone == ""

    def test_a_coordinator_cannot_change_it(self, api, officer, coordinator, vru, safe_case):
        services.case_share(
            actor=actor(officer), case=safe_case, partner=vru, lawful_basis="public_task",
            reason="intake",
        )  # fmt: skip
        client = api(coordinator)
        read = client.get(person_url(safe_case))
        response = client.patch(
            person_url(safe_case), {"contact_safety": {"phone": "1"}}, format="json",
            HTTP_IF_MATCH=read["ETag"],
        )  # fmt: skip
        assert response.status_code == 403
        safe_case.subject.refresh_from_db()
        assert safe_case.subject.phone == SAFETY["phone"]


class TestTheRule:
    def test_a_programme_coordinator_or_key_worker_of_an_open_enrolment_sees_it(
        self, officer, coordinator, vru, safe_case
    ):
        from programmes.catalogue import install_standard_programmes
        from programmes.models import Enrolment, Programme

        install_standard_programmes(Programme)
        divert = Programme.objects.get(slug="divert")
        divert.coordinators.set([coordinator])
        mentor = factories.make_user(vru, Role.PRACTITIONER, email="mentor@vru.example")
        person = safe_case.subject
        assert not access.can_see_contact_safety(actor(coordinator), person)
        enrolment = Enrolment.objects.create(
            programme=divert, person=person, case=safe_case, referred_by_partner=officer.membership.partner,
            key_worker=mentor,
        )  # fmt: skip
        assert access.can_see_contact_safety(actor(coordinator), person)
        assert access.can_see_contact_safety(actor(mentor), person)
        Enrolment.objects.filter(pk=enrolment.pk).update(status="withdrawn")
        assert not access.can_see_contact_safety(actor(coordinator), person)
        assert not access.can_see_contact_safety(actor(mentor), person)
