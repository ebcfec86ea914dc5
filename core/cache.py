"""The Redis cache, made to survive Redis being down, frozen or full.

Everything the web tier keeps in the cache is a counter or a hint: failed-token counts
(partners.authentication), rate-limit histories (sync.throttling) and the change feed's scan
high-water marks (sync.feed). None of it is data of record, so while Redis cannot answer the cache
carries on in local memory instead of failing the request:

- connect and read timeouts are short (REDIS_SOCKET_TIMEOUT_MS, 250 ms by default), so a frozen
  Redis costs one timeout, not a request's worth of waiting;
- that timeout, or a refused connection, opens the Redis server's circuit breaker (core.breaker):
  for REDIS_BREAKER_OPEN_SECONDS every operation goes straight to a local-memory cache, then one
  operation tries Redis again;
- so rate limits and the failed-token lockout keep working during an outage, but per worker
  process: each gunicorn process counts on its own, and what it counted is dropped when Redis
  is back (Redis still holds what it counted before the outage).
"""

from __future__ import annotations

import threading

import redis.exceptions
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from core.breaker import breaker_for, count

DEFAULT_SOCKET_TIMEOUT = 0.25
FALLBACK_MAX_ENTRIES = 10_000

# Redis cannot serve us right now: not reachable, too slow, still loading its data, refusing writes
# because it is full (noeviction) or because it is a replica during a failover.
UNAVAILABLE = (
    redis.exceptions.ConnectionError,  # also BusyLoadingError, AuthenticationError
    redis.exceptions.TimeoutError,
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.ReadOnlyError,
)

# Which outage each fallback's contents belong to (fallback name → breaker trips seen).
_fallback_outage: dict[str, int] = {}
_fallback_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, with short socket timeouts, a circuit breaker and a local-memory
    fallback. CACHES options: LOCATION, OPTIONS (to redis-py's connection pool; socket_timeout and
    socket_connect_timeout default to 0.25 s) and BREAKER_OPEN_SECONDS."""

    def __init__(self, server, params):
        options = {
            "socket_timeout": DEFAULT_SOCKET_TIMEOUT,
            "socket_connect_timeout": DEFAULT_SOCKET_TIMEOUT,
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        self.breaker = breaker_for(
            self._servers[0], open_seconds=params.get("BREAKER_OPEN_SECONDS")
        )
        # LocMemCache instances with one name share their storage: one fallback per process,
        # whichever thread's cache instance uses it.
        self._fallback_name = f"redis-fallback:{self.breaker.name}"
        self._fallback = LocMemCache(
            self._fallback_name,
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "VERSION": params.get("VERSION", 1),
                "KEY_FUNCTION": params.get("KEY_FUNCTION"),
                "OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES},
            },
        )

    def _fallback_for_this_outage(self) -> LocMemCache:
        """The local cache, emptied at the start of each outage: what it held from an earlier one
        may since have been changed or deleted in Redis."""
        outage = self.breaker.trips
        if _fallback_outage.get(self._fallback_name) != outage:
            with _fallback_lock:
                if _fallback_outage.get(self._fallback_name) != outage:
                    self._fallback.clear()
                    _fallback_outage[self._fallback_name] = outage
        return self._fallback

    def _run(self, operation: str, *args, **kwargs):
        if self.breaker.allow():
            try:
                result = getattr(super(), operation)(*args, **kwargs)
            except UNAVAILABLE as exc:
                self.breaker.failed(exc)
            except BaseException:
                self.breaker.release()  # Redis answered (e.g. incr of a missing key) or never tried
                raise
            else:
                self.breaker.succeeded()
                return result
        count("redis_cache_fallback_operations")
        return getattr(self._fallback_for_this_outage(), operation)(*args, **kwargs)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._run("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._run("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._run("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._run("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._run("delete", key, version)

    def get_many(self, keys, version=None):
        return self._run("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._run("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._run("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._run("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._run("delete_many", keys, version)

    def clear(self):
        self._fallback.clear()
        return self._run("clear")

    def ping(self) -> bool:
        """Does Redis answer now? Through the breaker: while it is open, no without asking."""
        if not self.breaker.allow():
            return False
        try:
            self._cache.get_client(write=True).ping()
        except UNAVAILABLE as exc:
            self.breaker.failed(exc)
            return False
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.succeeded()
        return True
