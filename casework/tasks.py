"""A thin Celery task: takes an id, calls the service, safe to run twice (the service claims the
upload with a conditional UPDATE and leaves a finished one alone)."""

from __future__ import annotations

from celery import shared_task

from casework import uploads


@shared_task(name=uploads.IMPORT_TASK, ignore_result=True)
def import_referral_upload(upload_id: str) -> str:
    return uploads.referral_upload_run(upload_id)
