"""Programme configuration changes, kept append-only (on PostgreSQL a trigger refuses UPDATE and
DELETE, as on the access log)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION programmes_configchange_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'programmes_programmeconfigchange is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER programmes_configchange_append_only
    BEFORE UPDATE OR DELETE ON programmes_programmeconfigchange
    FOR EACH ROW EXECUTE FUNCTION programmes_configchange_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS programmes_configchange_append_only ON programmes_programmeconfigchange;
DROP FUNCTION IF EXISTS programmes_configchange_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
        ("programmes", "0002_standard_programmes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProgrammeConfigChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "version",
                    models.PositiveIntegerField(
                        help_text="The programme's version after the change."
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                ("role", models.CharField(blank=True, max_length=20)),
                (
                    "changed",
                    models.JSONField(default=list, help_text="Names of the settings changed."),
                ),
                ("before", models.JSONField(default=dict)),
                ("after", models.JSONField(default=dict)),
                (
                    "client",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.apiclient",
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                    ),
                ),
                (
                    "programme",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="config_changes",
                        to="programmes.programme",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["programme", "at", "id"],
                "indexes": [
                    models.Index(fields=["programme", "at"], name="programmes__program_79f480_idx")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
