from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from cases.models import ProcessingRestriction
from governance.models import SubjectAccessRequest


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    """The API error shape (core/api/errors.py)."""

    error = ErrorDetailSerializer()


def errors(*statuses: int) -> dict:
    described = {
        400: "Invalid input; the fields are listed",
        403: "You can see the record but your role may not do this",
        404: "Not found, or not visible to you",
        409: "Conflicts with the record's current state",
    }
    return {s: OpenApiResponse(ErrorSerializer, description=described[s]) for s in statuses}


class SubjectAccessSerializer(serializers.ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = SubjectAccessRequest
        fields = [
            "id", "status", "progress", "download", "person", "requested_at", "due_on",
            "completed_at", "answered_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download(self, request: SubjectAccessRequest) -> str | None:
        """The pack's URL once it is ready (the requester's partner's managers may fetch it)."""
        if request.status != SubjectAccessRequest.Status.READY:
            return None
        path = reverse("subject-access-download", args=[request.pk])
        http = self.context.get("request")
        return http.build_absolute_uri(path) if http is not None else path


class SubjectAccessStartedSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubjectAccessRequest
        fields = ["id", "status", "progress"]
        read_only_fields = fields


class RestrictionReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RestrictionSerializer(serializers.ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(read_only=True)
    placed_by_partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    lifted_by_partner = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ProcessingRestriction
        fields = [
            "id", "person", "reason", "placed_by", "placed_by_partner", "placed_at", "lifted_at",
            "lifted_by", "lifted_by_partner", "lift_reason",
        ]  # fmt: skip
        read_only_fields = fields
