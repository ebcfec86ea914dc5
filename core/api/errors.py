"""The single API exception handler: every error leaves as {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

logger = logging.getLogger(__name__)

_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "stale",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    428: "if_match_required",
    429: "rate_limited",
}


def error_body(
    status_code: int, message: str, *, code: str | None = None, fields: dict | None = None
):
    return {
        "error": {
            "code": code or _CODES.get(status_code, "error"),
            "message": message,
            "fields": fields or {},
        }
    }


def _flatten(detail) -> dict:
    """DRF's nested error detail → {"field": ["message", ...]} with dotted paths for nested fields."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, sub in enumerate(value):
                if sub:
                    walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            messages = value if isinstance(value, list) else [value]
            out.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in messages)

    walk("", detail)
    return out


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.status, exc.message, code=exc.code, fields=exc.fields), status=exc.status
        )
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(error_body(400, "Some fields are not valid.", fields=fields), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: let Django log it and answer 500
    code = getattr(exc, "default_code", None)
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(400, "Some fields are not valid.", fields=_flatten(exc.detail))
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(
            400, f"The request body could not be read: {exc.detail}", code="parse_error"
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = detail if isinstance(detail, str) else "Request refused."
        if response.status_code == status.HTTP_404_NOT_FOUND:
            message = "Not found."
        body = error_body(
            response.status_code, str(message), code=_CODES.get(response.status_code, code)
        )
    response.data = body
    return response
