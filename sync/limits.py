"""Request size limits for the API: a body over API_MAX_REQUEST_BYTES is refused with 413 before
anything reads it (DRF reads JSON straight from the stream, past Django's own upload limit)."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from core.api.errors import error_body


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.API_MAX_REQUEST_BYTES
            if length > limit:
                return JsonResponse(
                    error_body(
                        413,
                        f"The request body is {length} bytes; the API accepts at most {limit}. "
                        "Send large syncs as several batches of up to 500 records.",
                        code="too_large",
                    ),
                    status=413,
                )
        return self.get_response(request)
