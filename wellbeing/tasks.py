"""Celery tasks of the wellbeing app: thin, idempotent wrappers (scheduled in wellbeing/schedule.py)."""

from __future__ import annotations

from celery import shared_task

from wellbeing import retention


@shared_task(name="wellbeing.check_ins_prune")
def check_ins_prune() -> int:
    return retention.check_ins_prune()
