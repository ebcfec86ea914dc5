"""The lists on My work that gather from several apps: the person's notifications, follow-ups
and actions due, a coach's caseload, the partner's inbox, and what each follow-up is about. The
reads are the owning apps' selectors, which go through their access functions and log what is
shown by ids; this module words and links the items. Each list is a fixed number of queries,
whatever its length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from cases import selectors as case_selectors
from casework import selectors as casework_selectors
from followups import selectors as followup_selectors
from partners.actor import Actor
from programmes import selectors as programme_selectors
from programmes.models import EnrolmentStatus

# How many of each list My work shows.
MY_WORK_LIMIT = 10
CASELOAD_LIMIT = 50
# The inbox shows what arrived within this many days.
INBOX_DAYS = 14
INBOX_LIMIT = 10


def my_work_lists(actor: Actor) -> dict:
    """Notifications, follow-ups and actions due for this person. Titles carry no personal data."""
    if actor.user is None:
        return {}
    notifications = list(followup_selectors.unread_notifications(actor.user)[:MY_WORK_LIMIT])
    followups = list(followup_selectors.open_followups(actor).order_by("due_at")[:MY_WORK_LIMIT])
    for f in followups:
        f.visible_case_id = f.case_id
    return {
        "notifications": notifications,
        "followups": followups,
        "actions_due": casework_selectors.actions_due(actor, limit=MY_WORK_LIMIT),
    }


def caseload(actor: Actor) -> list:
    """The actor's open enrolments as key worker, with the next check-in and overdue ones."""
    return programme_selectors.my_caseload(actor, limit=CASELOAD_LIMIT)


@dataclass
class InboxItem:
    kind: str  # shared, to_screen, response
    at: datetime
    text: str
    href: str
    new: bool = False  # arrived since the person last looked


def _shared_with_us(actor: Actor, since: datetime) -> list[InboxItem]:
    cases = case_selectors.shared_with_partner_since(actor, since, limit=INBOX_LIMIT)
    return [
        InboxItem(
            "shared",
            c.shared_at,
            f"{c.lead_partner.name} shared case {c.reference} ({c.subject.display_name}) with us",
            reverse("web:case", args=[c.pk]),
        )
        for c in cases
    ]


def _to_screen(actor: Actor, since: datetime) -> list[InboxItem]:
    """New referrals on cases our partner works that nobody has screened yet."""
    referrals = casework_selectors.referrals_to_screen(actor, since, limit=INBOX_LIMIT)
    return [
        InboxItem(
            "to_screen",
            r.received_at,
            f"New referral to screen from {r.source_partner.name}: {r.subject.display_name} "
            f"(case {r.case.reference})",
            reverse("web:case", args=[r.case_id]) + f"#referral-{r.pk}",
        )
        for r in referrals
    ]


def _responses(actor: Actor, since: datetime) -> list[InboxItem]:
    """Referrals our partner made that someone has answered: a screening decision on a case we
    can open, or a programme's decision on an enrolment we can see."""
    referrals = casework_selectors.referrals_screened_by_others(actor, since, limit=INBOX_LIMIT)
    enrolments = programme_selectors.referrals_decided_since(actor, since, limit=INBOX_LIMIT)
    return [
        InboxItem(
            "response",
            r.screening.screened_at,
            f"{r.screening.partner.name} screened our referral of {r.subject.display_name} "
            f"(case {r.case.reference})",
            reverse("web:case", args=[r.case_id]) + f"#referral-{r.pk}",
        )
        for r in referrals
    ] + [
        InboxItem(
            "response",
            e.status_changed_at,
            f"Our referral of {e.person.display_name} to {e.programme.name} is now: "
            f"{EnrolmentStatus(e.status).label.lower()}",
            reverse("web:enrolment", args=[e.pk]),
        )
        for e in enrolments
    ]


def inbox(actor: Actor, now: datetime | None = None) -> dict:
    """What arrived for the actor's partner in the last INBOX_DAYS days, newest first; what
    arrived since the person last looked is marked new (and this look is remembered)."""
    from web.models import InboxVisit

    now = now or timezone.now()
    since = now - timedelta(days=INBOX_DAYS)
    last = InboxVisit.objects.filter(user=actor.user).values_list("seen_at", flat=True).first()
    responses = sorted(_responses(actor, since), key=lambda i: i.at, reverse=True)
    lists = {
        "inbox_shared": _shared_with_us(actor, since),
        "inbox_to_screen": _to_screen(actor, since),
        "inbox_responses": responses[:INBOX_LIMIT],
    }
    new = 0
    for items in lists.values():
        for item in items:
            item.new = last is not None and item.at > last
            new += item.new
    InboxVisit.objects.update_or_create(user=actor.user, defaults={"seen_at": now})
    return {"inbox_days": INBOX_DAYS, "inbox_last_visit": last, "inbox_new": new, **lists}


def name_followup_subjects(actor: Actor, followups) -> None:
    """Give each follow-up `enrolment` (with its person and programme) when it is about an
    enrolment the actor may see, and `case` (with its subject) when about a case the actor may
    see; nothing otherwise, so a name is shown only to those who may see it. Two queries and the
    log rows, whatever the number."""
    followups = list(followups)
    enrolments = programme_selectors.enrolments_by_id(
        actor, {f.subject_id for f in followups if f.subject_resource == "enrolment"}
    )
    cases = case_selectors.cases_by_id(actor, {f.case_id for f in followups if f.case_id})
    for f in followups:
        f.enrolment = enrolments.get(f.subject_id) if f.subject_resource == "enrolment" else None
        f.visible_case = cases.get(f.case_id)
