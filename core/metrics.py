"""GET /metrics: Prometheus text format, for the monitoring system only (docs/operations.md).

Two kinds of metric:

- **Per request**, recorded by `MetricsMiddleware`: latency and database queries, labelled by the
  URL *pattern* the request matched (`api/v1/cases/<uuid:case_id>`), never its path (paths carry
  ids), by method and by status class (`2xx` ... `5xx`).
- **The state of the service**, worked out at scrape time by `ServiceCollector` with a few cheap
  indexed queries: readiness, change-feed rows not yet sequenced, the Celery queue in Redis, Celery
  task failures and this process's Redis breaker counters (core.breaker), here; the outbox backlog
  and follow-ups overdue (followups/metrics.py) and webhook deliveries failing and subscriptions
  turned off (sync/metrics.py) are measured by the app that owns them, which registers its
  collector with `register_state` from its AppConfig.ready, so core imports no app.

Nothing here carries personal data: labels are route patterns, methods, status classes, task
names and dependency names; values are counts, ages and durations.

Who may read it: a caller with `Authorization: Bearer <METRICS_TOKEN>`, or one whose address
(core.addresses.client_address, which knows the trusted proxies) is in METRICS_ALLOWED_NETWORKS.
Anyone else gets the ordinary 404, as for a path that does not exist.

Several gunicorn workers: each keeps its own request metrics, and a scrape reaches one of them.
Set PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied at each start) to have every scrape
add up all workers' (prometheus-client's multiprocess mode; docs/operations.md).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from functools import cache

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from core.addresses import client_address
from core.breaker import breaker_for, counters
from core.request_id import route_of
from core.task_queue import celery_app

logger = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
TASK_FAILURES_KEY = "metrics:celery-task-failures:{}"

_requests = CollectorRegistry()
if not MULTIPROCESS:
    ProcessCollector(registry=_requests)  # memory, CPU, open files (one process only)

REQUEST_SECONDS = Histogram(
    "vru_http_request_duration_seconds",
    "Time to answer a request, by URL pattern, method and status class.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=_requests,
)
REQUEST_QUERIES = Histogram(
    "vru_http_request_db_queries",
    "Database queries run to answer a request, by URL pattern.",
    ["route"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
    registry=_requests,
)


class MetricsMiddleware:
    """Near the top of MIDDLEWARE: times the request and counts its database queries."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count_query(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count_query):
            response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(route, method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        REQUEST_QUERIES.labels(route).observe(queries)
        return response


# Celery task failures happen in worker processes, not in the one being scraped: each is counted
# in the shared cache (Redis in production), which the scrape reads back.


def count_task_failure(sender=None, **kwargs) -> None:
    name = getattr(sender, "name", None) or "unknown"
    store = caches["default"]
    key = TASK_FAILURES_KEY.format(name)
    try:
        store.add(key, 0, timeout=None)
        store.incr(key)
    except Exception:  # a metric must never turn a task's failure into a different one
        logger.warning("metrics: could not count a failure of %s", name, exc_info=True)


def connect_task_signals() -> None:
    from celery.signals import task_failure

    task_failure.connect(count_task_failure, weak=False, dispatch_uid="vru.metrics.task_failure")


@cache
def _task_names() -> list[str]:
    app = celery_app()
    app.loader.import_default_modules()  # the apps' tasks modules
    return sorted(name for name in app.tasks if not name.startswith("celery."))


@cache
def _redis_client(url: str) -> redis.Redis:
    timeout = settings.REDIS_SOCKET_TIMEOUT
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def celery_queue_lengths() -> dict[str, int] | None:
    """Messages waiting in the default queue and taken but not acknowledged, from the broker; None
    without Redis, or while its breaker is open (no waiting on a dead Redis)."""
    if not settings.REDIS_URL:
        return None
    breaker = breaker_for(settings.REDIS_URL)
    if not breaker.allow():
        return None
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    try:
        pipe = _redis_client(settings.REDIS_URL).pipeline(transaction=False)
        pipe.llen(queue)
        pipe.hlen("unacked")
        waiting, unacked = pipe.execute()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        breaker.failed(exc)
        return None
    except BaseException:
        breaker.release()
        raise
    breaker.succeeded()
    return {"waiting": waiting, "unacked": unacked}


def age_seconds(oldest) -> float:
    return max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0


# Groups of scrape-time gauges about a domain's own state, registered by the app that owns it.
_state_groups: list = []


def register_state(group) -> None:
    """Add a group of gauges: a function yielding metric families, run at each scrape only while
    the database answers (its queries must be indexed). One that raises DatabaseError is left out
    of that scrape; the rest still answer."""
    if group not in _state_groups:
        _state_groups.append(group)


class ServiceCollector:
    """Gauges computed when scraped. Each group's queries are indexed (named below); a group whose
    database query fails is left out rather than failing the scrape."""

    def collect(self):
        from core import health

        database = health.database_check()
        up = GaugeMetricFamily(
            "vru_dependency_up",
            "1 if this process reaches the dependency (as /readyz checks it), else 0.",
            labels=["dependency"],
        )
        up.add_metric(["database"], int(database == "ok"))
        if database == "ok":
            up.add_metric(["migrations"], int(health.migrations_check() == "ok"))
        if settings.REDIS_URL:
            up.add_metric(["redis"], int(health.redis_check() == "ok"))
        yield up
        if database == "ok":
            for group in (*_state_groups, self._change_feed):
                try:
                    yield from list(group())
                except DatabaseError as exc:
                    logger.warning("metrics: %s skipped: %s", group.__name__, type(exc).__name__)
        yield from self._celery()
        yield from self._breakers()

    def _change_feed(self):
        from core.models import Change

        unsequenced = Change.objects.filter(seq__isnull=True)  # index change_unsequenced
        oldest = unsequenced.order_by("id").values_list("changed_at", flat=True).first()
        yield GaugeMetricFamily(
            "vru_change_feed_unsequenced_rows",
            "Change-journal rows not yet given a feed position (the webhook fan-out gives them).",
            value=unsequenced.count(),
        )
        yield GaugeMetricFamily(
            "vru_change_feed_oldest_unsequenced_age_seconds",
            "Age of the oldest change-journal row without a feed position (0 when none).",
            value=age_seconds(oldest),
        )

    def _celery(self):
        lengths = celery_queue_lengths()
        if lengths is not None:
            yield GaugeMetricFamily(
                "vru_celery_queue_messages",
                "Messages waiting in the default Celery queue in Redis.",
                value=lengths["waiting"],
            )
            yield GaugeMetricFamily(
                "vru_celery_unacked_messages",
                "Messages taken by a worker and not yet acknowledged.",
                value=lengths["unacked"],
            )
        failures = CounterMetricFamily(
            "vru_celery_task_failures",
            "Celery tasks that failed (after their retries), by task, counted in the shared cache.",
            labels=["task"],
        )
        names = _task_names()
        stored = caches["default"].get_many([TASK_FAILURES_KEY.format(n) for n in names])
        for name in names:
            failures.add_metric([name], stored.get(TASK_FAILURES_KEY.format(name), 0))
        yield failures

    def _breakers(self):
        values = counters()
        yield GaugeMetricFamily(
            "vru_redis_breakers_open",
            "Redis circuit breakers open in this process (Redis unreachable from it).",
            value=values["redis_breakers_open"],
        )
        for name, documentation in (
            ("redis_breaker_trips", "Redis outages this process noticed (a breaker opened)."),
            (
                "redis_cache_fallback_operations",
                "Cache operations this process served from local memory because Redis was out.",
            ),
            (
                "outbox_publishes_deferred",
                "Outbox publishes left to the relay because Redis's breaker was open.",
            ),
        ):
            yield CounterMetricFamily(f"vru_{name}", documentation, value=values[name])


def exposition() -> bytes:
    if MULTIPROCESS:
        requests = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests)
    else:
        requests = _requests
    service = CollectorRegistry(auto_describe=False)
    service.register(ServiceCollector())
    return generate_latest(requests) + generate_latest(service)


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    offered = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else ""
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks())


def _allowed_networks():
    return [ipaddress.ip_network(n, strict=False) for n in settings.METRICS_ALLOWED_NETWORKS]


@require_safe
def metrics_view(request):
    if not allowed(request):
        from core.views import not_found

        return not_found(request)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
