"""Data sharing agreements over time: in force, due for review, lapsed (the ICO's data sharing code:
agreements are reviewed regularly, and nothing is shared under one that has ended).

An agreement is **in force** on a day when it has started, its status is not `ended`, its end date
(if any) has not passed, and its review date is not overdue by more than
AGREEMENT_REVIEW_GRACE_DAYS. `under_review` is in force: its parties are reviewing it. Otherwise,
once started, it has **lapsed**:

- new shares cannot rely on it (cases.services.case_share: 409 naming it), nor can break-glass;
- its live shares are not revoked (a lapse is an administrative matter, and ending a share is the
  lead partner's decision): each lead partner with live shares under it gets one follow-up for its
  managers, naming the agreement and how many of its shares rely on it (`sweep_lapsed`).

Thirty days before an agreement's review date each party's managers get a follow-up
(`sweep_reviews`). Both sweeps are periodic tasks (cases/tasks.py, cases/schedule.py), read only the
agreements due and the shares under lapsed ones, and create each follow-up once: the follow-ups'
unique key (kind, subject, due time) makes repeating them harmless.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cases.models import AgreementStatus, DataSharingAgreement, Share

REVIEW_NOTICE = timedelta(days=30)
# How far back the review sweep looks for reminders missed while no sweep ran.
LOOKBACK = timedelta(days=30)
# Follow-ups about an agreement as it concerns one partner (a party, or a lead partner sharing
# under it): the follow-up's subject is a name-based id of the pair, so each partner has its own.
SUBJECT = "agreement_party"


def grace() -> timedelta:
    return timedelta(days=settings.AGREEMENT_REVIEW_GRACE_DAYS)


def in_force_q(on: date) -> Q:
    """Agreements that shares may rely on, on `on`."""
    return (
        Q(starts_on__lte=on, review_date__gte=on - grace())
        & ~Q(status=AgreementStatus.ENDED)
        & (Q(ends_on__isnull=True) | Q(ends_on__gte=on))
    )


def lapsed_q(on: date) -> Q:
    """Agreements that have started and are no longer in force on `on`."""
    return Q(starts_on__lte=on) & (
        Q(status=AgreementStatus.ENDED) | Q(ends_on__lt=on) | Q(review_date__lt=on - grace())
    )


def in_force(agreement: DataSharingAgreement, on: date | None = None) -> bool:
    """in_force_q for one agreement already read."""
    on = on or timezone.localdate()
    return (
        agreement.starts_on <= on
        and agreement.status != AgreementStatus.ENDED
        and on < lapsed_on(agreement)
    )


def lapsed_on(agreement: DataSharingAgreement) -> date:
    """The first day the agreement is no longer in force, from its dates (an overdue review
    lapses it at the latest). An ended agreement has an end date (DataSharingAgreement.save)."""
    days = [agreement.review_date + grace() + timedelta(days=1)]
    if agreement.ends_on is not None:
        days.append(agreement.ends_on + timedelta(days=1))
    elif agreement.status == AgreementStatus.ENDED:
        days.append(timezone.localdate(agreement.updated_at))
    return min(days)


def why_lapsed(agreement: DataSharingAgreement, on: date | None = None) -> str:
    """Plain words for the share form and the API's 409."""
    on = on or timezone.localdate()
    if agreement.status == AgreementStatus.ENDED or (
        agreement.ends_on is not None and agreement.ends_on < on
    ):
        ended = f" on {agreement.ends_on:%-d %B %Y}" if agreement.ends_on else ""
        return f"ended{ended}"
    return (
        f"was due for review on {agreement.review_date:%-d %B %Y} and has not been reviewed "
        f"within {settings.AGREEMENT_REVIEW_GRACE_DAYS} days"
    )


def lapsed_covering(lead, partner, on: date | None = None) -> DataSharingAgreement | None:
    """The most recent lapsed agreement naming both partners (to name it in a refusal)."""
    on = on or timezone.localdate()
    return (
        DataSharingAgreement.objects.filter(lapsed_q(on), parties=lead)
        .filter(parties=partner)
        .order_by("-starts_on", "name")
        .first()
    )


def covering_each(lead, partners, on: date | None = None) -> dict:
    """For the share form: each partner's agreement with `lead` that a share would rely on today
    (as cases.services.agreement_covering picks it: the newest in force), and for the partners
    with none, the newest lapsed one, to say why. One query each, whatever the partner count.
    Returns {partner_id: (agreement, in_force)}; partners named by no agreement are absent."""
    on = on or timezone.localdate()
    wanted = {p.pk for p in partners}
    found: dict = {}
    for q, in_force_now in ((in_force_q(on), True), (lapsed_q(on), False)):
        agreements = (
            DataSharingAgreement.objects.filter(q, parties=lead)
            .prefetch_related("parties")
            .order_by("-starts_on", "name")
        )
        for agreement in agreements:
            for party in agreement.parties.all():
                if party.pk in wanted and party.pk not in found:
                    found[party.pk] = (agreement, in_force_now)
    return found


def party_key(agreement_id, partner_id) -> uuid.UUID:
    """The follow-up subject for an agreement as it concerns one partner (stable, so the
    follow-ups' unique key holds across runs)."""
    return uuid.uuid5(uuid.UUID(str(agreement_id)), str(partner_id))


def live_shares(on: datetime | None = None) -> QuerySet[Share]:
    now = on or timezone.now()
    return Share.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


# --- the sweeps ----------------------------------------------------------------------------------


@transaction.atomic
def sweep_reviews(*, now: datetime | None = None) -> int:
    """REVIEW_NOTICE before an agreement's review date, a follow-up for each party's managers,
    due at 09:00 that day. A review date that moved cancels the reminders still pending for the
    old one. Reads only agreements whose reminder is due (review date within the notice)."""
    from followups import kinds
    from followups.models import FollowUp
    from followups.services import followups_ensure
    from followups.sweeps import at_start_of_workday

    now = now or timezone.now()
    today = timezone.localdate(now)
    due = list(
        DataSharingAgreement.objects.exclude(status=AgreementStatus.ENDED)
        .filter(
            review_date__gte=today - LOOKBACK + REVIEW_NOTICE,
            review_date__lte=today + REVIEW_NOTICE,
        )
        .prefetch_related("parties")
    )
    candidates, wanted = [], {}
    for agreement in due:
        due_at = at_start_of_workday(agreement.review_date - REVIEW_NOTICE)
        for party in agreement.parties.all():
            key = party_key(agreement.pk, party.pk)
            wanted[key] = due_at
            candidates.append(
                FollowUp(
                    kind=kinds.AGREEMENT_REVIEW,
                    subject_resource=SUBJECT,
                    subject_id=key,
                    due_at=due_at,
                    title=f"Data sharing agreement “{agreement.name}” is due for review on "
                    f"{agreement.review_date:%-d %B %Y}",
                    assignee_partner_id=party.pk,
                )
            )
    followups_ensure(candidates)
    # Reminders for a review date that has since moved (the agreement was reviewed, or re-dated).
    pending = FollowUp.objects.filter(
        kind=kinds.AGREEMENT_REVIEW, status=FollowUp.Status.PENDING
    ).values_list("pk", "subject_id", "due_at")
    stale = [pk for pk, subject, due_at in pending if wanted.get(subject) != due_at]
    FollowUp.objects.filter(pk__in=stale).update(
        status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now
    )
    return len(candidates)


@transaction.atomic
def sweep_lapsed(*, now: datetime | None = None) -> int:
    """For each lapsed agreement with live shares, one follow-up per lead partner of those
    shares (not one per share), for its managers: review the shares that rely on it. Due at 09:00
    on the day it lapsed; once per lapse (a renewed agreement that lapses again is flagged again).
    Reads the lapsed agreements, then only the live shares under them, counted per lead partner."""
    from followups import kinds
    from followups.models import FollowUp
    from followups.services import followups_ensure
    from followups.sweeps import at_start_of_workday

    now = now or timezone.now()
    today = timezone.localdate(now)
    lapsed = {a.pk: a for a in DataSharingAgreement.objects.filter(lapsed_q(today))}
    if not lapsed:
        return 0
    counts = (
        live_shares(now)
        .filter(agreement_id__in=list(lapsed))
        .values_list("agreement_id", "case__lead_partner_id")
        .annotate(n=Count("pk"))
    )
    candidates = []
    for agreement_id, partner_id, n in counts:
        agreement = lapsed[agreement_id]
        shares = "1 case share relies" if n == 1 else f"{n} case shares rely"
        candidates.append(
            FollowUp(
                kind=kinds.AGREEMENT_LAPSED,
                subject_resource=SUBJECT,
                subject_id=party_key(agreement_id, partner_id),
                due_at=at_start_of_workday(lapsed_on(agreement)),
                title=f"Data sharing agreement “{agreement.name}” {why_lapsed(agreement, today)}: "
                f"{shares} on it; review them"[:200],
                assignee_partner_id=partner_id,
            )
        )
    # Once per lapse: a follow-up for this lapse (or a later one) already given stays as it is.
    flagged = FollowUp.objects.filter(
        kind=kinds.AGREEMENT_LAPSED,
        subject_resource=SUBJECT,
        subject_id__in=[c.subject_id for c in candidates],
    ).values_list("subject_id", "due_at")
    given: dict = {}
    for subject, due_at in flagged:
        given[subject] = max(due_at, given.get(subject, due_at))
    new = [c for c in candidates if c.subject_id not in given or given[c.subject_id] < c.due_at]
    followups_ensure(new)
    return len(new)


def sweeps_run(*, now: datetime | None = None) -> dict:
    return {"reviews": sweep_reviews(now=now), "lapsed": sweep_lapsed(now=now)}
