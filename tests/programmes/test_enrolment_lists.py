"""GET /api/v1/enrolments/, the intake queue, sessions and milestones as lists: cursor pages,
`updated_since`, filters, and a query count that does not grow with the page size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from programmes.models import Enrolment
from tests.programmes.conftest import share

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(divert, street_and_arrow, refer, make_case, officer, vru):
    """Six referrals by the officer (DIVERT), cases shared with the VRU, one also to Street and Arrow."""
    made = []
    for index in range(6):
        case = make_case(given_name=f"Young{index}")
        share(case, vru, officer)
        made.append(refer(divert, case))
    made.append(refer(street_and_arrow, case, {"cohort": "on_licence"}))
    return made


class TestEnrolmentList:
    def test_it_pages_with_a_cursor(self, api, officer, many):
        client = api(officer)
        seen, url = [], "/api/v1/enrolments/?page_size=3"
        while url:
            body = client.get(url).json()
            assert len(body["results"]) <= 3
            seen += [e["id"] for e in body["results"]]
            url = body["next"]
        assert sorted(seen) == sorted(str(e.pk) for e in many)

    def test_queries_do_not_grow_with_the_page_size(
        self, api, officer, coordinator, many, django_assert_max_num_queries
    ):
        for user in (officer, coordinator):
            client = api(user)
            with django_assert_max_num_queries(8) as small:
                assert len(client.get("/api/v1/enrolments/?page_size=1").json()["results"]) == 1
            with django_assert_max_num_queries(len(small.captured_queries)):
                assert len(client.get("/api/v1/enrolments/?page_size=200").json()["results"]) >= 6

    def test_each_row_listed_is_logged_in_one_insert(self, api, officer, many):
        api(officer).get("/api/v1/enrolments/?page_size=4")
        assert AccessLog.objects.filter(user=officer, action="list").count() == 4

    def test_filters(self, api, officer, many):
        client = api(officer)

        def ids(query):
            return {e["id"] for e in client.get(f"/api/v1/enrolments/?{query}").json()["results"]}

        assert ids("programme=street-and-arrow") == {str(many[-1].pk)}
        assert ids(f"case={many[0].case_id}") == {str(many[0].pk)}
        assert ids(f"person={many[1].person_id}") == {str(many[1].pk)}
        assert ids("status=referred&status=waitlisted") == {str(e.pk) for e in many}
        assert ids("status=active") == set()
        Enrolment.objects.filter(pk=many[2].pk).update(
            updated_at=timezone.now() + timedelta(days=2)
        )
        since = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        assert ids(f"updated_since={since}") == {str(many[2].pk)}

    def test_a_bad_filter_is_a_400_naming_it(self, api, officer, many):
        response = api(officer).get("/api/v1/enrolments/?status=happy")
        assert response.status_code == 400
        assert "status" in response.json()["error"]["fields"]


class TestIntakeList:
    def test_queries_do_not_grow_with_the_page_size(
        self, api, coordinator, many, django_assert_max_num_queries
    ):
        client = api(coordinator)
        with django_assert_max_num_queries(10) as small:
            client.get("/api/v1/programmes/divert/intake?page_size=1")
        with django_assert_max_num_queries(len(small.captured_queries)):
            body = client.get("/api/v1/programmes/divert/intake?page_size=200").json()
        assert len(body["results"]) == 6

    def test_closed_enrolments_leave_the_queue(self, api, coordinator, many, move):
        move(many[0], "ineligible", reason="Lives outside the area")
        body = api(coordinator).get("/api/v1/programmes/divert/intake").json()
        assert str(many[0].pk) not in {e["id"] for e in body["results"]}
        assert len(body["results"]) == 5
