"""Rate limits per caller (API client or user), not per address: partner systems often sit behind
one gateway, and one noisy system must not starve the others. Over the limit: 429 with
`Retry-After`, in the API's error shape (core.api.errors).

The histories are kept in the cache. While Redis is unreachable the cache falls back to local memory
(core/cache.py): limits still apply, but per web worker process, so a caller spread over N
processes may get up to N times its rate until Redis is back."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from partners.actor import request_actor


class CallerRateThrottle(SimpleRateThrottle):
    """Every API request (settings: API_RATE_LIMIT, e.g. "1200/min")."""

    scope = "caller"

    def get_cache_key(self, request, view):
        actor = request_actor(request)
        if actor is None:
            ident = f"addr:{self.get_ident(request)}"
        elif actor.client is not None:
            ident = f"client:{actor.client.pk}"
        else:
            ident = f"user:{actor.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SyncRateThrottle(CallerRateThrottle):
    """Batch sync, on top of the general limit (settings: SYNC_RATE_LIMIT): each request may be
    500 records."""

    scope = "sync"
