"""What the web interface remembers for a person between visits (no case content)."""

from django.conf import settings
from django.db import models


class InboxVisit(models.Model):
    """When the person last looked at their inbox on My work, so what arrived since is marked new
    (kept across sign-ins and devices, unlike the session)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    seen_at = models.DateTimeField()
