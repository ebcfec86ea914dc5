"""A thin Celery task: takes an id, calls the service, safe to run twice (the service claims the
request with a conditional UPDATE and leaves a ready pack alone)."""

from __future__ import annotations

from celery import shared_task

from governance import services


@shared_task(name=services.GENERATE_TASK, ignore_result=True)
def generate_subject_access_pack(request_id: str) -> str:
    return services.subject_access_generate(request_id)
