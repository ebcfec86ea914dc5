"""Circuit breakers for Redis, so a dead or frozen Redis costs a request microseconds, not a timeout.

One breaker per Redis server (host and port), shared by everything in the process that talks to it:
the cache (core.cache) and the outbox's publish to the Celery broker (followups.outbox). In
production both are REDIS_URL, so the first timeout either of them sees spares the other its own.

    breaker = breaker_for(settings.REDIS_URL)
    if breaker.allow():
        try:
            ...  # talk to Redis
        except redis.exceptions.ConnectionError as exc:
            breaker.failed(exc)
        else:
            breaker.succeeded()

Closed: every call goes to Redis. After a connection error or timeout the breaker opens for
REDIS_BREAKER_OPEN_SECONDS: `allow()` says no at once and callers use their fallback. When that time
is up, one caller is let through to try Redis again (the others keep falling back meanwhile): on
success the breaker closes, on failure it stays open for another period. A WARNING is logged when
it opens and when Redis is back, once per outage, not once per request.

Breakers and counters live in the process: each gunicorn or Celery worker process finds out for
itself, which costs each of them one timeout per period.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_OPEN_SECONDS = 5.0

_counts: Counter[str] = Counter()
_counts_lock = threading.Lock()


def count(name: str, n: int = 1) -> None:
    with _counts_lock:
        _counts[name] += n


def counters() -> dict[str, int]:
    """This process's counts since it started, for /metrics:

    - `redis_breaker_trips`: outages noticed (a breaker went from closed to open);
    - `redis_breakers_open`: breakers open now;
    - `redis_cache_fallback_operations`: cache operations served from local memory;
    - `outbox_publishes_deferred`: on-commit publishes left to the relay because a breaker was open.
    """
    with _counts_lock:
        values = {
            "redis_breaker_trips": 0,
            "redis_cache_fallback_operations": 0,
            "outbox_publishes_deferred": 0,
            **_counts,
        }
    with _registry_lock:
        values["redis_breakers_open"] = sum(1 for b in _breakers.values() if b.is_open)
    return values


class CircuitBreaker:
    def __init__(self, name: str, *, open_seconds: float, clock=time.monotonic):
        self.name = name
        self.open_seconds = open_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None  # None: closed
        self._opened_at = 0.0
        self.trips = 0  # outages noticed: closed → open

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allow(self) -> bool:
        """May this call go to Redis? While open, only one caller per period is let through."""
        open_until = self._open_until
        if open_until is None:
            return True
        now = self._clock()
        if now < open_until:
            return False
        with self._lock:
            if self._open_until is None:
                return True
            if now < self._open_until:
                return False  # another caller took this period's trial
            # This caller tries; everyone else keeps falling back until it reports (or a period
            # passes, should it never report).
            self._open_until = now + self.open_seconds
            return True

    def succeeded(self) -> None:
        if self._open_until is None:
            return
        with self._lock:
            if self._open_until is None:
                return
            self._open_until = None
            down_for = self._clock() - self._opened_at
        logger.warning("%s: Redis answers again after %.1f s; breaker closed", self.name, down_for)

    def failed(self, error: BaseException) -> None:
        with self._lock:
            was_closed = self._open_until is None
            now = self._clock()
            self._open_until = now + self.open_seconds
            if was_closed:
                self._opened_at = now
                self.trips += 1
        if was_closed:
            count("redis_breaker_trips")
            logger.warning(
                "%s: Redis unreachable (%s: %s); breaker open, using fallbacks and trying again "
                "every %s s",
                self.name,
                type(error).__name__,
                error,
                self.open_seconds,
            )

    def release(self) -> None:
        """The trial call failed for a reason that says nothing about Redis: let the next one try."""
        with self._lock:
            if self._open_until is not None:
                self._open_until = min(self._open_until, self._clock())


_breakers: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def server_name(url: str) -> str:
    """host:port of a Redis URL, never its password (the name appears in logs)."""
    parts = urlsplit(url)
    if parts.hostname:
        return f"{parts.hostname}:{parts.port or 6379}"
    return parts.path or parts.scheme


def breaker_for(url: str, *, open_seconds: float | None = None) -> CircuitBreaker:
    """The breaker for the Redis server at `url`, shared by every caller in this process."""
    name = server_name(url)
    with _registry_lock:
        breaker = _breakers.get(name)
        if breaker is None:
            if open_seconds is None:
                open_seconds = getattr(settings, "REDIS_BREAKER_OPEN_SECONDS", DEFAULT_OPEN_SECONDS)
            breaker = _breakers[name] = CircuitBreaker(f"redis {name}", open_seconds=open_seconds)
        return breaker
