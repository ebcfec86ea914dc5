"""Subject access requests (UK GDPR Art. 15): a pack of everything one partner controls about a
person, generated in the background and downloaded by that partner's managers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone


class SubjectAccessRequest(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The request goes with the person: a disposed-of person leaves no pack behind.
    person = models.ForeignKey(
        "cases.Person", on_delete=models.CASCADE, related_name="subject_access_requests"
    )
    # The controller answering: the pack holds what this partner controls about the person.
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # One month from receipt (Art. 12(3)); the follow-ups remind and then escalate.
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Set by the conditional UPDATE that claims the work: a worker finishes only its own run.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    # Under SUBJECT_ACCESS_DIR, never a public path; downloaded through an authenticated view.
    pack_name = models.CharField(max_length=100, blank=True)
    pack_size = models.PositiveIntegerField(null=True, blank=True)
    # Recorded by a manager once the pack was reviewed and sent: the deadline is met.
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["person", "partner", "requested_at"])]

    def __str__(self) -> str:
        return f"subject access {self.pk} ({self.status})"


@receiver(post_delete, sender=SubjectAccessRequest)
def _delete_pack(sender, instance: SubjectAccessRequest, **kwargs) -> None:
    """A request goes with its person (disposal): so do its pack and its deadline's follow-ups."""
    from followups.models import FollowUp
    from governance.pack import remove_pack

    if instance.pack_name:
        remove_pack(instance.pack_name)
    FollowUp.objects.filter(subject_resource="subject_access", subject_id=instance.pk).delete()
