"""Reads for programmes and enrolments, always given the acting user, always through access."""

from __future__ import annotations

from django.db.models import (
    Count,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import NotFound
from partners.actor import Actor
from partners.models import User
from programmes import access
from programmes.eligibility import seen_by
from programmes.models import (
    OPEN,
    PLACE_HOLDING,
    Enrolment,
    EnrolmentSession,
    EnrolmentStatus,
    Programme,
)

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


# A coach's or mentor's caseload: the open enrolments they are key worker for.

OPEN_FOLLOWUP_STATUSES = ("pending", "notified", "escalated")


def with_caseload_facts(queryset: QuerySet[Enrolment], now=None) -> QuerySet[Enrolment]:
    """Each enrolment with `last_session_at`, `next_check_in_at` (the next open follow-up of its
    schedule not yet due) and `overdue_check_ins` (open ones past due), in the same query.
    Follow-up titles hold no personal data; the count is of the enrolment's own follow-ups."""
    from followups.models import FollowUp

    now = now or timezone.now()
    followups = FollowUp.objects.filter(
        subject_resource="enrolment",
        subject_id=OuterRef("pk"),
        status__in=OPEN_FOLLOWUP_STATUSES,
    ).order_by()
    return queryset.annotate(
        last_session_at=Subquery(
            EnrolmentSession.objects.filter(enrolment=OuterRef("pk"))
            .order_by()
            .values("enrolment")
            .annotate(last=Max("occurred_at"))
            .values("last")[:1]
        ),
        next_check_in_at=Subquery(
            followups.filter(due_at__gte=now)
            .values("subject_id")
            .annotate(first=Min("due_at"))
            .values("first")[:1]
        ),
        overdue_check_ins=Coalesce(
            Subquery(
                followups.filter(due_at__lt=now)
                .values("subject_id")
                .annotate(n=Count("pk"))
                .values("n")[:1],
                output_field=IntegerField(),
            ),
            0,
        ),
    )


def caseload(*, actor: Actor) -> QuerySet[Enrolment]:
    """The actor's own open enrolments as key worker, soonest check-in first: one query."""
    if actor.user is None:
        return Enrolment.objects.none()
    return with_caseload_facts(
        enrolment_list(actor=actor).filter(key_worker_id=actor.user.pk, status__in=OPEN)
    ).order_by("-overdue_check_ins", "next_check_in_at", "referred_at", "id")


# For the case page and My work: each list is logged as the actor saw it.


def my_caseload(actor: Actor, *, limit: int) -> list[Enrolment]:
    """The first `limit` of the actor's caseload (see caseload); logged as their caseload listed."""
    rows = list(caseload(actor=actor)[:limit])
    access.log_enrolment_access(actor, rows, action="list_caseload")
    return rows


def case_enrolments(actor: Actor, case) -> list[Enrolment]:
    """The enrolments on a case the actor may see, latest referral first, each with its
    eligibility as this reader may see it (`seen_eligibility`, programmes.eligibility.seen_by);
    logged as listed."""
    enrolments = list(
        access.enrolments_visible_to(actor)
        .filter(case=case)
        .select_related("programme")
        .order_by("-referred_at")
    )
    if enrolments:
        access.log_enrolment_access(actor, enrolments, action="list")
    seen = seen_by(actor, enrolments)  # eligibility as this reader may see it
    for e in enrolments:
        e.seen_eligibility = seen[e.pk]
    return enrolments


def referrals_decided_since(actor: Actor, since, *, limit: int) -> list[Enrolment]:
    """Enrolments the actor's partner referred whose status has moved on from referred since
    `since`, latest change first; logged as seen in the inbox."""
    enrolments = list(
        access.enrolments_visible_to(actor)
        .filter(referred_by_partner=actor.partner, status_changed_at__gte=since)
        .exclude(status=EnrolmentStatus.REFERRED)
        .select_related("programme", "person")
        .order_by("-status_changed_at")[:limit]
    )
    access.log_enrolment_access(actor, enrolments, action="list_inbox")
    return enrolments


def enrolments_by_id(actor: Actor, enrolment_ids) -> dict:
    """{id: enrolment (with its person and programme)} for those of these enrolments the actor
    may see; logged as listed. One query, however many ids."""
    if not enrolment_ids:
        return {}
    enrolments = {
        e.pk: e
        for e in access.enrolments_visible_to(actor)
        .filter(pk__in=enrolment_ids)
        .select_related("programme", "person")
    }
    access.log_enrolment_access(actor, list(enrolments.values()), action="list")
    return enrolments
