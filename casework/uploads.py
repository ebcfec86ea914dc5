"""Referrals uploaded as a CSV file on the web, for partners without an API integration.

`referral_upload_start` checks the file at the edge (a CSV, within REFERRAL_UPLOAD_MAX_BYTES, with
the required columns and at most imports.MAX_ROWS rows), keeps it under REFERRAL_UPLOAD_DIR (a
private directory, never served) and queues the import through the outbox. The Celery task calls
`referral_upload_run`, which imports the file with the importer `manage.py import_referrals` uses,
acting as the person who uploaded it, and deletes the file when the job finishes.

Safe to deliver twice: each run claims the job with a conditional UPDATE and finishes it only while
its claim stands; a finished job is left alone. A run that crashed (left `running`) is taken over,
and since the importer keys every row, the rows it saved are not saved again (they count as
already imported).
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import re
import unicodedata
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from casework import access
from casework.imports import MAX_ROWS, ImportResult, import_referrals_csv, missing_columns
from casework.models import ReferralUpload
from core.errors import ValidationFailed
from followups.outbox import enqueue
from partners.actor import Actor, actor_for_user

logger = logging.getLogger(__name__)

IMPORT_TASK = "casework.import_referral_upload"
Status = ReferralUpload.Status
ENCODINGS = ("utf-8-sig", "cp1252")  # CSV UTF-8, then what Excel's plain "CSV" saves on Windows


def upload_dir() -> Path:
    path = Path(settings.REFERRAL_UPLOAD_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _path(upload_id) -> Path:
    # Names are ours (`<uuid>.csv`): never follow anything else out of the directory.
    return upload_dir() / f"{uuid.UUID(str(upload_id))}.csv"


def _remove(upload_id) -> None:
    with contextlib.suppress(ValueError):
        _path(upload_id).unlink(missing_ok=True)


def _bad_file(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


def clean_file_name(name: str) -> str:
    """The uploader's file name, as shown back to them: no folders, no control characters."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:255]


def check_csv(file_name: str, content: bytes) -> tuple[str, int]:
    """The file's text and its number of rows, or a ValidationFailed on `file` in the GOV.UK file
    upload component's words."""
    if not file_name.lower().endswith(".csv"):
        raise _bad_file("The selected file must be a CSV")
    if len(content) > settings.REFERRAL_UPLOAD_MAX_BYTES:
        limit = filesizeformat(settings.REFERRAL_UPLOAD_MAX_BYTES).replace("\xa0", " ")
        raise _bad_file(f"The selected file must be smaller than {limit}")
    text = None
    for encoding in ENCODINGS:
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    # A spreadsheet or other binary file renamed to .csv.
    if text is None or "\x00" in text:
        raise _bad_file("The selected file must be a CSV")
    if not text.strip():
        raise _bad_file("The selected file is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        rows = sum(1 for row in reader if any(v.strip() for v in row))
    except csv.Error:
        raise _bad_file(
            "The selected file could not be read as a CSV: check that it was saved as CSV"
        ) from None
    missing = missing_columns(header)
    if missing:
        raise _bad_file(
            "The selected file must have these columns in its first row: " + ", ".join(missing)
        )
    if rows == 0:
        raise _bad_file("The selected file has no referrals under its first row")
    if rows > MAX_ROWS:
        raise _bad_file(f"The selected file must have {MAX_ROWS} rows or fewer: split it up")
    return text, rows


def referral_upload_start(*, actor: Actor, file_name: str, content: bytes) -> ReferralUpload:
    """Check the file, keep it privately and queue its import (after commit, through the outbox,
    so the work exists exactly when the job does). Logged as an upload, by ids."""
    access.check_upload_referrals(actor)
    file_name = clean_file_name(file_name)
    text, rows = check_csv(file_name, content)
    upload_id = uuid.uuid4()
    path = _path(upload_id)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    try:
        with transaction.atomic():
            upload = ReferralUpload.objects.create(
                id=upload_id, partner=actor.partner, uploaded_by=actor.user, file_name=file_name,
                rows=rows,
            )  # fmt: skip
            enqueue(IMPORT_TASK, upload_id=str(upload.pk))
            access.log_upload(actor, upload, action="upload", detail={"count": rows})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return upload


def _uploader(upload: ReferralUpload) -> Actor | None:
    """The uploader, as they are now: still a member of the same partner, still allowed."""
    actor = actor_for_user(upload.uploaded_by, channel="ui")
    if actor is None or actor.partner.pk != upload.partner_id:
        return None
    return actor if access.can_upload_referrals(actor) else None


def error_items(result: ImportResult) -> list[dict]:
    """The importer's row errors as {row, field, message}: one item per column named, the
    column's own note when it is a sentence, else the row's message."""
    items = []
    for error in result.errors:
        if not error.fields:
            items.append({"row": error.row, "field": "", "message": error.message})
        for name, notes in error.fields.items():
            texts = [str(n) for n in notes] if isinstance(notes, list | tuple) else [str(notes)]
            sentences = all(" " in t and t[:1].isupper() for t in texts)
            message = " ".join(texts) if sentences else f"{error.message} ({'; '.join(texts)})"
            items.append({"row": error.row, "field": name, "message": message})
    return items


def referral_upload_run(upload_id) -> str:
    """Import an uploaded file (the Celery task). Safe to repeat: see the module's docstring."""
    token = uuid.uuid4()
    claimed = ReferralUpload.objects.filter(
        pk=upload_id, status__in=(Status.QUEUED, Status.RUNNING)
    ).update(status=Status.RUNNING, claim=token, progress=0, started_at=timezone.now())
    if not claimed:
        return "nothing to do"
    upload = ReferralUpload.objects.select_related("uploaded_by", "partner").get(pk=upload_id)
    mine = ReferralUpload.objects.filter(pk=upload.pk, claim=token)

    def finish(status: str, **fields) -> str:
        done = mine.update(status=status, finished_at=timezone.now(), **fields)
        if not done:
            return "taken over"
        _remove(upload.pk)
        return status

    actor = _uploader(upload)
    if actor is None:
        return finish(
            Status.FAILED,
            failure="The person who uploaded the file can no longer send referrals for "
            "this organisation, so nothing was imported.",
        )
    shown = -1

    def progress(done: int, total: int) -> None:
        nonlocal shown
        percent = min(99, done * 100 // max(total, 1))
        if percent != shown:  # a write per percent, not per row; autocommitted, so polls see it
            shown = percent
            mine.update(progress=percent)

    try:
        with _path(upload.pk).open(encoding="utf-8", newline="") as handle:
            result = import_referrals_csv(actor=actor, lines=handle, progress=progress)
    except Exception:
        logger.exception("referral upload %s failed", upload.pk)
        return finish(
            Status.FAILED,
            failure="The file could not be imported. Upload it again: rows already imported "
            "are not duplicated.",
        )
    errors = error_items(result)
    return finish(
        Status.DONE,
        progress=100,
        rows=result.rows or upload.rows,
        created=len(result.created),
        skipped=len(result.skipped),
        failed=len(result.errors),
        errors=errors,
    )
