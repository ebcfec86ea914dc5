"""GET /metrics (core/metrics.py): who may read it, what it shows, and that it shows no personal data."""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import date, timedelta

import pytest
import redis
from celery.signals import task_failure
from django.utils import timezone

from cases import services as case_services
from core import breaker as breakers
from core import health, metrics
from core.models import Change
from followups.models import FollowUp, OutboxMessage
from partners.actor import actor_for_user
from sync.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


@pytest.fixture(autouse=True)
def metrics_settings(settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    monkeypatch.setattr(health, "_migrations_ok_at", None)
    monkeypatch.setattr(breakers, "_breakers", {})


def scrape(client, **headers) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


def value(text: str, name: str, labels: str = "") -> float:
    """The sample `name{labels}` in the exposition text."""
    pattern = "^" + re.escape(name) + (re.escape("{" + labels + "}") if labels else "") + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{name}{{{labels}}} not in /metrics"
    return float(match.group(1))


def without_request_id(response) -> str:
    return response.content.decode().replace(response["X-Request-ID"], "")


# Who may read it


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-of-a-decent-length-000000", f"Token {TOKEN}", f"Bearer {TOKEN}x"],
)
def test_without_the_token_or_an_allowed_address_it_is_an_ordinary_404(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 404
    body = without_request_id(response)
    assert "vru_" not in body and "metrics" not in body.lower()
    assert body == without_request_id(client.get("/no-such-page"))


def test_no_token_configured_means_no_bearer_access(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_with_the_token_it_answers(client):
    text = scrape(client)
    for name in (
        "vru_http_request_duration_seconds_bucket",
        "vru_http_request_db_queries_bucket",
        "vru_dependency_up",
        "vru_outbox_unpublished_messages",
        "vru_outbox_oldest_unpublished_age_seconds",
        "vru_webhook_deliveries_failing",
        "vru_webhook_subscriptions_disabled",
        "vru_followups_overdue",
        "vru_followups_overdue_oldest_seconds",
        "vru_change_feed_unsequenced_rows",
        "vru_change_feed_oldest_unsequenced_age_seconds",
        "vru_celery_task_failures_total",
        "vru_redis_breakers_open",
        "vru_redis_breaker_trips_total",
        "vru_redis_cache_fallback_operations_total",
        "vru_outbox_publishes_deferred_total",
    ):
        assert name in text, name
    assert value(text, "vru_dependency_up", 'dependency="database"') == 1
    assert value(text, "vru_dependency_up", 'dependency="migrations"') == 1
    assert 'dependency="redis"' not in text  # not configured
    assert "vru_celery_queue_messages" not in text


def test_an_allowed_network_needs_no_token(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 404


def test_the_client_address_is_the_one_the_trusted_proxy_saw(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy (at 127.0.0.1) says the caller is outside: refused, although the proxy is local.
    outside = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert client.get("/metrics", **outside).status_code == 404
    inside = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.1.2.3"}
    assert client.get("/metrics", **inside).status_code == 200


def test_a_forwarded_header_is_not_believed_without_a_trusted_proxy(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_HEADER = ""
    spoofed = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.1.2.3"}
    assert client.get("/metrics", **spoofed).status_code == 404


def test_only_safe_methods(client):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


# What it shows


def test_requests_are_labelled_by_url_pattern_not_path(client, api, officer):
    case_id = uuid.uuid4()
    api(officer).get(f"/api/v1/cases/{case_id}")
    client.get(f"/cases/{case_id}/")
    client.get("/no/such/page/at/all")
    text = scrape(client)
    assert str(case_id) not in text and case_id.hex not in text
    labels = 'method="GET",route="api/v1/cases/<uuid:case_id>",status="4xx"'
    assert value(text, "vru_http_request_duration_seconds_count", labels) >= 1
    assert 'route="unmatched"' in text
    assert "/no/such/page" not in text
    queries = 'route="api/v1/cases/<uuid:case_id>"'
    assert value(text, "vru_http_request_db_queries_count", queries) >= 1
    assert value(text, "vru_http_request_db_queries_sum", queries) >= 1


def test_an_unknown_method_is_not_a_new_label(client):
    client.generic("BREW", "/healthz")
    assert "BREW" not in scrape(client)


def test_backlogs_and_failures(client, police):
    now = timezone.now()
    OutboxMessage.objects.create(
        task_name="sync.deliver_webhook", created_at=now - timedelta(minutes=5)
    )
    OutboxMessage.objects.create(task_name="sync.deliver_webhook", published_at=now)
    live = WebhookSubscription.objects.create(partner=police, url="https://rms.example/hook")
    WebhookSubscription.objects.create(
        partner=police,
        url="https://rms.example/old",
        active=False,
        disabled_at=now,
        disabled_reason="20 failures",
    )
    for seq, attempts in ((1, 0), (2, 3), (3, 1)):
        WebhookDelivery.objects.create(
            subscription=live,
            change_seq=seq,
            event_type="case.updated",
            payload={},
            attempts=attempts,
        )
    WebhookDelivery.objects.create(
        subscription=live, change_seq=4, event_type="case.updated", payload={}, attempts=9,
        status=WebhookDelivery.Status.DELIVERED,
    )  # fmt: skip
    for due, status in ((-120, "pending"), (-30, "pending"), (-600, "done"), (3600, "pending")):
        FollowUp.objects.create(
            kind="case_review", due_at=now + timedelta(seconds=due), status=status,
            subject_resource="case", subject_id=uuid.uuid4(), title="Case review due",
        )  # fmt: skip
    Change.objects.create(resource="case", object_id=uuid.uuid4(), action="created", seq=None,
                          changed_at=now - timedelta(seconds=90))  # fmt: skip
    Change.objects.create(resource="case", object_id=uuid.uuid4(), action="created", seq=None)
    Change.objects.create(resource="case", object_id=uuid.uuid4(), action="created", seq=7)

    text = scrape(client)

    assert value(text, "vru_outbox_unpublished_messages") == 1
    assert 290 < value(text, "vru_outbox_oldest_unpublished_age_seconds") < 400
    assert value(text, "vru_webhook_deliveries_failing") == 2
    assert value(text, "vru_webhook_subscriptions_disabled") == 1
    assert value(text, "vru_followups_overdue") == 2
    assert 110 < value(text, "vru_followups_overdue_oldest_seconds") < 200
    assert value(text, "vru_change_feed_unsequenced_rows") == 2
    assert 80 < value(text, "vru_change_feed_oldest_unsequenced_age_seconds") < 200


def test_the_state_costs_a_few_queries_however_many_rows(client, django_assert_max_num_queries):
    scrape(client)  # migrations plan worked out once
    with django_assert_max_num_queries(12):
        scrape(client)


def test_task_failures_are_counted_by_task_across_processes(client):
    from sync.tasks import deliver_webhook

    before = value(scrape(client), "vru_celery_task_failures_total", 'task="sync.deliver_webhook"')
    for _ in range(2):
        task_failure.send(
            sender=deliver_webhook, task_id="t-1", exception=RuntimeError("secret failure text")
        )
    text = scrape(client)
    assert (
        value(text, "vru_celery_task_failures_total", 'task="sync.deliver_webhook"') == before + 2
    )
    assert value(text, "vru_celery_task_failures_total", 'task="followups.outbox_relay"') >= 0
    assert "secret failure text" not in text


def test_breaker_counters(client, monkeypatch):
    monkeypatch.setattr(
        metrics,
        "counters",
        lambda: {
            "redis_breaker_trips": 3,
            "redis_breakers_open": 1,
            "redis_cache_fallback_operations": 40,
            "outbox_publishes_deferred": 2,
        },
    )
    text = scrape(client)
    assert value(text, "vru_redis_breaker_trips_total") == 3
    assert value(text, "vru_redis_breakers_open") == 1
    assert value(text, "vru_redis_cache_fallback_operations_total") == 40
    assert value(text, "vru_outbox_publishes_deferred_total") == 2


def test_a_dead_redis_costs_one_refused_connection_then_nothing(client, settings):
    from tests.realparts import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": settings.REDIS_URL,
            "BREAKER_OPEN_SECONDS": 60,
        }
    }
    text = scrape(client)
    assert value(text, "vru_dependency_up", 'dependency="redis"') == 0
    assert "vru_celery_queue_messages" not in text
    assert value(text, "vru_redis_breakers_open") == 1
    started = time.monotonic()
    assert metrics.celery_queue_lengths() is None  # breaker open: not even tried
    assert time.monotonic() - started < 0.01


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs the test Redis server")
def test_celery_queue_length_from_redis(client, settings):
    url = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/14"  # a database of its own
    settings.REDIS_URL = url
    settings.CACHES = {"default": {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": url}}
    server = redis.Redis.from_url(url)
    server.delete("celery", "unacked")
    try:
        server.rpush("celery", "message-1", "message-2", "message-3")
        server.hset("unacked", "tag-1", "message-0")
        text = scrape(client)
        assert value(text, "vru_celery_queue_messages") == 3
        assert value(text, "vru_celery_unacked_messages") == 1
        assert value(text, "vru_dependency_up", 'dependency="redis"') == 1
    finally:
        server.delete("celery", "unacked")
        server.flushdb()


def test_no_personal_data_in_the_output(client, api, officer):
    person = case_services.person_create(
        actor=actor_for_user(officer, channel="api"),
        data={"given_name": "Tamsin", "family_name": "Okonkwo", "date_of_birth": date(2011, 5, 2)},
        identifiers=[{"scheme": "nhs", "value": "9434765919"}],
    )
    case = case_services.case_create(
        actor=actor_for_user(officer, channel="api"), subject=person, data={}
    )
    caller = api(officer)
    caller.get("/api/v1/people/", {"q": "Okonkwo"})
    caller.get("/api/v1/people/", {"q": "9434765919"})
    caller.get(f"/api/v1/people/{person.pk}")
    caller.get(f"/api/v1/cases/{case.pk}")
    text = scrape(client)
    for secret in ("Tamsin", "Okonkwo", "9434765919", "officer@police.example", "police"):
        assert secret not in text
    assert not UUID.search(text)
