"""The access log's retention (ACCESS_LOG_RETENTION_MONTHS, 84 by default, at least 12): rows
older than that are deleted in batches by the daily pruning task, and by nothing else.

The log stays append-only for everything else: the model and its queryset refuse updates and
deletes, and on PostgreSQL the trigger refuses them unless `audit_accesslog_prune` (a SECURITY
DEFINER function, migration 0004) announces a cutoff for its own statement; it deletes only rows
older than that cutoff and never one less than 12 months old. Each run that deleted rows is kept
(AccessLogPruning): when, before what, how many.

Idempotent: a second run, or two at once, deletes what is left older than the cutoff, which is
nothing. Each batch is its own transaction, so locks are short and a run stopped part-way has
still done what it did. The batches read the `at` index, so a run costs what it deletes.
"""

from __future__ import annotations

from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from audit.models import AccessLog, AccessLogPruning

BATCH = 5000


def cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - relativedelta(months=settings.ACCESS_LOG_RETENTION_MONTHS)


def _delete_batch(connection, before: datetime, size: int) -> int:
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT audit_accesslog_prune(%s, %s)", [before, size])
            return cursor.fetchone()[0]
        # SQLite (development and tests): no function, so the same statement directly.
        table = connection.ops.quote_name(AccessLog._meta.db_table)
        at = AccessLog._meta.get_field("at").get_db_prep_value(before, connection)
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN "
            f"(SELECT id FROM {table} WHERE at < %s ORDER BY at LIMIT %s)",
            [at, size],
        )
        return cursor.rowcount


def access_log_prune(
    *, now: datetime | None = None, batch: int = BATCH, max_batches: int = 200
) -> int:
    """Delete access log rows older than the retention period; returns how many went."""
    before = cutoff(now)
    connection = connections[router.db_for_write(AccessLog)]
    total = 0
    for _ in range(max_batches):
        deleted = _delete_batch(connection, before, batch)
        total += deleted
        if deleted < batch:
            break
    if total:
        AccessLogPruning.objects.create(
            before=before, deleted=total, retention_months=settings.ACCESS_LOG_RETENTION_MONTHS
        )
    return total
