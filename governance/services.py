"""Subject access requests: asking for a pack, generating it (the Celery task calls
`subject_access_generate`), opening it for download and recording that it was answered.

The deadline is one month from receipt (UK GDPR Art. 12(3)): a reminder follow-up falls due a
week before it and an escalation on the day, both for the requester and their partner's managers,
and both are closed when a manager records that the pack was sent.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import Access, access_record
from cases.models import Person
from core.errors import Conflict
from core.guards import guarded
from followups import kinds
from followups.models import FollowUp
from followups.outbox import enqueue
from followups.services import followup_create
from governance import access, pack
from governance.models import SubjectAccessRequest
from partners.actor import Actor

logger = logging.getLogger(__name__)

GENERATE_TASK = "governance.generate_subject_access_pack"
REMINDER_DAYS = 7
Status = SubjectAccessRequest.Status


def _log(actor: Actor, request: SubjectAccessRequest, action: str) -> None:
    access_record(
        actor=actor,
        action=action,
        accesses=[
            Access(
                "subject_access", request.pk, person_id=request.person_id,
                justification="partner's manager: subject access request",
            )
        ],
    )  # fmt: skip


def _at_nine(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(9)))


@guarded(lambda actor, person, **_: access.check_request_subject_access(actor, person))
def subject_access_request(*, actor: Actor, person: Person) -> SubjectAccessRequest:
    """Record the request, schedule its deadline and queue the pack's generation (after commit,
    through the outbox, so the work exists exactly when the request does)."""
    now = timezone.now()
    request = SubjectAccessRequest.objects.create(
        person=person, partner=actor.partner, requested_by=actor.user, requested_at=now,
        due_on=timezone.localdate(now) + relativedelta(months=1),
    )  # fmt: skip
    for kind, due_at, title in (
        (
            kinds.SUBJECT_ACCESS_DUE,
            _at_nine(request.due_on - timedelta(days=REMINDER_DAYS)),
            "A subject access request must be answered within a week",
        ),
        (
            kinds.SUBJECT_ACCESS_OVERDUE,
            _at_nine(request.due_on),
            "A subject access request has reached its one-month deadline",
        ),
    ):
        followup_create(
            kind=kind, due_at=due_at, subject_resource="subject_access", subject_id=request.pk,
            title=title, assignee_user=actor.user, assignee_partner=actor.partner,
        )  # fmt: skip
    enqueue(GENERATE_TASK, request_id=str(request.pk))
    _log(actor, request, "request_subject_access")
    return request


def subject_access_generate(request_id) -> str:
    """Build the pack for a request. Safe to repeat: a ready pack is left alone; a run that
    crashed (left `running` or `failed`) is taken over. Each run claims the request with a
    conditional UPDATE and finishes only if its claim still stands."""
    token = uuid.uuid4()
    claimed = (
        SubjectAccessRequest.objects.filter(pk=request_id)
        .filter(~Q(status=Status.READY))
        .update(status=Status.RUNNING, claim=token, progress=0, started_at=timezone.now())
    )
    if not claimed:
        return "nothing to do"
    request = SubjectAccessRequest.objects.select_related("person", "partner", "requested_by").get(
        pk=request_id
    )

    def progress(percent: int) -> None:
        # Autocommitted, so whoever polls sees it move.
        SubjectAccessRequest.objects.filter(pk=request.pk, claim=token).update(
            progress=min(max(percent, 0), 99)
        )

    try:
        name, size = pack.build(request, progress=progress)
    except Exception:
        logger.exception("subject access pack %s failed", request.pk)
        SubjectAccessRequest.objects.filter(pk=request.pk, claim=token).update(status=Status.FAILED)
        return "failed"
    with transaction.atomic():
        done = SubjectAccessRequest.objects.filter(pk=request.pk, claim=token).update(
            status=Status.READY, progress=100, completed_at=timezone.now(), pack_name=name,
            pack_size=size,
        )  # fmt: skip
    return "ready" if done else "taken over"


@guarded(
    lambda actor, request, **_: access.check_follow(
        actor, request, action="download_subject_access"
    )
)
def pack_open(*, actor: Actor, request: SubjectAccessRequest):
    """The ready pack's file, opened for the download view; logged as a download (ids only).
    For the requester's partner's managers (governance.access)."""
    if request.status != Status.READY or not request.pack_name:
        raise Conflict("The subject access pack is not ready yet.", code="subject_access_not_ready")
    handle = pack.open_pack(request.pack_name)
    _log(actor, request, "download_subject_access")
    return handle


@guarded(
    lambda actor, request, **_: access.check_follow(actor, request, action="answer_subject_access")
)
def subject_access_answered(*, actor: Actor, request: SubjectAccessRequest) -> SubjectAccessRequest:
    """Record that the pack, reviewed for third-party information, was sent: the deadline's
    reminder and escalation are done."""
    if request.status != Status.READY:
        raise Conflict(
            "Only a ready pack can be recorded as sent.", code="subject_access_not_ready"
        )
    now = timezone.now()
    SubjectAccessRequest.objects.filter(pk=request.pk, answered_at__isnull=True).update(
        answered_at=now, answered_by=actor.user
    )
    FollowUp.objects.filter(
        subject_resource="subject_access",
        subject_id=request.pk,
        status__in=[FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED],
    ).update(status=FollowUp.Status.DONE, completed_at=now, updated_at=now)
    request.refresh_from_db()
    _log(actor, request, "answer_subject_access")
    return request
