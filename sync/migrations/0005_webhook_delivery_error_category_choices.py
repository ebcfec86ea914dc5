"""The delivery error category's final size and choices (its rows were converted in 0004)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sync", "0004_webhook_delivery_error_category")]

    operations = [
        migrations.AlterField(
            model_name="webhookdelivery",
            name="last_error_category",
            field=models.CharField(
                blank=True,
                choices=[
                    ("refused_destination", "Refused: not a public address"),
                    ("dns", "Host name did not resolve"),
                    ("connect", "Could not connect"),
                    ("timeout", "Timed out"),
                    ("tls", "TLS handshake or certificate check failed"),
                    ("redirect", "Answered with a redirect (3xx)"),
                    ("http_4xx", "Answered 4xx"),
                    ("http_5xx", "Answered 5xx"),
                    ("bad_response", "Connection dropped or the answer was not HTTP"),
                ],
                max_length=20,
            ),
        ),
    ]
