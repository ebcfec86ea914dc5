"""Creating follow-ups and notifications. Both are idempotent: repeats are ignored by unique keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction

from followups.models import FollowUp, Notification


def followup_create(
    *,
    kind: str,
    due_at: datetime,
    subject_resource: str,
    subject_id,
    title: str,
    case=None,
    assignee_user=None,
    assignee_partner=None,
) -> FollowUp:
    """Schedules a follow-up once: the same kind, subject and due time is never created twice."""
    followup, _ = FollowUp.objects.get_or_create(
        kind=kind,
        subject_resource=subject_resource,
        subject_id=subject_id,
        due_at=due_at,
        defaults={
            "title": title,
            "case": case,
            "assignee_user": assignee_user,
            "assignee_partner": assignee_partner,
        },
    )
    return followup


def notify(
    *, recipients: Iterable, kind: str, title: str, link: str = "", dedupe_key: str
) -> list[Notification]:
    """An in-app notification per recipient (email follows from the worker). `title` must carry no
    personal data beyond what every recipient may see; the email carries only `link`."""
    created = []
    for user in recipients:
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        recipient=user, kind=kind, title=title, link=link, dedupe_key=dedupe_key
                    )
                )
        except IntegrityError:
            continue  # already notified for this key
    return created
