"""Celery tasks of the cases app: thin, idempotent wrappers (scheduled in cases/schedule.py)."""

from __future__ import annotations

from celery import shared_task

from cases import agreements


@shared_task(name="cases.sweep_agreements")
def sweep_agreements() -> dict:
    return agreements.sweeps_run()
