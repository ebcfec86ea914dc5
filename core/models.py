"""The change journal behind the partner change feed (GET /api/v1/changes).

Services append a row in the same transaction as the change. `seq` is left empty on insert and
assigned later by the feed's sequencer in commit order, so a reader never skips a row whose
transaction committed late (see sync/feed.py).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Change(models.Model):
    class Action(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        DELETED = "deleted"
        REVOKED = "revoked"  # the record stopped being visible to `audience_partner`

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    resource = models.CharField(
        max_length=30
    )  # person, case, entry, adversity, action, referral, enrolment, ...
    object_id = models.UUIDField()
    action = models.CharField(max_length=10, choices=Action.choices)
    # What visibility hangs on: the case the record belongs to, or the person.
    case_id = models.UUIDField(null=True, blank=True)
    person_id = models.UUIDField(null=True, blank=True)
    # Set only when the change is for one partner's eyes (e.g. `revoked`).
    audience_partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["seq"], condition=models.Q(seq__isnull=True), name="change_unsequenced"
            ),
            # A caller that sees few cases reads its own rows only (sync.feed.narrowing).
            models.Index(fields=["case_id", "seq"], name="change_case_seq"),
            models.Index(fields=["person_id", "seq"], name="change_person_seq"),
            models.Index(
                fields=["seq"],
                condition=models.Q(resource="programme"),
                name="change_programme_seq",
            ),
        ]
