"""Writing the access log. Called inside the same transaction as the read or write it records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connections, router
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
            detail or {},
        )
        for a in accesses
    ]
    if rows:
        _insert(rows)


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
