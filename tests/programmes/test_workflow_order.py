"""Moves are offered in the order the workflow runs (onward, back, then the ways out), and giving
someone a place straight after the eligibility check, while others wait, needs a reason."""

from __future__ import annotations

import re

import pytest

from audit.models import AccessLog
from programmes.models import EnrolmentTransition
from programmes.services import moves_from

pytestmark = pytest.mark.django_db


def transition(client, enrolment, to, **body):
    return client.post(
        f"/api/v1/enrolments/{enrolment.pk}/transitions", {"to": to, **body}, format="json"
    )


class TestOrder:
    def test_every_status_in_workflow_order(self):
        assert moves_from("referred") == [
            "eligibility_checked", "ineligible", "declined", "withdrawn",
        ]  # fmt: skip
        assert moves_from("eligibility_checked") == [
            "waitlisted", "offered", "enrolled", "ineligible", "declined", "withdrawn",
        ]  # fmt: skip
        assert moves_from("waitlisted") == ["offered", "declined", "withdrawn"]
        assert moves_from("offered") == ["enrolled", "waitlisted", "declined", "withdrawn"]
        assert moves_from("enrolled") == ["active", "withdrawn"]
        assert moves_from("active") == ["completed", "withdrawn"]
        assert moves_from("completed") == []

    def test_the_enrolment_page_offers_them_in_that_order(
        self, client, coordinator, divert, checked
    ):
        enrolment = checked(divert)
        client.force_login(coordinator)
        page = client.get(f"/enrolments/{enrolment.pk}/").content.decode()
        offered = re.findall(r'name="to" type="radio" value="([a-z_]+)"', page) or re.findall(
            r'type="radio" name="to" value="([a-z_]+)"', page
        )
        assert offered == moves_from("eligibility_checked"), offered

    def test_a_refused_move_lists_the_allowed_ones_in_that_order(
        self, api, coordinator, divert, refer, case
    ):
        response = transition(api(coordinator), refer(divert, case), "enrolled")
        assert response.status_code == 409
        assert (
            "eligibility_checked, ineligible, declined, withdrawn"
            in (response.json()["error"]["message"])
        )


@pytest.fixture
def someone_waiting(divert, checked, move, make_case):
    """Someone on DIVERT's waiting list, at the lowest priority."""
    waiting = checked(divert, make_case(given_name="Jordan"), priority=5)
    return move(waiting, "waitlisted")


class TestSkippingTheWaitingList:
    def test_needs_a_reason_when_people_wait(
        self, api, coordinator, divert, checked, someone_waiting
    ):
        urgent = checked(divert, priority=1)
        client = api(coordinator)
        for to in ("offered", "enrolled"):
            response = transition(client, urgent, to)
            assert response.status_code == 400
            assert response.json()["error"]["fields"] == {
                "reason": ["required when skipping the waiting list"]
            }
        response = transition(client, urgent, "offered", reason="Released tomorrow: cannot wait")
        assert response.status_code == 200, response.json()
        move = EnrolmentTransition.objects.get(enrolment=urgent, to_status="offered")
        assert move.reason == "Released tomorrow: cannot wait"
        assert move.detail["skipped_waiting_list"] is True
        # The access log records the move, never the reason.
        row = AccessLog.objects.filter(object_id=str(urgent.pk), action="transition").last()
        assert "Released" not in str(row.detail) and "Released" not in row.justification

    def test_no_reason_needed_when_nobody_waits(self, api, coordinator, divert, checked):
        response = transition(api(coordinator), checked(divert), "enrolled")
        assert response.status_code == 200

    def test_joining_the_waiting_list_needs_no_reason(
        self, api, coordinator, divert, checked, someone_waiting
    ):
        response = transition(api(coordinator), checked(divert), "waitlisted")
        assert response.status_code == 200

    def test_the_page_asks_for_the_reason(
        self, client, coordinator, divert, checked, someone_waiting
    ):
        urgent = checked(divert, priority=1)
        client.force_login(coordinator)
        url = f"/enrolments/{urgent.pk}/"
        response = client.post(url, {"to": "offered", "reason": "", "version": urgent.version})
        assert response.status_code == 200
        body = response.content.decode()
        assert "There is a problem" in body and "People are waiting for a place" in body
        response = client.post(
            url, {"to": "offered", "reason": "Court date next week", "version": urgent.version}
        )
        assert response.status_code == 302

    def test_others_cannot_and_learn_nothing(
        self, api, officer, other_coordinator, outsider, divert, checked, someone_waiting
    ):
        urgent = checked(divert, priority=1)
        body = {"reason": "Because"}
        assert transition(api(officer), urgent, "offered", **body).status_code == 403
        for user in (other_coordinator, outsider):
            response = transition(api(user), urgent, "offered", **body)
            assert response.status_code == 404
            assert "waiting" not in response.content.decode()
        urgent.refresh_from_db()
        assert urgent.status == "eligibility_checked"
