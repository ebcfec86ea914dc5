from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import Access, access_record
from cases import access as case_access
from core.api.concurrency import _ETAG, expected_version, with_etag
from core.api.filters import UpdatedSinceFilterSet
from core.api.pagination import CursorPagination
from core.errors import NotFound, PreconditionFailed, ValidationFailed
from partners.actor import request_actor
from partners.api.mixins import ActorMixin, VisibleListMixin
from partners.models import User
from programmes import access, selectors, services
from programmes.api.serializers import (
    EnrolmentSerializer,
    EnrolmentTransitionRequestSerializer,
    EnrolmentTransitionSerializer,
    EnrolmentUpdateSerializer,
    MilestoneCreateSerializer,
    MilestoneSerializer,
    OfferNextSerializer,
    ProgrammeReferralSerializer,
    ProgrammeSerializer,
    ProgrammeUpdateSerializer,
    SessionCreateSerializer,
    SessionSerializer,
)
from programmes.models import (
    OPEN,
    Enrolment,
    EnrolmentSession,
    EnrolmentStatus,
    Milestone,
    Programme,
)

IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="Optional: the ETag you decided on; 412 if the enrolment changed since.",
)


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _optional_version(request) -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        return None
    match = _ETAG.match(header)
    if not match:
        raise PreconditionFailed('If-Match must be an ETag you read, such as "3".')
    return int(match.group(1))


# Programmes


class ProgrammeFilter(UpdatedSinceFilterSet):
    active = django_filters.BooleanFilter()

    class Meta:
        model = Programme
        fields = ["active"]


class ProgrammePagination(CursorPagination):
    ordering = ("slug",)


class ProgrammesView(VisibleListMixin, generics.ListAPIView):
    """Programmes with eligibility, capacity and intake fields. Configuration, not personal data:
    every caller may read it."""

    model = Programme
    serializer_class = ProgrammeSerializer
    filterset_class = ProgrammeFilter
    pagination_class = ProgrammePagination

    def visible_queryset(self):
        return selectors.programme_list(actor=self.actor)


class ProgrammeDetailView(ActorMixin, APIView):
    @extend_schema(responses=ProgrammeSerializer)
    def get(self, request, slug):
        programme = selectors.programme_detail(actor=self.actor, slug=slug)
        return with_etag(Response(ProgrammeSerializer(programme).data), programme)

    @extend_schema(
        request=ProgrammeUpdateSerializer,
        responses=ProgrammeSerializer,
        parameters=[IF_MATCH],
        summary="Change a programme's configuration (its coordinators, or an administrator)",
    )
    def patch(self, request, slug):
        programme = access.programme_get(slug)
        access.check_can_configure(self.actor, programme)
        version = expected_version(request, programme)
        data = _valid(ProgrammeUpdateSerializer, request.data)
        services.programme_update(
            actor=self.actor, programme=programme, expected_version=version, data=data
        )
        programme = selectors.programme_detail(actor=self.actor, slug=slug)
        return with_etag(Response(ProgrammeSerializer(programme).data), programme)


def _visible_case(actor, case_id):
    try:
        return case_access.case_get_for(actor, case_id, log_as=None)
    except NotFound:
        raise ValidationFailed(
            "No case you can see has that id.", fields={"case": ["unknown case"]}
        ) from None


def _visible_person(actor, person_id):
    try:
        return case_access.person_get_for(actor, person_id, log_as=None)
    except NotFound:
        raise ValidationFailed(
            "No person you can see has that id.", fields={"person": ["unknown person"]}
        ) from None


def _enrolment_response(actor, enrolment_id, status_code=200):
    # Read back through access so `case_visible` and `coordinated` are the actor's own view.
    enrolment = access.enrolment_get_for(actor, enrolment_id, log_as=None)
    body = EnrolmentSerializer(enrolment, context={"actor": actor}).data
    return with_etag(Response(body, status=status_code), enrolment)


class ProgrammeReferralsView(ActorMixin, APIView):
    @extend_schema(
        request=ProgrammeReferralSerializer,
        responses={201: EnrolmentSerializer},
        summary="Refer a person (and case) into the programme: an enrolment in `referred`",
    )
    def post(self, request, slug):
        programme = access.programme_get(slug)
        data = _valid(ProgrammeReferralSerializer, request.data)
        case = _visible_case(self.actor, data["case"])
        person = _visible_person(self.actor, data["person"])
        enrolment = services.enrolment_create(
            actor=self.actor,
            programme=programme,
            person=person,
            case=case,
            details=data["details"],
            priority=data["priority"],
        )
        return _enrolment_response(self.actor, enrolment.pk, status.HTTP_201_CREATED)


class EnrolmentFilter(UpdatedSinceFilterSet):
    programme = django_filters.CharFilter(field_name="programme__slug", help_text="Programme slug.")
    status = django_filters.MultipleChoiceFilter(
        choices=EnrolmentStatus.choices, help_text="Repeat for several."
    )
    person = django_filters.UUIDFilter(field_name="person_id")
    case = django_filters.UUIDFilter(field_name="case_id")
    key_worker = django_filters.ChoiceFilter(
        choices=[("me", "me")],
        method="filter_key_worker",
        help_text="`me`: your caseload, the enrolments you are key worker for (coach or "
        "mentor), each with `caseload` (last session, next check-in, overdue check-ins).",
    )

    class Meta:
        model = Enrolment
        fields: list[str] = []

    def filter_key_worker(self, queryset, name, value):
        actor = request_actor(self.request)
        if actor is None or actor.user is None:
            return queryset.none()
        return selectors.with_caseload_facts(queryset.filter(key_worker_id=actor.user.pk))


class IntakeFilter(UpdatedSinceFilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=[(s.value, s.label) for s in OPEN],
        help_text="Open statuses only; `waitlisted` gives the waiting list in order.",
    )

    class Meta:
        model = Enrolment
        fields: list[str] = []


class IntakePagination(CursorPagination):
    ordering = selectors.QUEUE_ORDER


class _LoggedEnrolmentList(VisibleListMixin, generics.ListAPIView):
    model = Enrolment
    serializer_class = EnrolmentSerializer
    log_action = "list"

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        access.log_enrolment_access(self.actor, page, action=self.log_action)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class EnrolmentsView(_LoggedEnrolmentList):
    """Enrolments you may see: of programmes you coordinate, or on cases you can see."""

    filterset_class = EnrolmentFilter

    def visible_queryset(self):
        return selectors.enrolment_list(actor=self.actor).select_related("referred_by_partner")


class ProgrammeIntakeView(_LoggedEnrolmentList):
    """The programme's intake queue, in waiting-list order (priority, then referral time), with
    the minimum person information intake needs. Its coordinators only; 404 for anyone else."""

    filterset_class = IntakeFilter
    pagination_class = IntakePagination
    log_action = "list_intake"

    def visible_queryset(self):
        programme = access.programme_for_intake(self.actor, self.kwargs["slug"])
        return selectors.intake_queue(actor=self.actor, programme=programme).select_related(
            "referred_by_partner"
        )


class ProgrammeOfferNextView(ActorMixin, APIView):
    @extend_schema(
        request=OfferNextSerializer,
        responses=EnrolmentSerializer,
        summary="Offer a free place to the head of the waiting list (coordinators)",
    )
    def post(self, request, slug):
        programme = access.programme_for_intake(self.actor, slug, action="offer_next")
        data = _valid(OfferNextSerializer, request.data)
        enrolment = services.programme_offer_next(
            actor=self.actor, programme=programme, reason=data["reason"]
        )
        return _enrolment_response(self.actor, enrolment.pk)


class EnrolmentDetailView(ActorMixin, APIView):
    @extend_schema(responses=EnrolmentSerializer)
    def get(self, request, enrolment_id):
        enrolment = access.enrolment_get_for(self.actor, enrolment_id)
        body = EnrolmentSerializer(enrolment, context={"actor": self.actor}).data
        return with_etag(Response(body), enrolment)

    @extend_schema(
        request=EnrolmentUpdateSerializer, responses=EnrolmentSerializer, parameters=[IF_MATCH]
    )
    def patch(self, request, enrolment_id):
        enrolment = access.enrolment_get_for(self.actor, enrolment_id, log_as=None)
        version = expected_version(request, enrolment)
        data = _valid(EnrolmentUpdateSerializer, request.data)
        reason = data.pop("reason", "")
        if data.get("key_worker") is not None:
            data["key_worker"] = User.objects.filter(pk=data["key_worker"]).first()
            if data["key_worker"] is None:
                raise ValidationFailed("No such user.", fields={"key_worker": ["unknown user"]})
        services.enrolment_update(
            actor=self.actor,
            enrolment=enrolment,
            expected_version=version,
            data=data,
            reason=reason,
        )
        return _enrolment_response(self.actor, enrolment.pk)


class EnrolmentTransitionsView(ActorMixin, APIView):
    @extend_schema(
        responses=EnrolmentTransitionSerializer(many=True),
        summary="The enrolment's history: every move, why, and who",
    )
    def get(self, request, enrolment_id):
        enrolment = access.enrolment_get_for(self.actor, enrolment_id, log_as="view_history")
        history = enrolment.transitions.select_related("partner").order_by("at", "id")
        return Response(
            {"results": EnrolmentTransitionSerializer(history, many=True).data, "next": None}
        )

    @extend_schema(
        request=EnrolmentTransitionRequestSerializer,
        responses=EnrolmentSerializer,
        parameters=[IF_MATCH_OPTIONAL],
        summary="Move the enrolment along the intake workflow (409 if illegal or full)",
    )
    def post(self, request, enrolment_id):
        enrolment = access.enrolment_get_for(self.actor, enrolment_id, log_as=None)
        version = _optional_version(request)
        data = _valid(EnrolmentTransitionRequestSerializer, request.data)
        services.enrolment_transition(
            actor=self.actor, enrolment=enrolment, expected_version=version, **data
        )
        return _enrolment_response(self.actor, enrolment.pk)


class SessionFilter(UpdatedSinceFilterSet):
    class Meta:
        model = EnrolmentSession
        fields = ["attendance", "kind"]


class SessionPagination(CursorPagination):
    ordering = ("-occurred_at", "-id")


def _log_children(actor, enrolment, items, object_type):
    access_record(
        actor=actor,
        action="list",
        accesses=[
            Access(
                object_type,
                item.pk,
                case_id=enrolment.case_id,
                person_id=enrolment.person_id,
                justification=access.justification(enrolment),
            )
            for item in items
        ],
    )


class EnrolmentSessionsView(VisibleListMixin, generics.ListCreateAPIView):
    """Sessions and attendance, for anyone who can see the enrolment."""

    model = EnrolmentSession
    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    pagination_class = SessionPagination

    def enrolment(self, log_as=None):
        return access.enrolment_get_for(self.actor, self.kwargs["enrolment_id"], log_as=log_as)

    def visible_queryset(self):
        self._enrolment = self.enrolment()
        return EnrolmentSession.objects.filter(enrolment=self._enrolment).select_related("partner")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        _log_children(self.actor, self._enrolment, page, "enrolment_session")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionSerializer})
    def post(self, request, *args, **kwargs):
        enrolment = self.enrolment()
        data = _valid(SessionCreateSerializer, request.data)
        session = services.session_create(actor=self.actor, enrolment=enrolment, **data)
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)


class MilestoneFilter(UpdatedSinceFilterSet):
    class Meta:
        model = Milestone
        fields = ["code"]


class MilestonePagination(CursorPagination):
    ordering = ("-created_at", "-id")


class EnrolmentMilestonesView(VisibleListMixin, generics.ListCreateAPIView):
    """Milestones reached (entered employment, completed placement, release home, ...)."""

    model = Milestone
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter
    pagination_class = MilestonePagination

    def enrolment(self):
        return access.enrolment_get_for(self.actor, self.kwargs["enrolment_id"], log_as=None)

    def visible_queryset(self):
        self._enrolment = self.enrolment()
        return Milestone.objects.filter(enrolment=self._enrolment).select_related("partner")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        _log_children(self.actor, self._enrolment, page, "milestone")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=MilestoneCreateSerializer, responses={201: MilestoneSerializer})
    def post(self, request, *args, **kwargs):
        enrolment = self.enrolment()
        data = _valid(MilestoneCreateSerializer, request.data)
        milestone = services.milestone_create(actor=self.actor, enrolment=enrolment, **data)
        return Response(MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)
