"""Domain errors raised by services and selectors. One API handler maps them to API.md's shape."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"


class NotFound(DomainError):
    """Missing and not visible are the same thing to the caller: never reveal that a record exists."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.", **kwargs):
        super().__init__(message, **kwargs)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "stale"


class PreconditionRequired(DomainError):
    status = 428
    code = "if_match_required"
