"""Follow-ups (work that falls due) and notifications (what a person is told)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class FollowUp(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        NOTIFIED = "notified", "Notified"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        ESCALATED = "escalated", "Escalated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(
        max_length=50
    )  # e.g. divert_check_in, case_review, action_overdue, screening_deadline
    due_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # What it is about: a resource name and id ("case", "enrolment", "action", "referral", "user", ...).
    subject_resource = models.CharField(max_length=30)
    subject_id = models.UUIDField()
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="followups"
    )
    assignee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followups",
    )
    assignee_partner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followups",
    )
    title = models.CharField(
        max_length=200, help_text="Plain words, no personal data: it may be emailed."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            # One follow-up per kind, subject and due time: schedules and sweeps are safe to repeat.
            models.UniqueConstraint(
                fields=["kind", "subject_resource", "subject_id", "due_at"], name="unique_followup"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="followup_due")]


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=50)
    title = models.CharField(max_length=200, help_text="No personal data: it is also emailed.")
    link = models.CharField(
        max_length=300, blank=True, help_text="Path in the app; the email carries only this."
    )
    # Idempotency: one notification per recipient per key (e.g. "followup:<id>:<due_at>").
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="unique_notification")
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]
