"""The intake workflow: the transition table, reasons and actors kept per move, illegal moves 409,
outcomes at exit, follow-up schedules on enrolment, and who may make which move."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from core.models import Change
from followups.models import FollowUp, Notification
from programmes.models import EnrolmentTransition
from programmes.services import TRANSITIONS
from tests.programmes.conftest import years_ago

pytestmark = pytest.mark.django_db


def transition(client, enrolment, to, **body):
    return client.post(
        f"/api/v1/enrolments/{enrolment.pk}/transitions", {"to": to, **body}, format="json"
    )


class TestTransitionTable:
    def test_every_status_is_in_the_table_and_closed_ones_are_final(self):
        from programmes.models import CLOSED, EnrolmentStatus

        assert set(TRANSITIONS) == set(EnrolmentStatus.values)
        assert all(not TRANSITIONS[s] for s in CLOSED)

    def test_the_whole_way_through_with_reasons_and_actors_kept(
        self, api, coordinator, divert, refer, case, officer
    ):
        enrolment = refer(divert, case)
        client = api(coordinator)
        for to, extra in [
            ("eligibility_checked", {}),
            ("offered", {"reason": "Place free"}),
            ("enrolled", {"reason": "Accepted"}),
            ("active", {}),
            ("completed", {"outcome": "in_training", "outcome_notes": "Level 2 course"}),
        ]:
            response = transition(client, enrolment, to, **extra)
            assert response.status_code == 200, (to, response.json())
            assert response.json()["status"] == to
        body = response.json()
        assert body["outcome"] == "in_training"
        assert body["outcome_notes"] == "Level 2 course"
        assert all(body[k] for k in ("offered_at", "enrolled_at", "started_at", "ended_at"))
        assert body["version"] == 6
        history = client.get(f"/api/v1/enrolments/{enrolment.pk}/transitions").json()["results"]
        assert [(h["from_status"], h["to_status"]) for h in history] == [
            ("", "referred"),
            ("referred", "eligibility_checked"),
            ("eligibility_checked", "offered"),
            ("offered", "enrolled"),
            ("enrolled", "active"),
            ("active", "completed"),
        ]
        assert history[0]["user"] == str(officer.pk)
        assert history[2]["user"] == str(coordinator.pk)
        assert history[2]["reason"] == "Place free"
        assert history[2]["partner"] == "vru"
        assert history[-1]["detail"] == {"outcome": "in_training"}

    @pytest.mark.parametrize(
        "path, to",
        [
            ([], "enrolled"),
            ([], "completed"),
            (["eligibility_checked"], "active"),
            (["eligibility_checked", "waitlisted"], "enrolled"),
            (["ineligible"], "eligibility_checked"),
        ],
    )
    def test_an_illegal_move_is_a_409_and_changes_nothing(
        self, api, coordinator, divert, refer, case, move, path, to
    ):
        enrolment = refer(divert, case)
        for step in path:
            enrolment = move(enrolment, step, reason="because")
        response = transition(api(coordinator), enrolment, to, reason="because")
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "illegal_transition"
        assert f"cannot move to {to}" in error["message"]
        enrolment.refresh_from_db()
        assert enrolment.status == (path[-1] if path else "referred")

    def test_an_unknown_status_is_a_400(self, api, coordinator, divert, refer, case):
        response = transition(api(coordinator), refer(divert, case), "graduated")
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"to": ["invalid"]}

    @pytest.mark.parametrize("to", ["ineligible", "withdrawn", "declined"])
    def test_saying_no_needs_a_reason(self, api, coordinator, divert, refer, case, to):
        response = transition(api(coordinator), refer(divert, case), to)
        assert response.status_code == 400
        assert "reason" in response.json()["error"]["fields"]

    def test_completing_needs_an_outcome_of_the_programme(
        self, api, coordinator, divert, checked, move
    ):
        enrolment = move(move(checked(divert), "enrolled"), "active")
        client = api(coordinator)
        assert transition(client, enrolment, "completed").json()["error"]["fields"] == {
            "outcome": ["required"]
        }
        response = transition(client, enrolment, "completed", outcome="graduated")
        assert response.json()["error"]["fields"] == {"outcome": ["invalid"]}
        assert transition(client, enrolment, "completed", outcome="disengaged").status_code == 200

    def test_an_outcome_only_at_exit(self, api, coordinator, divert, refer, case):
        response = transition(
            api(coordinator), refer(divert, case), "eligibility_checked", outcome="in_training"
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"outcome": ["only at exit"]}

    def test_a_stale_if_match_is_a_412(self, api, coordinator, divert, refer, case):
        enrolment = refer(divert, case)
        client = api(coordinator)
        response = client.post(
            f"/api/v1/enrolments/{enrolment.pk}/transitions",
            {"to": "eligibility_checked"},
            format="json",
            HTTP_IF_MATCH='"7"',
        )
        assert response.status_code == 412
        response = client.post(
            f"/api/v1/enrolments/{enrolment.pk}/transitions",
            {"to": "eligibility_checked"},
            format="json",
            HTTP_IF_MATCH='"1"',
        )
        assert response.status_code == 200
        assert response["ETag"] == '"2"'

    def test_a_move_is_logged_and_journalled(self, api, coordinator, divert, refer, case):
        enrolment = refer(divert, case)
        transition(api(coordinator), enrolment, "eligibility_checked")
        log = AccessLog.objects.get(user=coordinator, action="transition")
        assert (log.object_type, log.object_id, log.case_id) == (
            "enrolment",
            str(enrolment.pk),
            case.pk,
        )
        assert log.justification == "coordinator of divert"
        assert log.detail == {}  # from, to and why are in the enrolment's history, not the log
        assert Change.objects.filter(
            resource="enrolment", object_id=enrolment.pk, action="updated"
        ).exists()

    def test_the_referrer_hears_of_the_decision(
        self, api, coordinator, officer, divert, refer, case
    ):
        enrolment = refer(divert, case)
        transition(api(coordinator), enrolment, "ineligible", reason="Moved away")
        [note] = Notification.objects.filter(recipient=officer)
        assert note.title == "A referral you made to DIVERT custody coaching is now: ineligible"


class TestWhoMayMove:
    def test_a_practitioner_on_the_case_may_record_a_withdrawal(
        self, api, officer, divert, refer, case
    ):
        enrolment = refer(divert, case)
        response = transition(api(officer), enrolment, "withdrawn", reason="Moved to Leeds")
        assert response.status_code == 200
        assert response.json()["status"] == "withdrawn"

    def test_but_not_run_intake(self, api, officer, divert, refer, case):
        enrolment = refer(divert, case)
        response = transition(api(officer), enrolment, "eligibility_checked")
        assert response.status_code == 403
        refused = AccessLog.objects.get(user=officer, allowed=False)
        assert refused.object_id == str(enrolment.pk)

    def test_a_coordinator_of_another_programme_gets_a_404(
        self, api, other_coordinator, divert, refer, case
    ):
        enrolment = refer(divert, case)
        response = transition(api(other_coordinator), enrolment, "eligibility_checked")
        assert response.status_code == 404


class TestFollowUps:
    def test_enrolling_schedules_the_programme_follow_ups(self, coordinator, divert, checked, move):
        enrolment = move(checked(divert), "enrolled")
        followups = FollowUp.objects.filter(subject_resource="enrolment", subject_id=enrolment.pk)
        # A first-week check-in, then monthly for six months.
        assert followups.count() == 7
        assert {f.kind for f in followups} == {"divert_check_in"}
        first = followups.order_by("due_at").first()
        today = timezone.localdate()
        assert timezone.localtime(first.due_at).date() == today + timedelta(weeks=1)
        assert timezone.localtime(first.due_at).hour == 9
        # The enrolling coordinator became the key worker, and owns them; not tied to the case,
        # which the coordinator may not see.
        assert first.assignee_user == coordinator
        assert first.assignee_partner is None
        assert first.case_id is None
        assert first.title == "DIVERT check-in: first week"

    def test_release_preparation_is_anchored_on_the_expected_release_date(
        self, invisible_walls, refer, make_case, move, police, officer, vru
    ):
        from tests.programmes.conftest import share
        from tests.programmes.test_eligibility import record_adversity

        case = make_case(dob=years_ago(10))
        record_adversity(case, "parental_incarceration", police)
        share(case, vru, officer)  # the coordinator checks adversities on a case they can open
        release = timezone.localdate() + timedelta(weeks=10)
        details = {
            "prison": "HMP Northshire",
            "imprisoned_family_member": {"name": "Dan", "relationship": "father"},
            "expected_release_date": release.isoformat(),
        }
        enrolment = move(
            move(refer(invisible_walls, case, details), "eligibility_checked"), "enrolled"
        )
        due = sorted(
            timezone.localtime(f.due_at).date()
            for f in FollowUp.objects.filter(kind="invisible_walls_release_preparation")
        )
        # 12 weeks before release has already gone; 8 and 4 weeks before are still to come.
        assert due == [release - timedelta(weeks=8), release - timedelta(weeks=4)]
        after = FollowUp.objects.get(kind="invisible_walls_after_release", subject_id=enrolment.pk)
        assert timezone.localtime(after.due_at).date() == release + timedelta(weeks=2)

    def test_leaving_cancels_what_is_still_pending(self, coordinator, divert, checked, move):
        enrolment = move(checked(divert), "enrolled")
        move(enrolment, "withdrawn", reason="Found work without us")
        statuses = set(
            FollowUp.objects.filter(subject_id=enrolment.pk).values_list("status", flat=True)
        )
        assert statuses == {"cancelled"}

    def test_a_named_key_worker_gets_them(self, api, coordinator, divert, checked, move, vru):
        from tests import factories

        coach = factories.make_user(vru, "practitioner", email="coach@vru.example")
        enrolment = checked(divert)
        response = api(coordinator).patch(
            f"/api/v1/enrolments/{enrolment.pk}",
            {"key_worker": str(coach.pk)},
            format="json",
            HTTP_IF_MATCH=f'"{enrolment.version}"',
        )
        assert response.status_code == 200, response.json()
        assert response.json()["key_worker"] == str(coach.pk)
        move(enrolment, "enrolled")
        assert {f.assignee_user for f in FollowUp.objects.filter(subject_id=enrolment.pk)} == {
            coach
        }

    def test_the_key_worker_can_see_them(self, api, coordinator, divert, checked, move):
        enrolment = move(checked(divert), "enrolled")
        body = api(coordinator).get("/api/v1/follow-ups/?assigned=me").json()
        assert {f["subject"]["id"] for f in body["results"]} == {str(enrolment.pk)}
        assert len(body["results"]) == 7


class TestHistoryRead:
    def test_reading_the_history_is_logged(self, api, officer, divert, refer, case):
        enrolment = refer(divert, case)
        api(officer).get(f"/api/v1/enrolments/{enrolment.pk}/transitions")
        assert AccessLog.objects.filter(user=officer, action="view_history").count() == 1

    def test_transitions_are_not_editable_through_the_api(self, api, officer, divert, refer, case):
        enrolment = refer(divert, case)
        response = api(officer).delete(f"/api/v1/enrolments/{enrolment.pk}/transitions")
        assert response.status_code == 405
        assert EnrolmentTransition.objects.filter(enrolment=enrolment).count() == 1
