"""Actions: owner and due date, If-Match updates, who may change them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import services
from casework.models import ActionHistory
from followups.models import Notification
from tests import factories
from tests.casework.conftest import logged
from tests.factories import actor


def soon(days=7):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def create(api, user, case, **data):
    data = {"title": "Book a joint visit", "due_date": soon(), **data}
    return api(user).post(f"/api/v1/cases/{case.id}/actions", data, format="json")


@pytest.mark.django_db
class TestCreate:
    def test_it_defaults_the_owner_to_the_actor(self, api, case, teacher):
        response = create(api, teacher, case)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["owner_user"] == str(teacher.id) and body["owner_partner"] == "school"
        assert body["status"] == "open" and response["ETag"] == '"1"'
        assert logged(teacher, action="create", object_type="action").exists()

    def test_it_assigns_to_a_person_on_the_case_and_tells_them(self, api, case, officer, teacher):
        response = create(api, officer, case, owner_user=str(teacher.id))
        assert response.status_code == 201
        assert response.json()["owner_partner"] == "school"
        assert Notification.objects.filter(recipient=teacher, kind="action_assigned").exists()

    def test_it_assigns_to_a_partner(self, api, case, officer):
        response = create(api, officer, case, owner_partner="vru")
        assert response.status_code == 201
        assert response.json()["owner_user"] is None and response.json()["owner_partner"] == "vru"

    @pytest.mark.parametrize(
        "payload, field",
        [
            ({"owner_user": "OUTSIDER"}, "owner_user"),
            ({"owner_partner": "elsewhere"}, "owner_partner"),
            ({"due_date": "2001-01-01"}, "due_date"),
            ({"title": " "}, "title"),
        ],
    )
    def test_it_rejects_bad_input(self, api, case, officer, outsider, payload, field):
        payload = {k: str(outsider.id) if v == "OUTSIDER" else v for k, v in payload.items()}
        response = create(api, officer, case, **payload)
        assert response.status_code == 400, response.content
        assert field in response.json()["error"]["fields"]

    def test_outsiders_get_404(self, api, case, outsider):
        assert create(api, outsider, case).status_code == 404


@pytest.mark.django_db
class TestUpdate:
    @pytest.fixture
    def action(self, case, officer):
        return services.action_create(
            actor=actor(officer), case=case, title="Call school", due_date=timezone.localdate()
        )

    def patch(self, api, user, action, etag='"1"', **data):
        headers = {"HTTP_IF_MATCH": etag} if etag else {}
        return api(user).patch(f"/api/v1/actions/{action.id}", data, format="json", **headers)

    def test_it_marks_done_and_keeps_history(self, api, action, officer):
        response = self.patch(api, officer, action, status="done")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "done" and response.json()["completed_at"]
        assert response["ETag"] == '"2"'
        history = ActionHistory.objects.get(action=action)
        assert history.changes == {"status": ["open", "done"]} and history.changed_by == officer
        assert logged(officer, action="update", object_type="action").exists()

    def test_if_match_missing_is_428_and_stale_is_412(self, api, action, officer):
        assert self.patch(api, officer, action, etag=None, status="done").status_code == 428
        assert self.patch(api, officer, action, etag='"9"', status="done").status_code == 412
        action.refresh_from_db()
        assert action.status == "open" and action.version == 1

    def test_a_shared_partner_that_neither_set_nor_owns_it_gets_403(self, api, action, teacher):
        assert self.patch(api, teacher, action, status="done").status_code == 403
        assert logged(teacher, action="update", object_type="action", allowed=False).exists()

    def test_the_owner_partner_may_update_it(self, api, case, officer, teacher):
        action = services.action_create(
            actor=actor(officer),
            case=case,
            title="t",
            due_date=timezone.localdate(),
            owner_user=teacher,
        )
        assert self.patch(api, teacher, action, status="done").status_code == 200

    def test_an_outsider_gets_404(self, api, action, outsider):
        assert self.patch(api, outsider, action, status="done").status_code == 404


@pytest.mark.django_db
class TestLists:
    def test_owner_me_and_overdue(self, api, case, officer, teacher):
        mine = services.action_create(
            actor=actor(teacher), case=case, title="mine", due_date=timezone.localdate()
        )
        services.action_create(
            actor=actor(officer), case=case, title="theirs", due_date=timezone.localdate()
        )
        results = api(teacher).get("/api/v1/actions/", {"owner": "me"}).json()["results"]
        assert [a["id"] for a in results] == [str(mine.id)]
        from casework.models import Action

        Action.objects.filter(pk=mine.pk).update(due_date=timezone.localdate() - timedelta(days=2))
        overdue = api(teacher).get("/api/v1/actions/", {"overdue": "true"}).json()["results"]
        assert [a["id"] for a in overdue] == [str(mine.id)] and overdue[0]["overdue"]
        from casework.selectors import overdue_action_ids

        assert [row[0] for row in overdue_action_ids()] == [mine.id]

    def test_outsiders_and_auditors_see_nothing(self, api, case, officer, outsider, auditor):
        services.action_create(
            actor=actor(officer), case=case, title="t", due_date=timezone.localdate()
        )
        for user in (outsider, auditor):
            assert api(user).get("/api/v1/actions/").json()["results"] == []
            assert api(user).get(f"/api/v1/cases/{case.id}/actions").status_code == 404

    def test_a_partner_system_lists_its_case_actions(self, api, case, officer, school):
        services.action_create(
            actor=actor(officer), case=case, title="t", due_date=timezone.localdate()
        )
        token = factories.client_token(school)
        assert len(api(token).get(f"/api/v1/cases/{case.id}/actions").json()["results"]) == 1

    @pytest.mark.parametrize("page_size", [1, 5, 20])
    def test_list_queries_are_constant(
        self, api, case, officer, teacher, page_size, django_assert_max_num_queries
    ):
        for n in range(10):
            services.action_create(
                actor=actor(officer), case=case, title=f"a{n}", due_date=timezone.localdate(),
                owner_user=teacher if n % 2 else None,
            )  # fmt: skip
        with django_assert_max_num_queries(12):
            response = api(teacher).get(
                f"/api/v1/cases/{case.id}/actions", {"page_size": page_size}
            )
        assert len(response.json()["results"]) == min(page_size, 10)
        with django_assert_max_num_queries(12):
            assert api(teacher).get("/api/v1/actions/", {"page_size": page_size}).status_code == 200
