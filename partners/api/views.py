from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.filters import UpdatedSinceFilterSet
from partners.actor import request_actor
from partners.api.serializers import MeSerializer, PartnerSerializer
from partners.models import Partner, Scope


class MeView(APIView):
    @extend_schema(
        responses=MeSerializer, summary="The caller: user or API client, partner, role, scopes"
    )
    def get(self, request):
        actor = request_actor(request)
        if actor.client:
            body = {"id": actor.client.id, "kind": "client", "name": actor.client.name}
        else:
            body = {
                "id": actor.user.id,
                "kind": "user",
                "email": actor.user.email,
                "name": actor.user.get_full_name(),
            }
        body.update(
            partner=actor.partner,
            role=actor.role,
            scopes=[s for s in Scope.values if s in actor.scopes],
        )
        return Response(MeSerializer(body).data)


class PartnerFilter(UpdatedSinceFilterSet):
    sector = django_filters.CharFilter()

    class Meta:
        model = Partner
        fields = ["sector"]


class PartnerListView(generics.ListAPIView):
    """Partner organisations are not personal data: every authenticated caller may list them."""

    serializer_class = PartnerSerializer
    filterset_class = PartnerFilter
    queryset = Partner.objects.filter(active=True)
