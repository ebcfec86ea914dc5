"""Follow-ups and notifications for the caller. Follow-ups hold no personal data beyond a subject
id and a plain title, and a notification only ever points at its link, so these lists are not
access-logged; opening the case they point at is."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.filters import UpdatedSinceFilterSet, UtcIsoDateTimeFilter
from core.api.pagination import CursorPagination
from core.errors import NotFound
from followups import selectors, services
from followups.api.serializers import (
    FollowUpSerializer,
    MarkedReadSerializer,
    NotificationSerializer,
    UnreadCountSerializer,
)
from followups.models import FollowUp, Notification
from partners.actor import request_actor
from partners.api.mixins import ActorMixin, VisibleListMixin


class FollowUpFilter(UpdatedSinceFilterSet):
    assigned = django_filters.ChoiceFilter(
        choices=[("me", "me")],
        method="filter_assigned",
        help_text="`me`: only follow-ups assigned to the caller in person (not to their partner).",
    )
    due_before = UtcIsoDateTimeFilter(
        field_name="due_at", lookup_expr="lt", help_text="Due before this time (ISO 8601)."
    )
    due_after = UtcIsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", help_text="Due at or after this time (ISO 8601)."
    )
    status = django_filters.MultipleChoiceFilter(
        choices=FollowUp.Status.choices, help_text="Repeat to match several."
    )
    kind = django_filters.CharFilter()
    case = django_filters.UUIDFilter(field_name="case_id")

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def filter_assigned(self, queryset, name, value):
        actor = request_actor(self.request)
        user = actor.user if actor is not None else None
        if user is None:
            return queryset.none()
        return queryset.filter(assignee_user=user)


class FollowUpPagination(CursorPagination):
    ordering = ("due_at", "id")


class FollowUpsView(VisibleListMixin, generics.ListAPIView):
    """Follow-ups assigned to the caller or their partner, soonest due first."""

    model = FollowUp
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    pagination_class = FollowUpPagination

    def visible_queryset(self):
        return selectors.followups_visible_to(self.actor).select_related("assignee_partner")


class FollowUpDoneView(ActorMixin, APIView):
    @extend_schema(request=None, responses=FollowUpSerializer, summary="Mark a follow-up done")
    def post(self, request, followup_id):
        followup = selectors.followups_visible_to(self.actor).filter(pk=followup_id).first()
        if followup is None:
            raise NotFound("Follow-up not found.")
        followup = services.followup_complete(actor=self.actor, followup=followup)
        return Response(FollowUpSerializer(followup).data)


class NotificationFilter(UpdatedSinceFilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="true: only unread ones."
    )

    class Meta:
        model = Notification
        fields: list[str] = []


class NotificationsView(VisibleListMixin, generics.ListAPIView):
    """The caller's own notifications, newest first (none for a partner system)."""

    model = Notification
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def visible_queryset(self):
        return selectors.notifications_for(self.actor.user)


class UnreadCountView(ActorMixin, APIView):
    @extend_schema(responses=UnreadCountSerializer, summary="How many notifications are unread")
    def get(self, request):
        return Response({"unread": selectors.unread_count(self.actor.user)})


class NotificationReadView(ActorMixin, APIView):
    @extend_schema(request=None, responses=NotificationSerializer, summary="Mark as read")
    def post(self, request, notification_id):
        notification = (
            selectors.notifications_for(self.actor.user).filter(pk=notification_id).first()
        )
        if notification is None:
            raise NotFound("Notification not found.")
        notification = services.notification_mark_read(
            user=self.actor.user, notification=notification
        )
        return Response(NotificationSerializer(notification).data)


class NotificationsReadAllView(ActorMixin, APIView):
    @extend_schema(request=None, responses=MarkedReadSerializer, summary="Mark all as read")
    def post(self, request):
        if self.actor.user is None:
            return Response({"marked": 0})
        return Response({"marked": services.notifications_mark_all_read(user=self.actor.user)})
