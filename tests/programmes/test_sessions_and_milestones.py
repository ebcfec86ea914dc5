"""Sessions with attendance, milestones, and enrolment details edits: validated, logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from core.models import Change
from programmes.models import EnrolmentSession

pytestmark = pytest.mark.django_db

SESSION = {"kind": "coaching", "occurred_at": "2026-03-02T10:00:00Z", "attendance": "attended"}


@pytest.fixture
def enrolled(divert, checked, move):
    return move(checked(divert), "enrolled")


class TestSessions:
    def url(self, enrolment):
        return f"/api/v1/enrolments/{enrolment.pk}/sessions"

    def test_a_coordinator_records_sessions_and_attendance(
        self, api, coordinator, enrolled, django_assert_max_num_queries
    ):
        client = api(coordinator)
        for attendance in ("attended", "missed", "cancelled"):
            why = {"missed_reason": "Unwell"} if attendance == "missed" else {}
            response = client.post(
                self.url(enrolled), {**SESSION, "attendance": attendance, **why}, format="json"
            )
            assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["kind"], body["attendance"], body["partner"]) == (
            "coaching",
            "cancelled",
            "vru",
        )
        assert body["recorded_by"] == str(coordinator.pk)
        with django_assert_max_num_queries(10) as small:
            client.get(self.url(enrolled) + "?page_size=1")
        with django_assert_max_num_queries(len(small.captured_queries)):
            listed = client.get(self.url(enrolled) + "?page_size=200").json()["results"]
        assert sorted(s["attendance"] for s in listed) == ["attended", "cancelled", "missed"]
        assert (
            client.get(self.url(enrolled) + "?attendance=missed").json()["results"][0]["attendance"]
            == "missed"
        )

    def test_the_practitioner_on_the_case_cannot_in_any_channel(self, api, officer, enrolled):
        # Sessions are the programme's coordinators' to record, through the API as in the web.
        assert api(officer).post(self.url(enrolled), SESSION, format="json").status_code == 403
        assert not EnrolmentSession.objects.exists()

    def test_a_session_kind_must_be_the_programmes(self, api, coordinator, enrolled):
        response = api(coordinator).post(
            self.url(enrolled), {**SESSION, "kind": "karaoke"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"kind": ["invalid"]}

    def test_attendance_must_be_known(self, api, coordinator, enrolled):
        response = api(coordinator).post(
            self.url(enrolled), {**SESSION, "attendance": "late"}, format="json"
        )
        assert response.status_code == 400
        assert "attendance" in response.json()["error"]["fields"]

    def test_a_custody_approach_is_recorded_before_enrolment(
        self, api, coordinator, divert, refer, case
    ):
        enrolment = refer(divert, case)
        response = api(coordinator).post(
            self.url(enrolment), {**SESSION, "kind": "custody_approach"}, format="json"
        )
        assert response.status_code == 201

    def test_not_after_exit(self, api, coordinator, enrolled, move):
        move(enrolled, "withdrawn", reason="Moved away")
        response = api(coordinator).post(self.url(enrolled), SESSION, format="json")
        assert response.status_code == 409

    def test_writes_and_reads_are_logged(self, api, coordinator, enrolled):
        client = api(coordinator)
        session_id = client.post(self.url(enrolled), SESSION, format="json").json()["id"]
        client.get(self.url(enrolled))
        actions = list(
            AccessLog.objects.filter(object_type="enrolment_session", object_id=session_id)
            .order_by("id")
            .values_list("action", "person_id")
        )
        assert actions == [("create", enrolled.person_id), ("list", enrolled.person_id)]
        assert Change.objects.filter(resource="enrolment_session", object_id=session_id).exists()


class TestMilestones:
    def url(self, enrolment):
        return f"/api/v1/enrolments/{enrolment.pk}/milestones"

    def test_a_milestone_of_the_programme_is_recorded_once(self, api, coordinator, enrolled):
        client = api(coordinator)
        body = {"code": "entered_training", "achieved_on": str(timezone.localdate())}
        response = client.post(self.url(enrolled), body, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["code"] == "entered_training"
        again = client.post(self.url(enrolled), body, format="json")
        assert again.status_code == 409
        assert [m["code"] for m in client.get(self.url(enrolled)).json()["results"]] == [
            "entered_training"
        ]
        assert AccessLog.objects.filter(object_type="milestone", action="create").count() == 1

    def test_an_unknown_code_or_a_future_date_is_a_400(self, api, coordinator, enrolled):
        client = api(coordinator)
        today = timezone.localdate()
        response = client.post(
            self.url(enrolled), {"code": "won_lottery", "achieved_on": str(today)}, format="json"
        )
        assert response.json()["error"]["fields"] == {"code": ["invalid"]}
        response = client.post(
            self.url(enrolled),
            {"code": "entered_training", "achieved_on": str(today + timedelta(days=3))},
            format="json",
        )
        assert response.json()["error"]["fields"] == {"achieved_on": ["in the future"]}

    def test_only_while_enrolled_or_active(self, api, coordinator, divert, refer, case):
        response = api(coordinator).post(
            self.url(refer(divert, case)),
            {"code": "entered_training", "achieved_on": str(timezone.localdate())},
            format="json",
        )
        assert response.status_code == 409


class TestEditingDetails:
    def test_details_are_revalidated_and_eligibility_rerun(
        self, api, coordinator, divert, refer, case
    ):
        enrolment = refer(divert, case)
        client = api(coordinator)
        url = f"/api/v1/enrolments/{enrolment.pk}"
        response = client.patch(
            url, {"details": {"cohort": "custody"}}, format="json", HTTP_IF_MATCH='"1"'
        )
        assert response.status_code == 400
        # The approach time is the programme's part: it may still be unrecorded.
        assert set(response.json()["error"]["fields"]) == {"details.custody_suite"}
        response = client.patch(
            url, {"details": {"cohort": "school"}}, format="json", HTTP_IF_MATCH='"1"'
        )
        assert response.status_code == 400
        response = client.patch(
            url, {"details": {"cohort": "care_leaver"}}, format="json", HTTP_IF_MATCH='"1"'
        )
        assert response.status_code == 200
        assert response["ETag"] == '"2"'
        assert response.json()["details"] == {"cohort": "care_leaver"}
        assert response.json()["eligibility"]["eligible"] is True
        log = AccessLog.objects.get(user=coordinator, action="update")
        assert log.detail["details"] == ["cohort"]

    def test_people_working_the_case_cannot_change_intake_details(
        self, api, officer, divert, refer, case
    ):
        enrolment = refer(divert, case)
        response = api(officer).patch(
            f"/api/v1/enrolments/{enrolment.pk}", {"details": {"cohort": "care_leaver"}},
            format="json", HTTP_IF_MATCH='"1"',
        )  # fmt: skip
        assert response.status_code == 403

    def test_stale_and_missing_if_match(self, api, officer, divert, refer, case):
        enrolment = refer(divert, case)
        client = api(officer)
        url = f"/api/v1/enrolments/{enrolment.pk}"
        assert client.patch(url, {"details": {"cohort": "ae"}}, format="json").status_code == 428
        response = client.patch(
            url, {"details": {"cohort": "ae"}}, format="json", HTTP_IF_MATCH='"5"'
        )
        assert response.status_code == 412
