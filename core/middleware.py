"""Request and response rules that hold for every page and API call, applied once at the edge.

- Text with a NUL character (or, in JSON, a lone UTF-16 surrogate) is refused with 400 before any
  view sees it: PostgreSQL cannot store either in a text or jsonb column, and psycopg would fail
  with a 500 wherever the value reached a query (a path segment, a filter, a form field, a JSON
  value or key). Nothing legitimate needs them.
- Every response from the application says `Cache-Control: no-store`: almost every page and API
  response carries personal data about children, and none of it may be kept by a browser or a
  shared cache. Static files are served by WhiteNoise before this runs and keep their caching.
"""

from __future__ import annotations

import json
import re

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from core.api.errors import error_body
from core.text import NUL, contains_unstorable_text

# A JSON escape that decodes to NUL or to half of a surrogate pair; only then is the body parsed
# here (a literal NUL byte is already invalid JSON, refused by the parser).
_SUSPECT_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MESSAGE = (
    "The request contains a character that cannot be stored: a NUL character (U+0000), or in "
    "JSON half of a UTF-16 surrogate pair. Remove it and send the request again."
)


def _where_bad(request) -> str | None:
    """The part of the request carrying a NUL character, or None."""
    if NUL in request.path_info or NUL in request.path:
        return "path"
    # QueryDict decodes %00; the raw QUERY_STRING would still hold it percent-encoded.
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in v for v in values):
            return "query"
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            return "headers"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    if content_type in _FORM_TYPES:
        for key, values in request.POST.lists():
            if NUL in key or any(NUL in v for v in values):
                return "form"
        for field in request.FILES.values():
            if NUL in (field.name or ""):
                return "form"
    elif "json" in content_type:
        body = request.body
        if _SUSPECT_JSON.search(body):
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                return None  # not JSON: the parser answers 400 with its own message
            if contains_unstorable_text(data):
                return "body"
    return None


def bad_request(request, message: str, *, fields: dict | None = None) -> HttpResponse:
    """400 in the API's error shape under /api/, and a plain GOV.UK page everywhere else (it needs
    no database or session, so it is safe to render before any other middleware has run)."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(error_body(400, message, code="invalid", fields=fields), status=400)
    return HttpResponse(render_to_string("core/400.html", {"message": message}), status=400)


class RejectUnstorableTextMiddleware:
    """400 for a NUL character anywhere in the path, query string, headers, form fields or JSON
    (keys and values, at any depth), and for a lone surrogate in JSON. Runs after the request size
    limit (it may read the body) and before anything that queries the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = _where_bad(request)
        if where is not None:
            return bad_request(
                request, MESSAGE, fields={where: ["Contains a character that is not allowed."]}
            )
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response the application makes (pages, API, errors,
    redirects, downloads). A view cannot opt out: whatever caching it asked for is replaced, since
    the test for "carries personal data" is not one a view can be trusted to get right."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        if "Expires" in response:
            del response["Expires"]
        return response
