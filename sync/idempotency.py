"""`Idempotency-Key` for every POST under /api/v1/ (IETF httpapi-idempotency-key draft).

A middleware, so no view can forget it. For a POST that carries the header it:

1. authenticates the caller with the view's own authenticators (the result is handed on to the
   view, so a token is checked once) and scopes the key to that caller (client or user);
2. opens one transaction, takes the key (on PostgreSQL a transaction-scoped advisory lock, then
   the key's row `SELECT … FOR UPDATE`), runs the view inside it, and completes the key with the
   view's response (status, the headers that matter, body) *in the same transaction*. So the
   write and the key's completion commit together or not at all: a process killed at any moment
   leaves either both (a retry replays the response) or neither (a retry runs cleanly). A second
   request with the key while the first is running is told 409 at once (the lock is taken, not
   waited for); nothing "in flight" outlives the request that holds it;
3. keeps the stored response for IDEMPOTENCY_KEY_HOURS (at least 24), after which
   `sync.tasks.idempotency_purge` deletes it (`purge`, below).

A repeat with the same key and the same method, path and body returns the stored response with
`Idempotent-Replayed: true` and runs nothing; the same key with a different request is 422.
Responses that say the request never started (401, 403, 429) are not kept, and one that failed
on our side (5xx, or an exception) rolls back everything the request did: either way a retry with
the same key runs normally.

A stored response is a copy of records as the caller could see them then. So:
- views that only read (`idempotency_stores_response = False`, e.g. POST /people/matches) keep no
  response: the key still guards against reuse with another body (422), but a repeat simply runs
  again, against what the caller may see now;
- a replay re-checks, with the owning app's access functions, every record the stored response is
  about (the records named in the URL, and the record its body describes) and answers 404, as a
  fresh request would, for one the caller may no longer see (a share revoked, an entry narrowed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.views import APIView

from audit.services import Access, access_record, access_refused
from core.api.errors import error_body
from partners.actor import request_actor
from sync.models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEPT_HEADERS = ("Content-Type", "ETag", "Location", "Last-Modified", "Content-Language")
NOT_KEPT = {401, 403, 429}
# Claims are no longer committed before their request finishes, so an "in flight" row can only
# have been left by a release before this one (which committed the claim first). Past this age its
# request is certainly over (gunicorn's worker timeout is 30 s), and the key may be taken over.
STALE_CLAIM = timedelta(seconds=60)
# Tests (and only tests: TEST_FAULTS cannot be set in production) may ask for the process to be
# killed at these points, to prove that nothing is doubled or lost whenever a worker dies.
FAULT_HEADER = "X-Test-Fault"
FAULT_POINTS = ("before-commit", "after-commit")


def _error(status: int, message: str, code: str, **headers) -> JsonResponse:
    response = JsonResponse(error_body(status, message, code=code), status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _in_flight() -> JsonResponse:
    return _error(
        409,
        f"A request with this {HEADER} is still being processed. Retry shortly to get its "
        "response.",
        "idempotency_in_flight",
        Retry_After="1",
    )


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\n", path.encode(), b"\n", body):
        digest.update(part)
    return digest.hexdigest()


def caller_key(actor) -> str:
    return f"client:{actor.client.pk}" if actor.client else f"user:{actor.user.pk}"


def _take_key(caller: str, key: str) -> bool:
    """Hold the key for the rest of the transaction; False when another request holds it.

    On PostgreSQL a transaction-scoped advisory lock on a hash of (caller, key): it covers a key
    with no row yet, is never waited for, and is let go by commit, rollback or a dead connection.
    SQLite runs one write transaction at a time, so there is nothing to take."""
    if connection.vendor != "postgresql":
        return True
    digest = hashlib.sha256(f"{caller}\n{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return cursor.fetchone()[0]


def _fault(request, point: str) -> None:
    if settings.TEST_FAULTS and request.headers.get(FAULT_HEADER) == point:
        logger.warning("idempotency: test fault %s, killing this process", point)
        os.kill(os.getpid(), signal.SIGKILL)


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

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
        request._idempotency_stores = getattr(view_class, "idempotency_stores_response", True)
        request._idempotency_route = (
            getattr(request.resolver_match, "url_name", None) or "",
            dict(view_kwargs),
        )
        with transaction.atomic():
            response = self._run_once(
                request,
                actor,
                key,
                fingerprint(request.method, request.get_full_path(), body),
                lambda: view_func(request, *view_args, **view_kwargs),
            )
            _fault(request, "before-commit")
        _fault(request, "after-commit")
        return response

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

    def _run_once(self, request, actor, key: str, print_: str, run_view) -> HttpResponse:
        """Inside the request's transaction: replay, refuse, or run the view and keep its answer."""
        caller = caller_key(actor)
        if not _take_key(caller, key):
            return _in_flight()
        now = timezone.now()
        existing = (
            IdempotencyRecord.objects.select_for_update().filter(caller=caller, key=key).first()
        )
        if existing is not None and existing.expires_at > now:
            if existing.fingerprint != print_:
                return _error(
                    422,
                    f"This {HEADER} was already used for a different request (method, path or "
                    "body). Use a new key for a new request.",
                    "idempotency_key_reused",
                )
            if existing.state == IdempotencyRecord.State.COMPLETED:
                if request._idempotency_stores:
                    return self._replay(request, actor, existing)
                # A read: nothing was kept, so it runs again on what is visible now.
                return _rendered(run_view())
            if existing.created_at >= now - STALE_CLAIM:
                return _in_flight()
        claim = existing or IdempotencyRecord(caller=caller, key=key)
        claim.fingerprint = print_
        claim.method = request.method
        claim.path = request.get_full_path()[:500]
        claim.state = IdempotencyRecord.State.IN_FLIGHT
        claim.created_at = now
        claim.expires_at = now + timedelta(hours=max(24, settings.IDEMPOTENCY_KEY_HOURS))
        try:
            with transaction.atomic():
                claim.save()
        except IntegrityError:
            return _in_flight()  # SQLite only: another connection inserted it in between
        response = _rendered(run_view())
        self._complete(request, claim, response)
        return response

    def _replay(self, request, actor, record: IdempotencyRecord) -> HttpResponse:
        hidden = replay_hidden(actor, *request._idempotency_route, record)
        if hidden is not None:
            # What the first response showed is no longer the caller's to see: answer as the
            # request would now, without saying why (a refused read, logged as one).
            resource, object_id = hidden
            access_refused(
                actor=actor,
                action="replay",
                object_type=resource,
                object_id=object_id,
                reason="no longer visible",
            )
            return _error(404, f"{_LABELS.get(resource, 'Record')} not found.", "not_found")
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

    def _complete(self, request, claim: IdempotencyRecord, response) -> None:
        if response.status_code >= 500:
            # Failed on our side: nothing it did stays, the key included; a retry runs normally.
            transaction.set_rollback(True)
            return
        if response.status_code in NOT_KEPT or getattr(response, "streaming", False):
            claim.delete()  # never started (its refusal stays in the access log)
            return
        stores = request._idempotency_stores
        claim.state = IdempotencyRecord.State.COMPLETED
        claim.status_code = response.status_code
        # A read keeps only the fact that the key was used for this request.
        claim.headers = (
            {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            if stores
            else {}
        )
        claim.body = bytes(response.content) if stores else b""
        claim.completed_at = timezone.now()
        claim.save(update_fields=["state", "status_code", "headers", "body", "completed_at"])


def _rendered(response):
    """DRF responses render lazily; the body is needed now, to be kept with the key."""
    render = getattr(response, "render", None)
    if callable(render) and not getattr(response, "is_rendered", True):
        response = render()
    return response


# --- what a stored response is about, and who may still see it ------------------------------


def _visible(resource: str, actor):
    """The owning app's visibility function for each kind of record a response may hold."""
    from cases import access as case_access
    from casework import access as casework_access
    from followups import selectors as followup_selectors
    from programmes import access as programme_access

    return {
        "person": case_access.persons_visible_to,
        "case": case_access.cases_visible_to,
        "entry": casework_access.entries_visible_to,
        "adversity": casework_access.adversities_visible_to,
        "action": casework_access.actions_visible_to,
        "referral": casework_access.referrals_visible_to,
        "enrolment": programme_access.enrolments_visible_to,
        "followup": followup_selectors.followups_visible_to,
        "notification": lambda a: followup_selectors.notifications_for(a.user),
    }[resource](actor)


# The record a URL names, by its keyword.
URL_RECORDS = {
    "case_id": "case",
    "person_id": "person",
    "entry_id": "entry",
    "adversity_id": "adversity",
    "action_id": "action",
    "referral_id": "referral",
    "enrolment_id": "enrolment",
    "followup_id": "followup",
    "notification_id": "notification",
}
# The record a stored 2xx body describes (its "id"), by route, where the URL does not name it.
BODY_RECORDS = {
    "person-list": "person",
    "case-list": "case",
    "case-entries": "entry",
    "case-adversities": "adversity",
    "case-actions": "action",
    "referral-list": "referral",
    "programme-referrals": "enrolment",
    "programme-offer-next": "enrolment",
}
# Routes whose stored response shows nothing the caller could lose sight of: ids, statuses and
# counts only (batch sync results, webhooks, marking all read), or the caller's own request and
# its decision (break-glass: the case is not visible before it is granted, by design).
NOTHING_TO_RECHECK = frozenset(
    {
        "case-break-glass",
        "break-glass-decision",
        "sync-people",
        "sync-cases",
        "sync-referrals",
        "sync-entries",
        "webhook-list",
        "notification-read-all",
    }
)
_LABELS = {
    "person": "Person",
    "case": "Case",
    "entry": "Entry",
    "adversity": "Adversity",
    "action": "Action",
    "referral": "Referral",
    "enrolment": "Enrolment",
    "followup": "Follow-up",
    "notification": "Notification",
}


def _stored_body(record: IdempotencyRecord) -> dict:
    if not 200 <= (record.status_code or 0) < 300:
        return {}
    try:
        body = json.loads(bytes(record.body) or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def replay_hidden(actor, url_name: str, url_kwargs: dict, record: IdempotencyRecord):
    """(resource, id) of the first record the stored response is about that the caller may no
    longer see, or None when they may still see all of it. A route that names a record nobody
    mapped is treated as hidden: a new route must say what its responses hold (see the test
    tests/sync/test_idempotent_replay_visibility.py, which checks every POST route)."""
    if url_name in NOTHING_TO_RECHECK:
        return None
    about = []
    for name, value in url_kwargs.items():
        if name == "slug":  # programmes are configuration, not personal data
            continue
        if name not in URL_RECORDS:
            return ("record", value)
        about.append((URL_RECORDS[name], value))
    body = _stored_body(record)
    if url_name in BODY_RECORDS and body.get("id"):
        about.append((BODY_RECORDS[url_name], body["id"]))
    if body.get("case_visible") is True and body.get("case"):
        # An enrolment shown with its case open holds what was derived from the case (its
        # eligibility, as the caller could see it then).
        about.append(("case", body["case"]))
    for resource, object_id in about:
        try:
            visible = _visible(resource, actor).filter(pk=object_id).exists()
        except (ValueError, TypeError, ValidationError):
            visible = False
        if not visible:
            return (resource, object_id)
    return None


def purge(*, now=None) -> int:
    """Forget Idempotency-Keys past their retention (IDEMPOTENCY_KEY_HOURS, at least 24)."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
