"""The membership change log, append-only: on PostgreSQL a trigger refuses UPDATE and DELETE."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION partners_membershipchange_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'partners_membershipchange is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER partners_membershipchange_append_only
    BEFORE UPDATE OR DELETE ON partners_membershipchange
    FOR EACH ROW EXECUTE FUNCTION partners_membershipchange_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS partners_membershipchange_append_only ON partners_membershipchange;
DROP FUNCTION IF EXISTS partners_membershipchange_append_only();
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
    ]

    operations = [
        migrations.CreateModel(
            name="MembershipChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                (
                    "old_role",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("practitioner", "Practitioner"),
                            ("manager", "Manager"),
                            ("coordinator", "VRU coordinator"),
                            ("auditor", "Information governance / auditor"),
                            ("admin", "System administrator"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "new_role",
                    models.CharField(
                        choices=[
                            ("practitioner", "Practitioner"),
                            ("manager", "Manager"),
                            ("coordinator", "VRU coordinator"),
                            ("auditor", "Information governance / auditor"),
                            ("admin", "System administrator"),
                        ],
                        max_length=20,
                    ),
                ),
                ("channel", models.CharField(max_length=20)),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "new_partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                    ),
                ),
                (
                    "old_partner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="membership_changes",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["user", "at"], name="partners_me_user_id_1719c8_idx")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
