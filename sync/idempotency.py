"""`Idempotency-Key` for every POST under /api/v1/ (IETF httpapi-idempotency-key draft).

A middleware, so no view can forget it. For a POST that carries the header it:

1. authenticates the caller with the view's own authenticators (the result is handed on to the
   view, so a token is checked once) and scopes the key to that caller (client or user);
2. claims the key with an INSERT under a unique (caller, key) constraint *before the view runs*,
   so of two concurrent requests with one key exactly one runs; the other finds the claim and is
   told 409 (still in flight) or gets the replay;
3. stores the view's response (status, the headers that matter, body) on the claim, kept for
   IDEMPOTENCY_KEY_HOURS (at least 24), after which `sync.tasks.idempotency_purge` deletes it.

A repeat with the same key and the same method, path and body returns the stored response with
`Idempotent-Replayed: true` and runs nothing; the same key with a different request is 422.
Responses that say the request never started (401, 403, 429) or failed on our side (5xx) are not
kept: the claim is released so a retry with the same key runs normally.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.views import APIView

from audit.services import Access, access_record
from core.api.errors import error_body
from partners.actor import request_actor
from sync.models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEPT_HEADERS = ("Content-Type", "ETag", "Location", "Last-Modified", "Content-Language")
NOT_KEPT = {401, 403, 429}
# A claim older than this whose request never finished (its process died) may be taken over.
STALE_CLAIM = timedelta(minutes=5)


def _error(status: int, message: str, code: str, **headers) -> JsonResponse:
    response = JsonResponse(error_body(status, message, code=code), status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\n", path.encode(), b"\n", body):
        digest.update(part)
    return digest.hexdigest()


def caller_key(actor) -> str:
    return f"client:{actor.client.pk}" if actor.client else f"user:{actor.user.pk}"


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        claim = getattr(request, "_idempotency_claim", None)
        if claim is not None:
            self._finish(claim, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or not request.path.startswith("/api/v1/"):
            return None
        key = request.headers.get(HEADER)
        if key is None:
            return None
        view_class = getattr(view_func, "cls", None)
        if view_class is None or not issubclass(view_class, APIView):
            return None
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _error(
                400,
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters; a UUID is ideal.",
                "invalid_idempotency_key",
            )
        actor, refused = self._authenticate(request, view_func, view_args, view_kwargs)
        if refused is not None:
            return refused
        if actor is None:
            return None  # the view refuses it (401/403); nothing to remember
        try:
            body = request.body
        except RequestDataTooBig:
            return _error(
                413,
                f"The request body is larger than {settings.API_MAX_REQUEST_BYTES} bytes.",
                "too_large",
            )
        return self._claim(
            request, actor, key, fingerprint(request.method, request.get_full_path(), body)
        )

    # --- steps -------------------------------------------------------------------------------

    def _authenticate(self, request, view_func, args, kwargs):
        """Authenticate as the view would, then hand the result on so it is not done twice."""
        view = view_func.cls(**getattr(view_func, "initkwargs", {}))
        view.args, view.kwargs = args, kwargs
        view.headers = view.default_response_headers
        drf_request = view.initialize_request(request, *args, **kwargs)
        view.request = drf_request
        view.format_kwarg = view.get_format_suffix(**kwargs)
        try:
            view.perform_authentication(drf_request)
        except Exception as exc:
            response = view.handle_exception(exc)
            return None, view.finalize_response(drf_request, response, *args, **kwargs)
        request._force_auth_user = drf_request.user
        request._force_auth_token = drf_request.auth
        return request_actor(drf_request), None

    def _claim(self, request, actor, key: str, print_: str):
        caller = caller_key(actor)
        now = timezone.now()
        hours = max(24, settings.IDEMPOTENCY_KEY_HOURS)
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        caller=caller,
                        key=key,
                        fingerprint=print_,
                        method=request.method,
                        path=request.get_full_path()[:500],
                        created_at=now,
                        expires_at=now + timedelta(hours=hours),
                    )
                request._idempotency_claim = record
                return None
            except IntegrityError:
                pass
            existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
            if existing is None:
                continue  # purged in between: claim again
            if existing.expires_at <= now or (
                existing.state == IdempotencyRecord.State.IN_FLIGHT
                and existing.created_at < now - STALE_CLAIM
            ):
                # Expired, or its request died: take it over, if nobody else just did.
                taken = IdempotencyRecord.objects.filter(
                    pk=existing.pk, state=existing.state, created_at=existing.created_at
                ).update(
                    fingerprint=print_,
                    method=request.method,
                    path=request.get_full_path()[:500],
                    state=IdempotencyRecord.State.IN_FLIGHT,
                    status_code=None,
                    headers={},
                    body=b"",
                    created_at=now,
                    completed_at=None,
                    expires_at=now + timedelta(hours=hours),
                )
                if taken:
                    existing.refresh_from_db()
                    request._idempotency_claim = existing
                    return None
                continue
            if existing.fingerprint != print_:
                return _error(
                    422,
                    f"This {HEADER} was already used for a different request (method, path or "
                    "body). Use a new key for a new request.",
                    "idempotency_key_reused",
                )
            if existing.state == IdempotencyRecord.State.IN_FLIGHT:
                return _error(
                    409,
                    f"A request with this {HEADER} is still being processed. Retry shortly to "
                    "get its response.",
                    "idempotency_in_flight",
                    Retry_After="1",
                )
            return self._replay(actor, existing)
        return _error(
            409, f"This {HEADER} is busy; retry shortly.", "idempotency_in_flight", Retry_After="1"
        )

    def _replay(self, actor, record: IdempotencyRecord) -> HttpResponse:
        response = HttpResponse(bytes(record.body), status=record.status_code)
        for name, value in record.headers.items():
            response[name] = value
        response[REPLAYED_HEADER] = "true"
        # The stored response may hold personal data: showing it again is a read, and is logged.
        access_record(
            actor=actor,
            action="replay",
            accesses=[
                Access(
                    "api_response",
                    record.pk,
                    justification=f"{HEADER} replay of {record.method} {record.path}"[:500],
                )
            ],
        )
        return response

    def _finish(self, claim: IdempotencyRecord, response) -> None:
        mine = IdempotencyRecord.objects.filter(
            pk=claim.pk, state=IdempotencyRecord.State.IN_FLIGHT, created_at=claim.created_at
        )
        try:
            if (
                response.status_code >= 500
                or response.status_code in NOT_KEPT
                or getattr(response, "streaming", False)
            ):
                mine.delete()
                return
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            mine.update(
                state=IdempotencyRecord.State.COMPLETED,
                status_code=response.status_code,
                headers=headers,
                body=bytes(response.content),
                completed_at=timezone.now(),
            )
        except Exception:  # the response is already made: never fail it over the bookkeeping
            logger.exception("idempotency: could not record the response for key #%s", claim.pk)
