"""Celery tasks of the audit app: thin, idempotent wrappers (scheduled in audit/schedule.py)."""

from __future__ import annotations

from celery import shared_task

from audit import retention


@shared_task(name="audit.access_log_prune")
def access_log_prune(batch: int = retention.BATCH) -> int:
    return retention.access_log_prune(batch=batch)
