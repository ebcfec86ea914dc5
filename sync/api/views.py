from __future__ import annotations

from collections import Counter

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import Access, access_record
from core.errors import DomainError, ValidationFailed
from partners.api.mixins import ActorMixin
from sync import batch, feed, webhooks
from sync.api.serializers import (
    CasesBatchSerializer,
    ChangesPageSerializer,
    ChangesQuerySerializer,
    EntriesBatchSerializer,
    PeopleBatchSerializer,
    ReferralsBatchSerializer,
    SyncResponseSerializer,
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookListSerializer,
    WebhookSubscriptionSerializer,
)
from sync.throttling import CallerRateThrottle, SyncRateThrottle


class BatchTooLarge(DomainError):
    status = 413
    code = "too_large"


class ChangesView(ActorMixin, APIView):
    @extend_schema(
        parameters=[ChangesQuerySerializer],
        responses={
            200: ChangesPageSerializer,
            410: OpenApiResponse(description="Expired or unknown cursor: start a full resync."),
        },
        summary="Ordered feed of changes to records you may see",
    )
    def get(self, request):
        query = ChangesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if params["latest"]:
            position = feed.latest()
            return Response(
                {"results": [], "next_cursor": feed.encode_cursor(position), "has_more": False}
            )
        cursor = params.get("cursor") or ""
        after = feed.decode_cursor(cursor) if cursor else None
        page = feed.read(self.actor, after, limit=params["page_size"])
        results = [
            {
                "cursor": item.cursor,
                "resource": item.resource,
                "id": item.object_id,
                "action": item.action,
                "changed_at": item.changed_at,
            }
            for item in page.items
        ]
        # Ids only, no personal data; one row says who followed the feed and how far.
        access_record(
            actor=self.actor,
            action="read_changes",
            accesses=[Access("change_feed", page.next_position.seq)],
            detail={"count": len(results)},
        )
        next_cursor = feed.encode_cursor(page.next_position) if results else cursor
        if not next_cursor:
            next_cursor = feed.encode_cursor(page.next_position)
        body = {
            "results": results,
            "next_cursor": next_cursor,
            "has_more": len(results) >= params["page_size"],
        }
        return Response(ChangesPageSerializer(body).data)


class _SyncView(ActorMixin, APIView):
    required_scope = "sync"
    throttle_classes = [CallerRateThrottle, SyncRateThrottle]
    resource = ""

    def post(self, request):
        data = request.data
        records = data.get("records") if isinstance(data, dict) else None
        if not isinstance(records, list):
            raise ValidationFailed(
                'Send {"records": [...]}: a list of up to 500 records.',
                fields={"records": ["a list is required"]},
            )
        if len(records) > batch.MAX_BATCH:
            raise BatchTooLarge(
                f"This batch has {len(records)} records; send at most {batch.MAX_BATCH} per "
                "request (split it, each batch with its own Idempotency-Key)."
            )
        results = batch.sync_batch(actor=self.actor, resource=self.resource, records=records)
        counts = Counter(r.status for r in results)
        summary = {k: counts.get(k, 0) for k in ("created", "updated", "unchanged", "error")}
        return Response({"results": [r.as_dict() for r in results], "summary": summary})


_SYNC_RESPONSES = {
    200: SyncResponseSerializer,
    413: OpenApiResponse(description="More than 500 records."),
}


class SyncPeopleView(_SyncView):
    resource = "people"

    @extend_schema(
        request=PeopleBatchSerializer,
        responses=_SYNC_RESPONSES,
        summary="Batch upsert of people by your local id",
    )
    def post(self, request):
        return super().post(request)


class SyncCasesView(_SyncView):
    resource = "cases"

    @extend_schema(
        request=CasesBatchSerializer,
        responses=_SYNC_RESPONSES,
        summary="Batch upsert of cases by your local id",
    )
    def post(self, request):
        return super().post(request)


class SyncReferralsView(_SyncView):
    resource = "referrals"

    @extend_schema(
        request=ReferralsBatchSerializer,
        responses=_SYNC_RESPONSES,
        summary="Batch upsert of referrals by your local id",
        description="Each new referral is received as POST /referrals/ receives one (its subject "
        "matched, its case linked or opened in screening, its screening deadline set); give a "
        "case to refer into one your partner works. A referral is kept as received: the same "
        "data again is `unchanged`, different data fails that record with `referral_received`. "
        "A case or person you cannot see fails the record with `unknown case` / `unknown person`.",
    )
    def post(self, request):
        return super().post(request)


class SyncEntriesView(_SyncView):
    resource = "entries"

    @extend_schema(
        request=EntriesBatchSerializer,
        responses=_SYNC_RESPONSES,
        summary="Batch upsert of chronology entries by your local id",
        description="A new entry goes on a case your partner works (lead or live share). An "
        "entry that differs is corrected by an amendment that keeps what it said before "
        "(`reason` is recorded with it), only where you may correct it; its case never changes. "
        "A case you cannot see fails the record with `unknown case`.",
    )
    def post(self, request):
        return super().post(request)


class WebhooksView(ActorMixin, APIView):
    @property
    def required_scope(self) -> str:
        return "read" if self.request.method in ("GET", "HEAD", "OPTIONS") else "sync"

    @extend_schema(responses=WebhookListSerializer, summary="Your partner's webhook subscriptions")
    def get(self, request):
        subscriptions = webhooks.subscriptions_visible_to(self.actor)
        body = WebhookSubscriptionSerializer(subscriptions, many=True).data
        return Response({"results": body, "next": None})

    @extend_schema(
        request=WebhookCreateSerializer,
        responses={201: WebhookCreatedSerializer},
        summary="Subscribe to change events (the signing secret is shown once)",
    )
    def post(self, request):
        data = WebhookCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhooks.subscription_create(actor=self.actor, **data.validated_data)
        body = WebhookCreatedSerializer(subscription).data
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookDetailView(ActorMixin, APIView):
    required_scope = "sync"

    @extend_schema(
        parameters=[OpenApiParameter("subscription_id", str, OpenApiParameter.PATH)],
        responses={204: OpenApiResponse(description="Subscription deleted")},
    )
    def delete(self, request, subscription_id):
        subscription = webhooks.subscription_get_for(self.actor, subscription_id)
        webhooks.subscription_delete(actor=self.actor, subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)
