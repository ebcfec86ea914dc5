"""GET /api/v1/follow-ups/ and the notification endpoints: only what is yours, in constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from followups import kinds
from followups.models import FollowUp, Notification
from followups.services import followups_deliver_due, notify
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.django_db

URL = "/api/v1/follow-ups/"


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def board(officer, sergeant, police, school, teacher, shared_case, case, make_followup):
    """Follow-ups of every shape around the police and the school."""
    return {
        "officer": make_followup(assignee_user=officer, case=case, kind=kinds.CASE_REVIEW),
        "police": make_followup(assignee_partner=police, due_in=timedelta(days=2)),
        "police_managers": make_followup(assignee_partner=police, kind=kinds.RETENTION_REVIEW),
        "wellbeing": make_followup(
            assignee_user=officer, assignee_partner=police, kind=kinds.SUPERVISION_CHECK_IN
        ),
        "school_shared": make_followup(assignee_partner=school, case=shared_case, kind="x"),
        # Assigned to the school about a case the school cannot see: nobody at school sees it.
        "school_unshared": make_followup(assignee_partner=school, case=case, kind="y"),
        "teacher": make_followup(assignee_user=teacher, due_in=timedelta(days=5)),
    }


def names(board, response):
    by_id = {str(f.pk): name for name, f in board.items()}
    return sorted(by_id[i] for i in ids(response))


class TestVisibility:
    def test_the_core_fields(self, api, officer, board, case):
        response = api(officer).get(URL, {"assigned": "me", "kind": kinds.CASE_REVIEW})
        [item] = response.json()["results"]
        followup = board["officer"]
        assert item["id"] == str(followup.pk)
        assert item["kind"] == kinds.CASE_REVIEW
        assert item["status"] == "pending"
        assert item["subject"] == {"resource": "case", "id": str(case.pk)}
        assert item["assignee"] == {"user": str(officer.pk), "partner": None}
        assert item["case"] == str(case.pk)
        assert timezone.datetime.fromisoformat(item["due_at"]) == followup.due_at

    def test_a_practitioner_sees_theirs_and_their_partners(self, api, officer, board):
        assert names(board, api(officer).get(URL)) == ["officer", "police", "wellbeing"]

    def test_a_manager_also_sees_manager_work_and_staff_check_ins(self, api, sergeant, board):
        assert names(board, api(sergeant).get(URL)) == ["police", "police_managers", "wellbeing"]

    def test_a_colleague_never_sees_someone_elses_check_in(self, api, police, board):
        colleague = factories.make_user(police)
        assert names(board, api(colleague).get(URL)) == ["police"]

    def test_case_follow_ups_need_the_case_to_be_visible(self, api, teacher, board):
        assert names(board, api(teacher).get(URL)) == ["school_shared", "teacher"]

    def test_losing_the_case_loses_its_follow_ups(self, api, officer, teacher, school, board):
        case_services.share_revoke(
            actor=actor(officer), case=board["school_shared"].case, partner=school
        )
        assert names(board, api(teacher).get(URL)) == ["teacher"]

    def test_an_outsider_sees_nothing(self, api, outsider, board):
        assert ids(api(outsider).get(URL)) == []

    def test_auditors_and_coordinators_see_only_their_own(self, api, auditor, coordinator, board):
        assert ids(api(auditor).get(URL)) == []
        assert ids(api(coordinator).get(URL)) == []

    def test_a_partner_system_sees_its_partners_shared_work(self, api, police, board):
        token = factories.client_token(police)
        assert names(board, api(token).get(URL)) == ["police"]
        assert ids(api(token).get(URL, {"assigned": "me"})) == []

    def test_anonymous_is_401(self, api, board):
        assert api().get(URL).status_code == 401


class TestFilters:
    def test_assigned_me(self, api, officer, board):
        assert names(board, api(officer).get(URL, {"assigned": "me"})) == ["officer", "wellbeing"]

    def test_due_before_and_status(self, api, officer, board):
        soon = (timezone.now() + timedelta(days=1)).isoformat()
        assert names(board, api(officer).get(URL, {"due_before": soon})) == [
            "officer",
            "wellbeing",
        ]
        followups_deliver_due()
        assert names(board, api(officer).get(URL, {"status": "pending"})) == ["police"]
        assert names(board, api(officer).get(URL, {"status": ["notified", "pending"]})) == [
            "officer",
            "police",
            "wellbeing",
        ]

    def test_updated_since(self, api, officer, board):
        cutoff = timezone.now()
        FollowUp.objects.filter(pk=board["police"].pk).update(updated_at=cutoff + timedelta(1))
        assert names(board, api(officer).get(URL, {"updated_since": cutoff.isoformat()})) == [
            "police"
        ]

    def test_bad_filters_are_400(self, api, officer, board):
        for params in ({"due_before": "soon"}, {"status": "lost"}, {"assigned": "you"}):
            response = api(officer).get(URL, params)
            assert response.status_code == 400, params
            assert response.json()["error"]["code"] == "invalid"

    def test_soonest_first_and_cursor_pages_without_repeats(self, api, officer, make_followup):
        for n in range(7):
            make_followup(assignee_user=officer, due_in=timedelta(hours=n))
        client = api(officer)
        seen, url, params = [], URL, {"page_size": 3}
        while url:
            body = client.get(url, params).json()
            seen += [item["due_at"] for item in body["results"]]
            url, params = body["next"], None
        assert len(seen) == 7
        assert seen == sorted(seen)

    def test_constant_queries_whatever_the_page_size(
        self, api, officer, police, case, make_followup, django_assert_max_num_queries
    ):
        client = api(officer)
        for n in range(30):
            make_followup(
                assignee_user=officer if n % 2 else None,
                assignee_partner=None if n % 2 else police,
                case=case if n % 3 == 0 else None,
                kind=f"k{n}",
            )
        for size in (1, 30):
            with django_assert_max_num_queries(6):
                assert len(ids(client.get(URL, {"page_size": size}))) == size


class TestDone:
    def test_marking_done(self, api, officer, board):
        followup = board["officer"]
        response = api(officer).post(f"{URL}{followup.pk}/done")
        assert response.status_code == 200
        assert response.json()["status"] == "done"
        again = api(officer).post(f"{URL}{followup.pk}/done")
        assert again.status_code == 409

    def test_someone_elses_is_404(self, api, teacher, outsider, board):
        for who in (teacher, outsider):
            response = api(who).post(f"{URL}{board['officer'].pk}/done")
            assert response.status_code == 404


class TestNotifications:
    @pytest.fixture
    def inbox(self, officer, sergeant):
        for n in range(3):
            notify(recipients=[officer], kind="k", title=f"Item {n}", link="/x", dedupe_key=str(n))
        notify(recipients=[sergeant], kind="k", title="Theirs", dedupe_key="s")
        return list(Notification.objects.filter(recipient=officer))

    def test_own_list_and_unread_count(self, api, officer, inbox):
        client = api(officer)
        body = client.get("/api/v1/notifications/").json()
        assert [n["title"] for n in body["results"]] == ["Item 2", "Item 1", "Item 0"]
        assert {n["read"] for n in body["results"]} == {False}
        assert client.get("/api/v1/notifications/unread-count").json() == {"unread": 3}

    def test_mark_read_is_idempotent_and_personal(self, api, officer, sergeant, inbox):
        target = inbox[0]
        client = api(officer)
        first = client.post(f"/api/v1/notifications/{target.pk}/read")
        assert first.status_code == 200
        assert first.json()["read"] is True
        second = client.post(f"/api/v1/notifications/{target.pk}/read")
        assert second.json()["read_at"] == first.json()["read_at"]
        assert client.get("/api/v1/notifications/unread-count").json() == {"unread": 2}
        assert client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"]
        # Someone else's is not found, and untouched.
        assert api(sergeant).post(f"/api/v1/notifications/{target.pk}/read").status_code == 404

    def test_mark_all_read(self, api, officer, inbox):
        client = api(officer)
        assert client.post("/api/v1/notifications/read-all").json() == {"marked": 3}
        assert client.get("/api/v1/notifications/unread-count").json() == {"unread": 0}
        assert client.get("/api/v1/notifications/", {"unread": "true"}).json()["results"] == []

    def test_outsider_and_partner_systems_see_none(self, api, outsider, police, inbox):
        assert api(outsider).get("/api/v1/notifications/").json()["results"] == []
        token = factories.client_token(police)
        assert api(token).get("/api/v1/notifications/").json()["results"] == []
        assert api(token).get("/api/v1/notifications/unread-count").json() == {"unread": 0}

    def test_constant_queries(self, api, officer, inbox, django_assert_max_num_queries):
        for n in range(20):
            notify(recipients=[officer], kind="k", title="More", dedupe_key=f"more{n}")
        client = api(officer)
        for size in (1, 23):
            with django_assert_max_num_queries(5):
                response = client.get("/api/v1/notifications/", {"page_size": size})
            assert len(response.json()["results"]) == size
