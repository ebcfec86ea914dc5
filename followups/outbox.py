"""The transactional outbox: background work is written down with the change that needs it.

    from followups.outbox import enqueue
    enqueue("sync.deliver_webhook", delivery_id=str(delivery.pk))

`enqueue` inserts an `OutboxMessage` in the caller's transaction, so the work exists exactly when the
change does (a rollback takes both away), and publishes it to the broker after the commit. A publish
that fails (Redis down, network blip) is caught and logged: the caller's request still succeeds and
the row stays unpublished until `relay()` (the `followups.outbox_relay` periodic task) publishes it.
Tasks run only after their data commits, because the message is sent only after the commit.

A frozen Redis cannot hold the request up for long: the broker's socket timeouts are short
(REDIS_SOCKET_TIMEOUT_MS) and the retry policy below allows one retry. After a failure, Redis's
circuit breaker (core.breaker, shared with the cache) is open for a few seconds, and publishes in
that time are not even tried: the rows are left to the relay at once.

A message can be published twice (published, then the process died before marking the row), so
every task sent through here must be idempotent: take ids, claim work with a conditional UPDATE or a
unique key.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import redis.exceptions
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.breaker import CircuitBreaker, breaker_for, count
from core.task_queue import celery_app
from followups.models import OutboxMessage

logger = logging.getLogger(__name__)

# Give up on the broker quickly inside a request: the relay tries again later anyway.
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# The relay leaves rows this young alone: their own on-commit publish is most likely under way.
RELAY_MIN_AGE = timedelta(seconds=30)
RELAY_BATCH = 500


def enqueue(task_name: str, **kwargs) -> None:
    """Write `task_name(**kwargs)` to the outbox in the current transaction; publish after commit.

    kwargs must be JSON-serialisable (pass ids as strings, not model instances).
    """
    message = OutboxMessage.objects.create(task_name=task_name, kwargs=kwargs)
    transaction.on_commit(lambda: publish(message.pk), robust=True)


def _send(task_name: str, kwargs: dict[str, Any], message_id: int) -> None:
    celery_app().send_task(
        task_name,
        kwargs=kwargs,
        # Recognisable in `celery inspect` and the worker log; not used for de-duplication.
        headers={"outbox_id": message_id},
        retry=True,
        retry_policy=PUBLISH_RETRY_POLICY,
    )


def _mark_published(message_id: int) -> None:
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message_id, published_at__isnull=True).update(
        published_at=now, last_attempt_at=now, attempts=F("attempts") + 1, last_error=""
    )


def _mark_failed(message_id: int, error: Exception) -> None:
    OutboxMessage.objects.filter(pk=message_id).update(
        last_attempt_at=timezone.now(),
        attempts=F("attempts") + 1,
        last_error=f"{type(error).__name__}: {error}"[:500],
    )


# What a broker that cannot be reached raises (kombu wraps the transport's errors when retrying).
BROKER_UNREACHABLE = (
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)


def _broker_breaker() -> CircuitBreaker | None:
    """The Redis broker's circuit breaker; none for the file and in-memory queues (no network)."""
    url = settings.CELERY_BROKER_URL
    return breaker_for(url) if url.startswith(("redis://", "rediss://")) else None


def publish(message_id: int) -> bool:
    """Publish one outbox row now. Never raises: a failure is recorded and left to the relay, and
    while the broker's breaker is open the row is left to the relay without trying."""
    message = OutboxMessage.objects.filter(pk=message_id, published_at__isnull=True).first()
    if message is None:
        return True  # already published (by the relay) or pruned
    breaker = _broker_breaker()
    if breaker is not None and not breaker.allow():
        count("outbox_publishes_deferred")
        logger.info(
            "outbox: broker unavailable, #%s %s left to the relay", message.pk, message.task_name
        )
        return False
    try:
        _send(message.task_name, message.kwargs, message.pk)
    except Exception as exc:  # the broker's errors vary by transport; none may fail the caller
        if breaker is not None:
            if isinstance(exc, BROKER_UNREACHABLE):
                breaker.failed(exc)
            else:
                breaker.release()
        logger.warning(
            "outbox: publishing #%s %s failed, the relay will retry: %s",
            message.pk,
            message.task_name,
            exc,
        )
        try:
            _mark_failed(message.pk, exc)
        except Exception:  # the database is gone too: the row is still unpublished, that is enough
            logger.exception("outbox: could not record the failure of #%s", message.pk)
        return False
    if breaker is not None:
        breaker.succeeded()
    _mark_published(message.pk)
    return True


def relay(*, batch: int = RELAY_BATCH, min_age: timedelta = RELAY_MIN_AGE) -> dict[str, int]:
    """Publish unpublished rows older than `min_age`, oldest first, up to `batch` of them.

    On PostgreSQL the rows are locked with SKIP LOCKED, so relays running at once (a second beat,
    a manual run) take different rows instead of publishing the same ones. The first failure ends
    the run: when the broker is down there is no point trying the rest now.
    """
    published = failed = 0
    cutoff = timezone.now() - min_age
    with transaction.atomic():
        rows = OutboxMessage.objects.filter(published_at__isnull=True, created_at__lte=cutoff)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        for message in rows.order_by("id")[:batch]:
            try:
                _send(message.task_name, message.kwargs, message.pk)
            except Exception as exc:
                logger.warning("outbox relay: broker unavailable, stopping this run: %s", exc)
                _mark_failed(message.pk, exc)
                failed += 1
                break
            _mark_published(message.pk)
            published += 1
    if published or failed:
        logger.info("outbox relay: published %s, failed %s", published, failed)
    return {"published": published, "failed": failed}


def backlog() -> dict[str, Any]:
    """How far behind publishing is: for monitoring (docs/operations.md)."""
    pending = OutboxMessage.objects.filter(published_at__isnull=True)
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    return {
        "unpublished": pending.count(),
        "oldest_age_seconds": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
    }


def prune(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete published rows once they are of no more use for diagnosis."""
    deleted, _ = OutboxMessage.objects.filter(published_at__lt=timezone.now() - older_than).delete()
    return deleted
