from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api.serializers import PersonWriteSerializer
from cases.models import BreakGlassAccess
from casework import vocabularies
from casework.models import (
    Action,
    ActionStatus,
    AdversityRecord,
    AdversitySource,
    ChronologyEntry,
    EntryAmendment,
    EntryKind,
    EntryVisibility,
    Referral,
    Screening,
    ScreeningConfirmation,
    ScreeningDecision,
    ScreeningOutcome,
    ScreeningStatus,
    Urgency,
)


class AmendmentSerializer(serializers.ModelSerializer):
    amended_by = serializers.PrimaryKeyRelatedField(read_only=True)
    amended_by_client = serializers.PrimaryKeyRelatedField(read_only=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = EntryAmendment
        fields = [
            "version", "previous", "changes", "reason", "amended_by", "amended_by_client", "partner",
            "amended_at",
        ]  # fmt: skip
        read_only_fields = fields


class EntrySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=EntryKind.choices, read_only=True)
    visibility = serializers.ChoiceField(choices=EntryVisibility.choices, read_only=True)
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    named_users = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    author = serializers.PrimaryKeyRelatedField(read_only=True)
    author_client = serializers.PrimaryKeyRelatedField(read_only=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    amendments = AmendmentSerializer(many=True, read_only=True)
    amended = serializers.SerializerMethodField()

    class Meta:
        model = ChronologyEntry
        fields = [
            "id", "case", "kind", "occurred_at", "body", "visibility", "named_users", "author",
            "author_client", "partner", "amended", "amendments", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_amended(self, entry) -> bool:
        return entry.version > 1


class EntryCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EntryKind.choices)
    occurred_at = serializers.DateTimeField()
    body = serializers.CharField(max_length=20000)
    visibility = serializers.ChoiceField(
        choices=EntryVisibility.choices,
        default=EntryVisibility.CASE,
        help_text="`case`: all partners on the case; `partner`: your partner only; "
        "`named`: the named users (and you) only.",
    )
    named_users = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=50
    )


class EntryAmendSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EntryKind.choices, required=False)
    occurred_at = serializers.DateTimeField(required=False)
    body = serializers.CharField(max_length=20000, required=False)
    visibility = serializers.ChoiceField(choices=EntryVisibility.choices, required=False)
    named_users = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=50
    )
    reason = serializers.CharField(max_length=500, help_text="Why the entry is being corrected.")


class AdversitySerializer(serializers.ModelSerializer):
    source = serializers.ChoiceField(choices=AdversitySource.choices, read_only=True)
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    label = serializers.SerializerMethodField()
    group = serializers.SerializerMethodField()
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)
    recorded_by_client = serializers.PrimaryKeyRelatedField(read_only=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    shared_with = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = AdversityRecord
        fields = [
            "id", "case", "code", "label", "group", "source", "sensitive", "note", "recorded_by",
            "recorded_by_client", "recorded_at", "partner", "shared_with", "version", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_label(self, record) -> str:
        return vocabularies.label("adversities", record.code)

    def get_group(self, record) -> str:
        return vocabularies.group("adversities", record.code)


class AdversityCreateSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=40, help_text="A code from /api/v1/vocabularies/adversities."
    )
    source = serializers.ChoiceField(choices=AdversitySource.choices)
    sensitive = serializers.BooleanField(
        default=False, help_text="Seen only by your partner unless shared explicitly."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    shared_with = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        default=list,
        help_text="Partner slugs that may also see a sensitive record.",
    )


class PartnerSlugSerializer(serializers.Serializer):
    partner = serializers.SlugField()


class ActionSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ActionStatus.choices, read_only=True)
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_user = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Action
        fields = [
            "id", "case", "title", "description", "owner_user", "owner_partner", "due_date", "status",
            "overdue", "completed_at", "partner", "created_by", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ActionCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    due_date = serializers.DateField()
    owner_user = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Defaults to you."
    )
    owner_partner = serializers.SlugField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A partner on the case, when no one person owns it.",
    )


class ActionUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    due_date = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    owner_user = serializers.UUIDField(required=False, allow_null=True)
    owner_partner = serializers.SlugField(required=False, allow_null=True)


class ScreeningConfirmationSerializer(serializers.ModelSerializer):
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    decision = serializers.ChoiceField(choices=ScreeningDecision.choices, read_only=True)
    outcome = serializers.SerializerMethodField(
        help_text="The proposed outcome this partner answered."
    )

    class Meta:
        model = ScreeningConfirmation
        fields = ["partner", "decision", "reason", "at", "round", "outcome"]
        read_only_fields = fields

    def get_outcome(self, answer) -> str:
        return answer.proposal.get("outcome", "")


class ScreeningSerializer(serializers.ModelSerializer):
    outcome = serializers.ChoiceField(choices=ScreeningOutcome.choices, read_only=True)
    participants = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    partner = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The partner that proposed the decision."
    )
    screened_by = serializers.PrimaryKeyRelatedField(read_only=True)
    referral = serializers.PrimaryKeyRelatedField(read_only=True)
    status = serializers.ChoiceField(
        choices=ScreeningStatus.choices,
        read_only=True,
        help_text="`proposed`: a single-agency decision awaiting confirmation by another partner "
        "on the case; `confirmed`: screened jointly; `challenged`: reopened by another partner, "
        "a new decision may be proposed.",
    )
    joint = serializers.BooleanField(
        read_only=True,
        help_text="True once a partner other than the proposer's has confirmed the decision.",
    )
    confirmations = ScreeningConfirmationSerializer(
        many=True,
        read_only=True,
        help_text="Every partner's answer, oldest first (earlier rounds included).",
    )
    early_help_partner = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True,
        help_text="With the `early_help` outcome: the partner that does the early help.",
    )  # fmt: skip
    early_help_action = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True,
        help_text="The early help task given to that partner once the decision took effect.",
    )  # fmt: skip

    class Meta:
        model = Screening
        fields = [
            "id", "referral", "outcome", "reasons", "participants", "participant_names", "screened_by",
            "partner", "screened_at", "status", "joint", "round", "confirmed_at", "confirmations",
            "early_help_partner", "early_help_action",
        ]  # fmt: skip
        read_only_fields = fields


class ScreeningCreateSerializer(serializers.Serializer):
    outcome = serializers.CharField(
        max_length=30, help_text="A code from /api/v1/vocabularies/screening-outcomes."
    )
    reasons = serializers.CharField(max_length=5000)
    participants = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        default=list,
        help_text="Slugs of the partners on the case who took part; yours is always included.",
    )
    participant_names = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500
    )
    early_help_partner = serializers.SlugField(
        required=False,
        allow_null=True,
        default=None,
        help_text="With the `early_help` outcome (and only then): the slug of the partner on the "
        "case that does the early help. It is given the task when the decision takes effect.",
    )


class ScreeningAnswerSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ScreeningDecision.choices)
    reason = serializers.CharField(
        max_length=5000, help_text="Why you confirm or challenge it; shown to everyone on the case."
    )


PPN_READ_FIELDS = [
    "incident_date", "incident_time", "incident_place", "occurrence_number", "present",
    "officer_observations", "voice", "household_children",
]  # fmt: skip
PPN_HELP = {
    "incident_date": "Police Protection Notice (PPN): the date of the incident (YYYY-MM-DD), not "
    "in the future. Optional for every partner; police referrals fill in the PPN fields.",
    "incident_time": "PPN: the time of the incident, HH:MM (24-hour clock); needs `incident_date`.",
    "incident_place": "PPN: where the incident happened.",
    "occurrence_number": "PPN: the police occurrence or incident log number.",
    "present": "PPN: who was present at the incident.",
    "officer_observations": "PPN: what the officer saw, kept apart from the person's own words.",
    "voice": "The person's voice: what they said, in their own words.",
}


class ReferralSerializer(serializers.ModelSerializer):
    urgency = serializers.ChoiceField(choices=Urgency.choices, read_only=True)
    incident_date = serializers.DateField(read_only=True, help_text=PPN_HELP["incident_date"])
    incident_time = serializers.TimeField(
        format="%H:%M", read_only=True, allow_null=True, help_text=PPN_HELP["incident_time"]
    )
    incident_place = serializers.CharField(read_only=True, help_text=PPN_HELP["incident_place"])
    occurrence_number = serializers.CharField(
        read_only=True, help_text=PPN_HELP["occurrence_number"]
    )
    present = serializers.CharField(read_only=True, help_text=PPN_HELP["present"])
    officer_observations = serializers.CharField(
        read_only=True, help_text=PPN_HELP["officer_observations"]
    )
    voice = serializers.CharField(read_only=True, help_text=PPN_HELP["voice"])
    household_children = serializers.PrimaryKeyRelatedField(
        many=True,
        read_only=True,
        help_text="PPN: the children in the household the referral named (person ids), those the "
        "caller may see. When the referral's partner leads the case they are also on the case's "
        "`household`.",
    )
    subject = serializers.PrimaryKeyRelatedField(read_only=True)
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    source_partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    referred_with = serializers.UUIDField(
        read_only=True,
        allow_null=True,
        help_text="Brothers and sisters referred together (on the web) share this id; each "
        "referral is on the child's own case.",
    )
    status = serializers.SerializerMethodField()
    overdue = serializers.BooleanField(read_only=True)
    screening = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id", "subject", "case", "source_partner", "source_reference", "channel", "concerns",
            "description", "urgency", "received_at", "screening_due_at", "screened_at", "status",
            "overdue", "screening", "version", "created_at", "updated_at", "referred_with",
            *PPN_READ_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields

    def get_status(self, referral) -> str:
        # An urgent referral with a single-agency proposal is still awaiting screening.
        return "screened" if referral.screened_at else "awaiting_screening"

    @extend_schema_field(ScreeningSerializer(allow_null=True))
    def get_screening(self, referral):
        """The decision as it stands, proposed or joint (`joint` says which)."""
        screening = getattr(referral, "screening", None)
        return ScreeningSerializer(screening).data if screening else None


class HouseholdChildSerializer(PersonWriteSerializer):
    """A child in the household: a person you can see (`person`), or their details, matched like
    any person."""

    person = serializers.UUIDField(
        required=False, allow_null=True, help_text="A person you can see; or give their details."
    )
    new_person = serializers.BooleanField(
        required=False,
        default=False,
        help_text="You checked the possible matches offered (409 `household_match`) and none is "
        "this child: record them as a new person.",
    )

    class Meta(PersonWriteSerializer.Meta):
        fields = [*PersonWriteSerializer.Meta.fields, "person", "new_person"]
        extra_kwargs = {"given_name": {"required": False}, "family_name": {"required": False}}

    def validate(self, attrs):
        if attrs.get("person") is None and not (
            (attrs.get("given_name") or "").strip() and (attrs.get("family_name") or "").strip()
        ):
            raise serializers.ValidationError(
                "Give the child's `person` id, or their `given_name` and `family_name`."
            )
        return attrs


class ReferralCreateSerializer(serializers.Serializer):
    subject = serializers.UUIDField(
        required=False, allow_null=True, help_text="A person you can see; or give `person`."
    )
    person = PersonWriteSerializer(
        required=False,
        allow_null=True,
        help_text="The subject's details: matched against existing persons by identifier, "
        "otherwise recorded as a new person.",
    )
    concerns = serializers.ListField(
        child=serializers.CharField(max_length=40),
        min_length=1,
        help_text="Codes from /api/v1/vocabularies/concerns.",
    )
    description = serializers.CharField(max_length=20000)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.STANDARD)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    source_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="Your own reference; a repeat is refused with 409.",
    )
    incident_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text=PPN_HELP["incident_date"]
    )
    incident_time = serializers.TimeField(
        required=False,
        allow_null=True,
        default=None,
        input_formats=["%H:%M"],
        help_text=PPN_HELP["incident_time"],
    )
    incident_place = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200,
        help_text=PPN_HELP["incident_place"],
    )  # fmt: skip
    occurrence_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=50,
        help_text=PPN_HELP["occurrence_number"],
    )  # fmt: skip
    present = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000,
        help_text=PPN_HELP["present"],
    )  # fmt: skip
    officer_observations = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20000,
        help_text=PPN_HELP["officer_observations"],
    )  # fmt: skip
    voice = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20000,
        help_text=PPN_HELP["voice"],
    )  # fmt: skip
    household_children = HouseholdChildSerializer(
        many=True,
        required=False,
        default=list,
        help_text="PPN: the children in the household. Each is found like any person: an "
        "identifier you can see links them; a possible match you can see is offered, never "
        "duplicated (409 `household_match`, naming each child's matches; send the child again "
        "with `person`, or with `new_person: true`). Added to the case's household when your "
        "partner leads the case.",
    )


class PossibleDuplicateSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    score = serializers.FloatField()
    reason = serializers.CharField()


# How the referral's subject (or a household member) was found: named in the OpenAPI document by
# ENUM_NAME_OVERRIDES, as ReferralSubjectFoundByEnum.
SUBJECT_FOUND_BY = ["given", "identifier", "new person"]


class HouseholdFoundSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    found_by = serializers.ChoiceField(choices=SUBJECT_FOUND_BY)


class IntakeSerializer(serializers.Serializer):
    subject_found_by = serializers.ChoiceField(choices=SUBJECT_FOUND_BY)
    case_opened = serializers.BooleanField()
    possible_duplicates = PossibleDuplicateSerializer(many=True)
    hidden_matches = serializers.IntegerField(
        help_text="Possible duplicates held by records you may not see: counted, never shown."
    )
    withheld_identifiers = serializers.ListField(
        child=serializers.CharField(),
        help_text="Identifiers already held by a record you may not see; not copied to the new "
        "person (screening resolves the duplicate).",
    )
    household = HouseholdFoundSerializer(
        many=True, help_text="The children in the household, in the order sent."
    )
    household_added = serializers.BooleanField(
        help_text="Whether the children were added to the case's household: false when the "
        "referral joined a case another partner leads (its lead partner adds them)."
    )


class ReferralIntakeResponseSerializer(ReferralSerializer):
    intake = serializers.SerializerMethodField()

    class Meta(ReferralSerializer.Meta):
        fields = [*ReferralSerializer.Meta.fields, "intake"]
        read_only_fields = fields

    @extend_schema_field(IntakeSerializer)
    def get_intake(self, referral):
        intake = self.context["intake"]
        return IntakeSerializer(
            {
                "subject_found_by": intake.subject_found_by,
                "case_opened": intake.case_opened,
                "possible_duplicates": [
                    {"person": m.person.pk, "score": m.score, "reason": m.reason}
                    for m in intake.possible_duplicates
                ],
                "hidden_matches": intake.hidden_matches,
                "withheld_identifiers": intake.withheld_identifiers,
                "household": [
                    {"person": person.pk, "found_by": found_by}
                    for person, found_by in intake.household
                ],
                "household_added": intake.household_added,
            }
        ).data


class BreakGlassRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, help_text="Why you need this case now. Logged and told to its lead."
    )


class BreakGlassSerializer(serializers.ModelSerializer):
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    user = serializers.PrimaryKeyRelatedField(read_only=True)
    partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = BreakGlassAccess
        fields = [
            "id", "case", "user", "partner", "reason", "status", "requested_at", "opened_at",
            "expires_at", "decided_by", "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


BREAK_GLASS_DECISIONS = [("approve", "Approve"), ("refuse", "Refuse")]


class BreakGlassDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=BREAK_GLASS_DECISIONS)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class VocabularyItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    group = serializers.CharField()


class VocabularySerializer(serializers.Serializer):
    name = serializers.CharField()
    items = VocabularyItemSerializer(many=True)


class VocabularyIndexSerializer(serializers.Serializer):
    names = serializers.ListField(child=serializers.CharField())
