"""An Idempotency-Key replay never hands over what the caller may no longer see.

Reads sent as POST (POST /people/matches) keep no response: a repeat runs again on what the caller
may see now. A replay of a write re-checks every record the stored response is about, with the
owning app's access functions, and answers 404 (as a fresh request would) for one the caller may no
longer see, e.g. after the case was unshared.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.views import APIView

from audit.models import AccessLog
from cases import services as case_services
from casework import services as casework_services
from programmes import services as programme_services
from programmes.catalogue import install_standard_programmes
from programmes.models import Programme
from sync.idempotency import BODY_RECORDS, NOTHING_TO_RECHECK, URL_RECORDS
from sync.models import IdempotencyRecord
from tests.factories import actor as as_actor

pytestmark = pytest.mark.django_db

MATCH = {"given_name": "Jayden", "family_name": "Clarke", "date_of_birth": "2010-03-14"}


def post(client, path, body, key):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def shared_case(make_case, share_with, school):
    case = make_case(summary="Seen with older peers")
    share_with(case, school)
    return case


def unshare(case, partner, officer):
    case_services.share_revoke(actor=as_actor(officer), case=case, partner=partner)


class TestMatches:
    def test_a_repeat_after_the_share_is_revoked_shows_only_a_count(
        self, api, school_system, shared_case, school, officer
    ):
        client = api(school_system)
        first = post(client, "/api/v1/people/matches", MATCH, "m-1")
        assert first.status_code == 200
        assert [m["person"]["id"] for m in first.json()["results"]] == [str(shared_case.subject_id)]
        unshare(shared_case, school, officer)
        again = post(client, "/api/v1/people/matches", MATCH, "m-1")
        assert again.status_code == 200
        assert again.json() == {"results": [], "hidden_matches": 1}
        assert "Jayden" not in again.content.decode()
        assert not again.has_header("Idempotent-Replayed")

    def test_no_response_is_kept_but_the_key_still_guards_its_body(
        self, api, school_system, shared_case
    ):
        client = api(school_system)
        post(client, "/api/v1/people/matches", MATCH, "m-2")
        record = IdempotencyRecord.objects.get(key="m-2")
        assert (record.state, bytes(record.body), record.headers) == ("completed", b"", {})
        other = post(client, "/api/v1/people/matches", {**MATCH, "given_name": "Jay"}, "m-2")
        assert other.status_code == 422


class TestWrites:
    def entry(self):
        return {
            "kind": "contact",
            "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "body": "Spoke to Jayden at school about the weekend.",
        }

    def test_a_replay_after_the_share_is_revoked_is_not_found(
        self, api, teacher, shared_case, school, officer
    ):
        client = api(teacher)
        url = f"/api/v1/cases/{shared_case.pk}/entries"
        body = self.entry()
        first = post(client, url, body, "e-1")
        assert first.status_code == 201
        unshare(shared_case, school, officer)
        again = post(client, url, body, "e-1")
        assert again.status_code == 404
        assert again.json() == {
            "error": {"code": "not_found", "message": "Case not found.", "fields": {}}
        }
        assert "Jayden" not in again.content.decode()
        assert AccessLog.objects.filter(user=teacher, action="replay", allowed=False).exists()

    def test_a_replay_still_visible_is_the_first_response(self, api, teacher, shared_case):
        client = api(teacher)
        url = f"/api/v1/cases/{shared_case.pk}/entries"
        body = self.entry()
        first = post(client, url, body, "e-2")
        again = post(client, url, body, "e-2")
        assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()

    def test_a_replay_of_a_record_no_longer_visible_is_not_found(
        self, api, officer, make_case, share_with, school, teacher
    ):
        # The school records on a police case it was shared; the body's record is re-checked too.
        case = make_case()
        share_with(case, school)
        client = api(teacher)
        body = {"code": "bullying", "source": "observed"}
        url = f"/api/v1/cases/{case.pk}/adversities"
        assert post(client, url, body, "a-1").status_code == 201
        unshare(case, school, officer)
        assert post(client, url, body, "a-1").status_code == 404


@pytest.fixture
def invisible_walls(coordinator):
    install_standard_programmes(Programme)
    programme = Programme.objects.get(slug="invisible-walls")
    programme.coordinators.set([coordinator])
    return programme


class TestDerivedContent:
    """An enrolment's response carries its eligibility as the caller could see it then."""

    def test_a_coordinator_who_lost_the_case_does_not_get_its_eligibility_again(
        self, api, officer, coordinator, vru, invisible_walls, make_person, share_with
    ):
        today = timezone.localdate()
        person = make_person(date_of_birth=today.replace(year=today.year - 9))
        case = case_services.case_create(actor=as_actor(officer), subject=person, data={})
        share_with(case, vru)
        casework_services.adversity_create(
            actor=as_actor(officer), case=case, code="parental_incarceration", source="disclosed"
        )
        details = {
            "prison": "HMP Northshire",
            "imprisoned_family_member": {"name": "Dan", "relationship": "father"},
        }
        enrolment = programme_services.enrolment_create(
            actor=as_actor(officer), programme=invisible_walls, person=person, case=case,
            details=details,
        )  # fmt: skip
        client = api(coordinator)
        url = f"/api/v1/enrolments/{enrolment.pk}/transitions"
        first = post(client, url, {"to": "eligibility_checked"}, "t-1")
        assert first.status_code == 200 and first.json()["eligibility"]["eligible"] is True
        unshare(case, vru, officer)
        again = post(client, url, {"to": "eligibility_checked"}, "t-1")
        assert again.status_code == 404
        assert "parental_incarceration" not in again.content.decode()


def _post_routes(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _post_routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            path = prefix + str(pattern.pattern)
            is_post = view and issubclass(view, APIView) and hasattr(view, "post")
            if is_post and path.startswith("api/v1/"):
                yield path, pattern.name, set(pattern.pattern.converters), view


def test_every_post_route_says_what_a_replay_must_check():
    routes = list(_post_routes())
    assert len(routes) > 20
    for path, name, kwargs, view in routes:
        if name in NOTHING_TO_RECHECK or not getattr(view, "idempotency_stores_response", True):
            continue
        unknown = kwargs - set(URL_RECORDS) - {"slug"}
        assert not unknown, f"{path}: map {unknown} in sync.idempotency.URL_RECORDS"
        assert kwargs & set(URL_RECORDS) or name in BODY_RECORDS, (
            f"{path} ({name}): say in sync.idempotency which record its response holds"
        )
