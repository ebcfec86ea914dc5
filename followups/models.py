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
    escalated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Set by the conditional UPDATE that claims a due follow-up, so the claiming worker can read
    # back exactly the rows it won (two workers never both notify). Never read for anything else.
    claim = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            # One follow-up per kind, subject and due time: schedules and sweeps are safe to repeat.
            models.UniqueConstraint(
                fields=["kind", "subject_resource", "subject_id", "due_at"], name="unique_followup"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="followup_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_resource}:{self.subject_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def dedupe_key(self) -> str:
        """One notification per recipient per follow-up and due time (see Notification)."""
        return f"followup:{self.pk}:{self.due_at.isoformat()}"


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
    updated_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The email is claimed for a while before it is sent (a lease), so two workers never both send
    # it and a worker that dies mid-send is covered by the next email sweep once the lease runs out.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="unique_notification")
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            # The email sweep reads only what is still to send: small however many were sent.
            models.Index(
                fields=["created_at"],
                condition=models.Q(emailed_at__isnull=True),
                name="notification_email_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.title}"


class OutboxMessage(models.Model):
    """A task to publish to the broker, written in the same transaction as the change that needs it.

    `followups.outbox.enqueue` writes the row and publishes it after commit; when that publish fails
    (the broker is down) the relay task publishes it later. A row may be published more than once
    (the relay after a publish that succeeded but was not marked), so every task is idempotent.
    """

    id = models.BigAutoField(primary_key=True)
    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The relay's backlog query: only unpublished rows, however large the table grows.
            models.Index(
                fields=["id"],
                condition=models.Q(published_at__isnull=True),
                name="outbox_unpublished",
            ),
            models.Index(fields=["published_at"], name="outbox_published_at"),
        ]

    def __str__(self) -> str:
        state = "published" if self.published_at else "unpublished"
        return f"#{self.id} {self.task_name} ({state})"
