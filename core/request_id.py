"""A request id on every request, response and log line; a task id on every Celery log line.

    X-Request-ID: 3f2b9c0e6a1d4e5f8a7b6c5d4e3f2a1b

The id of a request is the caller's `X-Request-ID` when it is a sane one (8 to 64 letters, digits,
`-`, `_`, `.` or `:`: what proxies and partner systems generate), so a partner's support desk and
ours can talk about the same request; otherwise a new random one. It is returned in the response's
`X-Request-ID` header, shown on the error pages "for support", and added to every log line written
while the request is handled (core.logging.RequestContext). A Celery task's log lines carry the
task's id the same way.

The ids are context variables, so they follow the request or task in whichever thread runs it, and
are cleared when it ends.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.conf import settings

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
current_task_id: ContextVar[str | None] = ContextVar("task_id", default=None)

request_logger = logging.getLogger("vru.requests")
# Probes answered every few seconds by load balancers and Prometheus: logged only when they fail.
QUIET_ROUTES = frozenset({"healthz", "readyz", "metrics"})


def new_request_id() -> str:
    return uuid.uuid4().hex


def incoming_request_id(request) -> str:
    """The caller's id if it is sane, else a new one (anything else could forge log lines)."""
    offered = request.META.get(_META_KEY, "")
    return offered if _SANE.match(offered) else new_request_id()


def route_of(request) -> str:
    """The URL pattern the request matched (`api/v1/cases/<uuid:case_id>`), never its path: paths
    carry ids. `unmatched` for a path no pattern matched (a 404 before any view)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route or match.view_name or "unnamed"


class RequestIdMiddleware:
    """First in MIDDLEWARE, so everything after it, and every response, has the id. With
    LOG_REQUESTS (on with JSON logs) it also writes one line per request: method, route (never the
    path or query string), status and duration; health probes and scrapes only when they fail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request)
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            route = route_of(request)
            if settings.LOG_REQUESTS and not (route in QUIET_ROUTES and response.status_code < 400):
                request_logger.info(
                    "%s %s %s",
                    request.method,
                    route,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "route": route,
                        "status_code": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            current_request_id.reset(token)


def _task_started(task_id=None, **kwargs) -> None:
    current_task_id.set(task_id)


def _task_ended(**kwargs) -> None:
    current_task_id.set(None)


def connect_task_signals() -> None:
    """Celery task log lines carry the task id (called from core.apps; the worker imports it)."""
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="vru.request_id.task_prerun")
    task_postrun.connect(_task_ended, weak=False, dispatch_uid="vru.request_id.task_postrun")
