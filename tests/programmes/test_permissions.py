"""Who sees which enrolments and intake queues. Coordinators see their own programmes' intake with
minimum person information (no case content unless the case is visible to them); practitioners see
enrolments only on cases they can see; everyone else gets 404 everywhere, including lists and
counts, and every refusal is logged."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from tests import factories
from tests.programmes.conftest import share

pytestmark = pytest.mark.django_db

DETAIL_PATHS = ("", "/transitions", "/sessions", "/milestones")


@pytest.fixture
def enrolment(divert, refer, case):
    """A DIVERT referral on a police case that is not shared with the VRU or the school."""
    return refer(divert, case)


def get(client, path):
    return client.get(path)


class TestIntakeQueue:
    def test_a_coordinator_sees_their_programmes_intake_with_minimum_person_information(
        self, api, coordinator, enrolment, case
    ):
        response = api(coordinator).get("/api/v1/programmes/divert/intake")
        assert response.status_code == 200
        [row] = response.json()["results"]
        assert row["id"] == str(enrolment.pk)
        assert row["person_summary"] == {
            "name": "Tyler Brooks",
            "preferred_name": "",
            "age": 21,
            "age_approximate": False,
        }
        assert row["case_visible"] is False
        assert "Secret case summary" not in response.content.decode()
        assert "date_of_birth" not in response.content.decode()

    def test_and_full_case_detail_only_when_the_case_is_shared_with_them(
        self, api, coordinator, enrolment, case, officer, vru
    ):
        client = api(coordinator)
        assert client.get(f"/api/v1/cases/{case.pk}").status_code == 404
        share(case, vru, officer)
        [row] = client.get("/api/v1/programmes/divert/intake").json()["results"]
        assert row["case_visible"] is True
        assert client.get(f"/api/v1/cases/{case.pk}").json()["summary"] == "Secret case summary."

    def test_the_intake_read_is_logged_per_person(self, api, coordinator, enrolment, case):
        api(coordinator).get("/api/v1/programmes/divert/intake")
        log = AccessLog.objects.get(user=coordinator, action="list_intake")
        assert (log.object_type, log.object_id, log.person_id, log.justification) == (
            "enrolment",
            str(enrolment.pk),
            case.subject_id,
            "coordinator of divert",
        )

    def test_a_coordinator_of_one_programme_cannot_see_anothers_intake(
        self, api, other_coordinator, enrolment, divert
    ):
        response = api(other_coordinator).get("/api/v1/programmes/divert/intake")
        assert response.status_code == 404
        refused = AccessLog.objects.get(user=other_coordinator, allowed=False)
        assert (refused.object_type, refused.object_id) == ("programme_intake", str(divert.pk))
        assert refused.action == "list_intake"

    def test_nor_its_enrolments(self, api, other_coordinator, enrolment):
        client = api(other_coordinator)
        assert client.get("/api/v1/enrolments/").json()["results"] == []
        assert client.get("/api/v1/enrolments/?programme=divert").json()["results"] == []
        for path in DETAIL_PATHS:
            assert client.get(f"/api/v1/enrolments/{enrolment.pk}{path}").status_code == 404

    def test_but_sees_its_own(self, api, other_coordinator, street_and_arrow):
        assert (
            api(other_coordinator).get("/api/v1/programmes/street-and-arrow/intake").status_code
            == 200
        )

    @pytest.mark.parametrize("who", ["officer", "teacher", "outsider", "auditor"])
    def test_nobody_else_sees_intake(self, api, request, enrolment, who):
        user = request.getfixturevalue(who)
        assert api(user).get("/api/v1/programmes/divert/intake").status_code == 404

    def test_an_unknown_programmes_intake_is_the_same_404(self, api, coordinator, divert):
        response = api(coordinator).get("/api/v1/programmes/nope/intake")
        assert response.status_code == 404


class TestEnrolmentVisibility:
    def test_the_referring_practitioner_sees_it(self, api, officer, enrolment):
        client = api(officer)
        assert [e["id"] for e in client.get("/api/v1/enrolments/").json()["results"]] == [
            str(enrolment.pk)
        ]
        response = client.get(f"/api/v1/enrolments/{enrolment.pk}")
        assert response.status_code == 200
        assert response["ETag"] == '"1"'

    def test_a_practitioner_sees_enrolments_only_on_cases_they_can_see(
        self, api, teacher, officer, school, enrolment, case
    ):
        client = api(teacher)
        assert client.get("/api/v1/enrolments/").json()["results"] == []
        assert client.get(f"/api/v1/enrolments/{enrolment.pk}").status_code == 404
        share(case, school, officer)
        assert [e["id"] for e in client.get("/api/v1/enrolments/").json()["results"]] == [
            str(enrolment.pk)
        ]
        body = client.get(f"/api/v1/enrolments/{enrolment.pk}").json()
        assert body["case_visible"] is True

    def test_losing_the_case_loses_the_enrolment(
        self, api, teacher, officer, school, enrolment, case
    ):
        from cases import services as case_services
        from tests.factories import actor

        share(case, school, officer)
        case_services.share_revoke(actor=actor(officer), case=case, partner=school)
        assert api(teacher).get(f"/api/v1/enrolments/{enrolment.pk}").status_code == 404

    @pytest.mark.parametrize("who", ["outsider", "auditor", "teacher"])
    def test_others_get_404_everywhere_and_empty_lists(self, api, request, enrolment, who):
        user = request.getfixturevalue(who)
        client = api(user)
        assert client.get("/api/v1/enrolments/").json() == {"results": [], "next": None}
        assert client.get(f"/api/v1/enrolments/?case={enrolment.case_id}").json()["results"] == []
        for path in DETAIL_PATHS:
            assert client.get(f"/api/v1/enrolments/{enrolment.pk}{path}").status_code == 404
        for path, body in [
            ("/transitions", {"to": "withdrawn", "reason": "x"}),
            (
                "/sessions",
                {
                    "kind": "coaching",
                    "occurred_at": "2026-01-01T10:00:00Z",
                    "attendance": "attended",
                },
            ),
        ]:
            response = client.post(f"/api/v1/enrolments/{enrolment.pk}{path}", body, format="json")
            assert response.status_code == 404
        response = client.patch(
            f"/api/v1/enrolments/{enrolment.pk}",
            {"details": {}},
            format="json",
            HTTP_IF_MATCH='"1"',
        )
        assert response.status_code == 404
        # Every refusal is logged, with the id asked for.
        refused = AccessLog.objects.filter(user=user, allowed=False, object_type="enrolment")
        assert refused.count() == 7
        assert set(refused.values_list("object_id", flat=True)) == {str(enrolment.pk)}

    def test_the_outsider_cannot_refer_either(self, api, outsider, enrolment, case):
        response = api(outsider).post(
            "/api/v1/programmes/divert/referrals",
            {"person": str(case.subject_id), "case": str(case.pk), "details": {"cohort": "ae"}},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"case": ["unknown case"]}

    def test_an_api_client_of_the_lead_partner_sees_it(self, api, police, enrolment):
        token = factories.client_token(police, scopes="read")
        body = api(token).get(f"/api/v1/enrolments/{enrolment.pk}").json()
        assert body["id"] == str(enrolment.pk)

    def test_viewing_is_logged(self, api, officer, enrolment, case):
        api(officer).get(f"/api/v1/enrolments/{enrolment.pk}")
        log = AccessLog.objects.get(user=officer, action="view")
        assert (log.object_type, log.object_id, log.case_id, log.person_id) == (
            "enrolment",
            str(enrolment.pk),
            case.pk,
            case.subject_id,
        )
        assert log.justification == "case visible"

    def test_unauthenticated_is_a_401(self, api, enrolment):
        assert api().get("/api/v1/enrolments/").status_code == 401


class TestProgrammesAreOpenConfiguration:
    def test_everyone_may_read_programmes(self, api, outsider, programmes):
        response = api(outsider).get("/api/v1/programmes/")
        assert response.status_code == 200
        assert {p["slug"] for p in response.json()["results"]} >= {
            "divert",
            "invisible-walls",
            "street-and-arrow",
        }


class TestChildRecordSelectors:
    """For other apps (the change feed): sessions and milestones follow their enrolment."""

    def test_sessions_and_milestones_follow_the_enrolment(
        self, coordinator, officer, teacher, divert, checked, move
    ):
        from django.utils import timezone

        from programmes import access, services
        from tests.factories import actor

        enrolment = access.enrolments_visible_to(actor(coordinator)).get(
            pk=move(checked(divert), "enrolled").pk
        )
        session = services.session_create(
            actor=actor(coordinator), enrolment=enrolment, kind="coaching",
            occurred_at=timezone.now(), attendance="attended",
        )  # fmt: skip
        milestone = services.milestone_create(
            actor=actor(coordinator), enrolment=enrolment, code="cv_completed",
            achieved_on=timezone.localdate(),
        )  # fmt: skip
        for user, sees in ((coordinator, True), (officer, True), (teacher, False)):
            assert access.sessions_visible_to(actor(user)).filter(pk=session.pk).exists() is sees
            assert (
                access.milestones_visible_to(actor(user)).filter(pk=milestone.pk).exists() is sees
            )
