from __future__ import annotations

from rest_framework import serializers

from sync.models import WebhookSubscription
from sync.records import (
    CaseRecordSerializer,
    EntryRecordSerializer,
    PersonRecordSerializer,
    ReferralRecordSerializer,
)
from sync.webhooks import ALL_EVENTS, EVENT_TYPES

# --- change feed ---------------------------------------------------------------------------


class ChangesQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The `next_cursor` (or an item's `cursor`) from your last page; leave out to "
        "start from the oldest change kept.",
    )
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=200)
    latest = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Return no changes and a cursor at the newest change: where to start "
        "following after a full resync.",
    )


class ChangeSerializer(serializers.Serializer):
    cursor = serializers.CharField(help_text="Resume after this change.")
    resource = serializers.CharField(
        help_text="person, case, entry, adversity, action or referral."
    )
    id = serializers.UUIDField()
    action = serializers.ChoiceField(choices=["created", "updated", "deleted", "revoked"])
    changed_at = serializers.DateTimeField()


class ChangesPageSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Pass as `cursor` next time. An empty page returns the cursor you sent."
    )
    has_more = serializers.BooleanField(help_text="More changes are ready now: fetch again.")


# --- batch sync ----------------------------------------------------------------------------


class RecordErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class RecordResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in your batch.")
    local_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"])
    id = serializers.UUIDField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    error = RecordErrorSerializer(allow_null=True)


class SummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class SyncResponseSerializer(serializers.Serializer):
    results = RecordResultSerializer(many=True)
    summary = SummarySerializer()


class PeopleBatchSerializer(serializers.Serializer):
    records = PersonRecordSerializer(many=True, help_text="Up to 500 people.")


class CasesBatchSerializer(serializers.Serializer):
    records = CaseRecordSerializer(many=True, help_text="Up to 500 cases.")


class ReferralsBatchSerializer(serializers.Serializer):
    records = ReferralRecordSerializer(many=True, help_text="Up to 500 referrals.")


class EntriesBatchSerializer(serializers.Serializer):
    records = EntryRecordSerializer(many=True, help_text="Up to 500 chronology entries.")


# --- webhooks ------------------------------------------------------------------------------

EVENT_CHOICES = [ALL_EVENTS, *EVENT_TYPES]


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "active",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = fields

    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))


class WebhookCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_…). Shown this once: store it now."
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookCreateSerializer(serializers.Serializer):
    url = serializers.URLField(
        max_length=500,
        help_text="An https:// URL whose host resolves only to public internet addresses "
        "(checked now and at every delivery; redirects are not followed). A receiver inside a "
        "partner's own network needs that network allowed by the administrators.",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1, max_length=50
    )
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default=""
    )


class WebhookListSerializer(serializers.Serializer):
    results = WebhookSubscriptionSerializer(many=True)
    next = serializers.CharField(allow_null=True)
