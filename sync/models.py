"""Partner sync: idempotency keys, external id maps, the change feed's horizon, webhooks."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` per caller: claimed by INSERT before the view runs, then completed
    with the response it produced so that a retry gets the same answer and writes nothing.

    The unique (caller, key) constraint is what makes concurrent duplicates safe: of two requests
    racing with one key, exactly one INSERT succeeds; the other sees the claim and is told 409
    (still in flight) or gets the replay.
    """

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        COMPLETED = "completed", "Completed"

    id = models.BigAutoField(primary_key=True)
    caller = models.CharField(max_length=60)  # "client:<uuid>" or "user:<uuid>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(default=b"", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="unique_idempotency_key")
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expiry")]

    def __str__(self) -> str:
        return f"{self.caller} {self.key} ({self.state})"


class ExternalRef(models.Model):
    """A partner system's own id for a record here: what batch sync upserts by.

    People are keyed by their `local` identifier (cases.PersonIdentifier, issuer = the partner);
    cases, referrals and chronology entries by this map.
    """

    id = models.BigAutoField(primary_key=True)
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=20)  # case, referral, entry
    local_id = models.CharField(max_length=100)
    object_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "resource", "local_id"], name="unique_external_ref"
            )
        ]
        indexes = [models.Index(fields=["resource", "object_id"], name="external_ref_object")]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.resource}:{self.local_id} → {self.object_id}"


class FeedHorizon(models.Model):
    """How far the change journal has been pruned: a cursor at or before `pruned_through` is
    expired (410), because the changes after it are no longer all there. A single row (pk=1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    pruned_through = models.BigIntegerField(default=0)
    pruned_at = models.DateTimeField(null=True, blank=True)


class WebhookSubscription(models.Model):
    """A partner system's subscription to change events, delivered signed (Standard Webhooks).

    Deliveries are generated from the change journal as its owner (client or user) would see it
    now: if the owner stops being able to act (client revoked, user disabled) nothing is sent.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    created_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # The signing secret, "whsec_" + base64. Needed in clear to sign; shown to the partner once.
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    # The journal position up to which deliveries have been generated.
    cursor_seq = models.BigIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["partner", "active"])]

    def __str__(self) -> str:
        return f"{self.partner_id} → {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription. Its id is the `webhook-id`, the same on every retry, so
    the receiver can de-duplicate."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"
        CANCELLED = "cancelled", "Cancelled (subscription disabled or deleted)"

    class ErrorCategory(models.TextChoices):
        """Why the last attempt failed, as a category only: the exception text would tell whoever
        can read it what answers at an address and port (a port-scan oracle)."""

        REFUSED_DESTINATION = "refused_destination", "Refused: not a public address"
        DNS = "dns", "Host name did not resolve"
        CONNECT = "connect", "Could not connect"
        TIMEOUT = "timeout", "Timed out"
        TLS = "tls", "TLS handshake or certificate check failed"
        REDIRECT = "redirect", "Answered with a redirect (3xx)"
        HTTP_4XX = "http_4xx", "Answered 4xx"
        HTTP_5XX = "http_5xx", "Answered 5xx"
        BAD_RESPONSE = "bad_response", "Connection dropped or the answer was not HTTP"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    change_seq = models.BigIntegerField()
    # A journal row can yield two events (a revoked case, then its subject if that went too).
    part = models.PositiveSmallIntegerField(default=0)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error_category = models.CharField(max_length=20, choices=ErrorCategory.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "change_seq", "part"], name="unique_delivery_per_change"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"


class Tombstone(models.Model):
    """Who could see a record when it was disposed of: the audience of its `deleted` journal row
    (cases/retention.py). The record is gone, so visibility cannot be asked of it any more; this
    remembers it, and nothing else about the record.

    One row per partner that saw the record (`user` empty: its staff and systems), or per user who
    saw it by name (a restricted case, break-glass access, a programme's coordinator), so a partner
    system never hears of a restricted case it could not see. Pruned with its journal row."""

    id = models.BigAutoField(primary_key=True)
    # No database constraint and no cascade: the journal is pruned with one DELETE
    # (sync.feed.prune), which removes its tombstones first.
    change = models.ForeignKey(
        "core.Change", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["change", "partner"], name="tombstone_audience")]

    def __str__(self) -> str:
        return f"change {self.change_id} → {self.partner_id}" + (
            f" ({self.user_id})" if self.user_id else ""
        )
