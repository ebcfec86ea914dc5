"""The web tier with Redis down and frozen: real gunicorn, PostgreSQL and a redis-server that the
test stops or freezes with SIGSTOP (tests/realparts.py). What needs only PostgreSQL keeps working,
limits keep counting per process, work waits in the outbox, and /readyz says "degraded".
The cache and breaker in-process: tests/test_cache_breaker.py."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from followups.models import OutboxMessage
from tests import factories
from tests.realparts import REAL_PARTS, free_port, wait_for

pytestmark = REAL_PARTS

FROZEN_REQUEST_SECONDS = 1.5  # loose: the Redis timeouts are 250 ms, PostgreSQL does the rest


@dataclass
class Reply:
    status: int
    body: object
    headers: dict
    seconds: float


def call(web, method: str, path: str, token: str | None = None, body=None) -> Reply:
    """One request to the gunicorn on the loopback port, timed."""
    headers = {"Host": "127.0.0.1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=20)
    try:
        started = time.monotonic()
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        seconds = time.monotonic() - started
    finally:
        connection.close()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    return Reply(
        response.status,
        json.loads(raw) if raw and is_json else raw,
        {k.lower(): v for k, v in response.getheaders()},
        seconds,
    )


def ready(web) -> dict:
    reply = call(web, "GET", "/readyz")
    return {"http": reply.status, **reply.body}


def soon() -> str:
    return (timezone.localdate() + timedelta(days=7)).isoformat()


def breaker_lines(web) -> tuple[int, int]:
    log = web.log()
    return log.count("Redis unreachable"), log.count("Redis answers again")


@pytest.fixture
def team(officer, sergeant, make_case):
    """An officer with a token, a colleague to hand actions to, and a case they both see."""
    return {
        "token": factories.token_for(officer),
        "sergeant": str(sergeant.pk),
        "case": str(make_case(by=officer).pk),
    }


def the_api_works(web, team) -> list[Reply]:
    """List, detail, create a person and a case, assign an action (work for the outbox), follow
    the change feed: each answered exactly as with Redis up."""
    token, case = team["token"], team["case"]
    replies = []

    def expect(status, method, path, body=None):
        reply = call(web, method, path, token, body)
        assert reply.status == status, (method, path, reply.status, reply.body)
        replies.append(reply)
        return reply.body

    listed = expect(200, "GET", "/api/v1/cases/")
    assert case in [c["id"] for c in listed["results"]]
    assert expect(200, "GET", f"/api/v1/cases/{case}")["id"] == case
    person = expect(201, "POST", "/api/v1/people/", {"given_name": "Leah", "family_name": "Moss"})
    created = expect(201, "POST", "/api/v1/cases/", {"subject": person["id"]})
    assert expect(200, "GET", f"/api/v1/cases/{created['id']}")["subject"] == person["id"]
    expect(
        201,
        "POST",
        f"/api/v1/cases/{case}/actions",
        {"title": "Book a joint visit", "due_date": soon(), "owner_user": team["sergeant"]},
    )
    page = expect(200, "GET", "/api/v1/changes")
    assert any(item["id"] == created["id"] for item in page["results"])
    expect(200, "GET", f"/api/v1/changes?cursor={page['next_cursor']}")
    return replies


def test_with_redis_down_the_api_works_and_readyz_says_degraded(stack, team):
    web = stack.web(workers=1, REDIS_BREAKER_OPEN_SECONDS="1")
    assert ready(web) == {
        "http": 200,
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok"},
    }

    stack.redis.stop()
    the_api_works(web, team)
    assert call(web, "GET", "/api/v1/me", "vrup_" + "x" * 43).status == 401
    # The assigned action's notification email waits in the outbox for the relay.
    [waiting] = OutboxMessage.objects.filter(published_at__isnull=True)
    assert waiting.task_name == "followups.send_notification_emails"
    assert ready(web) == {
        "http": 200,
        "status": "degraded",
        "checks": {"database": "ok", "migrations": "ok", "redis": "unavailable"},
    }
    assert breaker_lines(web) == (1, 0)  # one warning for the outage, not one per request

    stack.redis.start()
    wait_for(lambda: ready(web)["status"] == "ok", what="readyz ok", timeout=10, workers=[web])
    assert breaker_lines(web) == (1, 1)
    # Back on Redis: new work is published at once again.
    call(web, "POST", f"/api/v1/cases/{team['case']}/actions", team["token"], {
        "title": "Call the school", "due_date": soon(), "owner_user": team["sergeant"],
    })  # fmt: skip
    latest = OutboxMessage.objects.latest("id")
    assert latest != waiting and latest.published_at is not None


def test_with_redis_frozen_requests_take_one_short_timeout_not_seconds(stack, team):
    web = stack.web(workers=1, REDIS_BREAKER_OPEN_SECONDS="1")
    assert call(web, "GET", "/api/v1/cases/", team["token"]).status == 200

    stack.redis.freeze()
    try:
        started = time.monotonic()
        replies = the_api_works(web, team)
        replies += the_api_works(web, team)  # long enough for the breaker to try Redis again
        elapsed = time.monotonic() - started
        assert ready(web)["status"] == "degraded"
    finally:
        stack.redis.thaw()

    slowest = max(r.seconds for r in replies[1:])
    assert slowest < FROZEN_REQUEST_SECONDS, [round(r.seconds, 2) for r in replies]
    assert elapsed < len(replies) * 0.5
    assert not OutboxMessage.objects.filter(published_at__isnull=False).exists()
    assert OutboxMessage.objects.count() == 2  # both actions' emails are waiting for the relay
    wait_for(lambda: ready(web)["status"] == "ok", what="readyz ok", timeout=10, workers=[web])


def test_with_redis_down_limits_still_hold_per_process(stack, officer):
    web = stack.web(workers=1, TOKEN_FAILURE_LIMIT="5", API_RATE_LIMIT="6/min")
    stack.redis.stop()

    bad = [call(web, "GET", "/api/v1/me", "vrup_" + "y" * 43) for _ in range(7)]
    assert [r.status for r in bad] == [401] * 5 + [429] * 2
    assert bad[-1].body["error"]["code"] == "rate_limited"
    assert int(bad[-1].headers["retry-after"]) > 0

    token = factories.token_for(officer)
    good = [call(web, "GET", "/api/v1/me", token) for _ in range(7)]
    assert [r.status for r in good] == [200] * 6 + [429]  # others' failures never lock it out
    assert good[-1].body["error"]["code"] == "rate_limited"
    assert int(good[-1].headers["retry-after"]) > 0
    assert breaker_lines(web) == (1, 0)


def test_readyz_is_down_without_the_database(stack):
    nowhere = f"postgres://nobody@127.0.0.1:{free_port()}/nothing"
    web = stack.web(workers=1, DATABASE_URL=nowhere)
    reply = call(web, "GET", "/readyz")
    assert reply.status == 503
    assert reply.body == {
        "status": "down",
        "checks": {"database": "unavailable", "migrations": "unavailable", "redis": "ok"},
    }
    assert reply.seconds < FROZEN_REQUEST_SECONDS
