"""Celery tasks of single sign-on: thin and safe to repeat (sso.services claims each refresh with
a conditional UPDATE, so two workers never use one refresh token twice)."""

from __future__ import annotations

from celery import shared_task

from sso import services


@shared_task(name="sso.refresh_due")
def refresh_due(batch: int = services.REFRESH_BATCH) -> dict:
    return services.identities_refresh_due(batch=batch)
