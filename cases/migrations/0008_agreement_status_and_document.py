"""A data sharing agreement's status (active, under review, ended) and a link to its document
replace the `active` flag: an agreement that was not active has ended (on its end date if it had
one, else on the day of its last change); an active one stays active. Going back, only an ended
agreement is inactive."""

import django.core.validators
from django.db import migrations, models


def status_from_active(apps, schema_editor):
    Agreement = apps.get_model("cases", "DataSharingAgreement")
    Agreement.objects.filter(active=False).update(status="ended")
    for agreement in Agreement.objects.filter(active=False, ends_on__isnull=True):
        Agreement.objects.filter(pk=agreement.pk).update(ends_on=agreement.updated_at.date())


def active_from_status(apps, schema_editor):
    Agreement = apps.get_model("cases", "DataSharingAgreement")
    Agreement.objects.update(active=True)
    Agreement.objects.filter(status="ended").update(active=False)


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_name_search_trigrams")]

    operations = [
        migrations.AddField(
            model_name="datasharingagreement",
            name="status",
            field=models.CharField(
                choices=[
                    ("active", "Active"),
                    ("under_review", "Under review"),
                    ("ended", "Ended"),
                ],
                default="active",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="datasharingagreement",
            name="document_url",
            field=models.URLField(
                blank=True,
                help_text="Where the signed agreement is kept (an http or https link).",
                max_length=500,
                validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                verbose_name="document link",
            ),
        ),
        migrations.RunPython(status_from_active, active_from_status),
        migrations.RemoveField(model_name="datasharingagreement", name="active"),
    ]
