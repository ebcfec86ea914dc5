from __future__ import annotations

from rest_framework import serializers

from partners.models import Partner


class PartnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["id", "slug", "name", "sector"]


class PartnerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["slug", "name", "sector"]


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["user", "client"])
    email = serializers.EmailField(required=False)
    name = serializers.CharField()
    partner = PartnerBriefSerializer()
    role = serializers.CharField(allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField())
