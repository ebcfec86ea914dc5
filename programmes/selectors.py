"""Reads for programmes and enrolments, always given the acting user, always through access."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from core.errors import NotFound
from partners.actor import Actor
from partners.models import User
from programmes import access
from programmes.models import OPEN, PLACE_HOLDING, Enrolment, EnrolmentStatus, Programme

# The fair order of a waiting list (and of the intake queue): priority, then referral time.
QUEUE_ORDER = ("priority", "referred_at", "id")


def with_counts(queryset: QuerySet[Programme]) -> QuerySet[Programme]:
    """Places taken and people waiting, in the same query as the programmes."""
    return queryset.annotate(
        places_taken=Count("enrolments", filter=Q(enrolments__status__in=PLACE_HOLDING)),
        waiting=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.WAITLISTED)),
    )


def programme_list(*, actor: Actor) -> QuerySet[Programme]:
    return (
        with_counts(access.programmes_visible_to(actor))
        .select_related("owner")
        .prefetch_related(Prefetch("coordinators", queryset=User.objects.only("id").order_by()))
    )


def programme_detail(*, actor: Actor, slug: str) -> Programme:
    programme = programme_list(actor=actor).filter(slug=slug).first()
    if programme is None:
        raise NotFound("Programme not found.")
    return programme


def enrolment_list(*, actor: Actor) -> QuerySet[Enrolment]:
    return access.enrolments_visible_to(actor).select_related("programme", "person")


def intake_queue(*, actor: Actor, programme: Programme) -> QuerySet[Enrolment]:
    """Open enrolments in queue order. The caller has been through access.programme_for_intake."""
    return (
        enrolment_list(actor=actor)
        .filter(programme=programme, status__in=OPEN)
        .order_by(*QUEUE_ORDER)
    )


def waiting_list(programme: Programme) -> QuerySet[Enrolment]:
    """For services only (no actor): who is next for a place."""
    return Enrolment.objects.filter(
        programme=programme, status=EnrolmentStatus.WAITLISTED
    ).order_by(*QUEUE_ORDER)


def places_taken(programme: Programme) -> int:
    return Enrolment.objects.filter(programme=programme, status__in=PLACE_HOLDING).count()
