"""A web worker killed at the worst moment never doubles a write (sync/idempotency.py).

Real gunicorn against the PostgreSQL test database. The test fault hook (TEST_FAULTS, tests only)
kills the worker that is serving the request with SIGKILL:
- `after-commit`: the write and the key's completion have committed, the response is not sent.
  The partner system sees a dropped connection and retries with the same key: it must get the
  first response replayed, and there must be one record, not two;
- `before-commit`: the view has run but nothing is committed. The retry must run cleanly and
  create the record once.
"""

from __future__ import annotations

import http.client
import json
import uuid

import pytest

from cases.models import Person
from casework.models import Referral
from followups.models import FollowUp
from sync.models import IdempotencyRecord
from tests import factories
from tests.realparts import REAL_PARTS

pytestmark = REAL_PARTS

REFERRAL = {
    "person": {"given_name": "Kai", "family_name": "Thompson", "date_of_birth": "2011-05-23"},
    "concerns": ["missing_episode"],
    "description": "Reported missing overnight.",
}
PERSON = {"given_name": "Amara", "family_name": "Okafor", "date_of_birth": "2011-05-02"}
BATCH = {
    "records": [
        {"local_id": f"RMS-{n}", "given_name": "Sync", "family_name": f"Person {n}",
         "date_of_birth": "2010-01-01"}
        for n in range(20)
    ]
}  # fmt: skip


def post(web, token: str, path: str, body: dict, key: str, fault: str | None = None):
    """(status, headers, body) of one POST, or None when the connection died under it."""
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    if fault:
        headers["X-Test-Fault"] = fault
    try:
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"{}")
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        return None
    finally:
        conn.close()


def retry_until_answered(web, token, path, body, key):
    """What a partner system does after a dropped connection: retry with the same key."""
    for _ in range(20):
        answer = post(web, token, path, body, key)
        if answer is not None:
            return answer
    raise AssertionError(f"no answer to the retry\n{web.tail()}")


@pytest.fixture
def web(stack):
    return stack.web(TEST_FAULTS="1")


@pytest.fixture
def token(police):
    return factories.client_token(police, "read,write,sync", name="police-rms")


CASES = [
    ("/api/v1/referrals/", REFERRAL, lambda: Referral.objects.count()),
    ("/api/v1/people/", PERSON, lambda: Person.objects.count()),
    (
        "/api/v1/sync/people",
        BATCH,
        # People are keyed by their local identifier: twenty of them each time the batch runs.
        lambda: Person.objects.count() / len(BATCH["records"]),
    ),
]
IDS = ["referral", "person", "batch-sync"]


@pytest.mark.parametrize("path, body, created", CASES, ids=IDS)
def test_killed_after_commit_the_retry_replays_and_nothing_is_doubled(
    web, token, path, body, created
):
    key = str(uuid.uuid4())
    assert post(web, token, path, body, key, fault="after-commit") is None
    assert created() == 1  # it did commit before the worker died

    status, headers, answer = retry_until_answered(web, token, path, body, key)

    assert status in (200, 201), answer
    assert headers.get("Idempotent-Replayed") == "true"
    assert created() == 1
    if path == "/api/v1/referrals/":
        assert answer["id"] == str(Referral.objects.get().pk)
        # One screening follow-up: the side effects committed once, with the write.
        assert FollowUp.objects.filter(subject_resource="referral").count() == 1
    assert IdempotencyRecord.objects.get(key=key).state == IdempotencyRecord.State.COMPLETED


@pytest.mark.parametrize("path, body, created", CASES, ids=IDS)
def test_killed_before_commit_the_retry_runs_cleanly_once(web, token, path, body, created):
    key = str(uuid.uuid4())
    assert post(web, token, path, body, key, fault="before-commit") is None
    assert created() == 0
    assert not IdempotencyRecord.objects.filter(key=key).exists()

    status, headers, _ = retry_until_answered(web, token, path, body, key)

    assert status in (200, 201)
    assert "Idempotent-Replayed" not in headers  # it ran: the key was free at once, no 409 wait
    assert created() == 1
    assert post(web, token, path, body, key)[1].get("Idempotent-Replayed") == "true"
    assert created() == 1
