"""Share.expiry_announced_at: when the partner was told in the change feed that the share lapsed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="share",
            name="expiry_announced_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
