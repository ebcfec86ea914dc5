"""Supervision and wellbeing check-ins: a member of staff and their supervisor talk about how they
are, what traumatic material they have been exposed to, their workload and the support they need.

Private to the member of staff and the managers of the partner it was held at (wellbeing/access.py);
reports see only counts. Deliberately not in the Django admin: nobody browses these.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Wellbeing(models.IntegerChoices):
    STRUGGLING = 1, "Struggling"
    FINDING_IT_HARD = 2, "Finding things hard"
    GETTING_BY = 3, "Getting by"
    WELL = 4, "Well"
    VERY_WELL = 5, "Very well"


class Exposure(models.TextChoices):
    NONE = "none", "None"
    SOME = "some", "Some"
    A_LOT = "a_lot", "A lot"


class Workload(models.TextChoices):
    MANAGEABLE = "manageable", "Manageable"
    STRETCHED = "stretched", "Stretched"
    TOO_MUCH = "too_much", "Too much"


class Support(models.TextChoices):
    PEER_SUPPORT = "peer_support", "Peer support"
    OCCUPATIONAL_HEALTH = "occupational_health", "Occupational health"
    COUNSELLING = "counselling", "Counselling"
    PHASED_RETURN = "phased_return", "Phased return"
    NONE_NEEDED = "none_needed", "None needed"


SUPPORT_LABELS = dict(Support.choices)


class CheckIn(models.Model):
    """One supervision check-in. Recorded by the member of staff or a manager of their partner,
    then signed off by a manager who is not its subject; only then is it done (the follow-up it
    answers is completed and the next one scheduled for `next_check_in_on`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supervision_check_ins"
    )
    # Where it was held: that partner's managers supervise it. A member of staff who moves to
    # another partner keeps their own check-ins; their new managers do not see the old ones.
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField()
    wellbeing = models.PositiveSmallIntegerField(choices=Wellbeing.choices)
    wellbeing_notes = models.TextField(blank=True)
    exposure = models.CharField(max_length=10, choices=Exposure.choices)
    exposure_kind = models.TextField(blank=True)
    workload = models.CharField(max_length=12, choices=Workload.choices)
    support_offered = models.JSONField(default=list)  # Support values
    agreed_actions = models.TextField(blank=True)
    next_check_in_on = models.DateField()
    # RESTRICT: a supervisor's account is not deleted while it is named on someone's check-in
    # (accounts are disabled, not deleted, in any case: the access log names them).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.RESTRICT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-held_on", "-recorded_at"]
        indexes = [
            models.Index(fields=["subject", "held_on"]),
            models.Index(fields=["partner", "held_on"]),
        ]
        constraints = [
            # The service refuses it with a clear message; the database refuses it too.
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True) | ~Q(signed_off_by=F("subject")),
                name="check_in_not_signed_off_by_subject",
            ),
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True, signed_off_at__isnull=True)
                | Q(signed_off_by__isnull=False, signed_off_at__isnull=False),
                name="check_in_sign_off_complete",
            ),
        ]

    def __str__(self) -> str:
        # Ids only: no name, nothing about how the person is.
        return f"check-in {self.pk}"

    @property
    def signed_off(self) -> bool:
        return self.signed_off_at is not None

    @property
    def support_labels(self) -> list[str]:
        return [str(SUPPORT_LABELS.get(s, s)) for s in self.support_offered]
