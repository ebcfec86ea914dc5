from __future__ import annotations

from rest_framework import serializers

from audit.models import AccessLog
from cases import access
from cases.identifiers import Scheme
from cases.models import (
    Case,
    CaseHistory,
    CaseStatus,
    ClosureReason,
    ConsentDecision,
    ConsentRecord,
    DataSharingAgreement,
    LawfulBasis,
    LegalHold,
    Person,
    Relationship,
    RelationshipKind,
    RiskLevel,
    Share,
)


class IdentifierSerializer(serializers.Serializer):
    scheme = serializers.ChoiceField(choices=Scheme.choices)
    value = serializers.CharField(max_length=64)


class ContactSafetySerializer(serializers.Serializer):
    """How and when it is safe to contact the person, and who must not be told."""

    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    safe_contact_how = serializers.CharField(
        max_length=300, required=False, allow_blank=True,
        help_text="How it is safe to contact them (e.g. text only, their own phone).",
    )  # fmt: skip
    safe_contact_when = serializers.CharField(
        max_length=200, required=False, allow_blank=True,
        help_text="When it is safe to contact them.",
    )  # fmt: skip
    do_not_tell = serializers.CharField(
        max_length=300, required=False, allow_blank=True,
        help_text="Who must not be told where they are or how to reach them.",
    )  # fmt: skip
    safety_summary = serializers.CharField(max_length=500, required=False, allow_blank=True)
    updated_at = serializers.DateTimeField(
        source="contact_safety_updated_at", read_only=True, allow_null=True
    )


class PersonListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        # One look at who may see the contact and safety details, for the whole page (none when
        # the list's query already said, as `contact_safety_shown`).
        undecided = [p.pk for p in items if getattr(p, "contact_safety_shown", None) is None]
        if undecided:
            self.context.setdefault("contact_safety_ids", set()).update(
                access.contact_safety_visible_ids(self.context.get("actor"), undecided)
            )
        return super().to_representation(items)


class PersonSerializer(serializers.ModelSerializer):
    identifiers = serializers.SerializerMethodField()
    display_name = serializers.CharField(read_only=True)
    # Not read-only, so that the schema does not list it as always present: it is omitted for
    # those who may not see it. This serializer only ever writes responses.
    contact_safety = ContactSafetySerializer(
        source="*", required=False,
        help_text="Only for those working a case about the person or running their enrolment; "
        "omitted for anyone else.",
    )  # fmt: skip

    class Meta:
        model = Person
        fields = [
            "id", "given_name", "family_name", "preferred_name", "display_name", "date_of_birth",
            "date_of_birth_approximate", "gender", "pronouns", "language", "interpreter_needed",
            "address_line_1", "address_line_2", "town", "postcode", "uprn", "identifiers", "version",
            "created_at", "updated_at", "processing_restricted", "contact_safety",
        ]  # fmt: skip
        read_only_fields = ["id", "version", "created_at", "updated_at", "processing_restricted"]
        list_serializer_class = PersonListSerializer

    def get_identifiers(self, person) -> list[dict[str, str]]:
        shown = access.identifiers_shown_to(self.context.get("actor"), person.identifiers.all())
        return [{"scheme": i.scheme, "value": i.value} for i in shown]

    def to_representation(self, person):
        body = super().to_representation(person)
        shown = getattr(person, "contact_safety_shown", None)
        if shown is None:
            ids = self.context.get("contact_safety_ids")
            if ids is None:
                ids = access.contact_safety_visible_ids(self.context.get("actor"), [person.pk])
            shown = person.pk in ids
        if not shown:
            body.pop("contact_safety", None)
        return body


class PersonWriteSerializer(serializers.ModelSerializer):
    identifiers = IdentifierSerializer(many=True, required=False)

    class Meta:
        model = Person
        fields = [
            "given_name", "family_name", "preferred_name", "date_of_birth", "date_of_birth_approximate",
            "gender", "pronouns", "language", "interpreter_needed", "address_line_1", "address_line_2",
            "town", "postcode", "uprn", "identifiers",
        ]  # fmt: skip


class PersonUpdateSerializer(PersonWriteSerializer):
    contact_safety = ContactSafetySerializer(
        required=False,
        help_text="Changed only by practitioners, managers and systems of a partner working a "
        "case about the person (403 otherwise), with the same If-Match.",
    )

    class Meta(PersonWriteSerializer.Meta):
        fields = [*PersonWriteSerializer.Meta.fields, "contact_safety"]


class PersonMatchRequestSerializer(serializers.Serializer):
    given_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    family_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    identifiers = IdentifierSerializer(many=True, required=False)


class PersonMatchSerializer(serializers.Serializer):
    person = PersonSerializer()
    score = serializers.FloatField()
    reason = serializers.CharField()


class PersonMatchResponseSerializer(serializers.Serializer):
    results = PersonMatchSerializer(many=True)
    hidden_matches = serializers.IntegerField(
        help_text="Matches held by records you may not see: counted, never shown."
    )


class CaseSerializer(serializers.ModelSerializer):
    subject = serializers.PrimaryKeyRelatedField(read_only=True)
    lead_partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    lead_practitioner = serializers.PrimaryKeyRelatedField(read_only=True)
    household = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    # Blank until the case is closed: declared so the OpenAPI enum includes "".
    closure_reason = serializers.ChoiceField(
        choices=ClosureReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Case
        fields = [
            "id", "reference", "subject", "household", "lead_partner", "lead_practitioner", "status",
            "closure_reason", "risk_level", "summary", "goals", "what_matters", "restricted", "review_date",
            "closed_at", "retention_until", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CaseCreateSerializer(serializers.Serializer):
    subject = serializers.UUIDField(help_text="Person id (must be visible to you).")
    household = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, default=RiskLevel.MEDIUM)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    goals = serializers.CharField(required=False, allow_blank=True, default="")
    what_matters = serializers.CharField(required=False, allow_blank=True, default="")
    review_date = serializers.DateField(required=False, allow_null=True)


class CaseUpdateSerializer(serializers.Serializer):
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    goals = serializers.CharField(required=False, allow_blank=True)
    what_matters = serializers.CharField(required=False, allow_blank=True)
    review_date = serializers.DateField(required=False, allow_null=True)
    lead_practitioner = serializers.UUIDField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=CaseStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    closure_reason = serializers.ChoiceField(
        choices=ClosureReason.choices, required=False, default=""
    )


class ShareSerializer(serializers.ModelSerializer):
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    agreement = serializers.PrimaryKeyRelatedField(read_only=True)
    shared_by = serializers.SerializerMethodField()
    active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Share
        fields = [
            "partner", "lawful_basis", "reason", "expires_at", "shared_by", "shared_at", "agreement",
            "revoked_at", "active",
        ]  # fmt: skip

    def get_shared_by(self, share) -> str | None:
        if share.shared_by_id:
            return str(share.shared_by_id)
        return f"client:{share.shared_by_client_id}" if share.shared_by_client_id else None


class ShareCreateSerializer(serializers.Serializer):
    partner = serializers.SlugField()
    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices)
    reason = serializers.CharField(max_length=2000)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class AgreementSerializer(serializers.ModelSerializer):
    parties = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    active = serializers.SerializerMethodField(
        help_text="Whether new shares may rely on the agreement today: its status is not "
        "`ended`, its end date has not passed and its review is not overdue by more than "
        "AGREEMENT_REVIEW_GRACE_DAYS."
    )

    class Meta:
        model = DataSharingAgreement
        fields = [
            "id", "name", "parties", "purposes", "data_categories", "lawful_basis", "condition",
            "retention_months", "starts_on", "review_date", "ends_on", "status", "document_url",
            "active", "updated_at",
        ]  # fmt: skip

    def get_active(self, agreement) -> bool:
        from cases.agreements import in_force

        return in_force(agreement)


class AccessLogSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(read_only=True)
    user_email = serializers.SerializerMethodField()
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AccessLog
        fields = [
            "id", "at", "user", "user_email", "client", "partner", "role", "channel", "action", "allowed",
            "object_type", "object_id", "justification",
        ]  # fmt: skip
        # `detail` is never shown: rows written before it was limited to ids may hold content.

    def get_user_email(self, entry) -> str | None:
        return entry.user.email if entry.user_id else None


class RelationshipSerializer(serializers.ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(read_only=True)
    related_to = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Relationship
        fields = ["id", "person", "related_to", "kind", "note", "created_at"]


class RelationshipCreateSerializer(serializers.Serializer):
    related_to = serializers.UUIDField(help_text="The other person (must be visible to you).")
    kind = serializers.ChoiceField(
        choices=RelationshipKind.choices, help_text="What this person is to `related_to`."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ConsentSerializer(serializers.ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(read_only=True)
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ConsentRecord
        fields = [
            "id",
            "person",
            "decision",
            "lawful_basis",
            "scope",
            "given_by",
            "recorded_by",
            "recorded_at",
            "expires_at",
            "notes",
        ]


class ConsentCreateSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    decision = serializers.ChoiceField(choices=ConsentDecision.choices)
    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices)
    scope = serializers.CharField(max_length=300)
    given_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CaseHistorySerializer(serializers.ModelSerializer):
    changed_by = serializers.PrimaryKeyRelatedField(read_only=True)
    changed_by_client = serializers.PrimaryKeyRelatedField(read_only=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CaseHistory
        fields = [
            "version",
            "changed_at",
            "changed_by",
            "changed_by_client",
            "partner",
            "changes",
            "reason",
        ]


# Retention and legal holds (cases/retention.py).


class RetentionDueSerializer(serializers.ModelSerializer):
    """A case due for a retention decision: ids and dates only, never content."""

    legal_hold = serializers.BooleanField(read_only=True)
    closure_reason = serializers.ChoiceField(
        choices=ClosureReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Case
        fields = [
            "id", "reference", "status", "closure_reason", "closed_at", "retention_until",
            "legal_hold", "restricted",
        ]  # fmt: skip
        read_only_fields = fields


RETENTION_DECISIONS = (("extend", "Extend"), ("dispose", "Dispose"))


class RetentionDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=RETENTION_DECISIONS)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The new retention date (extend)."
    )


class RetentionDecisionResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    decision = serializers.ChoiceField(choices=RETENTION_DECISIONS)
    retention_until = serializers.DateField(
        allow_null=True, help_text="The new retention date (extend); null once disposed of."
    )
    disposed_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.DictField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="How many records of each kind were deleted with the case (dispose).",
    )
    subject_deleted = serializers.BooleanField(
        allow_null=True,
        help_text="Whether the person the case was about was deleted too (dispose): they are "
        "kept when another case or record concerns them.",
    )


class LegalHoldCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class LegalHoldSerializer(serializers.ModelSerializer):
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    placed_by = serializers.PrimaryKeyRelatedField(read_only=True)
    placed_by_partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = LegalHold
        fields = ["id", "case", "reason", "placed_by", "placed_by_partner", "placed_at"]
        read_only_fields = fields
