from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AccessLog
from cases import access, agreements, retention, services
from cases.api.serializers import (
    AccessLogSerializer,
    AgreementSerializer,
    CaseCreateSerializer,
    CaseHistorySerializer,
    CaseSerializer,
    CaseUpdateSerializer,
    ConsentCreateSerializer,
    ConsentSerializer,
    LegalHoldCreateSerializer,
    LegalHoldSerializer,
    PersonMatchRequestSerializer,
    PersonMatchResponseSerializer,
    PersonSerializer,
    PersonUpdateSerializer,
    PersonWriteSerializer,
    RelationshipCreateSerializer,
    RelationshipSerializer,
    RetentionDecisionResultSerializer,
    RetentionDecisionSerializer,
    RetentionDueSerializer,
    ShareCreateSerializer,
    ShareSerializer,
    TransitionSerializer,
)
from cases.identifiers import Scheme
from cases.matching import find_matches
from cases.models import (
    Case,
    CaseStatus,
    DataSharingAgreement,
    Person,
    Relationship,
    RiskLevel,
    Share,
)
from cases.search import cases_matching, people_matching
from core.api.concurrency import expected_version, if_match_version, with_etag
from core.api.filters import UpdatedSinceFilterSet
from core.api.pagination import CursorPagination
from core.errors import NotFound, ValidationFailed
from partners.api.mixins import ActorMixin, VisibleListMixin
from partners.models import Partner, User


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PersonFilter(UpdatedSinceFilterSet):
    q = django_filters.CharFilter(
        method="search", help_text="Name (any part) or an identifier value."
    )

    class Meta:
        model = Person
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(pk__in=people_matching(value))


class PeopleView(VisibleListMixin, generics.ListCreateAPIView):
    model = Person
    serializer_class = PersonSerializer
    filterset_class = PersonFilter

    def visible_queryset(self):
        return access.with_contact_safety_shown(
            self.actor, access.persons_visible_to(self.actor)
        ).prefetch_related("identifiers")

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        access.log_person_access(self.actor, page, action="list")
        body = self.get_serializer(page, many=True).data
        access.log_contact_safety_read(
            self.actor, [p for p, row in zip(page, body, strict=True) if "contact_safety" in row]
        )
        return self.get_paginated_response(body)

    @extend_schema(request=PersonWriteSerializer, responses={201: PersonSerializer})
    def post(self, request, *args, **kwargs):
        data = _valid(PersonWriteSerializer, request.data)
        identifiers = data.pop("identifiers", [])
        person = services.person_create(actor=self.actor, data=data, identifiers=identifiers)
        body = PersonSerializer(person, context=self.get_serializer_context()).data
        return with_etag(Response(body, status=status.HTTP_201_CREATED), person)


class PersonDetailView(ActorMixin, APIView):
    @extend_schema(responses=PersonSerializer)
    def get(self, request, person_id):
        person = access.person_get_for(self.actor, person_id)
        body = PersonSerializer(person, context={"actor": self.actor}).data
        if "contact_safety" in body:
            access.log_contact_safety_read(self.actor, [person])
        return with_etag(Response(body), person)

    @extend_schema(
        request=PersonUpdateSerializer,
        responses=PersonSerializer,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
    )
    def patch(self, request, person_id):
        person = access.person_get_for(self.actor, person_id, log_as=None)
        version = expected_version(request, person)
        data = _valid(PersonUpdateSerializer, request.data, partial=True)
        identifiers = data.pop("identifiers", None)
        contact_safety = data.pop("contact_safety", None)
        person = services.person_update(
            actor=self.actor,
            person=person,
            expected_version=version,
            data=data,
            identifiers=identifiers,
            contact_safety=contact_safety,
        )
        return with_etag(
            Response(PersonSerializer(person, context={"actor": self.actor}).data), person
        )


class PersonByIdentifierView(ActorMixin, APIView):
    @extend_schema(
        request=PersonWriteSerializer,
        responses={200: PersonSerializer, 201: PersonSerializer},
        parameters=[
            OpenApiParameter("scheme", str, OpenApiParameter.PATH, enum=Scheme.values),
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                description="Required when the person exists.",
            ),
        ],
        summary="Create or update the person holding this identifier",
    )
    def put(self, request, scheme, value):
        data = _valid(PersonWriteSerializer, request.data, partial=True)
        data.pop("identifiers", None)
        version = if_match_version(request)
        person, created = services.person_upsert_by_identifier(
            actor=self.actor, scheme=scheme, value=value, data=data, expected_version=version
        )
        body = PersonSerializer(person, context={"actor": self.actor}).data
        return with_etag(Response(body, status=201 if created else 200), person)


class PersonMatchesView(ActorMixin, APIView):
    # A read: its answer must follow what the caller may see now, so it is never replayed.
    idempotency_stores_response = False

    @extend_schema(request=PersonMatchRequestSerializer, responses=PersonMatchResponseSerializer)
    def post(self, request):
        data = _valid(PersonMatchRequestSerializer, request.data)
        if not (data.get("identifiers") or (data.get("family_name") and data.get("date_of_birth"))):
            raise ValidationFailed(
                "Give at least one identifier, or a family name and a date of birth.",
                fields={"identifiers": ["or family_name and date_of_birth"]},
            )
        matches, hidden = find_matches(
            actor=self.actor,
            given_name=data.get("given_name", ""),
            family_name=data.get("family_name", ""),
            date_of_birth=data.get("date_of_birth"),
            identifiers=data.get("identifiers", []),
        )
        context = {"actor": self.actor}
        results = [
            {
                "person": PersonSerializer(m.person, context=context).data,
                "score": m.score,
                "reason": m.reason,
            }
            for m in matches
        ]
        return Response({"results": results, "hidden_matches": hidden})


class CaseFilter(UpdatedSinceFilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices)
    lead_partner = django_filters.CharFilter(field_name="lead_partner__slug")
    subject = django_filters.UUIDFilter(field_name="subject_id")
    q = django_filters.CharFilter(method="search", help_text="Reference, or the subject's name.")

    class Meta:
        model = Case
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(cases_matching(value))


class CasesView(VisibleListMixin, generics.ListCreateAPIView):
    model = Case
    serializer_class = CaseSerializer
    filterset_class = CaseFilter

    def visible_queryset(self):
        return (
            access.cases_visible_to(self.actor)
            .select_related("lead_partner")
            .prefetch_related("household")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        access.log_case_list(self.actor, page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer})
    def post(self, request, *args, **kwargs):
        data = _valid(CaseCreateSerializer, request.data)
        subject = _visible_person(self.actor, data.pop("subject"), "subject")
        household = [_visible_person(self.actor, pid, "household") for pid in data.pop("household")]
        case = services.case_create(
            actor=self.actor, subject=subject, household=household, data=data
        )
        return with_etag(Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED), case)


def _visible_person(actor, person_id, field):
    try:
        return access.person_get_for(actor, person_id, log_as=None)
    except NotFound:
        raise ValidationFailed(
            "No person you can see has that id.", fields={field: ["unknown person"]}
        ) from None


class CaseDetailView(ActorMixin, APIView):
    @extend_schema(responses=CaseSerializer)
    def get(self, request, case_id):
        case = access.case_get_for(self.actor, case_id)
        return with_etag(Response(CaseSerializer(case).data), case)

    @extend_schema(
        request=CaseUpdateSerializer,
        responses=CaseSerializer,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
    )
    def patch(self, request, case_id):
        case = access.case_get_for(self.actor, case_id, access.CHANGE, log_as=None)
        version = expected_version(request, case)
        data = _valid(CaseUpdateSerializer, request.data)
        reason = data.pop("reason", "")
        if "lead_practitioner" in data and data["lead_practitioner"] is not None:
            data["lead_practitioner"] = (
                User.objects.filter(pk=data["lead_practitioner"])
                .select_related("membership")
                .first()
            )
            if data["lead_practitioner"] is None:
                raise ValidationFailed(
                    "No such user.", fields={"lead_practitioner": ["unknown user"]}
                )
        case = services.case_update(
            actor=self.actor, case=case, expected_version=version, data=data, reason=reason
        )
        return with_etag(Response(CaseSerializer(case).data), case)


class CaseTransitionView(ActorMixin, APIView):
    @extend_schema(request=TransitionSerializer, responses=CaseSerializer)
    def post(self, request, case_id):
        case = access.case_get_for(self.actor, case_id, access.CHANGE, log_as=None)
        data = _valid(TransitionSerializer, request.data)
        case = services.case_transition(actor=self.actor, case=case, **data)
        return with_etag(Response(CaseSerializer(case).data), case)


class CaseSharesView(ActorMixin, APIView):
    @extend_schema(responses=ShareSerializer(many=True))
    def get(self, request, case_id):
        case = access.case_get_for(self.actor, case_id, log_as="view_shares")
        shares = Share.objects.filter(case=case).select_related("partner").order_by("shared_at")
        return Response({"results": ShareSerializer(shares, many=True).data, "next": None})

    @extend_schema(request=ShareCreateSerializer, responses={201: ShareSerializer})
    def post(self, request, case_id):
        case = access.case_get_for(self.actor, case_id, access.SHARE, log_as=None)
        data = _valid(ShareCreateSerializer, request.data)
        partner = Partner.objects.filter(slug=data.pop("partner")).first()
        if partner is None:
            raise ValidationFailed(
                "There is no partner with that slug.", fields={"partner": ["unknown partner"]}
            )
        share = services.case_share(actor=self.actor, case=case, partner=partner, **data)
        return Response(ShareSerializer(share).data, status=status.HTTP_201_CREATED)


class CaseShareDetailView(ActorMixin, APIView):
    @extend_schema(responses={204: OpenApiResponse(description="Share revoked")})
    def delete(self, request, case_id, partner_slug):
        case = access.case_get_for(self.actor, case_id, access.SHARE, log_as=None)
        partner = Partner.objects.filter(slug=partner_slug).first()
        if partner is None:
            raise NotFound(f"This case is not shared with '{partner_slug}'.")
        services.share_revoke(
            actor=self.actor,
            case=case,
            partner=partner,
            reason=request.query_params.get("reason", ""),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccessLogPagination(CursorPagination):
    ordering = ("-at", "-id")


class CaseAccessLogView(VisibleListMixin, generics.ListAPIView):
    """Who accessed this case: who, for which partner, what kind of record and its id, why they
    could, when, and whether it was allowed (refused attempts too). Never what the records say.
    The lead partner's managers and auditors and the partnership's auditors read every row;
    another partner's auditor reads the rows about their own partner's staff."""

    model = AccessLog
    serializer_class = AccessLogSerializer
    pagination_class = AccessLogPagination
    filter_backends: list = []

    def visible_queryset(self):
        case = access.case_for_access_log(self.actor, self.kwargs["case_id"])
        return access.case_access_log_rows(self.actor, case).select_related("user", "partner")


class AgreementFilter(UpdatedSinceFilterSet):
    active = django_filters.BooleanFilter(
        method="filter_active", help_text="Only agreements new shares may rely on today (or not)."
    )

    class Meta:
        model = DataSharingAgreement
        fields = ["status", "lawful_basis"]

    def filter_active(self, queryset, name, value):
        in_force = agreements.in_force_q(timezone.localdate())
        return queryset.filter(in_force) if value else queryset.exclude(in_force)


class AgreementsView(VisibleListMixin, generics.ListAPIView):
    """Agreements the caller's partner is party to. Not personal data, so not access-logged."""

    model = DataSharingAgreement
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter

    def visible_queryset(self):
        return DataSharingAgreement.objects.filter(parties=self.actor.partner).prefetch_related(
            "parties"
        )


class PersonRelationshipsView(ActorMixin, APIView):
    """Relationships between people both visible to the caller (adversity is household-wide)."""

    @extend_schema(responses=RelationshipSerializer(many=True))
    def get(self, request, person_id):
        person = access.person_get_for(self.actor, person_id, log_as="view_relationships")
        visible = access.persons_visible_to(self.actor)
        relationships = Relationship.objects.filter(
            Q(person=person, related_to__in=visible) | Q(related_to=person, person__in=visible)
        ).order_by("created_at")
        return Response(
            {"results": RelationshipSerializer(relationships, many=True).data, "next": None}
        )

    @extend_schema(request=RelationshipCreateSerializer, responses={201: RelationshipSerializer})
    def post(self, request, person_id):
        person = access.person_get_for(self.actor, person_id, log_as=None)
        data = _valid(RelationshipCreateSerializer, request.data)
        related_to = _visible_person(self.actor, data.pop("related_to"), "related_to")
        relationship = services.relationship_add(
            actor=self.actor, person=person, related_to=related_to, **data
        )
        return Response(RelationshipSerializer(relationship).data, status=status.HTTP_201_CREATED)


class CaseConsentsView(ActorMixin, APIView):
    @extend_schema(responses=ConsentSerializer(many=True))
    def get(self, request, case_id):
        case = access.case_get_for(self.actor, case_id, log_as="view_consents")
        consents = case.consents.order_by("recorded_at")
        return Response({"results": ConsentSerializer(consents, many=True).data, "next": None})

    @extend_schema(request=ConsentCreateSerializer, responses={201: ConsentSerializer})
    def post(self, request, case_id):
        case = access.case_get_for(self.actor, case_id, log_as=None)
        data = _valid(ConsentCreateSerializer, request.data)
        person = _visible_person(self.actor, data.pop("person"), "person")
        consent = services.consent_record(actor=self.actor, case=case, person=person, **data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class CaseHistoryView(ActorMixin, APIView):
    @extend_schema(responses=CaseHistorySerializer(many=True))
    def get(self, request, case_id):
        case = access.case_get_for(self.actor, case_id, log_as="view_history")
        history = case.history.select_related("partner").order_by("version")
        return Response({"results": CaseHistorySerializer(history, many=True).data, "next": None})


# Retention and legal holds (cases/retention.py; docs/information-governance.md).


class RetentionDuePagination(CursorPagination):
    ordering = ("retention_until", "id")


class RetentionDueView(VisibleListMixin, generics.ListAPIView):
    """Closed cases your partner leads whose retention date has come, oldest first: extend or
    dispose of each (`POST /api/v1/cases/{id}/retention`). For managers; ids and dates only."""

    model = Case
    serializer_class = RetentionDueSerializer
    pagination_class = RetentionDuePagination
    filter_backends: list = []

    def visible_queryset(self):
        if not access.reviews_retention(self.actor):
            access.refuse(
                self.actor, action="list_retention_due", object_type="case", object_id=None,
                reason="role", message="Only managers review retention.",
            )  # fmt: skip
        return retention.retention_due(self.actor)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        access.log_case_list(self.actor, page, action="list_retention_due")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CaseRetentionView(ActorMixin, APIView):
    @extend_schema(
        request=RetentionDecisionSerializer,
        responses=RetentionDecisionResultSerializer,
        summary="Extend a closed case's retention, or dispose of it",
        description="`extend` needs a `reason` and a later, future `until`. `dispose` deletes a "
        "closed case not under a legal hold, and everything in it, at once (200): an open case "
        "or a held one is 409. Whoever could see it is told `deleted` in the change feed. The "
        "lead partner's managers only.",
    )
    def post(self, request, case_id):
        case = access.case_for_governance(
            self.actor, case_id, access.can_decide_retention, action="retention_decision"
        )
        data = _valid(RetentionDecisionSerializer, request.data)
        if data["decision"] == "extend":
            case = retention.retention_extend(
                actor=self.actor, case=case, until=data["until"], reason=data["reason"]
            )
            body = {
                "id": case.pk, "reference": case.reference, "decision": "extend",
                "retention_until": case.retention_until, "disposed_at": None, "deleted": None,
                "subject_deleted": None,
            }  # fmt: skip
        else:
            disposal = retention.case_dispose(actor=self.actor, case=case)
            body = {
                "id": disposal.case_id, "reference": disposal.reference, "decision": "dispose",
                "retention_until": None, "disposed_at": disposal.disposed_at,
                "deleted": disposal.summary.counts,
                "subject_deleted": disposal.summary.subject_deleted,
            }  # fmt: skip
        return Response(RetentionDecisionResultSerializer(body).data)


class CaseLegalHoldView(ActorMixin, APIView):
    """A legal hold stops a case's disposal: the lead partner's managers and the partnership's
    auditors place and lift it."""

    @extend_schema(request=LegalHoldCreateSerializer, responses={201: LegalHoldSerializer})
    def post(self, request, case_id):
        case = access.case_for_governance(
            self.actor, case_id, access.can_hold, action="place_legal_hold"
        )
        data = _valid(LegalHoldCreateSerializer, request.data)
        hold = retention.legal_hold_place(actor=self.actor, case=case, reason=data["reason"])
        return Response(LegalHoldSerializer(hold).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: OpenApiResponse(description="Legal hold lifted")})
    def delete(self, request, case_id):
        case = access.case_for_governance(
            self.actor, case_id, access.can_hold, action="lift_legal_hold"
        )
        retention.legal_hold_lift(actor=self.actor, case=case)
        return Response(status=status.HTTP_204_NO_CONTENT)
