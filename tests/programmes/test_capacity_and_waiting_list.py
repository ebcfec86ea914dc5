"""Capacity is enforced (offered, enrolled and active hold a place); the waiting list is ordered by
priority, then referral time; a freed place is offered to the head of the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from followups.models import Notification
from programmes.models import Enrolment, Programme
from tests.programmes.conftest import DIVERT_CUSTODY

pytestmark = pytest.mark.django_db


def set_capacity(programme, capacity):
    Programme.objects.filter(pk=programme.pk).update(capacity=capacity)
    programme.refresh_from_db()


@pytest.fixture
def queue(divert, make_case, refer, move):
    """queue(n, priorities) → n DIVERT enrolments with checked eligibility, referred a minute
    apart in the order given (so the earlier ones were referred first)."""

    def make(priorities):
        made = []
        start = timezone.now() - timedelta(hours=1)
        for index, priority in enumerate(priorities):
            enrolment = refer(divert, make_case(given_name=f"P{index}"), priority=priority)
            Enrolment.objects.filter(pk=enrolment.pk).update(
                referred_at=start + timedelta(minutes=index)
            )
            enrolment.refresh_from_db()
            made.append(move(enrolment, "eligibility_checked"))
        return made

    return make


def offer_next(client, slug="divert", **body):
    return client.post(f"/api/v1/programmes/{slug}/offer-next", body, format="json")


class TestCapacity:
    def test_a_full_programme_refuses_the_next_place_with_a_409(
        self, api, coordinator, divert, queue, move
    ):
        set_capacity(divert, 1)
        first, second = queue([3, 3])
        move(first, "enrolled")
        response = api(coordinator).post(
            f"/api/v1/enrolments/{second.pk}/transitions", {"to": "enrolled"}, format="json"
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "capacity_full"
        assert "1 of 1 places are taken" in error["message"]
        second.refresh_from_db()
        assert second.status == "eligibility_checked"

    def test_an_offer_holds_a_place(self, api, coordinator, divert, queue, move):
        set_capacity(divert, 1)
        first, second = queue([3, 3])
        move(first, "offered")
        response = api(coordinator).post(
            f"/api/v1/enrolments/{second.pk}/transitions", {"to": "offered"}, format="json"
        )
        assert response.json()["error"]["code"] == "capacity_full"
        # Accepting the offer takes no second place.
        assert move(first, "enrolled").status == "enrolled"

    def test_places_taken_and_free_are_published(self, api, officer, divert, queue, move):
        set_capacity(divert, 3)
        first, second, third = queue([3, 3, 3])
        move(first, "enrolled")
        move(second, "offered")
        move(third, "waitlisted")
        body = api(officer).get("/api/v1/programmes/divert").json()
        assert (body["capacity"], body["places_taken"], body["places_free"], body["waiting"]) == (
            3,
            2,
            1,
            1,
        )

    def test_leaving_frees_the_place(self, divert, queue, move):
        set_capacity(divert, 1)
        first, second = queue([3, 3])
        move(move(first, "enrolled"), "withdrawn", reason="Moved away")
        assert move(second, "enrolled").status == "enrolled"


class TestWaitingList:
    def test_the_intake_queue_is_in_priority_then_referral_order(
        self, api, coordinator, divert, queue, move
    ):
        a, b, c, d = queue([3, 1, 3, 2])
        for enrolment in (a, b, c, d):
            move(enrolment, "waitlisted")
        body = api(coordinator).get("/api/v1/programmes/divert/intake?status=waitlisted").json()
        assert [e["id"] for e in body["results"]] == [str(x.pk) for x in (b, d, a, c)]

    def test_offer_next_goes_to_the_head_of_the_list(self, api, coordinator, divert, queue, move):
        set_capacity(divert, 1)
        a, b, c = queue([3, 2, 2])
        for enrolment in (a, b, c):
            move(enrolment, "waitlisted")
        response = offer_next(api(coordinator), reason="Weekly intake meeting")
        assert response.status_code == 200, response.json()
        assert response.json()["id"] == str(b.pk)
        assert response.json()["status"] == "offered"
        assert b.transitions.last().reason == "Weekly intake meeting"

    def test_offer_next_when_full_is_a_409(self, api, coordinator, divert, queue, move):
        set_capacity(divert, 1)
        a, b = queue([3, 3])
        move(a, "enrolled")
        move(b, "waitlisted")
        response = offer_next(api(coordinator))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "capacity_full"

    def test_offer_next_with_nobody_waiting_is_a_409(self, api, coordinator, divert):
        response = offer_next(api(coordinator))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "waiting_list_empty"

    def test_offer_next_is_for_the_programmes_coordinators_only(
        self, api, other_coordinator, outsider, divert
    ):
        assert offer_next(api(other_coordinator)).status_code == 404
        assert offer_next(api(outsider)).status_code == 404

    def test_nobody_jumps_the_queue(self, api, coordinator, divert, queue, move):
        a, b = queue([3, 3])
        move(a, "waitlisted")
        move(b, "waitlisted")
        response = api(coordinator).post(
            f"/api/v1/enrolments/{b.pk}/transitions", {"to": "offered"}, format="json"
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "waiting_list_order"
        assert "1 person is ahead" in error["message"]

    def test_a_new_referral_cannot_bypass_people_already_waiting(
        self, api, coordinator, divert, queue, move
    ):
        a, b = queue([3, 3])
        move(a, "waitlisted")
        response = api(coordinator).post(
            f"/api/v1/enrolments/{b.pk}/transitions", {"to": "enrolled"}, format="json"
        )
        assert response.json()["error"]["code"] == "waiting_list_order"

    def test_but_a_more_urgent_one_goes_first(self, divert, queue, move):
        a, b = queue([3, 1])
        move(a, "waitlisted")
        # Passing the waiting list is explained (tests/programmes/test_workflow_order.py).
        assert move(b, "enrolled", reason="More urgent than anyone waiting").status == "enrolled"

    def test_raising_priority_needs_a_reason_and_reorders_the_list(
        self, api, coordinator, divert, queue, move
    ):
        a, b = queue([3, 3])
        move(a, "waitlisted")
        b = move(b, "waitlisted")
        client = api(coordinator)
        url = f"/api/v1/enrolments/{b.pk}"
        etag = client.get(url)["ETag"]
        response = client.patch(url, {"priority": 1}, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 400
        assert "reason" in response.json()["error"]["fields"]
        response = client.patch(
            url,
            {"priority": 1, "reason": "Escalating risk after a stabbing nearby"},
            format="json",
            HTTP_IF_MATCH=etag,
        )
        assert response.status_code == 200
        assert offer_next(client).json()["id"] == str(b.pk)

    def test_only_coordinators_change_priority(self, api, officer, divert, queue):
        [a] = queue([3])
        url = f"/api/v1/enrolments/{a.pk}"
        client = api(officer)
        response = client.patch(
            url, {"priority": 1, "reason": "please"}, format="json", HTTP_IF_MATCH='"2"'
        )
        assert response.status_code == 403

    def test_an_offer_not_taken_up_returns_to_its_place(self, divert, queue, move):
        a, b = queue([3, 3])
        move(a, "offered")
        move(b, "waitlisted")
        a = move(a, "waitlisted", reason="No reply in two weeks")
        from programmes.selectors import waiting_list

        assert list(waiting_list(divert)) == [a, b]

    def test_coordinators_hear_when_a_place_frees_up_for_someone_waiting(
        self, coordinator, divert, queue, move
    ):
        set_capacity(divert, 1)
        a, b = queue([3, 3])
        a = move(a, "enrolled")
        move(b, "waitlisted")
        Notification.objects.all().delete()
        move(a, "withdrawn", reason="Moved away")
        [note] = Notification.objects.filter(recipient=coordinator)
        assert note.title == "A place is free on DIVERT custody coaching; 1 waiting"


def test_capacity_zero_closes_the_programme_to_new_places(divert, refer, case, move):
    set_capacity(divert, 0)
    enrolment = move(refer(divert, case, DIVERT_CUSTODY), "eligibility_checked")
    from core.errors import Conflict

    with pytest.raises(Conflict):
        move(enrolment, "offered")
