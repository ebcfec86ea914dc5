"""Programmes (configured as data, not code) and the intake workflow of each enrolment in one."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from audit.models import AppendOnlyModel
from cases.models import Versioned


class Programme(Versioned):
    """A programme a VRU runs or adapts from elsewhere. Everything programme-specific is data:
    eligibility rules, capacity, duration, the follow-up schedule, and the intake fields (a JSON
    Schema the referral `details` are validated against on every write). See programmes/config.py
    for the shape of each JSON field."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Unset on a fresh install (the data migration runs before any partner exists).
    owner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="programmes",
        help_text="The partner that runs the programme.",
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="coordinated_programmes",
        help_text="Who runs intake: sees the intake queue, checks eligibility, offers places.",
    )
    capacity = models.PositiveIntegerField(
        default=0, help_text="Places: offered, enrolled and active enrolments each hold one."
    )
    duration_days = models.PositiveIntegerField(null=True, blank=True)
    eligibility = models.JSONField(default=dict, blank=True)
    followup_schedule = models.JSONField(default=list, blank=True)
    intake_schema = models.JSONField(default=dict, blank=True)
    milestones = models.JSONField(default=list, blank=True)
    outcomes = models.JSONField(default=list, blank=True)
    session_kinds = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True, help_text="Taking referrals.")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["updated_at"])]

    def __str__(self) -> str:
        return self.name


class ProgrammeConfigChange(AppendOnlyModel):
    """One change to a programme: who made it, when, which settings, and each value before and
    after. Configuration (eligibility rules, intake schema, capacity, schedule, coordinators) is not
    personal data, so the values are kept: information governance can see, for instance, who edited
    the eligibility rules and when. Append-only: the model refuses updates and deletes, and on
    PostgreSQL so does a trigger."""

    id = models.BigAutoField(primary_key=True)
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="config_changes"
    )
    version = models.PositiveIntegerField(help_text="The programme's version after the change.")
    at = models.DateTimeField(default=timezone.now)
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
    changed = models.JSONField(default=list, help_text="Names of the settings changed.")
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["programme", "at", "id"]
        indexes = [models.Index(fields=["programme", "at"])]

    def __str__(self) -> str:
        return f"{self.programme_id} v{self.version}: {', '.join(self.changed)}"


class EnrolmentStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    ELIGIBILITY_CHECKED = "eligibility_checked", "Eligibility checked"
    WAITLISTED = "waitlisted", "On the waiting list"
    OFFERED = "offered", "Offered a place"
    ENROLLED = "enrolled", "Enrolled"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DECLINED = "declined", "Declined"
    INELIGIBLE = "ineligible", "Ineligible"


# An offer reserves a place until it is accepted, declined or returned to the waiting list.
PLACE_HOLDING = (EnrolmentStatus.OFFERED, EnrolmentStatus.ENROLLED, EnrolmentStatus.ACTIVE)
CLOSED = (
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.WITHDRAWN,
    EnrolmentStatus.DECLINED,
    EnrolmentStatus.INELIGIBLE,
)
OPEN = tuple(s for s in EnrolmentStatus if s not in CLOSED)


class Enrolment(Versioned):
    """One person's way through one programme's intake, from referral to exit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrolments")
    person = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="enrolments")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="enrolments")
    status = models.CharField(
        max_length=20, choices=EnrolmentStatus.choices, default=EnrolmentStatus.REFERRED
    )
    priority = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1 (most urgent) to 5. The waiting list is ordered by priority, then referral time.",
    )
    details = models.JSONField(default=dict, blank=True)
    # The last evaluation, rule by rule: {"eligible", "evaluated_at", "rules": [...]}.
    eligibility = models.JSONField(default=dict, blank=True)
    referred_at = models.DateTimeField(default=timezone.now)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referred_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referred_by_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="+"
    )
    key_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="key_enrolments",
        help_text="Coach or mentor: follow-ups are assigned to them.",
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=60, blank=True, help_text="Code from the programme.")
    outcome_notes = models.TextField(blank=True)
    # The next session booked with the person (by the key worker or a coordinator); cleared when
    # a session on or after that day is recorded.
    next_session_at = models.DateTimeField(null=True, blank=True)
    next_session_kind = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "person"],
                condition=Q(status__in=OPEN),
                name="one_open_enrolment_per_programme",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="enrolment_priority_range"
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["programme", "status", "priority", "referred_at"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}:{self.person_id} ({self.status})"


class EnrolmentTransition(models.Model):
    """Every move along the intake workflow: from, to, why, and who. Never edited. A change of
    priority (a move on the waiting list) is kept here too, with the same from and to status and
    `detail.priority` = [old, new]."""

    id = models.BigAutoField(primary_key=True)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=EnrolmentStatus.choices)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["enrolment", "at", "id"]


class Attendance(models.TextChoices):
    ATTENDED = "attended", "Attended"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


class EnrolmentSession(models.Model):
    """A coaching, mentoring, group or family session, and whether the person came."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="sessions")
    kind = models.CharField(max_length=60)
    occurred_at = models.DateTimeField()
    attendance = models.CharField(max_length=20, choices=Attendance.choices)
    # Why a missed session was missed (required then): what gets in the way is part of the work.
    missed_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["enrolment", "-occurred_at"]),
            models.Index(fields=["updated_at"]),
        ]


class Milestone(models.Model):
    """A step the programme counts (entered employment, completed placement, release home)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="milestones")
    code = models.CharField(max_length=60)
    achieved_on = models.DateField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["achieved_on", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "code"], name="one_milestone_per_code")
        ]
        indexes = [models.Index(fields=["updated_at"])]
