"""Information rights in the partner API: subject access packs (UK GDPR Art. 15) and the
restriction of processing (Art. 18). Rights: cases.access and governance.access; the services
check again."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import access as case_access
from cases import services as case_services
from governance import access, services
from governance.api.serializers import (
    RestrictionReasonSerializer,
    RestrictionSerializer,
    SubjectAccessSerializer,
    SubjectAccessStartedSerializer,
    errors,
)
from partners.api.mixins import ActorMixin

RESTRICT_REFUSAL = (
    "Only managers can restrict, or lift the restriction of, the processing of a person's data."
)


def _reason(request) -> str:
    serializer = RestrictionReasonSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["reason"]


class SubjectAccessRequestView(ActorMixin, APIView):
    @extend_schema(
        request=None,
        responses={202: SubjectAccessStartedSerializer, **errors(403, 404)},
        summary="Start a subject access pack",
        description="Everything your partner controls about the person, with the access log of "
        "every read of their records, as an HTML page and a JSON file in a ZIP. Generated in the "
        "background: follow `GET /api/v1/subject-access/{id}`. Managers of a partner that can "
        "see the person.",
    )
    def post(self, request, person_id):
        person = access.person_for_subject_access(self.actor, person_id)
        started = services.subject_access_request(actor=self.actor, person=person)
        return Response(
            SubjectAccessStartedSerializer(started).data, status=status.HTTP_202_ACCEPTED
        )


class SubjectAccessDetailView(ActorMixin, APIView):
    @extend_schema(
        responses={200: SubjectAccessSerializer, **errors(404)},
        summary="A subject access pack's progress",
        description="`download` is the pack's URL once `status` is `ready`. The requester's "
        "partner's managers only.",
    )
    def get(self, request, request_id):
        found = access.request_get_for(self.actor, request_id, action="view_subject_access")
        return Response(SubjectAccessSerializer(found, context={"request": request}).data)


class SubjectAccessDownloadView(ActorMixin, APIView):
    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The pack (HTML and JSON in a ZIP)"
            ),
            **errors(404, 409),
        },
        summary="Download a subject access pack",
    )
    def get(self, request, request_id):
        found = access.request_get_for(self.actor, request_id, action="download_subject_access")
        handle = services.pack_open(actor=self.actor, request=found)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"subject-access-{found.pk}.zip",
            content_type="application/zip",
        )


class RestrictionView(ActorMixin, APIView):
    """Restrict the processing of a person's data (no new shares, referrals or programme
    referrals; 409 on each), or lift the restriction. Both need a reason."""

    def _person(self, person_id, action: str):
        return case_access.person_for_manager(
            self.actor, person_id, action=action, message=RESTRICT_REFUSAL
        )

    @extend_schema(
        request=RestrictionReasonSerializer,
        responses={201: RestrictionSerializer, **errors(400, 403, 404, 409)},
        summary="Restrict the processing of a person's data",
    )
    def post(self, request, person_id):
        person = self._person(person_id, "restrict_processing")
        placed = case_services.processing_restrict(
            actor=self.actor, person=person, reason=_reason(request)
        )
        return Response(RestrictionSerializer(placed).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RestrictionReasonSerializer,
        responses={200: RestrictionSerializer, **errors(400, 403, 404)},
        summary="Lift the restriction of processing",
        description='Send the reason as a JSON body, `{"reason": "..."}`, as for placing '
        "it (400 without one). 404 when the person's processing is not restricted.",
    )
    def delete(self, request, person_id):
        person = self._person(person_id, "lift_restriction")
        lifted = case_services.processing_lift(
            actor=self.actor, person=person, reason=_reason(request)
        )
        return Response(RestrictionSerializer(lifted).data)
