"""Writing the access log. Called inside the same transaction as the read or write it records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from audit.models import AccessLog


@dataclass(frozen=True)
class Access:
    """One record touched: what it is, and which case/person it belongs to."""

    object_type: str
    object_id: object
    case_id: object = None
    person_id: object = None
    justification: str = ""


def access_record(
    *,
    actor,
    action: str,
    accesses: Iterable[Access],
    allowed: bool = True,
    detail: dict | None = None,
) -> None:
    """Append one row per record touched, in one INSERT whatever the number of records."""
    now = timezone.now()
    rows = [
        AccessLog(
            at=now,
            user=actor.user,
            client=actor.client,
            partner=actor.partner,
            role=actor.role or "",
            channel=actor.channel,
            action=action,
            allowed=allowed,
            object_type=a.object_type,
            object_id=str(a.object_id) if a.object_id is not None else "",
            case_id=a.case_id,
            person_id=a.person_id,
            justification=a.justification[:500],
            detail=detail or {},
        )
        for a in accesses
    ]
    if rows:
        AccessLog.objects.bulk_create(rows)


def access_refused(
    *, actor, action: str, object_type: str, object_id: object, reason: str = ""
) -> None:
    """A refused attempt is logged too, with what was asked for (even if it does not exist)."""
    access_record(
        actor=actor,
        action=action,
        accesses=[Access(object_type, object_id, justification=reason)],
        allowed=False,
    )
