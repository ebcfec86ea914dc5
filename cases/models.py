"""Persons (subjects), cases, data sharing agreements, shares and the object permissions behind them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from cases.identifiers import Scheme


class Versioned(models.Model):
    """A version number for optimistic concurrency: the ETag, checked against If-Match on writes."""

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class Person(Versioned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    date_of_birth_approximate = models.BooleanField(default=False)
    gender = models.CharField(max_length=50, blank=True)
    pronouns = models.CharField(max_length=50, blank=True)
    language = models.CharField(max_length=50, blank=True)
    interpreter_needed = models.BooleanField(default=False)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    uprn = models.CharField("UPRN", max_length=12, blank=True)
    created_by_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="+"
    )
    # UK GDPR Art. 18: while set, nothing new is done with the person's data (no share, referral
    # or programme referral). Who set it, when and why is the live ProcessingRestriction.
    processing_restricted = models.BooleanField(default=False)
    # How to reach the person safely, and who must not learn it. Shown only to those working a
    # case about them, or running their enrolment (cases.access.can_see_contact_safety).
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    safe_contact_how = models.CharField(
        "how it is safe to contact them", max_length=300, blank=True,
        help_text="For example: text only, never call; use their own phone, not the family's.",
    )  # fmt: skip
    safe_contact_when = models.CharField(
        "when it is safe to contact them", max_length=200, blank=True,
        help_text="For example: weekdays after 4pm, not at weekends when their father is home.",
    )  # fmt: skip
    do_not_tell = models.CharField(
        "who must not be told", max_length=300, blank=True,
        help_text="Who must not be told where they are or how to reach them, and why in a word.",
    )  # fmt: skip
    safety_summary = models.CharField(
        max_length=500, blank=True,
        help_text="A short summary of what keeps them (and whoever contacts them) safe.",
    )  # fmt: skip
    contact_safety_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["family_name", "given_name"]),
            models.Index(fields=["date_of_birth"]),
            models.Index(fields=["created_by_partner", "created_at"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name people use: their preferred name first."""
        given = self.preferred_name or self.given_name
        return f"{given} {self.family_name}".strip()

    @property
    def has_contact_safety(self) -> bool:
        return any(getattr(self, name) for name in CONTACT_SAFETY_FIELDS)


# The person's contact details and safe-contact preferences: read and changed under their own
# right, never with the rest of the person's details.
CONTACT_SAFETY_FIELDS = (
    "phone", "email", "safe_contact_how", "safe_contact_when", "do_not_tell", "safety_summary",
)  # fmt: skip


class PersonIdentifier(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(max_length=10, choices=Scheme.choices)
    value = models.CharField(max_length=64)
    # Only `local` identifiers have an issuer: each partner's own ids are unique to that partner.
    issuer = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "value"],
                condition=Q(issuer__isnull=True),
                name="unique_national_identifier",
            ),
            models.UniqueConstraint(
                fields=["scheme", "issuer", "value"],
                condition=Q(issuer__isnull=False),
                name="unique_local_identifier",
            ),
            models.CheckConstraint(
                condition=Q(scheme="local", issuer__isnull=False)
                | (~Q(scheme="local") & Q(issuer__isnull=True)),
                name="local_identifiers_have_an_issuer",
            ),
        ]
        indexes = [models.Index(fields=["scheme", "value"])]

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


class RelationshipKind(models.TextChoices):
    PARENT = "parent", "Parent"
    CARER = "carer", "Carer"
    SIBLING = "sibling", "Sibling"
    PARTNER = "partner", "Partner"
    OTHER = "other", "Other"


class Relationship(models.Model):
    """`person` is the `kind` of `related_to` (e.g. person is the parent of related_to)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships")
    related_to = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="relationships_to"
    )
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "related_to", "kind"], name="unique_relationship"
            ),
            models.CheckConstraint(
                condition=~Q(person=models.F("related_to")), name="relationship_not_to_self"
            ),
        ]


class LawfulBasis(models.TextChoices):
    CONSENT = "consent", "Consent (UK GDPR Art. 6(1)(a))"
    PUBLIC_TASK = (
        "public_task",
        "Public task (UK GDPR Art. 6(1)(e)) with a DPA 2018 Sch. 1 condition",
    )
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation (UK GDPR Art. 6(1)(c))"
    VITAL_INTERESTS = "vital_interests", "Vital interests (UK GDPR Art. 6(1)(d))"
    CRIME_AND_DISORDER = (
        "crime_and_disorder_s115",
        "Crime and Disorder Act 1998 s115 with public task",
    )
    LAW_ENFORCEMENT = "law_enforcement", "Law enforcement processing (DPA 2018 Part 3)"


class DataCategory(models.TextChoices):
    PERSONAL = "personal", "Personal data"
    SPECIAL_CATEGORY = "special_category", "Special category data (UK GDPR Art. 9)"
    CRIMINAL_OFFENCE = "criminal_offence", "Criminal offence data (UK GDPR Art. 10)"


class AgreementStatus(models.TextChoices):
    """Where an agreement stands. `under_review` is still in force (its parties are reviewing it);
    only `ended`, an end date passed or a review overdue beyond the grace period stop new shares
    (cases/agreements.py)."""

    ACTIVE = "active", "Active"
    UNDER_REVIEW = "under_review", "Under review"
    ENDED = "ended", "Ended"


class DataSharingAgreement(models.Model):
    """What the ICO's data sharing code expects: every share relies on one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    parties = models.ManyToManyField("partners.Partner", related_name="agreements")
    purposes = models.TextField(
        default="Safeguarding children and young people and reducing serious violence."
    )
    data_categories = models.JSONField(default=list)
    lawful_basis = models.CharField(
        max_length=30, choices=LawfulBasis.choices, default=LawfulBasis.PUBLIC_TASK
    )
    condition = models.CharField(
        max_length=300,
        blank=True,
        help_text="The Art. 9 / DPA 2018 Schedule 1 condition, or the Part 3 basis.",
    )
    retention_months = models.PositiveIntegerField(default=72)
    starts_on = models.DateField(default=timezone.localdate)
    review_date = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.ACTIVE
    )
    document_url = models.URLField(
        "document link",
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where the signed agreement is kept (an http or https link).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # An ended agreement's last day in force is in the past (`ends_on` is inclusive): the
        # follow-ups about its live shares are keyed on the day after.
        yesterday = timezone.localdate() - timedelta(days=1)
        if self.status == AgreementStatus.ENDED and (
            self.ends_on is None or self.ends_on > yesterday
        ):
            self.ends_on = yesterday
        super().save(*args, **kwargs)


class CaseStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    SCREENING = "screening", "Screening"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ClosureReason(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action needed"
    SUPPORT_COMPLETED = "support_completed", "Support completed"
    TRANSFERRED = "transferred", "Transferred to another service"
    MOVED_AWAY = "moved_away", "Moved out of the area"
    DECLINED = "declined", "Support declined by the person"
    OTHER = "other", "Other"


class Case(Versioned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    subject = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    # The people on the case besides its subject: the household, and family who live elsewhere
    # (an imprisoned parent). Whoever sees the case sees them (cases/access.py).
    household = models.ManyToManyField(
        Person, blank=True, related_name="household_cases", through="CaseMember"
    )
    lead_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="led_cases"
    )
    lead_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_cases",
    )
    status = models.CharField(
        max_length=20, choices=CaseStatus.choices, default=CaseStatus.REFERRED
    )
    closure_reason = models.CharField(max_length=30, choices=ClosureReason.choices, blank=True)
    risk_level = models.CharField(
        max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM
    )
    summary = models.TextField(blank=True)
    # The person's voice, in their own words.
    goals = models.TextField(blank=True)
    what_matters = models.TextField(blank=True)
    # A restricted case is visible only to the users named on it (user object permissions).
    restricted = models.BooleanField(default=False)
    review_date = models.DateField(null=True, blank=True)
    # Information governance (cases/retention.py): set when the case closes, cleared when it
    # reopens. The case and everything in it are kept until `retention_until`, then reviewed.
    closed_at = models.DateTimeField(null=True, blank=True)
    retention_until = models.DateField(null=True, blank=True)

    class Meta:
        permissions = [("share_case", "Can share the case with another partner")]
        indexes = [
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["lead_partner", "status"]),
            models.Index(fields=["updated_at"]),
            # Only closed cases have a retention date: the due list and the sweep read these
            # small indexes, so their cost follows the cases due, not the cases held.
            models.Index(
                fields=["lead_partner", "retention_until", "id"],
                condition=Q(retention_until__isnull=False),
                name="case_retention_due",
            ),
            models.Index(
                fields=["retention_until"],
                condition=Q(retention_until__isnull=False),
                name="case_retention_sweep",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Whereabouts(models.TextChoices):
    HOUSEHOLD = "household", "Lives in the household"
    ELSEWHERE = "elsewhere", "Lives elsewhere"
    PRISON = "prison", "In prison"


class CaseMember(models.Model):
    """A person on a case besides its subject. Adversity is household-wide, and family outside the
    household matter too: Invisible Walls works with the child of a parent in prison."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE)
    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    whereabouts = models.CharField(
        max_length=20, choices=Whereabouts.choices, default=Whereabouts.HOUSEHOLD
    )
    # For someone in prison: the prison, and when they are expected home.
    place = models.CharField(max_length=120, blank=True)
    expected_release_date = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "cases_case_household"  # the table the plain many-to-many made
        unique_together = [("case", "person")]

    @property
    def in_household(self) -> bool:
        return self.whereabouts == Whereabouts.HOUSEHOLD


class LegalHold(models.Model):
    """A legal hold stops a case being disposed of (litigation, an inquiry, a regulator's or the
    coroner's request) until it is lifted. Placed and lifted by the lead partner's managers or the
    partnership's auditors; at most one is live per case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="legal_holds")
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_by_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(lifted_at__isnull=True), name="one_live_legal_hold"
            )
        ]


class ProcessingRestriction(models.Model):
    """A restriction of processing (UK GDPR Art. 18) on a person: while it is live, their data is
    kept but not shared, referred or put forward to a programme. Placed and lifted, each with a
    reason, by managers of a partner that can see the person (cases.access.can_restrict_processing);
    at most one is live per person, and Person.processing_restricted mirrors it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="processing_restrictions"
    )
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_by_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_by_partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(lifted_at__isnull=True),
                name="one_live_processing_restriction",
            )
        ]


class CaseReferenceCounter(models.Model):
    """The last number issued per year, so references read VRU-2026-000123 and never repeat."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class CaseHistory(models.Model):
    """Every change to a case record: what changed, from what, by whom. Never edited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="history")
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    changes = models.JSONField()  # {"field": [old, new]}
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["case", "version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="unique_case_history_version")
        ]


class ConsentDecision(models.TextChoices):
    GIVEN = "given", "Consent given"
    REFUSED = "refused", "Consent refused"
    WITHDRAWN = "withdrawn", "Consent withdrawn"
    NOT_SOUGHT = "not_sought", "Not sought (another lawful basis applies)"


class ConsentRecord(models.Model):
    """The person's consent decisions and the lawful basis each piece of work relies on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=ConsentDecision.choices)
    lawful_basis = models.CharField(max_length=30, choices=LawfulBasis.choices)
    scope = models.CharField(max_length=300, help_text="What the decision covers, in plain words.")
    given_by = models.CharField(
        max_length=100, blank=True, help_text="The person, or who gave it for them."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)


class Share(models.Model):
    """A lead partner's explicit decision to let another partner work the case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="shares")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="shares")
    agreement = models.ForeignKey(
        DataSharingAgreement, on_delete=models.PROTECT, related_name="shares"
    )
    lawful_basis = models.CharField(max_length=30, choices=LawfulBasis.choices)
    reason = models.TextField()
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_by_client = models.ForeignKey(
        "partners.ApiClient", null=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
    # When the partner was told (change feed `revoked`) that the share lapsed by time; set once by
    # the sweep's conditional UPDATE (cases.services.share_expiry_announce).
    expiry_announced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["shared_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "partner"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_share_per_partner",
            )
        ]

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class BreakGlassAccess(models.Model):
    """Emergency access to a case not shared with the user's partner: a reason, a time limit, a notice.

    The first use in 24 hours opens at once; a second needs one of the user's own managers to
    approve it (`pending` until then, with no access)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Waiting for a manager's approval"
        REFUSED = "refused", "Refused by a manager"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    requested_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["user", "requested_at"])]


# Guardian's direct foreign-key permission models: listing visible cases is one indexed join.
# `expires_at` mirrors a share's (or break-glass) expiry so it takes effect the moment it passes.
# `case_created_at` is the case's (immutable) creation time copied onto the row: the ordered access
# index below lets a partner's case list be one index range scan in page order, whatever share of
# the cases the partner sees (docs/performance.md).
class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
    expires_at = models.DateTimeField(null=True, blank=True)
    case_created_at = models.DateTimeField()

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        indexes = [
            models.Index(
                "group",
                "permission",
                models.F("case_created_at").desc(),
                models.F("content_object").desc(),
                name="case_perm_ordered_access",
            )
        ]

    def save(self, *args, **kwargs):
        if self.case_created_at is None:
            self.case_created_at = self.content_object.created_at
        super().save(*args, **kwargs)


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False
        indexes = [models.Index(fields=["user", "permission", "content_object"])]
