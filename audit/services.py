"""Writing the access log. Called inside the same transaction as the read or write it records.

A row says who, acting for which partner, did what to which record (kind and id), through which
channel, why they could, when, and whether it was allowed: never what the record says. `detail`
holds only ids and enums that are not content (which fields changed, which partner a case was
shared with, under which lawful basis); anything else is dropped before it is written, so a call
site cannot put an adversity code, a status, a reason or a name into the log by mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connections, router
from django.utils import timezone

from audit.models import AccessLog

logger = logging.getLogger(__name__)

# The only keys `detail` may carry. Each holds ids, field names, counts or governance enums.
DETAIL_KEYS = frozenset(
    {
        "fields",  # names of the fields changed, never their values
        "details",  # names of the intake fields given
        "partner",  # a partner's slug (shares, adversity shares)
        "participants",  # partners' slugs
        "agreement",  # a data sharing agreement's id
        "lawful_basis",  # the basis a share relies on (a governance enum, not about the person)
        "grant",  # a break-glass grant's id
        "expires_at",
        "key_worker",  # a user id
        "case_opened",  # whether intake opened a new case
        "subject_found_by",  # how intake found the subject: given, identifier, new person
        "count",
        "months",
        "format",
        # an auditor's search: which ids and dates were searched for
        "case",
        "person",
        "user",
        "date_from",
        "date_to",
        "refused_only",
    }
)


@dataclass(frozen=True)
class Access:
    """One record touched: what it is, and which case/person it belongs to."""

    object_type: str
    object_id: object
    case_id: object = None
    person_id: object = None
    justification: str = ""


_COLUMNS = (
    "at", "user", "client", "partner", "role", "channel", "action", "allowed", "object_type",
    "object_id", "case_id", "person_id", "justification", "detail",
)  # fmt: skip


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
    detail = _ids_only(action, detail)
    user_id = actor.user.pk if actor.user else None
    client_id = actor.client.pk if actor.client else None
    rows = [
        (
            now,
            user_id,
            client_id,
            actor.partner.pk,
            actor.role or "",
            actor.channel,
            action,
            allowed,
            a.object_type,
            "" if a.object_id is None else str(a.object_id),
            a.case_id,
            a.person_id,
            a.justification[:500],
            detail,
        )
        for a in accesses
    ]
    if rows:
        _insert(rows)


def _ids_only(action: str, detail: dict | None) -> dict:
    dropped = sorted(set(detail or {}) - DETAIL_KEYS)
    if dropped:
        # A programming error, not the caller's: keep the row, never the content.
        logger.warning("access log: %s detail keys not kept (content?): %s", action, dropped)
    return {k: v for k, v in (detail or {}).items() if k in DETAIL_KEYS}


def _insert(rows: list[tuple]) -> None:
    """A plain multi-row INSERT. Every list endpoint logs each record it shows, so this is on the
    hot path: building model instances for bulk_create cost more than the query (bench/case_list.py)."""
    connection = connections[router.db_for_write(AccessLog)]
    fields = [AccessLog._meta.get_field(name) for name in _COLUMNS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    batch = max(1, connection.ops.bulk_batch_size(fields, rows))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = [
                f.get_db_prep_save(v, connection)
                for row in chunk
                for f, v in zip(fields, row, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {quote(AccessLog._meta.db_table)} ({columns}) VALUES "
                + ", ".join([placeholder] * len(chunk)),
                params,
            )


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
