from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from followups.models import FollowUp, Notification


class SubjectSerializer(serializers.Serializer):
    resource = serializers.CharField(help_text='What the follow-up is about: "case", "action", ...')
    id = serializers.UUIDField()


class AssigneeSerializer(serializers.Serializer):
    user = serializers.UUIDField(allow_null=True, help_text="The assigned member of staff, if any.")
    partner = serializers.CharField(
        allow_null=True, help_text="Slug of the assigned partner, if any."
    )


class FollowUpSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id", "kind", "title", "due_at", "status", "subject", "case", "assignee",
            "notified_at", "escalated_at", "completed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(SubjectSerializer)
    def get_subject(self, followup) -> dict:
        return {"resource": followup.subject_resource, "id": str(followup.subject_id)}

    @extend_schema_field(AssigneeSerializer)
    def get_assignee(self, followup) -> dict:
        return {
            "user": str(followup.assignee_user_id) if followup.assignee_user_id else None,
            "partner": followup.assignee_partner.slug if followup.assignee_partner_id else None,
        }


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "link", "read", "read_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
