"""The periodic sweeps: find in the database what needs a follow-up, and create it once.

Each sweep is a service run by a periodic task (followups/tasks.py, scheduled in
followups/schedule.py). They create follow-ups with the unique key (kind, subject, due time), so a
sweep that runs twice, runs on two workers at once, or runs again after a worker died part-way
creates nothing twice; `followups_deliver_due` then tells people, once, when each falls due.
Sweeps read their source tables through indexed conditions (status, dates) and look back a bounded
window, so their cost follows what is due, not how much history there is.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from followups import kinds
from followups.models import FollowUp
from followups.services import followups_deliver, followups_ensure

logger = logging.getLogger(__name__)

# How far ahead people hear about things that are about to end, and how far back sweeps look for
# things that became due while no sweep ran (e.g. the workers were down for a weekend).
EXPIRY_NOTICE = timedelta(days=14)
LOOKBACK = timedelta(days=30)
WORKDAY_START = time(9, 0)


def at_start_of_workday(day: date) -> datetime:
    """09:00 local time on `day`, as an aware datetime: reminders arrive in working hours."""
    return datetime.combine(day, WORKDAY_START, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _model(label: str):
    """Models of apps built alongside this one, looked up late so followups does not import them."""
    try:
        return apps.get_model(label)
    except LookupError:
        logger.info("sweep skipped: %s is not installed", label)
        return None


@transaction.atomic
def sweep_case_reviews(*, now: datetime | None = None) -> int:
    """A follow-up for the lead on each live case whose review date is today or within the notice.

    Due at 09:00 two days before the review date. A review date that moves cancels the pending
    follow-up for the old date; a closed case has its pending review cancelled.
    """
    from cases.models import Case, CaseStatus

    now = now or timezone.now()
    today = timezone.localdate(now)
    notice = timedelta(days=2)
    cases = list(
        Case.objects.exclude(status=CaseStatus.CLOSED)
        .filter(review_date__gte=today - LOOKBACK, review_date__lte=today + notice)
        .values_list("pk", "review_date", "lead_partner_id", "lead_practitioner_id")
    )
    wanted = {pk: at_start_of_workday(review_date - notice) for pk, review_date, _, _ in cases}
    followups_ensure(
        [
            FollowUp(
                kind=kinds.CASE_REVIEW,
                subject_resource="case",
                subject_id=pk,
                case_id=pk,
                due_at=wanted[pk],
                title=f"Case review due on {review_date:%-d %B %Y}",
                assignee_user_id=practitioner,
                assignee_partner_id=None if practitioner else partner,
            )
            for pk, review_date, partner, practitioner in cases
        ]
    )
    # Review dates that moved, and cases that closed: their pending reviews no longer apply.
    stale = [
        f.pk
        for f in FollowUp.objects.filter(
            kind=kinds.CASE_REVIEW, status=FollowUp.Status.PENDING, subject_id__in=list(wanted)
        ).only("pk", "subject_id", "due_at")
        if wanted.get(f.subject_id) != f.due_at
    ]
    closed = FollowUp.objects.filter(
        kind=kinds.CASE_REVIEW, status=FollowUp.Status.PENDING, case__status=CaseStatus.CLOSED
    ).values_list("pk", flat=True)
    FollowUp.objects.filter(Q(pk__in=stale) | Q(pk__in=closed)).update(
        status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now
    )
    return len(cases)


@transaction.atomic
def sweep_overdue_actions(*, now: datetime | None = None) -> int:
    """An open action past its due date: a follow-up for its owner (user, else owning partner),
    due at 09:00 the day after the due date. Actions done or cancelled before that are dropped."""
    Action = _model("casework.Action")
    if Action is None:
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now)
    overdue = list(
        Action.objects.filter(
            status="open", due_date__lt=today, due_date__gte=today - LOOKBACK
        ).values_list("pk", "case_id", "due_date", "owner_user_id", "owner_partner_id")
    )
    followups_ensure(
        [
            FollowUp(
                kind=kinds.ACTION_OVERDUE,
                subject_resource="action",
                subject_id=pk,
                case_id=case_id,
                due_at=at_start_of_workday(due_date + timedelta(days=1)),
                title=f"An action due on {due_date:%-d %B %Y} is overdue",
                assignee_user_id=owner_user,
                assignee_partner_id=None if owner_user else owner_partner,
            )
            for pk, case_id, due_date, owner_user, owner_partner in overdue
        ]
    )
    closed = Action.objects.filter(pk=OuterRef("subject_id")).exclude(status="open")
    FollowUp.objects.filter(kind=kinds.ACTION_OVERDUE, status=FollowUp.Status.PENDING).filter(
        Exists(closed)
    ).update(status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now)
    return len(overdue)


def sweep_missed_screening(*, now: datetime | None = None) -> int:
    """A referral not screened by its deadline is escalated to the managers of the partner
    responsible for screening it (the lead partner of its case), once.

    casework creates the screening follow-up with each referral; this sweep creates any that are
    missing (same kind, subject and due time, so never a second one), then delivers them at once:
    the claim moves them pending → escalated, and the managers are told.
    """
    Referral = _model("casework.Referral")
    if Referral is None:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        missed = list(
            Referral.objects.filter(
                screened_at__isnull=True,
                screening_due_at__lte=now,
                screening_due_at__gte=now - LOOKBACK,
            ).values_list("pk", "case_id", "case__lead_partner_id", "screening_due_at")
        )
        followups_ensure(
            [
                FollowUp(
                    kind=kinds.SCREENING_OVERDUE,
                    subject_resource="referral",
                    subject_id=pk,
                    case_id=case_id,
                    due_at=due_at,
                    title="Joint screening due for a referral",
                    assignee_partner_id=partner,
                )
                for pk, case_id, partner, due_at in missed
            ]
        )
        ids = list(
            FollowUp.objects.filter(
                kind=kinds.SCREENING_OVERDUE,
                subject_resource="referral",
                subject_id__in=[pk for pk, *_ in missed],
                status=FollowUp.Status.PENDING,
            ).values_list("pk", flat=True)
        )
        # Screened since the follow-up was created but before it was sent: nothing to escalate.
        screened = Referral.objects.filter(pk=OuterRef("subject_id"), screened_at__isnull=False)
        FollowUp.objects.filter(
            kind=kinds.SCREENING_OVERDUE, status=FollowUp.Status.PENDING
        ).filter(Exists(screened)).update(
            status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now
        )
    # Delivered in its own transaction (after the follow-ups committed): the claim decides.
    return followups_deliver(ids, now=now)


@transaction.atomic
def sweep_expiring_shares_and_consents(*, now: datetime | None = None) -> int:
    """Notice, EXPIRY_NOTICE ahead, of a share or a consent decision about to end: to the case's
    lead practitioner (else its lead partner), who decides whether to renew."""
    from cases.models import CaseStatus, ConsentDecision, ConsentRecord, Share

    now = now or timezone.now()
    horizon = now + EXPIRY_NOTICE
    candidates = []
    shares = Share.objects.filter(
        revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=horizon
    ).values_list(
        "pk", "case_id", "expires_at", "case__lead_partner_id", "case__lead_practitioner_id"
    )
    for pk, case_id, expires_at, partner, practitioner in shares:
        candidates.append(
            FollowUp(
                kind=kinds.SHARE_EXPIRING,
                subject_resource="share",
                subject_id=pk,
                case_id=case_id,
                due_at=expires_at - EXPIRY_NOTICE,
                title=f"A case share ends on {timezone.localtime(expires_at):%-d %B %Y}",
                assignee_user_id=practitioner,
                assignee_partner_id=None if practitioner else partner,
            )
        )
    consents = (
        ConsentRecord.objects.filter(
            decision=ConsentDecision.GIVEN, expires_at__gt=now, expires_at__lte=horizon
        )
        .exclude(case__status=CaseStatus.CLOSED)
        .values_list(
            "pk", "case_id", "expires_at", "case__lead_partner_id", "case__lead_practitioner_id"
        )
    )
    for pk, case_id, expires_at, partner, practitioner in consents:
        candidates.append(
            FollowUp(
                kind=kinds.CONSENT_EXPIRING,
                subject_resource="consent",
                subject_id=pk,
                case_id=case_id,
                due_at=expires_at - EXPIRY_NOTICE,
                title=f"A consent decision ends on {timezone.localtime(expires_at):%-d %B %Y}: "
                "check it with the person",
                assignee_user_id=practitioner,
                assignee_partner_id=None if practitioner else partner,
            )
        )
    followups_ensure(candidates)
    # A share revoked before its notice went out needs no notice.
    revoked = Share.objects.filter(pk=OuterRef("subject_id"), revoked_at__isnull=False)
    FollowUp.objects.filter(kind=kinds.SHARE_EXPIRING, status=FollowUp.Status.PENDING).filter(
        Exists(revoked)
    ).update(status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now)
    return len(candidates)


@transaction.atomic
def sweep_supervision_check_ins(*, now: datetime | None = None) -> int:
    """A monthly supervision and wellbeing check-in for each active member of staff on
    high-exposure work (profile.high_exposure): due at 09:00 on the first of the month, to them and
    their partner's managers. Once a month each: the due time is part of the unique key.

    A check-in signed off agrees the date of the next one, which then stands instead: no monthly
    one is created in a month when an agreed one falls due that month or later
    (wellbeing.services.check_in_sign_off creates it, with the check-in as its subject)."""
    from partners.models import User

    now = now or timezone.now()
    first = timezone.localdate(now).replace(day=1)
    starts = at_start_of_workday(first)
    agreed = (
        FollowUp.objects.filter(
            kind=kinds.SUPERVISION_CHECK_IN,
            assignee_user_id=OuterRef("pk"),
            due_at__gte=starts,
        )
        .exclude(subject_resource="user")
        .exclude(status=FollowUp.Status.CANCELLED)
    )
    staff = list(
        User.objects.filter(
            is_active=True, profile__high_exposure=True, membership__partner__active=True
        ).values_list("pk", "membership__partner_id", Exists(agreed))
    )
    followups_ensure(
        [
            FollowUp(
                kind=kinds.SUPERVISION_CHECK_IN,
                subject_resource="user",
                subject_id=pk,
                due_at=starts,
                title=f"Monthly supervision and wellbeing check-in ({first:%B %Y})",
                assignee_user_id=pk,
                assignee_partner_id=partner,
            )
            for pk, partner, scheduled in staff
            if not scheduled
        ]
    )
    # No longer on high-exposure work (or gone): their pending monthly check-ins lapse. A date
    # agreed with a supervisor stands while they are still here.
    on_it = [pk for pk, _, _ in staff]
    FollowUp.objects.filter(kind=kinds.SUPERVISION_CHECK_IN, status=FollowUp.Status.PENDING).filter(
        (Q(subject_resource="user") & ~Q(subject_id__in=on_it)) | Q(assignee_user__is_active=False)
    ).update(status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now)
    return len(staff)


@transaction.atomic
def sweep_training_refreshers(*, now: datetime | None = None) -> int:
    """A trauma-training refresher for each active member of staff, REFRESHER_NOTICE before it is
    due (wellbeing/training.py: the interval of their highest level, from the latest course at
    that level), to them and their partner's managers. One per due date (the unique key); a newer
    course moves the date and cancels the pending notice for the old one, as does leaving. Reads only courses
    recent enough for a refresher to be due within the look-back window."""
    from partners.models import TrainingRecord
    from wellbeing import training

    now = now or timezone.now()
    today = timezone.localdate(now)
    oldest = today - LOOKBACK - relativedelta(months=max(training.REFRESHER_MONTHS.values()))
    latest: dict = {}  # user → (rank, completed_on, level, partner)
    for user, level, completed_on, partner in TrainingRecord.objects.filter(
        completed_on__gte=oldest, user__is_active=True, user__membership__partner__active=True
    ).values_list("user_id", "level", "completed_on", "user__membership__partner_id"):
        key = (training.rank(level), completed_on)
        if key[0] and key > latest.get(user, (0, None, None, None))[:2]:
            latest[user] = (*key, level, partner)
    wanted, candidates = {}, []
    for user, (_, completed_on, level, partner) in latest.items():
        due_on = training.refresher_due_on(level, completed_on)
        notice_on = due_on - training.REFRESHER_NOTICE
        if notice_on > today or due_on < today - LOOKBACK:
            continue
        wanted[user] = at_start_of_workday(notice_on)
        candidates.append(
            FollowUp(
                kind=kinds.TRAINING_REFRESHER,
                subject_resource="user",
                subject_id=user,
                due_at=wanted[user],
                title=f"Trauma training refresher due by {due_on:%-d %B %Y}",
                assignee_user_id=user,
                assignee_partner_id=partner,
            )
        )
    followups_ensure(candidates)
    stale = [
        pk
        for pk, user, due_at in FollowUp.objects.filter(
            kind=kinds.TRAINING_REFRESHER, status=FollowUp.Status.PENDING
        ).values_list("pk", "subject_id", "due_at")
        if wanted.get(user) != due_at
    ]
    FollowUp.objects.filter(pk__in=stale).update(
        status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now
    )
    return len(candidates)


@transaction.atomic
def sweep_retention_reviews(*, now: datetime | None = None) -> int:
    """A closed case whose retention date (cases/retention.py: set when it closed) has come gets
    one retention review for the lead partner's managers, due at 09:00 on that date: they extend or
    dispose of it. A case under a legal hold is left until the hold is lifted.

    Reads only the cases whose date has come and that have no review for that date yet, through
    the partial index on the retention date and the follow-ups' unique key, so its cost follows
    what is due. A review whose case was reopened or given a new date is cancelled (one already
    given stays open under a hold: the managers may still extend). Safe to repeat: the (kind,
    subject, due time) key makes every insert happen once."""
    from cases.models import Case, LegalHold

    now = now or timezone.now()
    today = timezone.localdate(now)
    held = LegalHold.objects.filter(case_id=OuterRef("pk"), lifted_at__isnull=True)
    reviewed = FollowUp.objects.filter(
        kind=kinds.RETENTION_REVIEW, subject_resource="case", subject_id=OuterRef("pk")
    )
    due = (
        Case.objects.filter(retention_until__isnull=False, retention_until__lte=today)
        .exclude(Exists(held))
        .exclude(Exists(reviewed.filter(due_at__gte=OuterRef("retention_until"))))
        .values_list("pk", "retention_until", "lead_partner_id")
    )
    candidates = [
        FollowUp(
            kind=kinds.RETENTION_REVIEW,
            subject_resource="case",
            subject_id=pk,
            case_id=pk,
            due_at=at_start_of_workday(until),
            title="A closed case has reached the end of its retention period: review it",
            assignee_partner_id=partner,
        )
        for pk, until, partner in due
    ]
    followups_ensure(candidates)
    # Reviews that no longer apply: few (one per case due and undecided), checked one by one.
    open_reviews = FollowUp.objects.filter(
        kind=kinds.RETENTION_REVIEW,
        status__in=[FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED],
    ).values_list("pk", "due_at", "case__retention_until")
    stale = [
        pk
        for pk, due_at, until in open_reviews
        if until is None or due_at != at_start_of_workday(until)
    ]
    FollowUp.objects.filter(pk__in=stale).update(
        status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now
    )
    return len(candidates)
