"""Partner organisations, staff accounts and their one membership, API clients and tokens."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, PermissionsMixin
from django.db import models
from django.utils import timezone

from audit.models import AppendOnlyModel


class Sector(models.TextChoices):
    POLICE = "police", "Police"
    EDUCATION = "education", "Education"
    HOUSING = "housing", "Housing"
    HEALTH = "health", "Health"
    PROBATION = "probation", "Probation"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    SOCIAL_CARE = "social_care", "Social care"
    VRU = "vru", "Violence Reduction Unit"
    VOLUNTARY = "voluntary", "Voluntary sector"


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    MANAGER = "manager", "Manager"
    COORDINATOR = "coordinator", "VRU coordinator"
    AUDITOR = "auditor", "Information governance / auditor"
    ADMIN = "admin", "System administrator"


# For display only (the access log names a role in words); rights are decided in access modules.
ROLE_LABELS = dict(Role.choices)


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    SYNC = "sync", "Batch sync"


class Partner(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    active = models.BooleanField(default=True)
    # Guardian grants case access to this group: every member of the partner shares it.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="partner")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of staff. Signs in with email; acts for exactly one partner through its membership."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Membership(models.Model):
    """One per user: which partner the user acts for, and in what role."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["partner", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.partner}"


class TraumaTrainingLevel(models.TextChoices):
    # Scotland's National Trauma Training Framework.
    NONE = "", "Not recorded"
    AWARE = "aware", "Trauma-aware"
    INFORMED = "informed", "Trauma-informed"
    SKILLED = "skilled", "Trauma-skilled"
    ENHANCED = "enhanced", "Trauma-enhanced"
    SPECIALIST = "specialist", "Trauma-specialist"


class PractitionerProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    job_title = models.CharField(max_length=120, blank=True)
    team = models.CharField(max_length=120, blank=True)
    trauma_training_level = models.CharField(
        max_length=20, choices=TraumaTrainingLevel.choices, blank=True, default=""
    )
    # High-exposure work (child abuse, child internet protection) gets monthly supervision check-ins.
    high_exposure = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class TrainingRecord(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="training_records")
    course = models.CharField(max_length=200, help_text='For example "ACE TIME".')
    level = models.CharField(
        max_length=20, choices=TraumaTrainingLevel.choices, blank=True, default=""
    )
    completed_on = models.DateField()
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-completed_on"]

    def __str__(self) -> str:
        return f"{self.course} ({self.completed_on})"


class ApiClient(models.Model):
    """A partner system (police RMS, school MIS, ...) that calls the API as its partner."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="api_clients")
    name = models.CharField(max_length=120)
    scopes = models.JSONField(default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(
        max_length=16, help_text="Shown so people can tell tokens apart."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "name"], name="unique_client_name_per_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner.slug})"

    @property
    def usable(self) -> bool:
        return self.active and self.revoked_at is None and self.partner.active


class PersonalToken(models.Model):
    """A staff member's bearer token: hashed, revocable and expiring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=120, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.token_prefix}… for {self.user}"

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now() and self.user.is_active


class MembershipChange(AppendOnlyModel):
    """Every membership created or changed (partner, role): who did it, to whom, from what, to what.

    Append-only like the access log: the model and its queryset refuse updates and deletes, and on
    PostgreSQL a trigger refuses them too (migration 0002).
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Empty for changes made at the command line (manage.py add_user, seed_demo).
    changed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="membership_changes")
    old_partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    old_role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    new_partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    new_role = models.CharField(max_length=20, choices=Role.choices)
    channel = models.CharField(max_length=20)  # admin, command, ...

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} membership of {self.user_id} changed"
