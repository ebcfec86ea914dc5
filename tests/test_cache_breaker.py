"""The Redis circuit breaker and the cache that falls back to local memory (core/breaker.py,
core/cache.py), in-process: against a closed loopback port ("down") and a real redis-server that
is stopped with SIGSTOP ("frozen"). The web tier under the same faults: tests/sync/test_redis_outage.py."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import redis
from django.db import transaction
from kombu.exceptions import OperationalError

from core import breaker as breakers
from core.breaker import CircuitBreaker, breaker_for, counters
from core.cache import ResilientRedisCache
from followups import outbox
from followups.models import OutboxMessage
from tests.realparts import RedisServer, free_port


@pytest.fixture(autouse=True)
def own_breakers(monkeypatch):
    """Each test starts with no breakers: one test's outage must not open the next one's."""
    monkeypatch.setattr(breakers, "_breakers", {})


def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused at once."""
    port = free_port()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    return port


def resilient_cache(url: str, open_seconds: float = 60) -> ResilientRedisCache:
    return ResilientRedisCache(url, {"BREAKER_OPEN_SECONDS": open_seconds})


def delta(before: dict[str, int], name: str) -> int:
    return counters()[name] - before[name]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "core.breaker"]


class TestCircuitBreaker:
    def test_it_opens_on_failure_and_lets_one_caller_try_again_after_the_period(self, caplog):
        clock = Clock()
        breaker = CircuitBreaker("redis test", open_seconds=5, clock=clock)
        caplog.set_level(logging.WARNING, logger="core.breaker")
        assert breaker.allow() and not breaker.is_open

        breaker.failed(redis.exceptions.TimeoutError("Timeout reading from socket"))
        assert breaker.is_open and breaker.trips == 1
        clock.now += 4.9
        assert not breaker.allow()

        clock.now += 0.2
        assert breaker.allow()  # this caller tries Redis
        assert not breaker.allow()  # everyone else keeps falling back meanwhile
        breaker.failed(redis.exceptions.TimeoutError("still frozen"))
        assert breaker.trips == 1  # the same outage
        assert not breaker.allow()

        clock.now += 5.1
        assert breaker.allow()
        breaker.succeeded()
        assert not breaker.is_open and breaker.allow()

        [opened, back] = breaker_logs(caplog)
        assert "Redis unreachable (TimeoutError" in opened
        assert "Redis answers again" in back
        assert all(r.levelno == logging.WARNING for r in caplog.records)

    def test_a_trial_that_fails_for_another_reason_lets_the_next_caller_try(self):
        clock = Clock()
        breaker = CircuitBreaker("redis test", open_seconds=5, clock=clock)
        breaker.failed(redis.exceptions.ConnectionError("refused"))
        clock.now += 6
        assert breaker.allow()
        breaker.release()
        assert breaker.allow()
        assert breaker.is_open

    def test_a_trial_that_never_reports_does_not_keep_it_open_for_ever(self):
        clock = Clock()
        breaker = CircuitBreaker("redis test", open_seconds=5, clock=clock)
        breaker.failed(redis.exceptions.ConnectionError("refused"))
        clock.now += 6
        assert breaker.allow()  # ...and that caller died
        clock.now += 6
        assert breaker.allow()

    def test_one_breaker_per_server_and_no_password_in_its_name(self):
        first = breaker_for("redis://:s3cret@redis.internal:6380/0")
        assert first is breaker_for("redis://redis.internal:6380/1")
        assert first is not breaker_for("redis://redis.internal:6379/0")
        assert "s3cret" not in first.name and "redis.internal:6380" in first.name


class TestRedisDown:
    def test_operations_fall_back_to_local_memory_after_one_refused_connection(self, caplog):
        before = counters()
        caplog.set_level(logging.WARNING, logger="core.breaker")
        cache = resilient_cache(f"redis://127.0.0.1:{closed_port()}/0")

        assert cache.get("k") is None
        assert cache.add("k", 1, 30) is True
        assert cache.add("k", 1, 30) is False
        assert cache.incr("k") == 2
        assert cache.touch("k", 30) is True
        assert cache.get_many(["k", "missing"]) == {"k": 2}
        cache.set_many({"a": "x", "b": "y"}, 30)
        assert cache.has_key("a")
        cache.delete_many(["a", "b"])
        assert cache.delete("k") is True
        with pytest.raises(ValueError):
            cache.incr("k")  # as Django's caches do for a missing key

        assert delta(before, "redis_breaker_trips") == 1
        assert delta(before, "redis_cache_fallback_operations") == 11
        assert counters()["redis_breakers_open"] == 1
        assert cache.ping() is False
        [opened] = breaker_logs(caplog)
        assert "ConnectionError" in opened

    def test_an_open_breaker_costs_microseconds_not_a_connection_attempt(self):
        cache = resilient_cache(f"redis://127.0.0.1:{closed_port()}/0")
        cache.get("k")
        started = time.perf_counter()
        for n in range(1000):
            cache.set(f"k{n}", n, 30)
            cache.get(f"k{n}")
        assert time.perf_counter() - started < 0.5

    def test_failed_tokens_are_still_locked_out_per_process(self, api, settings, db):
        settings.CACHES = {
            "default": {
                "BACKEND": "core.cache.ResilientRedisCache",
                "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            }
        }
        settings.TOKEN_FAILURE_LIMIT = 3
        statuses = [api("vrup_" + "x" * 43).get("/api/v1/me").status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]


@pytest.fixture
def redis_server(tmp_path, monkeypatch):
    binary = os.environ.get("TEST_REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        pytest.skip("needs redis-server (scripts/install-system-packages.sh)")
    monkeypatch.setenv("TEST_REDIS_SERVER", binary)
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.integration
class TestRealRedis:
    def test_it_uses_redis_while_redis_answers(self, redis_server):
        cache = resilient_cache(redis_server.url)
        before = counters()
        cache.set("k", "v", 30)
        assert cache.get("k") == "v"
        assert redis.Redis.from_url(redis_server.url).exists(":1:k") == 1
        assert cache.ping() is True
        assert delta(before, "redis_cache_fallback_operations") == 0

    def test_frozen_it_costs_one_short_timeout_then_nothing_until_redis_answers(
        self, redis_server, caplog
    ):
        caplog.set_level(logging.WARNING, logger="core.breaker")
        cache = resilient_cache(redis_server.url, open_seconds=0.5)
        cache.set("k", 1, 30)

        redis_server.freeze()
        try:
            started = time.monotonic()
            assert cache.get("k") is None  # timed out: from the (empty) local fallback
            assert 0.2 < time.monotonic() - started < 1.0
            started = time.monotonic()
            for _ in range(100):
                cache.add("local", 1, 30)
                cache.incr("local")
            assert time.monotonic() - started < 0.1
            assert cache.get("local") == 101
            time.sleep(0.6)
            started = time.monotonic()
            cache.get("k")  # the period is over: this one tries Redis, and times out again
            assert 0.2 < time.monotonic() - started < 1.0
            assert cache.breaker.trips == 1
        finally:
            redis_server.thaw()

        time.sleep(0.6)
        assert cache.get("k") == 1  # from Redis again
        assert not cache.breaker.is_open
        [opened, back] = breaker_logs(caplog)
        assert "TimeoutError" in opened and "answers again" in back

    def test_the_next_outage_starts_from_an_empty_fallback(self, redis_server):
        cache = resilient_cache(redis_server.url, open_seconds=0.3)
        redis_server.stop()
        cache.set("counter", 5, 30)  # counted locally during the first outage
        redis_server.start()
        time.sleep(0.4)
        assert cache.get("counter") is None  # Redis never saw it
        redis_server.stop()
        assert cache.get("counter") is None  # and the old local count is not brought back


@pytest.mark.django_db
class TestOutboxPublish:
    @pytest.fixture
    def broker(self, settings, monkeypatch):
        """broker(open_seconds): a Redis broker URL whose sends are recorded, and fail as kombu's
        do until `fail` is cleared."""

        def make(open_seconds: float = 60) -> SimpleNamespace:
            settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
            state = SimpleNamespace(
                fail=True,
                calls=[],
                breaker=breaker_for(settings.CELERY_BROKER_URL, open_seconds=open_seconds),
            )

            def send(task_name, kwargs, message_id):
                state.calls.append(message_id)
                if state.fail:
                    raise OperationalError("Error 111 connecting to 127.0.0.1. Connection refused.")

            monkeypatch.setattr("followups.outbox._send", send)
            return state

        return make

    def test_after_a_failure_publishes_are_left_to_the_relay_without_trying(
        self, broker, django_capture_on_commit_callbacks
    ):
        broker = broker()
        before = counters()
        for n in range(3):
            with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
                outbox.enqueue("sync.deliver_webhook", delivery_id=f"d-{n}")
        first, second, third = OutboxMessage.objects.order_by("id")
        assert broker.calls == [first.pk]  # only the first was tried
        assert (first.attempts, second.attempts, third.attempts) == (1, 0, 0)
        assert not OutboxMessage.objects.filter(published_at__isnull=False).exists()
        assert delta(before, "outbox_publishes_deferred") == 2

        broker.fail = False
        assert outbox.relay(min_age=timedelta(0)) == {"published": 3, "failed": 0}

    def test_once_the_period_is_over_a_publish_tries_and_closes_the_breaker(
        self, broker, django_capture_on_commit_callbacks
    ):
        broker = broker(open_seconds=0.3)
        with django_capture_on_commit_callbacks(execute=True):
            outbox.enqueue("sync.deliver_webhook", delivery_id="d-1")
        assert broker.breaker.is_open
        broker.fail = False
        time.sleep(0.35)
        with django_capture_on_commit_callbacks(execute=True):
            outbox.enqueue("sync.deliver_webhook", delivery_id="d-2")
        assert not broker.breaker.is_open
        assert OutboxMessage.objects.filter(published_at__isnull=False).count() == 1

    def test_a_cache_timeout_on_the_same_server_spares_the_publish_its_own(
        self, broker, django_capture_on_commit_callbacks
    ):
        broker = broker()
        broker.breaker.failed(redis.exceptions.TimeoutError("seen by the cache"))
        with django_capture_on_commit_callbacks(execute=True):
            outbox.enqueue("sync.deliver_webhook", delivery_id="d-1")
        assert broker.calls == []
        assert OutboxMessage.objects.get().published_at is None
