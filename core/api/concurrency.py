"""ETag / If-Match: every record has a version; updates must name the version they were based on."""

from __future__ import annotations

import re

from rest_framework.response import Response

from core.errors import PreconditionFailed, PreconditionRequired

_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')


def expected_version(request, instance) -> int:
    """The version the caller read, from If-Match: 428 when missing, 412 when not current."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(
            "Send If-Match with the ETag from your last read of this record, so a concurrent change is not overwritten."
        )
    if header.strip() == "*":
        return instance.version
    match = _ETAG.match(header)
    if not match or int(match.group(1)) != instance.version:
        raise PreconditionFailed(
            "This record has changed since you read it. Fetch it again and reapply your change."
        )
    return instance.version


def with_etag(response: Response, instance) -> Response:
    response["ETag"] = instance.etag
    return response


def if_match_version(request) -> int | None:
    """The version named by If-Match, or None when the header is absent (e.g. an upsert that may
    create). A malformed value is 412, like a stale one."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    match = _ETAG.match(header)
    if not match:
        raise PreconditionFailed('If-Match must be an ETag you read, such as "3".')
    return int(match.group(1))
