from __future__ import annotations

import uuid
from dataclasses import asdict

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import access as case_access
from casework import access, selectors, services, vocabularies
from casework.api.serializers import (
    ActionCreateSerializer,
    ActionSerializer,
    ActionUpdateSerializer,
    AdversityCreateSerializer,
    AdversitySerializer,
    AmendmentSerializer,
    BreakGlassDecisionSerializer,
    BreakGlassRequestSerializer,
    BreakGlassSerializer,
    EntryAmendSerializer,
    EntryCreateSerializer,
    EntrySerializer,
    PartnerSlugSerializer,
    ReferralCreateSerializer,
    ReferralIntakeResponseSerializer,
    ReferralSerializer,
    ScreeningAnswerSerializer,
    ScreeningCreateSerializer,
    ScreeningSerializer,
    VocabularyIndexSerializer,
    VocabularySerializer,
)
from casework.models import (
    Action,
    ActionStatus,
    AdversityRecord,
    AdversitySource,
    ChronologyEntry,
    EntryKind,
    EntryVisibility,
    Referral,
    Screening,
    Urgency,
)
from core.api.concurrency import expected_version, with_etag
from core.api.filters import UpdatedSinceFilterSet, UtcIsoDateTimeFilter
from core.api.pagination import CursorPagination
from core.errors import NotFound, ValidationFailed
from partners.actor import request_actor
from partners.api.mixins import ActorMixin, VisibleListMixin
from partners.models import Partner, User

IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _partners(slugs, field: str) -> list[Partner]:
    slugs = list(dict.fromkeys(slugs))
    found = {p.slug: p for p in Partner.objects.filter(slug__in=slugs, active=True)}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise ValidationFailed(
            "There is no active partner with that slug.",
            fields={field: [f"unknown partner {s}" for s in unknown]},
        )
    return [found[s] for s in slugs]


def _partner(slug, field: str) -> Partner | None:
    return None if slug is None else _partners([slug], field)[0]


def _users(ids, field: str) -> list[User]:
    ids = list(dict.fromkeys(ids))
    found = {u.pk: u for u in User.objects.filter(pk__in=ids).select_related("membership")}
    unknown = [str(i) for i in ids if i not in found]
    if unknown:
        raise ValidationFailed(
            "No such user.", fields={field: [f"unknown user {i}" for i in unknown]}
        )
    return [found[i] for i in ids]


def _user(user_id, field: str) -> User | None:
    return None if user_id is None else _users([user_id], field)[0]


def _visible_case(view, *, log_as: str | None = None):
    """The case in the URL, if the actor can see it (a 404, logged, if not)."""
    case = getattr(view, "_case", None)
    if case is None:
        case = case_access.case_get_for(view.actor, view.kwargs["case_id"], log_as=log_as)
        view._case = case
    return case


# Chronology


class EntryPagination(CursorPagination):
    ordering = ("-occurred_at", "-id")


class EntryFilter(UpdatedSinceFilterSet):
    kind = django_filters.ChoiceFilter(choices=EntryKind.choices)
    visibility = django_filters.ChoiceFilter(choices=EntryVisibility.choices)
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    case = django_filters.UUIDFilter(field_name="case_id")
    q = django_filters.CharFilter(
        method="search", help_text="Words in the entry (only entries you may see are searched)."
    )

    class Meta:
        model = ChronologyEntry
        fields: list[str] = []

    def search(self, queryset, name, value):
        for word in value.split()[:6]:
            queryset = queryset.filter(body__icontains=word)
        return queryset


def _entries(queryset, actor):
    # Each entry's history as this actor may see it (a widened entry keeps its past narrow).
    return queryset.select_related("case", "partner").prefetch_related(
        "named_users",
        Prefetch(
            "amendments",
            queryset=access.amendments_visible_to(actor).select_related("partner"),
        ),
    )


class _EntryListMixin(VisibleListMixin):
    model = ChronologyEntry
    serializer_class = EntrySerializer
    filterset_class = EntryFilter
    pagination_class = EntryPagination

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        action = "search" if request.query_params.get("q") else "list"
        access.log_records(self.actor, "entry", page, action=action)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CaseEntriesView(_EntryListMixin, generics.ListCreateAPIView):
    """The case's chronology: everything on it you may see, in one list (tell-it-once)."""

    def visible_queryset(self):
        return _entries(access.entries_visible_to(self.actor, _visible_case(self)), self.actor)

    @extend_schema(request=EntryCreateSerializer, responses={201: EntrySerializer})
    def post(self, request, case_id):
        case = _visible_case(self)
        data = _valid(EntryCreateSerializer, request.data)
        data["named_users"] = _users(data.get("named_users", []), "named_users")
        entry = services.entry_create(actor=self.actor, case=case, **data)
        entry = _entries(ChronologyEntry.objects.filter(pk=entry.pk), self.actor).get()
        return with_etag(Response(EntrySerializer(entry).data, status=201), entry)


class EntriesView(_EntryListMixin, generics.ListAPIView):
    """Chronology entries on every case you can see, filtered and searched within what you may see."""

    def visible_queryset(self):
        return _entries(access.entries_visible_to(self.actor), self.actor)


class EntryDetailView(ActorMixin, APIView):
    @extend_schema(responses=EntrySerializer)
    def get(self, request, entry_id):
        entry = access.entry_get_for(self.actor, entry_id)
        entry = _entries(ChronologyEntry.objects.filter(pk=entry.pk), self.actor).get()
        return with_etag(Response(EntrySerializer(entry).data), entry)

    @extend_schema(
        request=EntryAmendSerializer,
        responses=EntrySerializer,
        parameters=[IF_MATCH],
        summary="Correct an entry: the original is kept as an amendment",
    )
    def patch(self, request, entry_id):
        entry = access.entry_get_for(self.actor, entry_id, log_as=None)
        version = expected_version(request, entry)
        data = _valid(EntryAmendSerializer, request.data)
        reason = data.pop("reason")
        if "named_users" in data:
            data["named_users"] = _users(data["named_users"], "named_users")
        entry = services.entry_amend(
            actor=self.actor, entry=entry, expected_version=version, reason=reason, data=data
        )
        entry = _entries(ChronologyEntry.objects.filter(pk=entry.pk), self.actor).get()
        return with_etag(Response(EntrySerializer(entry).data), entry)


class EntryAmendmentsView(ActorMixin, APIView):
    @extend_schema(
        responses=AmendmentSerializer(many=True),
        summary="An entry's corrections, oldest first, each with what it said before",
    )
    def get(self, request, entry_id):
        entry = access.entry_get_for(self.actor, entry_id, log_as="view_amendments")
        amendments = access.amendments_visible_to(self.actor, entry).select_related("partner")
        return Response({"results": AmendmentSerializer(amendments, many=True).data, "next": None})


# Adversities and protective factors


class AdversityFilter(UpdatedSinceFilterSet):
    code = django_filters.CharFilter()
    source = django_filters.ChoiceFilter(choices=AdversitySource.choices)
    sensitive = django_filters.BooleanFilter()

    class Meta:
        model = AdversityRecord
        fields: list[str] = []


class AdversityPagination(CursorPagination):
    ordering = ("-recorded_at", "-id")


def _adversities(queryset):
    return queryset.select_related("case", "partner").prefetch_related("shared_with")


class CaseAdversitiesView(VisibleListMixin, generics.ListCreateAPIView):
    model = AdversityRecord
    serializer_class = AdversitySerializer
    filterset_class = AdversityFilter
    pagination_class = AdversityPagination

    def visible_queryset(self):
        return _adversities(access.adversities_visible_to(self.actor, _visible_case(self)))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        access.log_records(self.actor, "adversity", page, action="list")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=AdversityCreateSerializer, responses={201: AdversitySerializer})
    def post(self, request, case_id):
        case = _visible_case(self)
        data = _valid(AdversityCreateSerializer, request.data)
        data["shared_with"] = _partners(data.get("shared_with", []), "shared_with")
        record = services.adversity_create(actor=self.actor, case=case, **data)
        record = _adversities(AdversityRecord.objects.filter(pk=record.pk)).get()
        return with_etag(Response(AdversitySerializer(record).data, status=201), record)


class AdversityDetailView(ActorMixin, APIView):
    @extend_schema(responses=AdversitySerializer)
    def get(self, request, adversity_id):
        record = access.adversity_get_for(self.actor, adversity_id)
        record = _adversities(AdversityRecord.objects.filter(pk=record.pk)).get()
        return with_etag(Response(AdversitySerializer(record).data), record)


class AdversitySharesView(ActorMixin, APIView):
    @extend_schema(
        request=PartnerSlugSerializer,
        responses={201: AdversitySerializer},
        summary="Let one more partner on the case see a sensitive record (recording partner only)",
    )
    def post(self, request, adversity_id):
        record = access.adversity_get_for(self.actor, adversity_id, log_as=None)
        partner = _partner(_valid(PartnerSlugSerializer, request.data)["partner"], "partner")
        record = services.adversity_share(actor=self.actor, record=record, partner=partner)
        record = _adversities(AdversityRecord.objects.filter(pk=record.pk)).get()
        return with_etag(Response(AdversitySerializer(record).data, status=201), record)


# Actions


class ActionFilter(UpdatedSinceFilterSet):
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices)
    owner = django_filters.CharFilter(
        method="by_owner", help_text="`me`, or a user id, or a partner slug."
    )
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(method="by_overdue")
    case = django_filters.UUIDFilter(field_name="case_id")

    class Meta:
        model = Action
        fields: list[str] = []

    def by_owner(self, queryset, name, value):
        if value == "me":
            actor = request_actor(self.request)
            if actor.user is None:
                return queryset.filter(owner_user__isnull=True, owner_partner=actor.partner)
            return queryset.filter(owner_user=actor.user)
        try:
            return queryset.filter(owner_user_id=uuid.UUID(value))
        except ValueError:
            return queryset.filter(owner_partner__slug=value)

    def by_overdue(self, queryset, name, value):
        overdue = {"status": ActionStatus.OPEN, "due_date__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class ActionPagination(CursorPagination):
    ordering = ("due_date", "id")


def _actions(queryset):
    return queryset.select_related("case", "owner_partner", "partner")


class _ActionListMixin(VisibleListMixin):
    model = Action
    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    pagination_class = ActionPagination

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        access.log_records(self.actor, "action", page, action="list")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CaseActionsView(_ActionListMixin, generics.ListCreateAPIView):
    def visible_queryset(self):
        return _actions(access.actions_visible_to(self.actor, _visible_case(self)))

    @extend_schema(request=ActionCreateSerializer, responses={201: ActionSerializer})
    def post(self, request, case_id):
        case = _visible_case(self)
        data = _valid(ActionCreateSerializer, request.data)
        data["owner_user"] = _user(data.get("owner_user"), "owner_user")
        data["owner_partner"] = _partner(data.get("owner_partner"), "owner_partner")
        action = services.action_create(actor=self.actor, case=case, **data)
        return with_etag(Response(ActionSerializer(action).data, status=201), action)


class ActionsView(_ActionListMixin, generics.ListAPIView):
    """Actions on every case you can see: `owner=me` is your own list."""

    def visible_queryset(self):
        return _actions(access.actions_visible_to(self.actor))


class ActionDetailView(ActorMixin, APIView):
    @extend_schema(responses=ActionSerializer)
    def get(self, request, action_id):
        action = access.action_get_for(self.actor, action_id)
        return with_etag(Response(ActionSerializer(action).data), action)

    @extend_schema(
        request=ActionUpdateSerializer, responses=ActionSerializer, parameters=[IF_MATCH]
    )
    def patch(self, request, action_id):
        action = access.action_get_for(self.actor, action_id, log_as=None)
        version = expected_version(request, action)
        data = _valid(ActionUpdateSerializer, request.data)
        if "owner_user" in data:
            data["owner_user"] = _user(data["owner_user"], "owner_user")
        if "owner_partner" in data:
            data["owner_partner"] = _partner(data["owner_partner"], "owner_partner")
        action = services.action_update(
            actor=self.actor, action=action, expected_version=version, data=data
        )
        return with_etag(Response(ActionSerializer(action).data), action)


# Referrals and joint screening


class ReferralFilter(UpdatedSinceFilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("awaiting_screening", "Awaiting screening"), ("screened", "Screened")],
        method="by_status",
    )
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    overdue = django_filters.BooleanFilter(method="by_overdue")
    source_partner = django_filters.CharFilter(field_name="source_partner__slug")
    case = django_filters.UUIDFilter(field_name="case_id")
    subject = django_filters.UUIDFilter(field_name="subject_id")
    received_after = UtcIsoDateTimeFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = Referral
        fields: list[str] = []

    def by_status(self, queryset, name, value):
        return queryset.filter(screened_at__isnull=value == "awaiting_screening")

    def by_overdue(self, queryset, name, value):
        overdue = {"screened_at__isnull": True, "screening_due_at__lt": timezone.now()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class ReferralPagination(CursorPagination):
    ordering = ("-received_at", "-id")


def _referrals(queryset, actor):
    return selectors.referrals_with_related(queryset, actor)


class ReferralsView(VisibleListMixin, generics.ListCreateAPIView):
    model = Referral
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    pagination_class = ReferralPagination

    def visible_queryset(self):
        return _referrals(access.referrals_visible_to(self.actor), self.actor)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        access.log_records(self.actor, "referral", page, action="list")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=ReferralCreateSerializer,
        responses={201: ReferralIntakeResponseSerializer},
        summary="Send a referral: matches its subject, opens or links a case in screening",
    )
    def post(self, request, *args, **kwargs):
        data = _valid(ReferralCreateSerializer, request.data)
        subject_id, person = data.pop("subject", None), data.pop("person", None)
        if subject_id and person:
            raise ValidationFailed(
                "Give `subject` or `person`, not both.", fields={"person": ["or subject"]}
            )
        subject = None
        if subject_id:
            try:
                subject = case_access.person_get_for(self.actor, subject_id, log_as=None)
            except NotFound:
                raise ValidationFailed(
                    "No person you can see has that id.", fields={"subject": ["unknown person"]}
                ) from None
        identifiers = (person or {}).pop("identifiers", [])
        ppn = {name: data.pop(name) for name in services.PPN_FIELDS}
        children = [
            self._household_child(index, child)
            for index, child in enumerate(data.pop("household_children"))
        ]
        intake = services.referral_create(
            actor=self.actor, subject=subject, person=person, identifiers=identifiers, ppn=ppn,
            household_children=children, **data,
        )  # fmt: skip
        referral = _referrals(Referral.objects.filter(pk=intake.referral.pk), self.actor).get()
        body = ReferralIntakeResponseSerializer(referral, context={"intake": intake}).data
        return with_etag(Response(body, status=status.HTTP_201_CREATED), referral)

    def _household_child(self, index: int, child: dict) -> services.HouseholdChild:
        person_id = child.pop("person", None)
        if person_id:
            try:
                person = case_access.person_get_for(self.actor, person_id, log_as=None)
            except NotFound:
                raise ValidationFailed(
                    "No person you can see has that id.",
                    fields={f"household_children.{index}.person": ["unknown person"]},
                ) from None
            return services.HouseholdChild(person=person)
        return services.HouseholdChild(
            identifiers=child.pop("identifiers", []),
            new_person=child.pop("new_person", False),
            details=child,
        )


class ReferralDetailView(ActorMixin, APIView):
    @extend_schema(responses=ReferralSerializer)
    def get(self, request, referral_id):
        referral = access.referral_get_for(self.actor, referral_id)
        referral = _referrals(Referral.objects.filter(pk=referral.pk), self.actor).get()
        return with_etag(Response(ReferralSerializer(referral).data), referral)


class ReferralScreeningView(ActorMixin, APIView):
    @extend_schema(
        request=ScreeningCreateSerializer,
        responses={201: ScreeningSerializer},
        summary="Propose the screening decision (single-agency until another partner confirms)",
        description="One decision at a time: 409 `already_screened` while one is proposed or "
        "confirmed; after a challenge a new proposal replaces it. On a standard referral it "
        "takes effect now; on an urgent one only once confirmed "
        "(`POST /referrals/{id}/screening/confirmations`).",
    )
    def post(self, request, referral_id):
        referral = access.referral_get_for(self.actor, referral_id, log_as=None)
        data = _valid(ScreeningCreateSerializer, request.data)
        data["participants"] = _partners(data.get("participants", []), "participants")
        data["early_help_partner"] = _partner(data.get("early_help_partner"), "early_help_partner")
        screening = services.referral_screen(actor=self.actor, referral=referral, **data)
        return Response(_screening_body(screening), status=status.HTTP_201_CREATED)


def _screening_body(screening) -> dict:
    screening = selectors.screenings_with_related(Screening.objects.filter(pk=screening.pk)).get()
    return ScreeningSerializer(screening).data


class ReferralScreeningConfirmationsView(ActorMixin, APIView):
    @extend_schema(
        request=ScreeningAnswerSerializer,
        responses={201: ScreeningSerializer},
        summary="Confirm or challenge the proposed screening decision (another partner)",
        description="A screening decision is single-agency (`joint: false`) until a partner on "
        "the case other than the proposer's confirms it. Practitioners and managers of another "
        "partner working the case (lead or live share; not break-glass, not partner systems) "
        "answer once per proposal, with a reason. Confirming makes it joint and, on an urgent "
        "referral, lets it take effect (the case moves on; a single-agency decision never closes "
        "an urgent case). Challenging reopens it: the referral counts as unscreened again and a "
        "new decision may be proposed. 404 for a referral you cannot see; 403 when you see it but "
        "may not answer (your own partner proposed it, or your role); 409 when nothing is "
        "proposed (`no_proposal`), your partner already answered (`already_answered`), the "
        "decision was challenged (`screening_challenged`), or a joint decision is challenged "
        "(`already_joint`).",
    )
    def post(self, request, referral_id):
        referral = access.referral_get_for(self.actor, referral_id, log_as=None)
        data = _valid(ScreeningAnswerSerializer, request.data)
        screening = services.referral_screening_answer(actor=self.actor, referral=referral, **data)
        return Response(_screening_body(screening), status=status.HTTP_201_CREATED)


# Break-glass


class CaseBreakGlassView(ActorMixin, APIView):
    @extend_schema(
        request=BreakGlassRequestSerializer,
        responses={201: BreakGlassSerializer, 202: BreakGlassSerializer},
        summary="Emergency, time-limited access to a case not shared with your partner",
        description="Practitioners only, with a reason, and only when an active data sharing "
        "agreement covers your partner and the case's lead partner (403 otherwise). Access lasts "
        "BREAK_GLASS_HOURS, is logged and told to the lead partner's managers and your own. A "
        "second request within 24 hours waits for one of your managers to approve it: 202 with "
        "`status: pending`, and no access until then. Read-only: nothing can be added to the case "
        "through break-glass access. Restricted cases cannot be opened this way (404).",
    )
    def post(self, request, case_id):
        data = _valid(BreakGlassRequestSerializer, request.data)
        grant = services.break_glass_open(actor=self.actor, case_id=case_id, reason=data["reason"])
        code = status.HTTP_201_CREATED if grant.opened_at else status.HTTP_202_ACCEPTED
        return Response(BreakGlassSerializer(grant).data, status=code)


class BreakGlassDecisionView(ActorMixin, APIView):
    @extend_schema(
        request=BreakGlassDecisionSerializer,
        responses={200: BreakGlassSerializer},
        summary="Approve or refuse a second break-glass request within 24 hours",
        description="Managers of the requesting user's partner (not the requester). Approving "
        "opens the access from now; refusing needs a reason. 404 for a request you may not "
        "decide; 409 once decided.",
    )
    def post(self, request, request_id):
        data = _valid(BreakGlassDecisionSerializer, request.data)
        grant = services.break_glass_decide(actor=self.actor, request_id=request_id, **data)
        return Response(BreakGlassSerializer(grant).data)


# Vocabularies (published code lists: not personal data, not access-logged)


class VocabularyIndexView(APIView):
    @extend_schema(
        responses=VocabularyIndexSerializer,
        summary="The published vocabularies",
        operation_id="vocabularies_list",
    )
    def get(self, request):
        return Response({"names": list(vocabularies.VOCABULARIES)})


class VocabularyView(APIView):
    @extend_schema(
        responses=VocabularySerializer,
        parameters=[
            OpenApiParameter(
                "name", str, OpenApiParameter.PATH, enum=list(vocabularies.VOCABULARIES)
            )
        ],
        summary="A published code list",
        operation_id="vocabularies_retrieve",
    )
    def get(self, request, name):
        items = vocabularies.vocabulary(name)
        return Response(
            VocabularySerializer({"name": name, "items": [asdict(i) for i in items]}).data
        )
