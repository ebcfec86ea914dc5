"""Readiness: may this web process be sent traffic? (`/healthz` only says the process is up.)

GET /readyz answers

    {"status": "ok" | "degraded" | "down",
     "checks": {"database": "ok" | "unavailable",
                "migrations": "ok" | "pending" | "unavailable",
                "redis": "ok" | "unavailable" | "not configured"}}

The database and its migrations are needed for everything: either failing is 503 "down". Redis is
not (core/cache.py, followups/outbox.py): without it the service works, so 200 "degraded". No
personal data, no error text (it could name hosts or users). Cheap: one SELECT 1, a Redis PING
within REDIS_SOCKET_TIMEOUT_MS (or none at all while Redis's breaker is open), and the migration
plan, worked out at most once a minute once it has been found complete.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from core.cache import ResilientRedisCache

logger = logging.getLogger(__name__)

MIGRATIONS_RECHECK_SECONDS = 60

_migrations_ok_at: float | None = None  # when this process last found every migration applied


def database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("readyz: database unavailable: %s", type(exc).__name__)
        return "unavailable"
    return "ok"


def migrations_check() -> str:
    """Every migration in the code is applied. Only a complete plan is remembered: a pending or
    failing one is looked at again on the next call."""
    global _migrations_ok_at
    ok_at = _migrations_ok_at
    if ok_at is not None and time.monotonic() - ok_at < MIGRATIONS_RECHECK_SECONDS:
        return "ok"
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        logger.warning("readyz: migrations unknown, database unavailable: %s", type(exc).__name__)
        return "unavailable"
    if plan:
        logger.warning("readyz: %s migrations not applied", len(plan))
        return "pending"
    _migrations_ok_at = time.monotonic()
    return "ok"


def redis_check() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    cache: ResilientRedisCache = caches["default"]  # vru/settings.py, whenever REDIS_URL is set
    return "ok" if cache.ping() else "unavailable"


@require_safe
def readyz(request):
    checks = {"database": database_check()}
    checks["migrations"] = migrations_check() if checks["database"] == "ok" else "unavailable"
    checks["redis"] = redis_check()
    if checks["database"] != "ok" or checks["migrations"] != "ok":
        status = "down"
    elif checks["redis"] == "unavailable":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {"status": status, "checks": checks}, status=503 if status == "down" else 200
    )
