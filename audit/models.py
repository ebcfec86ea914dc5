"""The access log: append-only, one row per read or write of personal data (DPA 2018 s.62)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """For records that are only ever added to (the access log, programme configuration changes)."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name} is append-only.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name} is append-only.")

    # bulk_update goes through update(); keep it closed too.
    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name} is append-only.")


class AppendOnlyModel(models.Model):
    """A record that is only ever added to: saving an existing row or deleting one refuses, as
    its queryset does (and, on PostgreSQL, a trigger in each table's migration)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name} is append-only.")


class Channel(models.TextChoices):
    UI = "ui", "Web"
    API = "api", "API"
    SYNC = "sync", "Batch sync"
    SYSTEM = "system", "Background job"


class AccessLog(AppendOnlyModel):
    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=30)  # view, list, search, create, update, share, ...
    allowed = models.BooleanField(default=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    # Denormalised so the case and person access-log views are one indexed lookup.
    case_id = models.UUIDField(null=True, blank=True, db_index=True)
    person_id = models.UUIDField(null=True, blank=True, db_index=True)
    justification = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"]), models.Index(fields=["partner", "at"])]

    def __str__(self) -> str:
        who = self.user_id or self.client_id
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_type} {self.object_id}"


class BreakGlassReview(AppendOnlyModel):
    """An auditor's review of one use of break-glass access: who looked at it, for which partner,
    when, and what they made of it. Kept here, not on the break-glass record (cases), so that
    information governance's own work stays with the log it reviews. One review per use, never
    changed afterwards; it goes with the break-glass record if the case is disposed of."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    break_glass = models.OneToOneField(
        "cases.BreakGlassAccess", on_delete=models.CASCADE, related_name="review"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True, help_text="What the auditor found, if anything to say.")

    class Meta:
        ordering = ["-reviewed_at"]


class AccessLogPruning(AppendOnlyModel):
    """One run of the access log's pruning (audit/retention.py) that deleted rows: when, rows
    older than what went, and how many. The only way access log rows go, so it is itself kept."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=timezone.now)
    before = models.DateTimeField(help_text="Rows logged before this time were deleted.")
    deleted = models.PositiveBigIntegerField()
    retention_months = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at"]
