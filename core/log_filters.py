"""Keep query strings out of access logs.

A query string can carry personal data (the API's `GET /api/v1/people/?q=<name or NHS number>`
filters, or an old bookmark of a web search), and access logs are kept longer and read more widely
than the records themselves. So the request line, referrer and redirect location in gunicorn's
access log (and in runserver's, in development) are logged without their query strings. Installed
on the loggers by core.apps, so it holds whatever access_log_format the server is started with.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

_QUERY = re.compile(r"\?[^\s\"]*")
# gunicorn's access-log atoms that can hold a URL with its query string, and those that are one.
_URL_ATOMS = ("r", "f", "{referer}i", "{raw_uri}e", "{request_uri}e", "{location}o")
_QUERY_ATOMS = ("q", "{query_string}e")


def strip_query(value):
    return _QUERY.sub("", value) if isinstance(value, str) else value


class StripQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, Mapping):  # gunicorn.access: one dict of atoms
            for key in _URL_ATOMS:
                if key in args:
                    args[key] = strip_query(args[key])
            for key in _QUERY_ATOMS:
                if key in args:
                    args[key] = "-"
        elif isinstance(args, tuple) and args:  # django.server: ('"GET /path?query HTTP/1.1"', ...)
            record.args = (strip_query(args[0]), *args[1:])
        return True


ACCESS_LOGGERS = ("gunicorn.access", "django.server")


def install() -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, StripQueryStrings) for f in logger.filters):
            logger.addFilter(StripQueryStrings())
