"""Each amendment records who could see the version it replaced (visibility, the entry's partner,
the named users), so history is shown only to those who could see it. Existing amendments are
filled in by walking each entry's history back from its current state."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    ChronologyEntry = apps.get_model("casework", "ChronologyEntry")
    EntryAmendment = apps.get_model("casework", "EntryAmendment")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    entry_ids = EntryAmendment.objects.values_list("entry_id", flat=True).distinct()
    for entry in ChronologyEntry.objects.filter(pk__in=entry_ids).iterator():
        visibility = entry.visibility
        named = {str(pk) for pk in entry.named_users.values_list("pk", flat=True)}
        # Newest first: each amendment's `previous` holds what the changed fields were before it.
        for amendment in EntryAmendment.objects.filter(entry=entry).order_by("-version"):
            previous = amendment.previous or {}
            if "visibility" in previous:
                visibility = previous["visibility"]
            if "named_users" in previous:
                named = {str(pk) for pk in previous["named_users"] or []}
            EntryAmendment.objects.filter(pk=amendment.pk).update(
                previous_visibility=visibility, previous_partner_id=entry.partner_id
            )
            users = list(User.objects.filter(pk__in=list(named)))
            amendment.previous_named_users.set(users)
    if schema_editor.connection.vendor == "postgresql":
        # Check the deferred foreign keys now, so the column can be made NOT NULL below in the
        # same transaction (PostgreSQL refuses ALTER TABLE with pending trigger events).
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0001_initial"),
        ("partners", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="entryamendment",
            name="previous_visibility",
            # Filled in below; "named" until then, the narrowest.
            field=models.CharField(
                choices=[
                    ("case", "All partners on the case"),
                    ("partner", "The author's partner only"),
                    ("named", "Named people only"),
                ],
                default="named",
                max_length=10,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="entryamendment",
            name="previous_partner",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partners.partner",
            ),
        ),
        migrations.AddField(
            model_name="entryamendment",
            name="previous_named_users",
            field=models.ManyToManyField(blank=True, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="entryamendment",
            name="previous_partner",
            field=models.ForeignKey(
                help_text="The entry's partner when the replaced version was current.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partners.partner",
            ),
        ),
    ]
