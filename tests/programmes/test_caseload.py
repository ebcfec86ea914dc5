"""A coach's or mentor's caseload: the enrolments they are key worker for (`key_worker=me`), with
the next check-in and the overdue ones; and eligibility checked again, saying when."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases import services as case_services
from followups.models import FollowUp
from partners.models import Role
from programmes import access, services
from programmes.eligibility import checked_at
from programmes.models import Enrolment, EnrolmentSession
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def mentor(vru):
    """A VRU practitioner who coordinates nothing: sees enrolments only as their key worker."""
    return factories.make_user(vru, Role.PRACTITIONER, email="mentor@vru.example")


@pytest.fixture
def enrolled(checked, move, divert, make_case, coordinator, mentor):
    """enrolled(name) → a DIVERT enrolment, enrolled, whose key worker is the mentor."""

    def make(name: str, key_worker=None) -> Enrolment:
        enrolment = checked(divert, make_case(given_name=name))
        enrolment = move(enrolment, "enrolled")
        visible = access.enrolments_visible_to(actor(coordinator)).get(pk=enrolment.pk)
        return services.enrolment_update(
            actor=actor(coordinator),
            enrolment=visible,
            expected_version=visible.version,
            data={"key_worker": key_worker or mentor},
        )

    return make


def caseload(client, **params):
    return client.get("/api/v1/enrolments/", {"key_worker": "me", **params})


class TestTheApi:
    def test_the_key_worker_sees_their_caseload_with_check_ins(self, api, enrolled, mentor):
        enrolment = enrolled("Tyler")
        now = timezone.now()
        FollowUp.objects.create(
            kind="divert_check_in", due_at=now - timedelta(days=2), subject_resource="enrolment",
            subject_id=enrolment.pk, assignee_user=mentor, title="Missed check-in",
        )  # fmt: skip
        EnrolmentSession.objects.create(
            enrolment=enrolment, kind="coaching", occurred_at=now - timedelta(days=3),
            attendance="attended", partner=mentor.membership.partner,
        )  # fmt: skip
        response = caseload(api(mentor))
        assert response.status_code == 200
        [row] = response.json()["results"]
        assert row["id"] == str(enrolment.pk)
        assert row["caseload"]["overdue_check_ins"] == 1
        assert row["caseload"]["next_check_in_at"] is not None  # the schedule's first week
        assert row["caseload"]["last_session_at"] is not None
        assert AccessLog.objects.filter(
            action="list", user=mentor, object_id=str(enrolment.pk), justification="key worker"
        ).exists()

    def test_the_key_worker_can_open_the_enrolment_but_not_the_case(self, api, enrolled, mentor):
        enrolment = enrolled("Tyler")
        client = api(mentor)
        body = client.get(f"/api/v1/enrolments/{enrolment.pk}").json()
        assert body["case_visible"] is False
        assert client.get(f"/api/v1/cases/{enrolment.case_id}").status_code == 404

    def test_nobody_else_has_it_on_their_caseload(
        self, api, enrolled, coordinator, officer, outsider, other_coordinator
    ):
        enrolled("Tyler")
        for user in (coordinator, officer, other_coordinator):
            assert caseload(api(user)).json()["results"] == []
        # Someone with no sight of it at all: an empty list, and 404 for the record.
        assert caseload(api(outsider)).json()["results"] == []

    def test_an_auditor_gets_an_empty_list(self, api, enrolled, auditor):
        enrolled("Tyler")
        assert caseload(api(auditor)).json()["results"] == []

    def test_other_partners_do_not_see_the_key_workers_enrolment(self, api, enrolled, outsider):
        enrolment = enrolled("Tyler")
        client = api(outsider)
        assert client.get(f"/api/v1/enrolments/{enrolment.pk}").status_code == 404
        assert client.get("/api/v1/enrolments/").json()["results"] == []

    def test_without_the_filter_there_is_no_caseload_block(self, api, enrolled, mentor):
        enrolled("Tyler")
        [row] = api(mentor).get("/api/v1/enrolments/").json()["results"]
        assert row["caseload"] is None

    def test_constant_queries(self, api, enrolled, mentor, django_assert_max_num_queries):
        client = api(mentor)
        enrolled("Ash")
        with django_assert_max_num_queries(12) as few:
            assert len(caseload(client).json()["results"]) == 1
        for name in ("Blake", "Casey", "Drew", "Ellis"):
            enrolled(name)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert len(caseload(client).json()["results"]) == 5


class TestRecheckingEligibility:
    def test_the_coordinator_rechecks_after_the_date_of_birth_is_corrected(
        self, refer, divert, make_case, officer, coordinator
    ):
        # Referred at 30: too old for DIVERT; the date of birth was wrong.
        case = make_case(dob=timezone.localdate().replace(year=timezone.localdate().year - 30))
        enrolment = refer(divert, case)
        assert enrolment.eligibility["eligible"] is False
        first = checked_at(enrolment.eligibility)
        person = case.subject
        case_services.person_update(
            actor=actor(officer), person=person, expected_version=person.version,
            data={"date_of_birth": timezone.localdate().replace(year=timezone.localdate().year - 20)},
        )  # fmt: skip
        visible = access.enrolments_visible_to(actor(coordinator)).get(pk=enrolment.pk)
        again = services.enrolment_recheck_eligibility(actor=actor(coordinator), enrolment=visible)
        assert again.eligibility["eligible"] is True
        assert checked_at(again.eligibility) > first
        assert again.status == "referred"  # the decision is still the coordinator's
        assert AccessLog.objects.filter(
            action="recheck_eligibility", object_id=str(enrolment.pk), allowed=True
        ).exists()

    def test_only_its_coordinators_may(self, refer, divert, case, officer, other_coordinator):
        from core.errors import Forbidden, NotFound

        enrolment = refer(divert, case)
        visible = access.enrolments_visible_to(actor(officer)).get(pk=enrolment.pk)
        with pytest.raises(Forbidden):
            services.enrolment_recheck_eligibility(actor=actor(officer), enrolment=visible)
        with pytest.raises(NotFound):
            access.enrolment_get_for(actor(other_coordinator), enrolment.pk)
        assert AccessLog.objects.filter(
            action="recheck_eligibility", allowed=False, object_id=str(enrolment.pk)
        ).exists()


class TestWhoMayBeKeyWorker:
    def test_someone_outside_the_programme_is_refused(
        self, api, checked, move, divert, case, coordinator, outsider
    ):
        enrolment = move(checked(divert, case), "enrolled")
        client = api(coordinator)
        read = client.get(f"/api/v1/enrolments/{enrolment.pk}")
        response = client.patch(
            f"/api/v1/enrolments/{enrolment.pk}",
            {"key_worker": str(outsider.pk)},
            format="json",
            HTTP_IF_MATCH=read["ETag"],
        )
        assert response.status_code == 400
        assert "key_worker" in response.json()["error"]["fields"]
        assert caseload(api(outsider)).json()["results"] == []

    def test_a_new_key_worker_takes_over_the_open_check_ins(self, enrolled, mentor, coordinator):
        enrolment = enrolled("Tyler")
        open_ones = FollowUp.objects.filter(subject_id=enrolment.pk, status="pending")
        assert open_ones.exists()
        assert set(open_ones.values_list("assignee_user", flat=True)) == {mentor.pk}
