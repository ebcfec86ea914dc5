"""The work on a case: chronology, adversities and protective factors, actions, referrals and their
joint screening. Every record belongs to a case, so case visibility (cases.access) comes first;
casework.access narrows it further per record."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import Versioned
from casework.vocabularies import EntryKind, ScreeningOutcome

__all__ = [
    "Action",
    "ActionHistory",
    "ActionStatus",
    "AdversityRecord",
    "AdversitySource",
    "ChronologyEntry",
    "EntryAmendment",
    "EntryKind",
    "EntryVisibility",
    "Referral",
    "ReferralUpload",
    "Screening",
    "ScreeningConfirmation",
    "ScreeningDecision",
    "ScreeningOutcome",
    "ScreeningStatus",
    "Urgency",
]


class EntryVisibility(models.TextChoices):
    CASE = "case", "All partners on the case"
    PARTNER = "partner", "The author's partner only"
    NAMED = "named", "Named people only"


class ChronologyEntry(Versioned):
    """One thing that happened, told once so that nobody asks the person again.

    Never edited in place without a trace: a correction writes an EntryAmendment holding what the
    entry said before, who changed it and why.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    occurred_at = models.DateTimeField()
    body = models.TextField()
    visibility = models.CharField(
        max_length=10, choices=EntryVisibility.choices, default=EntryVisibility.CASE
    )
    named_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="named_in_entries"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    author_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name_plural = "chronology entries"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-occurred_at"]),
            models.Index(fields=["partner", "visibility"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"


class EntryAmendment(models.Model):
    """What an entry said before a correction: the original is always recoverable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(ChronologyEntry, on_delete=models.CASCADE, related_name="amendments")
    version = models.PositiveIntegerField(help_text="The entry's version this amendment replaced.")
    previous = models.JSONField(help_text="The changed fields as they were before.")
    changes = models.JSONField(help_text="The changed fields as they became.")
    reason = models.CharField(max_length=500)
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amended_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    amended_at = models.DateTimeField(default=timezone.now)
    # Who could see the version this amendment replaced: an amendment shows that version (and the
    # one it became), so it is shown only to those who could see both (casework.access
    # amendments_visible_to). Widening an entry never widens its history.
    previous_visibility = models.CharField(max_length=10, choices=EntryVisibility.choices)
    previous_partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The entry's partner when the replaced version was current.",
    )
    previous_named_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["entry", "version"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "version"], name="unique_amendment_version")
        ]


class AdversitySource(models.TextChoices):
    DISCLOSED = "disclosed", "Disclosed by the person"
    OBSERVED = "observed", "Observed by a practitioner"


class AdversityRecord(Versioned):
    """An ACE, wider adversity or protective factor (code from the `adversities` vocabulary).

    A sensitive record is seen only by the recording partner and the partners it is explicitly
    shared with (`shared_with`), and only while they can see the case.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="adversities")
    code = models.CharField(max_length=40)
    source = models.CharField(max_length=10, choices=AdversitySource.choices)
    sensitive = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    shared_with = models.ManyToManyField(
        "partners.Partner", blank=True, related_name="shared_adversities"
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["case", "code"]),
            models.Index(fields=["code"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return self.code


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Action(Versioned):
    """Something someone has agreed to do on a case, by a date. Owned by a user or a partner."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_actions",
    )
    owner_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="owned_actions"
    )
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=ActionStatus.choices, default="open")
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The partner that created the action.",
    )

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["owner_user", "status"]),
            models.Index(fields=["case", "status"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def overdue(self) -> bool:
        return self.status == ActionStatus.OPEN and self.due_date < timezone.localdate()


class ActionHistory(models.Model):
    """Every change to an action: what changed, from what, by whom."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="history")
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    changes = models.JSONField()

    class Meta:
        ordering = ["action", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "version"], name="unique_action_history_version"
            )
        ]


class Urgency(models.TextChoices):
    STANDARD = "standard", "Standard"
    URGENT = "urgent", "Urgent"


class Referral(Versioned):
    """A notification or referral (PPN-style) from a partner, screened jointly on its case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="referrals_sent"
    )
    source_reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="The sender's own reference (or a CSV row key): a repeat is not a new referral.",
    )
    channel = models.CharField(max_length=10, default="api")  # ui, api, csv
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="referrals")
    subject_details = models.JSONField(
        default=dict, blank=True, help_text="The subject as the referrer described them."
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="referrals")
    concerns = models.JSONField(default=list)
    description = models.TextField()
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.STANDARD)
    received_at = models.DateTimeField(default=timezone.now)
    screening_due_at = models.DateTimeField()
    screened_at = models.DateTimeField(null=True, blank=True)
    # Brothers and sisters referred together share this id: each referral is on the child's own
    # case, and whoever screens one sees the others they may see.
    referred_with = models.UUIDField(null=True, blank=True, db_index=True)
    # Police Protection Notice (PPN) details: optional, so other partners' referrals leave them
    # blank. Personal data, seen exactly as the referral is (casework.access.referrals_visible_to).
    incident_date = models.DateField(null=True, blank=True)
    incident_time = models.TimeField(null=True, blank=True)
    incident_place = models.CharField(max_length=200, blank=True)
    occurrence_number = models.CharField(
        max_length=50, blank=True, help_text="The police occurrence or incident log number."
    )
    present = models.TextField(blank=True, help_text="Who was present at the incident.")
    # What the officer saw, kept apart from what the person said (`voice`).
    officer_observations = models.TextField(blank=True)
    voice = models.TextField(blank=True, help_text="The person's own words, asked at referral.")
    household_children = models.ManyToManyField(
        "cases.Person",
        blank=True,
        related_name="+",
        help_text="The children in the household the referral named (found or recorded people).",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_partner", "source_reference"],
                condition=~Q(source_reference=""),
                name="unique_referral_source_reference",
            )
        ]
        indexes = [
            models.Index(fields=["source_partner", "received_at"]),
            models.Index(fields=["screened_at", "screening_due_at"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} from {self.source_partner_id}"

    @property
    def overdue(self) -> bool:
        return self.screened_at is None and self.screening_due_at < timezone.now()


class ScreeningStatus(models.TextChoices):
    PROPOSED = "proposed", "Single-agency decision, awaiting confirmation by another partner"
    CONFIRMED = "confirmed", "Screened jointly"
    CHALLENGED = "challenged", "Challenged by another partner"


class Screening(models.Model):
    """The screening decision on a referral, with its reasons and who took part.

    A decision is one partner's *proposal* until a partner on the case other than the proposer's
    confirms it (`confirmed`: screened jointly). A challenge reopens it (`challenged`): the next
    proposal replaces it on this row (`round` counts them), and what was challenged is kept on the
    challenge itself (ScreeningConfirmation.proposal).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="screening")
    outcome = models.CharField(max_length=30, choices=ScreeningOutcome.choices)
    reasons = models.TextField()
    participants = models.ManyToManyField("partners.Partner", related_name="screenings")
    participant_names = models.CharField(
        max_length=500, blank=True, help_text="Who took part, in plain words (roles or names)."
    )
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screened_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The proposer's partner.",
    )
    screened_at = models.DateTimeField(default=timezone.now, help_text="When it was proposed.")
    status = models.CharField(
        max_length=10, choices=ScreeningStatus.choices, default=ScreeningStatus.PROPOSED
    )
    round = models.PositiveSmallIntegerField(
        default=1, help_text="1 for the first proposal; one more for each after a challenge."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # An "early help" decision names the partner that does the early help; when the decision takes
    # effect that partner is given the task (an action on the case), once.
    early_help_partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    early_help_action = models.ForeignKey(
        "casework.Action", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-screened_at"]
        indexes = [models.Index(fields=["outcome", "screened_at"])]

    @property
    def joint(self) -> bool:
        return self.status == ScreeningStatus.CONFIRMED


class ScreeningDecision(models.TextChoices):
    CONFIRM = "confirm", "Confirm the decision"
    CHALLENGE = "challenge", "Challenge the decision"


class ScreeningConfirmation(models.Model):
    """Another partner's answer to a proposed screening decision, with their reason: one per
    partner per proposal. `proposal` is what they answered (outcome, reasons, who proposed it and
    when), so a challenged proposal stays on record after a new one replaces it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="confirmations")
    round = models.PositiveSmallIntegerField()
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=ScreeningDecision.choices)
    reason = models.TextField()
    proposal = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "round", "partner"], name="one_screening_answer_per_partner"
            )
        ]


class ReferralUpload(models.Model):
    """A CSV of referrals uploaded on the web by a partner without an API integration, imported in
    the background (casework.uploads, a Celery task) by the same importer as `manage.py
    import_referrals`. The job holds no personal data: counts, and per-row errors as the importer
    reports them (row number, column, message). The file is kept under REFERRAL_UPLOAD_DIR only
    until the job finishes."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=255, help_text="As the uploader named it.")
    uploaded_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Rows imported before.")
    failed = models.PositiveIntegerField(default=0, help_text="Rows with errors.")
    # [{"row": 4, "field": "date_of_birth", "message": "..."}]: the header is row 1.
    errors = models.JSONField(default=list, blank=True)
    # Why the job as a whole failed (never a row's content).
    failure = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set by the conditional UPDATE that claims the work: a worker finishes only its own run.
    claim = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["partner", "uploaded_at"])]

    def __str__(self) -> str:
        return f"referral upload {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
