"""The access log's retention (audit/retention.py): rows older than ACCESS_LOG_RETENTION_MONTHS go,
in batches, through the pruning only; everything else still cannot update or delete a row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audit.models import AccessLog, AccessLogPruning, AppendOnlyError
from audit.retention import access_log_prune
from vru.celery import app

pytestmark = pytest.mark.django_db

TABLE = "audit_accesslog"


def row(at, n=0) -> AccessLog:
    return AccessLog.objects.create(
        at=at, channel="api", action="view", object_type="case", object_id=str(n)
    )


@pytest.fixture
def rows(settings):
    """Five rows older than the retention period, and three within it."""
    settings.ACCESS_LOG_RETENTION_MONTHS = 84
    now = timezone.now()
    old = [row(now - relativedelta(months=84, days=1 + n), n) for n in range(5)]
    kept = [
        row(now - relativedelta(months=84) + timedelta(days=1), 10),
        row(now - timedelta(days=400), 11),
        row(now, 12),
    ]
    return old, kept


def refused(*statements) -> bool:
    """Whether the database refuses the statements, run in one transaction (rolled back)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                sql, params = statement if isinstance(statement, tuple) else (statement, ())
                cursor.execute(sql, params)
    except (DatabaseError, IntegrityError):
        return True
    return False


class TestPruning:
    def test_it_deletes_only_rows_past_retention_in_batches_and_records_the_run(self, rows):
        _, kept = rows
        assert access_log_prune(batch=2) == 5
        assert set(AccessLog.objects.values_list("pk", flat=True)) == {r.pk for r in kept}
        (run,) = AccessLogPruning.objects.all()
        assert (run.deleted, run.retention_months) == (5, 84)
        assert all(r.at >= run.before for r in kept)

    def test_running_it_again_deletes_nothing_and_records_nothing(self, rows):
        access_log_prune()
        assert access_log_prune() == 0
        assert AccessLog.objects.count() == 3
        assert AccessLogPruning.objects.count() == 1

    def test_the_retention_is_a_setting(self, rows, settings):
        settings.ACCESS_LOG_RETENTION_MONTHS = 12
        assert access_log_prune() == 7  # all but the row logged now

    def test_the_periodic_task_is_installed_registered_and_runs(self, rows):
        row = PeriodicTask.objects.get(name="Access log pruning")
        assert row.task == "audit.access_log_prune" and row.enabled
        app.loader.import_default_modules()
        assert app.tasks["audit.access_log_prune"].apply().get() == 5
        assert app.tasks["audit.access_log_prune"].apply().get() == 0


class TestStillAppendOnly:
    def test_the_model_and_queryset_refuse_updates_and_deletes(self, rows):
        old, _ = rows
        with pytest.raises(AppendOnlyError):
            AccessLog.objects.filter(pk=old[0].pk).delete()
        with pytest.raises(AppendOnlyError):
            old[0].delete()
        with pytest.raises(AppendOnlyError):
            AccessLog.objects.filter(pk=old[0].pk).update(action="edited")
        with pytest.raises(AppendOnlyError):
            AccessLogPruning.objects.all().delete()
        assert AccessLog.objects.count() == 8

    def test_the_database_refuses_a_plain_update(self, rows):
        old, _ = rows
        assert refused((f"UPDATE {TABLE} SET action = 'edited' WHERE id = %s", [old[0].pk]))
        assert not AccessLog.objects.filter(action="edited").exists()

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the DELETE trigger is PostgreSQL's"
    )
    def test_postgresql_refuses_a_plain_delete_even_of_old_rows(self, rows):
        old, _ = rows
        assert refused((f"DELETE FROM {TABLE} WHERE id = %s", [old[0].pk]))
        assert refused(f"DELETE FROM {TABLE}")
        assert AccessLog.objects.count() == 8

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the DELETE trigger is PostgreSQL's"
    )
    def test_postgresql_lets_the_pruning_cutoff_reach_only_older_rows(self, rows):
        _, kept = rows
        # Announcing a cutoff by hand does not reach a row logged after it.
        assert refused(
            ("SELECT set_config('audit.prune_before', %s, true)", [str(kept[1].at - timedelta(1))]),
            (f"DELETE FROM {TABLE} WHERE id = %s", [kept[1].pk]),
        )
        # The function never deletes rows less than 12 months old, whatever it is asked.
        assert refused("SELECT audit_accesslog_prune(now() - interval '1 month', 100)")
        assert AccessLog.objects.count() == 8
        # The setting does not outlive the function's own statement.
        assert refused(
            "SELECT audit_accesslog_prune(now() - interval '100 months', 100)",
            f"DELETE FROM {TABLE}",
        )
        assert AccessLog.objects.count() == 8

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the DELETE trigger is PostgreSQL's"
    )
    def test_postgresql_keeps_the_record_of_prunings(self, rows):
        access_log_prune()
        assert refused("DELETE FROM audit_accesslogpruning")
        assert refused("UPDATE audit_accesslogpruning SET deleted = 0")
