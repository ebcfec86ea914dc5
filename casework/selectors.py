"""Reads for case work. Those that return personal data take the actor and go through
casework.access; the follow-up sweeps (system jobs, no actor) return ids and dates only."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from cases import access as case_access
from cases.models import Case
from casework import access
from casework.models import (
    Action,
    ActionStatus,
    AdversityRecord,
    ChronologyEntry,
    Referral,
    Screening,
    ScreeningConfirmation,
    ScreeningDecision,
    ScreeningStatus,
)
from casework.vocabularies import label
from partners.actor import Actor
from partners.models import User


def chronology(actor: Actor, case: Case, *, log: bool = True) -> list[ChronologyEntry]:
    """Tell-it-once: everything on the case the actor may see, in one chronology, newest first."""
    entries = list(
        access.entries_visible_to(actor, case)
        .select_related("case", "partner", "author")
        .prefetch_related("named_users", _visible_amendments(actor))
        .order_by("-occurred_at", "-id")
    )
    if log:
        access.log_records(actor, "entry", entries, action="list")
    return entries


def case_adversities(actor: Actor, case: Case, *, log: bool = True) -> list[AdversityRecord]:
    records = list(
        access.adversities_visible_to(actor, case)
        .select_related("case", "partner")
        .prefetch_related("shared_with")
        .order_by("-recorded_at", "-id")
    )
    if log:
        access.log_records(actor, "adversity", records, action="list")
    return records


def _visible_amendments(actor: Actor) -> Prefetch:
    """`entry.amendments.all()` as the actor may see them: a widened entry keeps its past narrow."""
    return Prefetch("amendments", queryset=access.amendments_visible_to(actor))


def entries_with_related(
    actor: Actor, queryset: QuerySet[ChronologyEntry]
) -> QuerySet[ChronologyEntry]:
    return queryset.select_related("case", "partner").prefetch_related(
        "named_users", _visible_amendments(actor)
    )


def adversities_with_related(queryset: QuerySet[AdversityRecord]) -> QuerySet[AdversityRecord]:
    return queryset.select_related("case", "partner").prefetch_related("shared_with")


def actions_with_related(queryset: QuerySet[Action]) -> QuerySet[Action]:
    return queryset.select_related("case", "owner_partner", "partner")


def _answers() -> Prefetch:
    return Prefetch(
        "screening__confirmations",
        queryset=ScreeningConfirmation.objects.select_related("partner", "user"),
    )


def referrals_with_related(
    queryset: QuerySet[Referral], actor: Actor | None = None
) -> QuerySet[Referral]:
    """With their screening decision, who took part and every partner's answer to it. Given the
    reader, the household children are only those they may see (the API lists their ids; a
    child's id is not to be learnt from a referral)."""
    children = (
        Prefetch("household_children", queryset=case_access.persons_visible_to(actor))
        if actor is not None
        else "household_children"
    )
    return queryset.select_related(
        "case",
        "source_partner",
        "screening",
        "screening__partner",
        "screening__screened_by",
        "screening__early_help_partner",
    ).prefetch_related("screening__participants", children, _answers())


def screenings_with_related(queryset: QuerySet[Screening]) -> QuerySet[Screening]:
    return queryset.select_related("partner", "referral", "early_help_partner").prefetch_related(
        "participants",
        Prefetch("confirmations", queryset=ScreeningConfirmation.objects.select_related("partner")),
    )


def case_referrals(actor: Actor, case: Case, *, log: bool = True) -> list[Referral]:
    """The referrals on a case the actor may see, newest first, each with its screening decision
    as it stands for the page: the answers to it, who confirmed the current proposal, the last
    challenge, and whether the actor may confirm or challenge it (casework.access)."""
    referrals = list(
        referrals_with_related(access.referrals_visible_to(actor).filter(case=case)).order_by(
            "-received_at"
        )
    )
    # The children a referral names, as people this reader can see; others are only counted.
    named = {p.pk for r in referrals for p in r.household_children.all()}
    seen = (
        set(case_access.persons_visible_to(actor).filter(pk__in=named).values_list("pk", flat=True))
        if named
        else set()
    )
    for r in referrals:
        r.concern_labels = [label("concerns", c) for c in r.concerns]
        r.children_shown = [p for p in r.household_children.all() if p.pk in seen]
        r.children_unseen = len(r.household_children.all()) - len(r.children_shown)
        screening = getattr(r, "screening", None)
        r.decision = screening
        r.answers, r.confirmed_by, r.last_challenge, r.can_answer = [], [], None, False
        if screening is None:
            continue
        r.answers = list(screening.confirmations.all())
        for a in r.answers:
            a.outcome_label = label("screening-outcomes", a.proposal.get("outcome", ""))
        r.confirmed_by = [
            a.partner
            for a in r.answers
            if a.round == screening.round and a.decision == ScreeningDecision.CONFIRM
        ]
        r.last_challenge = next(
            (a for a in reversed(r.answers) if a.decision == ScreeningDecision.CHALLENGE), None
        )
        answered = {a.partner_id for a in r.answers if a.round == screening.round}
        r.can_answer = (
            screening.status == ScreeningStatus.PROPOSED
            and actor.partner.pk not in answered
            and access.can_answer_screening(actor, r)
        )
        # Nobody else works the case: the proposer's partner needs to share it to get a
        # confirmation.
        r.nobody_to_confirm = (
            screening.status == ScreeningStatus.PROPOSED
            and not case_access.partners_with_access(case).exclude(pk=screening.partner_id).exists()
        )
    together = _referred_together(actor, case, referrals)
    for r in referrals:
        r.referred_together = together.get(r.referred_with, [])
    if log and referrals:
        together_seen = [o for others in together.values() for o in others]
        access.log_records(actor, "referral", [*referrals, *together_seen], action="list")
    return referrals


def _referred_together(actor: Actor, case: Case, referrals: list[Referral]) -> dict:
    """Brothers' and sisters' referrals made with these (on their own cases), as far as the actor
    may see them: {referred_with: [referral, ...]}. One query, however many referrals."""
    groups = {r.referred_with for r in referrals if r.referred_with}
    together: dict = {}
    if not groups:
        return together
    others = (
        access.referrals_visible_to(actor)
        .filter(referred_with__in=groups)
        .exclude(case=case)
        .select_related("subject", "case")
        .order_by("subject__given_name", "subject__family_name")
    )
    for other in others:
        together.setdefault(other.referred_with, []).append(other)
    return together


# For the follow-up jobs (no actor: they schedule work, they do not read case content).


def overdue_action_ids(today: date | None = None) -> QuerySet:
    """(id, case_id, owner_user_id, owner_partner_id, due_date) of open actions past their date."""
    today = today or timezone.localdate()
    return Action.objects.filter(status=ActionStatus.OPEN, due_date__lt=today).values_list(
        "id", "case_id", "owner_user_id", "owner_partner_id", "due_date"
    )


def unscreened_overdue_referral_ids(now: datetime | None = None) -> QuerySet:
    """(id, case_id, screening_due_at) of referrals whose screening deadline has passed."""
    now = now or timezone.now()
    return Referral.objects.filter(screened_at__isnull=True, screening_due_at__lt=now).values_list(
        "id", "case_id", "screening_due_at"
    )


# For the case page and My work.


def users_on_case(case: Case) -> QuerySet[User]:
    """Active staff of the partners that can see the case: who may be named or own an action."""
    partners = case_access.partners_with_access(case)
    return (
        User.objects.filter(is_active=True, membership__partner__in=partners)
        .select_related("membership__partner")
        .order_by("membership__partner__name", "full_name")
    )


def chronology_with_amendments(actor: Actor, case: Case) -> list[ChronologyEntry]:
    """The chronology (logged as listed) with who made each visible correction, and whether the
    actor may correct each entry (`can_amend`)."""
    entries = chronology(actor, case)
    prefetch_related_objects(entries, "amendments__amended_by", "amendments__partner")
    for e in entries:
        e.can_amend = access.can_amend_entry(actor, e)
    return entries


def case_actions(actor: Actor, case: Case) -> list[Action]:
    """The actions on a case the actor may see, open first then by due date, each with whether
    the actor may change it (`changeable`); logged as listed."""
    actions = list(
        actions_with_related(
            access.actions_visible_to(actor, case).select_related("owner_user")
        ).order_by("status", "due_date")
    )
    for a in actions:
        a.changeable = access.can_change_action(actor, a)
    if actions:
        access.log_records(actor, "action", actions, action="list")
    return actions


def actions_due(actor: Actor, *, limit: int) -> list[Action]:
    """The actor's own open actions, soonest due first; logged as listed."""
    actions = list(
        actions_with_related(
            access.actions_visible_to(actor).filter(owner_user=actor.user, status="open")
        ).order_by("due_date")[:limit]
    )
    if actions:
        access.log_records(actor, "action", actions, action="list")
    return actions


def referrals_to_screen(actor: Actor, since: datetime, *, limit: int) -> list[Referral]:
    """New referrals since `since` on cases the actor's partner works that nobody has screened
    yet, made by another partner, newest first; logged as seen in the inbox."""
    if not case_access.writes_case_content(actor):
        return []
    referrals = list(
        access.referrals_visible_to(actor)
        .filter(
            case_id__in=case_access.cases_visible_to(actor).values("pk"),
            screened_at__isnull=True,
            received_at__gte=since,
            screening__isnull=True,
        )
        .exclude(source_partner=actor.partner)  # ours are in "responses" once answered
        .select_related("case", "subject", "source_partner")
        .order_by("-received_at")[:limit]
    )
    access.log_records(actor, "referral", referrals, action="list_inbox")
    return referrals


def referrals_screened_by_others(actor: Actor, since: datetime, *, limit: int) -> list[Referral]:
    """Referrals the actor's partner made that another partner has screened since `since`, on
    cases the actor can open, latest decision first; logged as seen in the inbox."""
    referrals = list(
        access.referrals_visible_to(actor)
        .filter(
            source_partner=actor.partner,
            case_id__in=case_access.cases_visible_to(actor).values("pk"),
            screening__screened_at__gte=since,
        )
        .exclude(screening__partner=actor.partner)
        .select_related("case", "subject", "screening__partner")
        .order_by("-screening__screened_at")[:limit]
    )
    access.log_records(actor, "referral", referrals, action="list_inbox")
    return referrals
