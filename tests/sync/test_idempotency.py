"""Idempotency-Key on every POST under /api/v1/ (sync/idempotency.py)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases import services as case_services
from cases.models import Case, Person
from sync import idempotency
from sync.idempotency import caller_key, fingerprint
from sync.models import IdempotencyRecord
from tests.conftest import postgres_only
from tests.factories import actor as as_actor

PERSON = {"given_name": "Amara", "family_name": "Okafor", "date_of_birth": "2011-05-02"}

pytestmark = pytest.mark.django_db


def post(client, path, body, key="key-1", **headers):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


class TestReplay:
    def test_it_returns_the_first_response_and_writes_nothing(self, api, police_system):
        client = api(police_system)
        first = post(client, "/api/v1/people/", PERSON)
        assert first.status_code == 201
        logged = AccessLog.objects.count()
        again = post(client, "/api/v1/people/", PERSON)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again["ETag"] == first["ETag"]
        assert again["Idempotent-Replayed"] == "true"
        assert not first.has_header("Idempotent-Replayed")
        assert Person.objects.count() == 1
        # The replay shows personal data again, so it is logged as a read (and only that).
        assert list(
            AccessLog.objects.values_list("action", flat=True)[: AccessLog.objects.count() - logged]
        ) == ["replay"]

    def test_it_applies_to_every_post_not_just_people(self, api, police_system, make_person):
        client = api(police_system)
        subject = post(client, "/api/v1/people/", PERSON, key="p").json()["id"]
        body = {"subject": subject, "summary": "Seen with older peers"}
        first = post(client, "/api/v1/cases/", body, key="c")
        again = post(client, "/api/v1/cases/", body, key="c")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json()["reference"] == first.json()["reference"]
        assert Case.objects.count() == 1

    def test_sync_batches_replay_too(self, api, police_system):
        client = api(police_system)
        batch = {"records": [{"local_id": "RMS-1", **PERSON}]}
        first = post(client, "/api/v1/sync/people", batch, key="batch-1")
        again = post(client, "/api/v1/sync/people", batch, key="batch-1")
        assert first.json()["results"][0]["status"] == "created"
        assert again.json() == first.json()  # "created" again, not "unchanged": the same answer
        assert again["Idempotent-Replayed"] == "true"

    def test_client_errors_are_kept_and_replayed(self, api, police_system):
        client = api(police_system)
        first = post(client, "/api/v1/people/", {"given_name": ""})
        assert first.status_code == 400
        again = post(client, "/api/v1/people/", {"given_name": ""})
        assert again.status_code == 400
        assert again["Idempotent-Replayed"] == "true"

    def test_without_a_key_nothing_is_remembered(self, api, police_system):
        client = api(police_system)
        client.post("/api/v1/people/", PERSON, format="json")
        client.post("/api/v1/people/", PERSON, format="json")
        assert Person.objects.count() == 2
        assert not IdempotencyRecord.objects.exists()


class TestMisuse:
    def test_same_key_different_body_is_422(self, api, police_system):
        client = api(police_system)
        assert post(client, "/api/v1/people/", PERSON).status_code == 201
        response = post(client, "/api/v1/people/", {**PERSON, "given_name": "Someone"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
        assert Person.objects.count() == 1

    def test_same_key_different_path_is_422(self, api, police_system):
        client = api(police_system)
        post(client, "/api/v1/people/", PERSON)
        assert post(client, "/api/v1/people/matches", PERSON).status_code == 422

    def test_a_repeat_while_the_first_is_in_flight_is_409(self, api, police_system):
        client = api(police_system)
        body = b'{"given_name":"Amara","family_name":"Okafor","date_of_birth":"2011-05-02"}'
        actor = as_actor(police_system)
        IdempotencyRecord.objects.create(
            caller=caller_key(actor),
            key="key-1",
            method="POST",
            path="/api/v1/people/",
            fingerprint=fingerprint("POST", "/api/v1/people/", body),
            expires_at=timezone.now() + timedelta(hours=24),
        )
        response = client.generic(
            "POST",
            "/api/v1/people/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="key-1",
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "idempotency_in_flight"
        assert response["Retry-After"]
        assert not Person.objects.exists()

    def test_keys_are_scoped_to_the_caller(self, api, police_system, officer):
        assert post(api(police_system), "/api/v1/people/", PERSON).status_code == 201
        other = post(api(officer), "/api/v1/people/", PERSON)
        assert other.status_code == 201
        assert not other.has_header("Idempotent-Replayed")
        assert Person.objects.count() == 2

    def test_a_malformed_key_is_400(self, api, police_system):
        response = post(api(police_system), "/api/v1/people/", PERSON, key="x" * 300)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_idempotency_key"

    def test_refused_requests_are_not_remembered(self, api, police):
        from tests import factories

        read_only = factories.client_token(police, "read")
        assert post(api(read_only), "/api/v1/people/", PERSON).status_code == 403
        assert post(api("vru_c_not-a-token"), "/api/v1/people/", PERSON).status_code == 401
        assert not IdempotencyRecord.objects.exists()


class TestRetention:
    def test_keys_are_kept_a_day_then_purged(self, api, police_system):
        post(api(police_system), "/api/v1/people/", PERSON)
        record = IdempotencyRecord.objects.get()
        assert record.expires_at - record.created_at >= timedelta(hours=24)
        assert idempotency.purge() == 0
        assert idempotency.purge(now=record.expires_at + timedelta(seconds=1)) == 1

    def test_an_expired_key_may_be_used_again(self, api, police_system):
        client = api(police_system)
        post(client, "/api/v1/people/", PERSON)
        IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        again = post(client, "/api/v1/people/", {**PERSON, "given_name": "Other"})
        assert again.status_code == 201
        assert not again.has_header("Idempotent-Replayed")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_record(api, police_system, monkeypatch):
    """Eight threads, each with its own connection, send one key at the same moment."""
    real_create = case_services.person_create

    def slow_create(**kwargs):
        time.sleep(0.3)  # keep the winner in flight while the others arrive
        return real_create(**kwargs)

    monkeypatch.setattr(case_services, "person_create", slow_create)
    barrier = threading.Barrier(8)
    statuses: list[tuple[int, bool]] = []

    def one():
        from django.db import connection

        try:
            client = api(police_system)
            barrier.wait()
            response = post(client, "/api/v1/people/", PERSON, key="same-moment")
            statuses.append((response.status_code, response.has_header("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Person.objects.count() == 1
    assert sorted(s for s, _ in statuses).count(201) >= 1
    assert {s for s, _ in statuses} <= {201, 409}
    fresh = [s for s, replayed in statuses if s == 201 and not replayed]
    assert len(fresh) == 1
    # Once the first has finished, a retry gets its response.
    retry = post(api(police_system), "/api/v1/people/", PERSON, key="same-moment")
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"


def test_a_failure_on_our_side_leaves_nothing_and_the_retry_runs(api, police_system, monkeypatch):
    """A 5xx answer rolls back what the request did, the key with it: the retry starts afresh."""
    from rest_framework.exceptions import APIException

    real_create = case_services.person_create

    def create_then_fail(**kwargs):
        real_create(**kwargs)
        raise APIException("Something broke after the write.")

    monkeypatch.setattr(case_services, "person_create", create_then_fail)
    client = api(police_system)
    assert post(client, "/api/v1/people/", PERSON, key="k-500").status_code == 500
    assert not Person.objects.exists()
    assert not IdempotencyRecord.objects.exists()

    monkeypatch.setattr(case_services, "person_create", real_create)
    retry = post(client, "/api/v1/people/", PERSON, key="k-500")
    assert retry.status_code == 201
    assert not retry.has_header("Idempotent-Replayed")
    assert Person.objects.count() == 1
