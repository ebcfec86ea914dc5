"""Log lines: the request or task they belong to, one line per event, and no personal data.

LOGGING in vru/settings.py uses these on its one console handler:

- `RequestContext` adds `request_id` and `task_id` (core.request_id) to every record, "-" outside
  a request or task;
- `NoTracebackForRefusals` drops the traceback from Django's records of a 4xx answer (a 403 from a
  page's access rule is the system working, not a bug);
- `JsonFormatter` (LOG_FORMAT=json, the default in production) writes one JSON object per line
  with a fixed set of fields. Django attaches the request object to its records, and its text
  holds the full path with the query string (a person search's name or NHS number): only the
  fields listed in `FIELDS` are ever written, so nothing attached to a record leaks by accident.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from core.request_id import current_request_id, current_task_id

# Attributes a record may carry that are written as they are: all set by this project or by Django
# with values that are never personal data (core.request_id, django.utils.log.log_response).
EXTRA_FIELDS = ("status_code", "method", "route", "duration_ms")


class RequestContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx or 5xx response after the middleware has returned, with the request.
        record.request_id = (
            current_request_id.get()
            or getattr(getattr(record, "request", None), "request_id", None)
            or "-"
        )
        record.task_id = current_task_id.get() or "-"
        return True


class NoTracebackForRefusals(logging.Filter):
    """Django logs a PermissionDenied (403) or a bad request (400) with its traceback; the line
    itself says all there is to say."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """{"time", "level", "logger", "message", "request_id", "task_id", [status_code, method, route,
    duration_ms], ["exc_info"]} and nothing else."""

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        log_data["request_id"] = getattr(record, "request_id", None) or "-"
        log_data["task_id"] = getattr(record, "task_id", None) or "-"
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, int | float | str):
                log_data[name] = value
        if message_dict.get("exc_info"):
            log_data["exc_info"] = message_dict["exc_info"]
        if message_dict.get("stack_info"):
            log_data["stack_info"] = message_dict["stack_info"]
