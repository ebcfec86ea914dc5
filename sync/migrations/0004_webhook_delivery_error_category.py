"""A failed webhook delivery keeps a category of error (dns, connect, timeout, http_5xx, ...)
instead of the exception text, which told whoever could read it what answered at an address and
port. Existing texts are turned into their category, and the same text is taken out of the
reason a subscription was disabled. The column takes its final size and choices in 0005: on
PostgreSQL a table cannot be altered in the transaction that just updated its rows."""

import re

from django.db import migrations

_HTTP = re.compile(r"HTTP (\d{3})")
_DISABLED = re.compile(r"(\d+ deliveries in a row failed) \(last: (.*)", re.DOTALL)
# Best effort, in order: what urllib's exception texts said about each kind of failure.
_WORDS = [
    ("timeout", ("timed out", "timeout")),
    ("tls", ("ssl", "certificate", "tls")),
    ("dns", ("gaierror", "name or service not known", "nodename nor servname", "name resolution")),
    ("connect", ("refused", "unreachable", "no route", "reset by peer")),
]


def category_of(text: str) -> str:
    text = text.strip().rstrip(")")
    if not text:
        return ""
    status = _HTTP.fullmatch(text)
    if status:
        code = int(status.group(1))
        if 300 <= code < 400:
            return "redirect"
        if 400 <= code < 500:
            return "http_4xx"
        if 500 <= code < 600:
            return "http_5xx"
        return "bad_response"
    lowered = text.lower()
    for category, words in _WORDS:
        if any(word in lowered for word in words):
            return category
    return "bad_response"


def categorise(apps, schema_editor):
    WebhookDelivery = apps.get_model("sync", "WebhookDelivery")
    WebhookSubscription = apps.get_model("sync", "WebhookSubscription")
    texts = (
        WebhookDelivery.objects.exclude(last_error_category="")
        .values_list("last_error_category", flat=True)
        .distinct()
    )
    for text in list(texts):
        WebhookDelivery.objects.filter(last_error_category=text).update(
            last_error_category=category_of(text)
        )
    disabled = WebhookSubscription.objects.filter(disabled_reason__contains="(last: ")
    for pk, reason in disabled.values_list("pk", "disabled_reason"):
        found = _DISABLED.fullmatch(reason)
        if found:
            WebhookSubscription.objects.filter(pk=pk).update(
                disabled_reason=f"{found.group(1)} (last: {category_of(found.group(2))})"
            )


class Migration(migrations.Migration):
    dependencies = [("sync", "0003_share_expiry_task")]

    operations = [
        migrations.RenameField(
            model_name="webhookdelivery", old_name="last_error", new_name="last_error_category"
        ),
        migrations.RunPython(categorise, migrations.RunPython.noop),
    ]
