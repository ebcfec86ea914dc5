from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from programmes.eligibility import age_on, seen_by
from programmes.models import (
    Attendance,
    Enrolment,
    EnrolmentSession,
    EnrolmentTransition,
    Milestone,
    Programme,
)

_JSON_HELP = {
    "eligibility": (
        'Rules: {"age": {"min", "max"}} (whole years at referral), {"cohort": {"field", '
        '"allowed"}} (a value of the intake details), {"adversities": {"codes", "match": '
        '"all"|"any"}} (recorded on the case).'
    ),
    "intake_schema": "JSON Schema (draft 2020-12) that referral `details` are validated against.",
    "followup_schedule": (
        'Follow-ups created on enrolment: [{"kind", "title", "anchor": "enrolled" or '
        '"details.<date field>", "offset": {"months", "weeks", "days"}, "repeat", "every"}].'
    ),
    "milestones": 'Milestone codes: [{"code", "label"}].',
    "outcomes": 'Exit outcome codes: [{"code", "label"}].',
    "session_kinds": 'Session kinds: [{"code", "label"}].',
}


class ProgrammeSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    coordinators = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    places_taken = serializers.IntegerField(
        read_only=True, help_text="Offered, enrolled and active enrolments."
    )
    places_free = serializers.SerializerMethodField()
    waiting = serializers.IntegerField(read_only=True, help_text="People on the waiting list.")
    eligibility = serializers.JSONField(help_text=_JSON_HELP["eligibility"])
    intake_schema = serializers.JSONField(help_text=_JSON_HELP["intake_schema"])
    followup_schedule = serializers.JSONField(help_text=_JSON_HELP["followup_schedule"])
    milestones = serializers.JSONField(help_text=_JSON_HELP["milestones"])
    outcomes = serializers.JSONField(help_text=_JSON_HELP["outcomes"])
    session_kinds = serializers.JSONField(help_text=_JSON_HELP["session_kinds"])

    class Meta:
        model = Programme
        fields = [
            "id", "slug", "name", "description", "owner", "coordinators", "capacity", "places_taken",
            "places_free", "waiting", "duration_days", "eligibility", "intake_schema",
            "followup_schedule", "milestones", "outcomes", "session_kinds", "active", "version",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_places_free(self, programme) -> int:
        return max(programme.capacity - programme.places_taken, 0)


class ProgrammeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    capacity = serializers.IntegerField(required=False, min_value=0)
    duration_days = serializers.IntegerField(required=False, min_value=1, allow_null=True)
    active = serializers.BooleanField(required=False)
    eligibility = serializers.JSONField(required=False, help_text=_JSON_HELP["eligibility"])
    intake_schema = serializers.JSONField(required=False, help_text=_JSON_HELP["intake_schema"])
    followup_schedule = serializers.JSONField(
        required=False, help_text=_JSON_HELP["followup_schedule"]
    )
    milestones = serializers.JSONField(required=False, help_text=_JSON_HELP["milestones"])
    outcomes = serializers.JSONField(required=False, help_text=_JSON_HELP["outcomes"])
    session_kinds = serializers.JSONField(required=False, help_text=_JSON_HELP["session_kinds"])
    coordinators = serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="User ids; replaces the list."
    )


class PersonSummarySerializer(serializers.Serializer):
    """The minimum intake needs: who, what they like to be called, how old. Never case content."""

    name = serializers.CharField()
    preferred_name = serializers.CharField()
    age = serializers.IntegerField(allow_null=True)
    age_approximate = serializers.BooleanField()


_ELIGIBILITY_HELP = (
    'Rule by rule: {"eligible": true|false|null, "summary", "evaluated_on" (the day age is '
    'judged on), "checked_at" (when the rules were last run), "rules": [{"rule", '
    '"outcome": "met"|"not_met"|"unknown", "explanation"}]}. Shown as you may see it: an '
    "adversity rule is explained from the adversity records you may see on the case (`unknown` "
    "when you cannot open the case), whoever evaluated it."
)


class EnrolmentListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        # One look at the reader's adversity records for the whole page, not one per enrolment.
        self.context.setdefault("eligibility_seen", {}).update(
            seen_by(self.context.get("actor"), items)
        )
        return super().to_representation(items)


class CaseloadSerializer(serializers.Serializer):
    last_session_at = serializers.DateTimeField(allow_null=True)
    next_check_in_at = serializers.DateTimeField(
        allow_null=True, help_text="When the next open check-in of its schedule falls due."
    )
    overdue_check_ins = serializers.IntegerField(help_text="Open check-ins past due.")


class EnrolmentSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    person = serializers.PrimaryKeyRelatedField(read_only=True)
    person_summary = serializers.SerializerMethodField()
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    case_visible = serializers.BooleanField(
        read_only=True,
        help_text="Whether you can open the case (GET /api/v1/cases/{id}); coordinators see "
        "intake without case content.",
    )
    eligibility = serializers.SerializerMethodField(help_text=_ELIGIBILITY_HELP)
    details = serializers.JSONField(
        read_only=True, help_text="Intake details, valid against the programme's intake_schema."
    )
    referred_by = serializers.SerializerMethodField()
    referred_by_partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    key_worker = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    caseload = serializers.SerializerMethodField(
        help_text="With `key_worker=me` only (null otherwise): the key worker's view of it."
    )

    class Meta:
        model = Enrolment
        fields = [
            "id", "programme", "person", "person_summary", "case", "case_visible", "status",
            "priority", "eligibility", "details", "referred_at", "referred_by",
            "referred_by_partner", "key_worker", "status_changed_at", "offered_at", "enrolled_at",
            "started_at", "ended_at", "outcome", "outcome_notes", "version", "created_at",
            "updated_at", "caseload", "next_session_at", "next_session_kind",
        ]  # fmt: skip
        read_only_fields = fields
        list_serializer_class = EnrolmentListSerializer

    @extend_schema_field(serializers.JSONField(help_text=_ELIGIBILITY_HELP))
    def get_eligibility(self, enrolment) -> dict:
        """As the reader may see it (programmes.eligibility.seen_by); without a reader in the
        context, adversity rules are shown as not checked."""
        seen = self.context.get("eligibility_seen", {})
        if enrolment.pk not in seen:
            seen = seen_by(self.context.get("actor"), [enrolment])
        return seen[enrolment.pk]

    @extend_schema_field(CaseloadSerializer(allow_null=True))
    def get_caseload(self, enrolment) -> dict | None:
        if not hasattr(enrolment, "overdue_check_ins"):
            return None
        return CaseloadSerializer(enrolment).data

    @extend_schema_field(PersonSummarySerializer)
    def get_person_summary(self, enrolment) -> dict:
        person = enrolment.person
        given = person.given_name
        return {
            "name": f"{given} {person.family_name}".strip(),
            "preferred_name": person.preferred_name,
            "age": age_on(person.date_of_birth, timezone.localdate()),
            "age_approximate": person.date_of_birth_approximate,
        }

    def get_referred_by(self, enrolment) -> str | None:
        if enrolment.referred_by_id:
            return str(enrolment.referred_by_id)
        return (
            f"client:{enrolment.referred_by_client_id}" if enrolment.referred_by_client_id else None
        )


class ProgrammeReferralSerializer(serializers.Serializer):
    person = serializers.UUIDField(
        help_text="Person id: the subject of the case or a member of its household."
    )
    case = serializers.UUIDField(help_text="Case id (must be visible to you).")
    details = serializers.JSONField(
        required=False,
        default=dict,
        help_text="Intake details, validated against the programme's intake_schema.",
    )
    priority = serializers.IntegerField(
        min_value=1,
        max_value=5,
        default=3,
        help_text="1 (most urgent) to 5; the waiting list is ordered by priority, then referral time.",
    )


class EnrolmentUpdateSerializer(serializers.Serializer):
    details = serializers.JSONField(
        required=False, help_text="Replaces the intake details; validated and eligibility re-run."
    )
    priority = serializers.IntegerField(
        required=False, min_value=1, max_value=5, help_text="Coordinators only, with a reason."
    )
    key_worker = serializers.UUIDField(
        required=False, allow_null=True, help_text="Coordinators only."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class EnrolmentTransitionRequestSerializer(serializers.Serializer):
    to = serializers.CharField(
        help_text="The status to move to: referred, eligibility_checked, waitlisted, offered, "
        "enrolled, active, completed, withdrawn, declined or ineligible."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Why; required for ineligible, withdrawn, declined and overrides, and for "
        "offered or enrolled straight from eligibility_checked while anyone is on the waiting list.",
    )
    outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=60,
        help_text="At exit: an outcome code of the programme (required to complete).",
    )
    outcome_notes = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    override_eligibility = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Confirm eligibility although a rule is not met or unknown (needs a reason).",
    )


class EnrolmentTransitionSerializer(serializers.ModelSerializer):
    # Plain strings: the status list is documented once, on the enrolment.
    from_status = serializers.CharField(read_only=True, help_text="Empty for the referral.")
    to_status = serializers.CharField(read_only=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    client = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    detail = serializers.SerializerMethodField()

    class Meta:
        model = EnrolmentTransition
        fields = [
            "id",
            "from_status",
            "to_status",
            "reason",
            "at",
            "user",
            "client",
            "partner",
            "detail",
        ]
        read_only_fields = fields

    def get_detail(self, transition) -> dict:
        # Older moves copied the verdict of whoever evaluated eligibility; it may rest on records
        # the reader may not see, so it is not shown (the enrolment's `eligibility` is, as they
        # may see it).
        return {k: v for k, v in (transition.detail or {}).items() if k != "eligible"}


class SessionSerializer(serializers.ModelSerializer):
    enrolment = serializers.PrimaryKeyRelatedField(read_only=True)
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = EnrolmentSession
        fields = [
            "id", "enrolment", "kind", "occurred_at", "attendance", "missed_reason", "notes",
            "recorded_by", "partner", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class SessionCreateSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=60, help_text="A session kind of the programme.")
    occurred_at = serializers.DateTimeField()
    attendance = serializers.ChoiceField(choices=Attendance.choices)
    missed_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000,
        help_text="Why the session was missed: required when `attendance` is `missed`, and only "
        "then.",
    )  # fmt: skip
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


class MilestoneSerializer(serializers.ModelSerializer):
    enrolment = serializers.PrimaryKeyRelatedField(read_only=True)
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Milestone
        fields = [
            "id", "enrolment", "code", "achieved_on", "note", "recorded_by", "partner",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class MilestoneCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=60, help_text="A milestone code of the programme.")
    achieved_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class OfferNextSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
