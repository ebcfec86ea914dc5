"""Uploading a CSV file of referrals, for partners without an API integration: the form, the job's
progress and the rows that were not imported. The right is casework.access.can_upload_referrals;
the service checks it again."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from casework import access, uploads
from casework.imports import MAX_ROWS, REQUIRED
from core.errors import ValidationFailed
from web.pages import form_error, page

ERRORS_SHOWN = 500  # a page of the rows to fix; the rest are there once these are fixed
RECENT = 10


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Upload a file",
        error_messages={
            "required": "Select a CSV file",
            "empty": "The selected file is empty",
            "invalid": "Select a CSV file",
            "missing": "Select a CSV file",
        },
    )


def _limit() -> str:
    return filesizeformat(settings.REFERRAL_UPLOAD_MAX_BYTES).replace("\xa0", " ")


@page(access.can_upload_referrals)
def referral_upload(request, actor):
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        # One byte past the limit is enough to refuse the file: never more into memory.
        content = upload.read(settings.REFERRAL_UPLOAD_MAX_BYTES + 1)
        try:
            job = uploads.referral_upload_start(
                actor=actor, file_name=upload.name or "", content=content
            )
        except ValidationFailed as exc:
            form_error(form, exc)
        else:
            return redirect("web:referral-upload-job", upload_id=job.pk)
    recent = list(access.referral_uploads_visible_to(actor).select_related("uploaded_by")[:RECENT])
    for job in recent:
        access.log_upload(actor, job, action="list")
    return render(
        request,
        "web/referral_upload.html",
        {
            "form": form,
            "recent": recent,
            "limit": _limit(),
            "max_rows": MAX_ROWS,
            "required": REQUIRED,
        },
    )


@page(access.can_upload_referrals)
def referral_upload_job(request, actor, upload_id):
    job = access.referral_upload_get_for(actor, upload_id)
    errors = job.errors or []
    return render(
        request,
        "web/referral_upload_job.html",
        {
            "job": job,
            "errors": errors[:ERRORS_SHOWN],
            "more_errors": max(0, len(errors) - ERRORS_SHOWN),
        },
    )


@page(access.can_upload_referrals)
def referral_upload_progress(request, actor, upload_id):
    """The job's progress for the page's script to poll: status and numbers only, so not logged
    as a read (the job page was); a refusal is."""
    job = access.referral_upload_get_for(actor, upload_id, log_as=None)
    return JsonResponse(
        {
            "status": job.status,
            "status_text": job.get_status_display(),
            "progress": job.progress,
            "finished": job.finished,
            "url": reverse("web:referral-upload-job", args=[job.pk]),
        }
    )
