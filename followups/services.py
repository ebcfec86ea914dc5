"""Creating follow-ups and notifications, and delivering follow-ups that fall due.

Everything here is idempotent: follow-ups are unique per (kind, subject, due time), notifications
per (recipient, key), and a due follow-up is claimed with a conditional UPDATE before anyone is told,
so a sweep that runs twice, or on two workers at once, tells each person once.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from core.errors import Conflict
from followups.kinds import (
    ESCALATION_KINDS,
    MANAGER_KINDS,
    RECORD_KINDS,
    link_for,
    notification_title,
)
from followups.models import FollowUp, Notification
from followups.outbox import enqueue
from partners.actor import Actor, actor_for_user
from partners.models import Role, User

logger = logging.getLogger(__name__)

EMAIL_TASK = "followups.send_notification_emails"
DELIVERY_BATCH = 500
# Who hears about a follow-up assigned to a whole partner (MANAGER_KINDS go to managers only).
PARTNER_ROLES = (Role.PRACTITIONER, Role.MANAGER)


def followup_create(
    *,
    kind: str,
    due_at: datetime,
    subject_resource: str,
    subject_id,
    title: str,
    case=None,
    assignee_user=None,
    assignee_partner=None,
) -> FollowUp:
    """Schedules a follow-up once: the same kind, subject and due time is never created twice.

    `title` is plain words with no personal data (it is emailed). Give an assignee user, a partner,
    or both (both: the user and, for MANAGER_KINDS, the partner's managers are told).
    """
    try:
        with transaction.atomic():
            followup, _ = FollowUp.objects.get_or_create(
                kind=kind,
                subject_resource=subject_resource,
                subject_id=subject_id,
                due_at=due_at,
                defaults={
                    "title": title,
                    "case": case,
                    "assignee_user": assignee_user,
                    "assignee_partner": assignee_partner,
                },
            )
    except IntegrityError:
        # Created by someone else between our read and our insert: theirs is ours.
        followup = FollowUp.objects.get(
            kind=kind, subject_resource=subject_resource, subject_id=subject_id, due_at=due_at
        )
    return followup


def followups_ensure(candidates: Sequence[FollowUp]) -> None:
    """Insert the follow-ups that do not exist yet, in one statement (sweeps use this)."""
    if candidates:
        FollowUp.objects.bulk_create(candidates, ignore_conflicts=True, batch_size=500)


def followups_cancel_pending(
    *, subject_resource: str, subject_ids: Iterable, kinds: Iterable[str] | None = None
) -> int:
    """Cancel what has not been sent yet for these subjects (e.g. an enrolment was withdrawn)."""
    qs = FollowUp.objects.filter(
        subject_resource=subject_resource,
        subject_id__in=list(subject_ids),
        status=FollowUp.Status.PENDING,
    )
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    now = timezone.now()
    return qs.update(status=FollowUp.Status.CANCELLED, updated_at=now, completed_at=now)


def followups_reassign_open(
    *, subject_resource: str, subject_ids: Iterable, assignee_user=None, assignee_partner=None
) -> int:
    """Give what is still open for these subjects to someone else (e.g. an enrolment's new key
    worker): pending ones, and notified ones not yet done, which the new assignee must now see."""
    return FollowUp.objects.filter(
        subject_resource=subject_resource,
        subject_id__in=list(subject_ids),
        status__in=(FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED),
    ).update(
        assignee_user=assignee_user, assignee_partner=assignee_partner, updated_at=timezone.now()
    )


@transaction.atomic
def followup_complete(*, actor: Actor, followup: FollowUp) -> FollowUp:
    """Marks the follow-up done. Only open ones (pending, notified, escalated) can be completed,
    and not those done by a record (RECORD_KINDS: a check-in, a course)."""
    from followups.selectors import followups_visible_to

    if followup.kind in RECORD_KINDS:
        raise Conflict(RECORD_KINDS[followup.kind], code="done_by_record")

    open_statuses = (FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED)
    now = timezone.now()
    updated = (
        followups_visible_to(actor)
        .filter(pk=followup.pk, status__in=open_statuses)
        .update(status=FollowUp.Status.DONE, completed_at=now, updated_at=now)
    )
    if updated != 1:
        raise Conflict(f"This follow-up is {followup.status}; only open follow-ups can be done.")
    followup.refresh_from_db()
    return followup


# Notifications


@dataclass(frozen=True)
class _Message:
    recipient: User
    kind: str
    title: str
    link: str
    dedupe_key: str


def _notify_many(messages: Sequence[_Message]) -> list[Notification]:
    """One notification per (recipient, key), in a constant number of queries; emails follow.

    Existing keys are skipped up front; a row inserted by a concurrent worker since then is skipped
    by the database (ignore_conflicts), so only the unique constraint decides.
    """
    if not messages:
        return []
    keys = {m.dedupe_key for m in messages}
    recipients = {m.recipient.pk for m in messages}
    existing = set(
        Notification.objects.filter(dedupe_key__in=keys, recipient_id__in=recipients).values_list(
            "recipient_id", "dedupe_key"
        )
    )
    now = timezone.now()
    rows, seen = [], set()
    for m in messages:
        key = (m.recipient.pk, m.dedupe_key)
        if key in existing or key in seen:
            continue
        seen.add(key)
        rows.append(
            Notification(
                recipient=m.recipient,
                kind=m.kind,
                title=m.title[:200],
                link=m.link,
                dedupe_key=m.dedupe_key,
                created_at=now,
                updated_at=now,
            )
        )
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    # The email task reads the rows back by id; one that lost a race to a concurrent insert does
    # not exist and is simply not found.
    enqueue(EMAIL_TASK, notification_ids=[str(n.pk) for n in rows])
    return rows


def notify(
    *, recipients: Iterable, kind: str, title: str, link: str = "", dedupe_key: str
) -> list[Notification]:
    """An in-app notification per recipient (email follows from the worker). `title` must carry no
    personal data beyond what every recipient may see; the email carries only `link`.

    Idempotent: a recipient already notified under `dedupe_key` is not notified again.
    """
    with transaction.atomic():
        return _notify_many(
            [
                _Message(user, kind, title, link, dedupe_key)
                for user in recipients
                if user is not None and user.is_active
            ]
        )


@transaction.atomic
def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Marking read is idempotent: the first read time is kept."""
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk, recipient=user, read_at__isnull=True).update(
        read_at=now, updated_at=now
    )
    notification.refresh_from_db()
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    now = timezone.now()
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now, updated_at=now
    )


# Delivering due follow-ups


def _recipients(followups: Sequence[FollowUp]) -> dict[uuid.UUID, list[User]]:
    """Who is told about each follow-up, limited to people who may see its case.

    The assignee user (if active); for a partner assignee its practitioners and managers, or only
    its managers for MANAGER_KINDS. A follow-up about a case goes only to people who can see the
    case now (cases.access), so a notification never points someone at a case they cannot open.
    Queries: one for partner members, one per distinct recipient with case follow-ups.
    """
    partner_ids = {f.assignee_partner_id for f in followups if f.assignee_partner_id}
    members: dict[object, list[User]] = defaultdict(list)
    if partner_ids:
        for user in User.objects.filter(
            is_active=True,
            membership__partner_id__in=partner_ids,
            membership__partner__active=True,
            membership__role__in=PARTNER_ROLES,
        ).select_related("membership__partner"):
            members[user.membership.partner_id].append(user)

    chosen: dict[uuid.UUID, list[User]] = {}
    for f in followups:
        people: dict[object, User] = {}
        user = f.assignee_user
        if user is not None and user.is_active:
            people[user.pk] = user
        if f.assignee_partner_id:
            wanted = (
                (Role.MANAGER,)
                if f.kind in MANAGER_KINDS or f.assignee_user_id is not None
                else PARTNER_ROLES
            )
            for member in members[f.assignee_partner_id]:
                if member.membership.role in wanted:
                    people.setdefault(member.pk, member)
        chosen[f.pk] = list(people.values())

    # Case visibility, one query per recipient over all the cases they are to hear about.
    cases_by_user: dict[object, set] = defaultdict(set)
    users: dict[object, User] = {}
    for f in followups:
        if f.case_id:
            for user in chosen[f.pk]:
                cases_by_user[user.pk].add(f.case_id)
                users[user.pk] = user
    visible: dict[object, set] = {}
    for user_pk, case_ids in cases_by_user.items():
        visible[user_pk] = _visible_case_ids(users[user_pk], case_ids)
    for f in followups:
        if f.case_id:
            chosen[f.pk] = [u for u in chosen[f.pk] if f.case_id in visible.get(u.pk, set())]
    return chosen


def _visible_case_ids(user: User, case_ids: set) -> set:
    from cases.access import cases_visible_to

    actor = actor_for_user(user, channel="system")
    if actor is None:
        return set()
    return set(cases_visible_to(actor).filter(pk__in=case_ids).values_list("pk", flat=True))


def _claim(now: datetime, size: int, only_ids: Sequence | None) -> list[FollowUp]:
    """Claim up to `size` due follow-ups for this worker: pending → notified (or escalated).

    The conditional UPDATE (`WHERE status = 'pending'`) is what makes two workers never both
    notify: only one UPDATE can move a row out of pending. The claim token tells us which rows we
    won. On PostgreSQL the candidate rows are also locked SKIP LOCKED, so concurrent sweeps take
    different rows instead of queueing behind each other.
    """
    due = FollowUp.objects.filter(status=FollowUp.Status.PENDING, due_at__lte=now)
    if only_ids is not None:
        due = due.filter(pk__in=list(only_ids))
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    candidates = list(due.order_by("due_at").values_list("pk", flat=True)[:size])
    if not candidates:
        return []
    token = uuid.uuid4()
    escalation = Q(kind__in=ESCALATION_KINDS)
    FollowUp.objects.filter(pk__in=candidates, status=FollowUp.Status.PENDING).update(
        status=Case(
            When(escalation, then=Value(FollowUp.Status.ESCALATED)),
            default=Value(FollowUp.Status.NOTIFIED),
        ),
        notified_at=now,
        escalated_at=Case(When(escalation, then=Value(now)), default=None),
        updated_at=now,
        claim=token,
    )
    return list(
        FollowUp.objects.filter(pk__in=candidates, claim=token)
        .select_related("assignee_user__membership__partner", "assignee_partner")
        .order_by("due_at")
    )


def _deliver_batch(now: datetime, size: int, only_ids: Sequence | None) -> int:
    # One transaction per batch: claim and notifications commit together, so a worker that dies
    # part-way leaves the follow-ups pending for the next sweep, and nobody was told twice.
    with transaction.atomic():
        claimed = _claim(now, size, only_ids)
        if not claimed:
            return 0
        recipients = _recipients(claimed)
        messages = []
        for f in claimed:
            if not recipients[f.pk]:
                logger.warning("follow-up %s (%s) has nobody to tell", f.pk, f.kind)
            messages.extend(
                _Message(user, f.kind, notification_title(f), link_for(f), f.dedupe_key)
                for user in recipients[f.pk]
            )
        _notify_many(messages)
    return len(claimed)


def followups_deliver_due(
    *, now: datetime | None = None, batch: int = DELIVERY_BATCH, max_batches: int = 20
) -> int:
    """Tell the assignees of every pending follow-up now due; returns how many were delivered.

    Reads what is due from the database (the (status, due_at) index), so its cost grows with what
    is due, not with the table, and nothing depends on a queued message surviving.
    """
    now = now or timezone.now()
    total = 0
    for _ in range(max_batches):
        delivered = _deliver_batch(now, batch, None)
        total += delivered
        if delivered < batch:
            break
    return total


def followups_deliver(ids: Sequence, *, now: datetime | None = None) -> int:
    """Deliver these follow-ups now if they are pending and due (sweeps that escalate at once)."""
    if not ids:
        return 0
    return _deliver_batch(now or timezone.now(), len(ids), ids)
