"""The access log's retention: rows older than ACCESS_LOG_RETENTION_MONTHS are deleted by the
pruning (audit/retention.py), and by nothing else.

On PostgreSQL the append-only trigger still refuses every UPDATE, and every DELETE except of rows
older than the cutoff that `audit_accesslog_prune(cutoff, batch_size)` announces for its own
statement (a transaction-local setting, cleared before it returns). The function refuses a cutoff
less than 12 months ago, whatever it is asked, and is SECURITY DEFINER: in production the
application's role can be given EXECUTE on it and no DELETE on the table at all. The record of
each pruning run is append-only too.

On SQLite (development and tests) a trigger refuses UPDATE; DELETE is refused by the model and
its queryset (a DELETE trigger would also refuse the test database's flush).
"""

import django.utils.timezone
from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_accesslog_append_only() RETURNS trigger AS $$
DECLARE
    cutoff text := current_setting('audit.prune_before', true);
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(cutoff, '') <> '' AND OLD.at < cutoff::timestamptz THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_accesslog is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_accesslog_prune(cutoff timestamptz, batch_size integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    deleted integer;
BEGIN
    IF cutoff > clock_timestamp() - interval '12 months' THEN
        RAISE EXCEPTION 'the access log keeps at least 12 months (asked to delete rows before %)',
            cutoff;
    END IF;
    PERFORM set_config('audit.prune_before', cutoff::text, true);
    DELETE FROM audit_accesslog WHERE id IN (
        SELECT id FROM audit_accesslog WHERE at < cutoff ORDER BY at LIMIT batch_size
    );
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('audit.prune_before', '', true);
    RETURN deleted;
END;
$$;

CREATE OR REPLACE FUNCTION audit_accesslogpruning_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_accesslogpruning is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_accesslogpruning_append_only
    BEFORE UPDATE OR DELETE ON audit_accesslogpruning
    FOR EACH ROW EXECUTE FUNCTION audit_accesslogpruning_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_accesslogpruning_append_only ON audit_accesslogpruning;
DROP FUNCTION IF EXISTS audit_accesslogpruning_append_only();
DROP FUNCTION IF EXISTS audit_accesslog_prune(timestamptz, integer);
CREATE OR REPLACE FUNCTION audit_accesslog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_accesslog is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_FORWARD = [
    """
CREATE TRIGGER audit_accesslog_no_update BEFORE UPDATE ON audit_accesslog
BEGIN SELECT RAISE(ABORT, 'audit_accesslog is append-only (UPDATE refused)'); END;
""",
    """
CREATE TRIGGER audit_accesslogpruning_no_update BEFORE UPDATE ON audit_accesslogpruning
BEGIN SELECT RAISE(ABORT, 'audit_accesslogpruning is append-only (UPDATE refused)'); END;
""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_accesslog_no_update",
    "DROP TRIGGER IF EXISTS audit_accesslogpruning_no_update",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_break_glass_review"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessLogPruning",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "before",
                    models.DateTimeField(help_text="Rows logged before this time were deleted."),
                ),
                ("deleted", models.PositiveBigIntegerField()),
                ("retention_months", models.PositiveIntegerField()),
            ],
            options={
                "ordering": ["-at"],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
