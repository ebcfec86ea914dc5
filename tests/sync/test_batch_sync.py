"""POST /api/v1/sync/{people,cases}: per-record results, one bad record never fails the batch."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases.models import Case, CaseHistory, Person, PersonIdentifier
from core.models import Change
from sync.batch import cases as batch_cases
from sync.models import ExternalRef
from tests import factories

pytestmark = pytest.mark.django_db

NHS = "9434765919"  # a valid NHS number (modulus 11)


def person(local_id, **fields):
    return {
        "local_id": local_id,
        "given_name": "Jayden",
        "family_name": "Clarke",
        "date_of_birth": "2010-03-14",
        **fields,
    }


def push(client, resource, records, **extra):
    response = client.post(f"/api/v1/sync/{resource}", {"records": records}, format="json", **extra)
    assert response.status_code == 200, response.content
    return response.json()


def statuses(body):
    return [r["status"] for r in body["results"]]


class TestPeople:
    def test_it_creates_then_finds_them_unchanged(self, api, police_system, police):
        client = api(police_system)
        records = [person(f"RMS-{n}", given_name=f"Child{n}") for n in range(5)]
        first = push(client, "people", records)
        assert statuses(first) == ["created"] * 5
        assert first["summary"] == {"created": 5, "updated": 0, "unchanged": 0, "error": 0}
        assert PersonIdentifier.objects.filter(scheme="local", issuer=police).count() == 5
        journal = Change.objects.count()
        again = push(client, "people", records)
        assert statuses(again) == ["unchanged"] * 5
        assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
        assert Change.objects.count() == journal  # nothing written ...
        assert Person.objects.filter(version=1).count() == 5

    def test_a_changed_record_is_updated_through_the_versioned_service(self, api, police_system):
        client = api(police_system)
        push(client, "people", [person("RMS-1"), person("RMS-2")])
        body = push(client, "people", [person("RMS-1", preferred_name="JJ"), person("RMS-2")])
        assert statuses(body) == ["updated", "unchanged"]
        assert body["results"][0]["version"] == 2
        assert Person.objects.get(preferred_name="JJ").version == 2
        assert Change.objects.filter(action="updated", resource="person").count() == 1

    def test_identifiers_are_added_and_held_ones_refused(
        self, api, police_system, officer, make_person
    ):
        client = api(police_system)
        body = push(
            client,
            "people",
            [person("RMS-1", identifiers=[{"scheme": "nhs", "value": "943 476 5919"}])],
        )
        assert body["results"][0]["status"] == "created"
        assert PersonIdentifier.objects.get(scheme="nhs").value == NHS
        clash = push(
            client, "people", [person("RMS-2", identifiers=[{"scheme": "nhs", "value": NHS}])]
        )
        assert clash["results"][0]["error"]["code"] == "identifier_in_use"

    def test_one_bad_record_does_not_fail_the_batch(self, api, police_system):
        body = push(
            api(police_system),
            "people",
            [
                person("RMS-1"),
                person("RMS-2", date_of_birth="2999-01-01"),
                {"local_id": "RMS-3", "given_name": "No family name"},
                person("RMS-4", identifiers=[{"scheme": "nhs", "value": "1234567890"}]),
                {"given_name": "no local id"},
                "not even an object",
                person("RMS-1"),
                person("RMS-5"),
            ],
        )
        assert statuses(body) == [
            "created",
            "error",
            "error",
            "error",
            "error",
            "error",
            "error",
            "created",
        ]
        errors = [r["error"] for r in body["results"] if r["error"]]
        assert errors[0]["fields"] == {
            "date_of_birth": ["A date of birth cannot be in the future."]
        }
        assert "family_name" in errors[1]["fields"]
        assert "identifiers.0.value" in errors[2]["fields"]
        assert "local_id" in errors[3]["fields"]
        assert errors[5]["code"] == "duplicate_in_batch"
        assert Person.objects.count() == 2

    def test_a_stale_version_is_refused_not_overwritten(self, api, police_system):
        client = api(police_system)
        push(client, "people", [person("RMS-1")])
        push(client, "people", [person("RMS-1", preferred_name="JJ")])
        body = push(client, "people", [person("RMS-1", preferred_name="Jay", version=1)])
        assert body["results"][0]["error"]["code"] == "stale"
        assert Person.objects.get().preferred_name == "JJ"

    def test_local_ids_are_per_partner(self, api, police_system, school_system):
        push(api(police_system), "people", [person("X-1")])
        body = push(api(school_system), "people", [person("X-1")])
        assert statuses(body) == ["created"]
        assert Person.objects.count() == 2

    def test_writes_are_access_logged_and_journalled_in_bulk(
        self, api, police_system, django_assert_max_num_queries
    ):
        client = api(police_system)
        with django_assert_max_num_queries(40):
            push(client, "people", [person(f"RMS-{n}") for n in range(200)])
        assert (
            AccessLog.objects.filter(action="create", channel="sync", object_type="person").count()
            == 200
        )
        assert Change.objects.filter(resource="person", action="created").count() == 200
        with django_assert_max_num_queries(30):
            push(client, "people", [person(f"RMS-{n}") for n in range(200)])


class TestCases:
    def test_it_creates_cases_for_synced_people_and_keeps_the_callers_ids(
        self, api, police_system, police
    ):
        client = api(police_system)
        push(client, "people", [person("RMS-1"), person("RMS-2")])
        body = push(
            client,
            "cases",
            [
                {
                    "local_id": "CASE-1",
                    "subject_local_id": "RMS-1",
                    "summary": "Missing episodes",
                    "risk_level": "high",
                },
                {"local_id": "CASE-2", "subject_local_id": "RMS-2", "status": "open"},
            ],
        )
        assert statuses(body) == ["created", "created"]
        case = Case.objects.get(pk=body["results"][0]["id"])
        assert (case.lead_partner, case.risk_level, case.status) == (police, "high", "referred")
        assert Case.objects.get(pk=body["results"][1]["id"]).status == "open"
        assert ExternalRef.objects.filter(partner=police, resource="case").count() == 2
        assert CaseHistory.objects.filter(case=case).count() == 1
        # The lead partner can use it like any other case.
        detail = client.get(f"/api/v1/cases/{case.pk}")
        assert detail.status_code == 200 and detail.json()["reference"].startswith("VRU-")
        references = set(Case.objects.values_list("reference", flat=True))
        assert len(references) == 2

    def test_unchanged_updated_and_transitions(self, api, police_system):
        client = api(police_system)
        push(client, "people", [person("RMS-1")])
        record = {"local_id": "CASE-1", "subject_local_id": "RMS-1", "summary": "One"}
        push(client, "cases", [record])
        assert statuses(push(client, "cases", [record])) == ["unchanged"]
        body = push(client, "cases", [{**record, "summary": "Two", "status": "open"}])
        assert statuses(body) == ["updated"]
        case = Case.objects.get()
        assert (case.summary, case.status) == ("Two", "open")
        illegal = push(client, "cases", [{**record, "summary": "Two", "status": "screening"}])
        assert illegal["results"][0]["error"]["code"] == "illegal_transition"
        no_reason = push(client, "cases", [{**record, "summary": "Two", "status": "closed"}])
        assert "closure_reason" in no_reason["results"][0]["error"]["fields"]

    def test_bad_records_fail_alone(self, api, police_system, make_person, teacher):
        client = api(police_system)
        push(client, "people", [person("RMS-1")])
        invisible = make_person(by=teacher)
        body = push(
            client,
            "cases",
            [
                {"local_id": "CASE-1", "subject_local_id": "RMS-1"},
                {"local_id": "CASE-2", "subject_local_id": "NOBODY"},
                {"local_id": "CASE-3", "subject": str(invisible.pk)},
                {"local_id": "CASE-4"},
                {"local_id": "CASE-5", "subject_local_id": "RMS-1", "status": "closed"},
                {"local_id": "CASE-6", "subject_local_id": "RMS-1", "risk_level": "extreme"},
            ],
        )
        assert statuses(body) == ["created"] + ["error"] * 5
        assert Case.objects.count() == 1

    def test_a_concurrent_insert_falls_back_to_one_by_one(
        self, api, police_system, police, monkeypatch
    ):
        client = api(police_system)
        push(client, "people", [person("RMS-1")])
        push(client, "cases", [{"local_id": "TAKEN", "subject_local_id": "RMS-1"}])
        # As if another request had created TAKEN between our read and our insert:
        monkeypatch.setattr(batch_cases, "external_refs", lambda *args: {})
        body = push(
            client,
            "cases",
            [
                {"local_id": "NEW-1", "subject_local_id": "RMS-1"},
                {"local_id": "TAKEN", "subject_local_id": "RMS-1"},
            ],
        )
        assert statuses(body) == ["created", "error"]
        assert body["results"][1]["error"]["code"] == "conflict"
        assert Case.objects.count() == 2

    def test_coordinators_cannot_open_cases(self, api, coordinator):
        client = api(coordinator)
        push(client, "people", [person("RMS-1")])
        body = push(client, "cases", [{"local_id": "C", "subject_local_id": "RMS-1"}])
        assert body["results"][0]["error"]["code"] == "forbidden"


class TestLimitsAndScopes:
    def test_more_than_500_records_is_413(self, api, police_system):
        response = api(police_system).post(
            "/api/v1/sync/people", {"records": [person(f"R{n}") for n in range(501)]}, format="json"
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "too_large"
        assert not Person.objects.exists()

    def test_a_body_without_records_is_400(self, api, police_system):
        response = api(police_system).post("/api/v1/sync/people", [1, 2], format="json")
        assert response.status_code == 400
        assert "records" in response.json()["error"]["fields"]

    @pytest.mark.parametrize("scopes", ["read", "read,write"])
    def test_it_needs_the_sync_scope(self, api, police, scopes):
        token = factories.client_token(police, scopes)
        response = api(token).post("/api/v1/sync/people", {"records": []}, format="json")
        assert response.status_code == 403
        assert "sync" in response.json()["error"]["message"]

    def test_an_unknown_resource_is_404(self, api, police_system):
        assert (
            api(police_system)
            .post("/api/v1/sync/widgets", {"records": []}, format="json")
            .status_code
            == 404
        )
