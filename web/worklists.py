"""The lists on My work that gather from several apps: a coach's caseload, the partner's inbox,
and what each follow-up is about. Every read goes through the owning app's access functions and
is access-logged by ids; each list is a fixed number of queries, whatever its length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from cases import access as case_access
from cases.models import Share
from casework import access as casework_access
from partners.actor import Actor
from programmes import access as programme_access
from programmes import selectors as programme_selectors
from programmes.models import EnrolmentStatus

# The inbox shows what arrived within this many days.
INBOX_DAYS = 14
INBOX_LIMIT = 10


def caseload(actor: Actor) -> list:
    """The actor's open enrolments as key worker, with the next check-in and overdue ones."""
    rows = list(programme_selectors.caseload(actor=actor)[:50])
    programme_access.log_enrolment_access(actor, rows, action="list_caseload")
    return rows


@dataclass
class InboxItem:
    kind: str  # shared, to_screen, response
    at: datetime
    text: str
    href: str
    new: bool = False  # arrived since the person last looked


def _shared_with_us(actor: Actor, since: datetime) -> list[InboxItem]:
    ours = Share.objects.filter(
        case=OuterRef("pk"), partner=actor.partner, revoked_at__isnull=True, shared_at__gte=since
    )
    cases = list(
        case_access.cases_visible_to(actor)
        .filter(Exists(ours))
        .exclude(lead_partner=actor.partner)
        .annotate(shared_at=Subquery(ours.order_by("-shared_at").values("shared_at")[:1]))
        .select_related("subject", "lead_partner")
        .order_by("-shared_at")[:INBOX_LIMIT]
    )
    case_access.log_case_list(actor, cases, action="list_inbox")
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
    if not case_access.writes_case_content(actor):
        return []
    referrals = list(
        casework_access.referrals_visible_to(actor)
        .filter(
            case_id__in=case_access.cases_visible_to(actor).values("pk"),
            screened_at__isnull=True,
            received_at__gte=since,
            screening__isnull=True,
        )
        .exclude(source_partner=actor.partner)  # ours are in "responses" once answered
        .select_related("case", "subject", "source_partner")
        .order_by("-received_at")[:INBOX_LIMIT]
    )
    casework_access.log_records(actor, "referral", referrals, action="list_inbox")
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
    referrals = list(
        casework_access.referrals_visible_to(actor)
        .filter(
            source_partner=actor.partner,
            case_id__in=case_access.cases_visible_to(actor).values("pk"),
            screening__screened_at__gte=since,
        )
        .exclude(screening__partner=actor.partner)
        .select_related("case", "subject", "screening__partner")
        .order_by("-screening__screened_at")[:INBOX_LIMIT]
    )
    casework_access.log_records(actor, "referral", referrals, action="list_inbox")
    enrolments = list(
        programme_access.enrolments_visible_to(actor)
        .filter(referred_by_partner=actor.partner, status_changed_at__gte=since)
        .exclude(status=EnrolmentStatus.REFERRED)
        .select_related("programme", "person")
        .order_by("-status_changed_at")[:INBOX_LIMIT]
    )
    programme_access.log_enrolment_access(actor, enrolments, action="list_inbox")
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
    enrolment_ids = {f.subject_id for f in followups if f.subject_resource == "enrolment"}
    enrolments = {}
    if enrolment_ids:
        enrolments = {
            e.pk: e
            for e in programme_access.enrolments_visible_to(actor)
            .filter(pk__in=enrolment_ids)
            .select_related("programme", "person")
        }
        programme_access.log_enrolment_access(actor, list(enrolments.values()), action="list")
    case_ids = {f.case_id for f in followups if f.case_id}
    cases = {}
    if case_ids:
        cases = {
            c.pk: c
            for c in case_access.cases_visible_to(actor)
            .filter(pk__in=case_ids)
            .select_related("subject")
        }
        case_access.log_case_list(actor, list(cases.values()), action="list")
    for f in followups:
        f.enrolment = enrolments.get(f.subject_id) if f.subject_resource == "enrolment" else None
        f.visible_case = cases.get(f.case_id)
