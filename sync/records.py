"""The shape of one record in a batch sync, per resource. Validated record by record, so one bad
record gets its own field errors and the rest of the batch goes on."""

from __future__ import annotations

from rest_framework import serializers

from cases.identifiers import Scheme
from cases.models import CaseStatus, ClosureReason, RiskLevel
from casework.models import EntryKind, EntryVisibility, Urgency

LOCAL_ID_HELP = (
    "Your system's own id for this record (1–64 characters): what the upsert is keyed by."
)


class SyncIdentifierSerializer(serializers.Serializer):
    scheme = serializers.ChoiceField(choices=Scheme.choices)
    value = serializers.CharField(max_length=64)


class SyncRecordSerializer(serializers.Serializer):
    local_id = serializers.CharField(max_length=64, help_text=LOCAL_ID_HELP)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Optional: the version you last read. If the record has changed since, this "
        "record fails with `stale` instead of overwriting the other change.",
    )


class PersonRecordSerializer(SyncRecordSerializer):
    """Fields left out are left as they are; identifiers are added, never removed."""

    given_name = serializers.CharField(max_length=100, required=False)
    family_name = serializers.CharField(max_length=100, required=False)
    preferred_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    date_of_birth_approximate = serializers.BooleanField(required=False)
    gender = serializers.CharField(max_length=50, required=False, allow_blank=True)
    pronouns = serializers.CharField(max_length=50, required=False, allow_blank=True)
    language = serializers.CharField(max_length=50, required=False, allow_blank=True)
    interpreter_needed = serializers.BooleanField(required=False)
    address_line_1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_line_2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    town = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True)
    uprn = serializers.CharField(max_length=12, required=False, allow_blank=True)
    identifiers = SyncIdentifierSerializer(many=True, required=False)


class CaseRecordSerializer(SyncRecordSerializer):
    subject_local_id = serializers.CharField(
        max_length=64,
        required=False,
        help_text="The subject by your `local` person id (synced to /sync/people first).",
    )
    subject = serializers.UUIDField(
        required=False, help_text="Or the subject by person id (must be visible to you)."
    )
    status = serializers.ChoiceField(
        choices=CaseStatus.choices,
        required=False,
        help_text="On create: the starting status (not closed). On update: moves along the "
        "case workflow; an illegal move fails this record with `illegal_transition`.",
    )
    closure_reason = serializers.ChoiceField(
        choices=ClosureReason.choices, required=False, allow_blank=True
    )
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    goals = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    what_matters = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    review_date = serializers.DateField(required=False, allow_null=True)


class CaseLinkedRecordSerializer(SyncRecordSerializer):
    case_local_id = serializers.CharField(
        max_length=64,
        required=False,
        help_text="The case by your own case id (synced to /sync/cases first).",
    )
    case = serializers.UUIDField(
        required=False, help_text="Or the case by case id (must be visible to you)."
    )


class ReferralRecordSerializer(CaseLinkedRecordSerializer):
    """A referral is recorded as received: a re-push that differs fails with `referral_received`
    (there is no silent edit of what was referred); the same data again is `unchanged`."""

    subject_local_id = serializers.CharField(
        max_length=64,
        required=False,
        help_text="The subject by your `local` person id (synced to /sync/people first).",
    )
    subject = serializers.UUIDField(
        required=False, help_text="Or the subject by person id (must be visible to you)."
    )
    concerns = serializers.ListField(
        child=serializers.CharField(max_length=40),
        min_length=1,
        max_length=50,
        required=False,
        help_text="Codes from /api/v1/vocabularies/concerns. Required on create.",
    )
    description = serializers.CharField(
        max_length=20000, required=False, help_text="Required on create."
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    received_at = serializers.DateTimeField(
        required=False, help_text="When your system received it (default: now)."
    )


class EntryRecordSerializer(CaseLinkedRecordSerializer):
    """A changed entry is corrected through an amendment that keeps what it said before."""

    kind = serializers.ChoiceField(
        choices=EntryKind.choices,
        required=False,
        help_text="Required on create.",
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="Required on create.")
    body = serializers.CharField(max_length=20000, required=False, help_text="Required on create.")
    visibility = serializers.ChoiceField(
        choices=EntryVisibility.choices,
        required=False,
        help_text="`case` (the default on create): all partners on the case; `partner`: your "
        "partner only; `named`: the `named_users` only.",
    )
    named_users = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=50,
        help_text="User ids, for `named` entries: staff of partners working the case.",
    )
    reason = serializers.CharField(
        max_length=500,
        required=False,
        help_text="Why a changed entry is being corrected, kept with the amendment (default: "
        "'Corrected in the partner system (batch sync)').",
    )


RECORD_SERIALIZERS: dict[str, type[SyncRecordSerializer]] = {
    "people": PersonRecordSerializer,
    "cases": CaseRecordSerializer,
    "referrals": ReferralRecordSerializer,
    "entries": EntryRecordSerializer,
}
