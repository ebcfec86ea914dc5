"""Who may see and do what with chronology entries, adversities, actions and referrals.

Case visibility (cases.access.cases_visible_to) comes first for every record here. On top of it:
- a chronology entry is seen by everyone on the case (`case`), by the author's partner only
  (`partner`), or by the named users and the author only (`named`);
- a sensitive adversity record is seen only by the recording partner and the partners it has been
  explicitly shared with;
- actions are seen by everyone on the case;
- a referral is seen by everyone on its case and always by the partner that sent it.
Adding to a case needs the actor's partner on the case (lead or live share): break-glass access
is for reading in an emergency, not for working the case.
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from audit.services import Access, access_record, access_refused
from cases import access as case_access
from cases.models import BreakGlassAccess, Case, Share
from casework.models import (
    Action,
    AdversityRecord,
    ChronologyEntry,
    EntryAmendment,
    EntryVisibility,
    Referral,
    ReferralUpload,
)
from core.errors import Forbidden, NotFound
from partners.actor import Actor
from partners.models import Role


def _visible_case_ids(actor: Actor) -> QuerySet:
    return case_access.cases_visible_to(actor).values("pk")


def _share_basis(actor: Actor, case_ref: str = "case_id") -> Subquery:
    return Subquery(
        Share.objects.filter(
            case=OuterRef(case_ref), partner=actor.partner, revoked_at__isnull=True
        ).values("lawful_basis")[:1]
    )


def _on_visible_cases(model, actor: Actor, case: Case | None) -> QuerySet:
    qs = model.objects.filter(case_id__in=_visible_case_ids(actor))
    if case is not None:
        qs = qs.filter(case_id=case.pk)
    # The case-level reason the actor may see the record, for the access log (cases.access rule).
    return qs.annotate(share_basis=_share_basis(actor))


def entry_visibility_condition(actor: Actor) -> Q:
    """The per-entry rule on top of case visibility, as a filter on ChronologyEntry."""
    condition = Q(visibility=EntryVisibility.CASE) | Q(
        visibility=EntryVisibility.PARTNER, partner_id=actor.partner.pk
    )
    if actor.user is not None:
        # Named people see the entry while they see the case; the author always sees it. A
        # partner system is nobody's name, so it never sees `named` entries.
        named = ChronologyEntry.named_users.through.objects.filter(
            chronologyentry_id=OuterRef("pk"), user_id=actor.user.pk
        )
        condition |= Q(visibility=EntryVisibility.NAMED) & (Q(author=actor.user) | Exists(named))
    return condition


def entries_visible_to(actor: Actor, case: Case | None = None) -> QuerySet[ChronologyEntry]:
    """Every list, detail, search, export, feed and notice of chronology entries starts here."""
    if not case_access.reads_case_content(actor):
        return ChronologyEntry.objects.none()
    return _on_visible_cases(ChronologyEntry, actor, case).filter(entry_visibility_condition(actor))


def _version_condition(actor: Actor) -> Q:
    """entry_visibility_condition's rule, on the version an amendment replaced (its recorded
    visibility, the entry's partner then, and who was named then), as a filter on EntryAmendment."""
    condition = Q(previous_visibility=EntryVisibility.CASE) | Q(
        previous_visibility=EntryVisibility.PARTNER, previous_partner_id=actor.partner.pk
    )
    if actor.user is not None:
        named = EntryAmendment.previous_named_users.through.objects.filter(
            entryamendment_id=OuterRef("pk"), user_id=actor.user.pk
        )
        condition |= Q(previous_visibility=EntryVisibility.NAMED) & (
            Q(entry__author=actor.user) | Exists(named)
        )
    return condition


def amendment_visibility_condition(actor: Actor) -> Q:
    """An amendment shows the version it replaced (`previous`) and the one that replaced it
    (`changes`), so it is shown to those who could see both: the replaced version by the rule
    above, and the next one by the same rule on the next amendment (or, for the last amendment,
    the entry as it is now, which the reader sees already). Widening an entry (`partner` to
    `case`) therefore never shows its partner-only past to the other partners."""
    next_hidden = EntryAmendment.objects.filter(
        entry_id=OuterRef("entry_id"), version=OuterRef("version") + 1
    ).exclude(_version_condition(actor))
    return _version_condition(actor) & ~Exists(next_hidden)


def amendments_visible_to(actor: Actor, entry: ChronologyEntry | None = None):
    """An entry's history as the actor may see it, oldest first. Only for entries the actor may
    see (entries_visible_to first); every API field, page and export of amendments goes here."""
    if not case_access.reads_case_content(actor):
        return EntryAmendment.objects.none()
    qs = EntryAmendment.objects.filter(amendment_visibility_condition(actor)).order_by("version")
    if entry is not None:
        qs = qs.filter(entry_id=entry.pk)
    return qs


def adversity_visibility_condition(actor: Actor) -> Q:
    shared = AdversityRecord.shared_with.through.objects.filter(
        adversityrecord_id=OuterRef("pk"), partner_id=actor.partner.pk
    )
    return Q(sensitive=False) | Q(partner_id=actor.partner.pk) | Exists(shared)


def adversities_visible_to(actor: Actor, case: Case | None = None) -> QuerySet[AdversityRecord]:
    """Adversity records on visible cases; sensitive ones only for the recording partner and the
    partners it was shared with."""
    if not case_access.reads_case_content(actor):
        return AdversityRecord.objects.none()
    return _on_visible_cases(AdversityRecord, actor, case).filter(
        adversity_visibility_condition(actor)
    )


def actions_visible_to(actor: Actor, case: Case | None = None) -> QuerySet[Action]:
    if not case_access.reads_case_content(actor):
        return Action.objects.none()
    return _on_visible_cases(Action, actor, case)


def referrals_visible_to(actor: Actor) -> QuerySet[Referral]:
    """Referrals on visible cases, and every referral the actor's partner sent."""
    if not case_access.reads_case_content(actor):
        return Referral.objects.none()
    return Referral.objects.filter(
        Q(case_id__in=_visible_case_ids(actor)) | Q(source_partner_id=actor.partner.pk)
    ).annotate(share_basis=_share_basis(actor))


# Justifications for the access log.


def justification(actor: Actor, record) -> str:
    """Why the actor may see a record on a case (the case-level reason, then the record's)."""
    case = record.case
    if case.lead_partner_id == actor.partner.pk:
        base = "lead partner"
    elif getattr(record, "share_basis", None):
        base = f"shared with {actor.partner.slug} ({record.share_basis})"
    elif isinstance(record, Referral) and record.source_partner_id == actor.partner.pk:
        return "referral sent by this partner"
    elif case.restricted:
        base = "named user on a restricted case"
    else:
        base = "break-glass access"
    if isinstance(record, ChronologyEntry) and record.visibility == EntryVisibility.NAMED:
        return f"{base}; named on the entry" if record.author_id != _user_id(actor) else base
    return base


def _user_id(actor: Actor):
    return actor.user.pk if actor.user else None


def log_records(actor: Actor, object_type: str, records, *, action: str, detail=None) -> None:
    """One access-log row per record touched, in one INSERT."""
    access_record(
        actor=actor,
        action=action,
        accesses=[
            Access(
                object_type,
                r.pk,
                case_id=r.case_id,
                person_id=r.case.subject_id,
                justification=justification(actor, r),
            )
            for r in records
        ],
        detail=detail,
    )


def _get_for(actor: Actor, queryset: QuerySet, object_type: str, object_id, log_as: str | None):
    try:
        record = queryset.select_related("case").filter(pk=object_id).first()
    except (ValueError, TypeError):
        record = None
    if record is None:
        access_refused(
            actor=actor,
            action=log_as or "view",
            object_type=object_type,
            object_id=object_id,
            reason="not visible",
        )
        raise NotFound(f"{object_type.capitalize()} not found.")
    if log_as:
        log_records(actor, object_type, [record], action=log_as)
    return record


def entry_get_for(
    actor: Actor, entry_id: UUID | str, *, log_as: str | None = "view"
) -> ChronologyEntry:
    """The entry if the actor may see it; missing and hidden are the same 404, both logged."""
    return _get_for(actor, entries_visible_to(actor), "entry", entry_id, log_as)


def adversity_get_for(
    actor: Actor, record_id: UUID | str, *, log_as: str | None = "view"
) -> AdversityRecord:
    return _get_for(actor, adversities_visible_to(actor), "adversity", record_id, log_as)


def action_get_for(actor: Actor, action_id: UUID | str, *, log_as: str | None = "view") -> Action:
    return _get_for(actor, actions_visible_to(actor), "action", action_id, log_as)


def referral_get_for(
    actor: Actor, referral_id: UUID | str, *, log_as: str | None = "view"
) -> Referral:
    return _get_for(actor, referrals_visible_to(actor), "referral", referral_id, log_as)


# Acting on a case.


def partner_on_case(actor: Actor, case: Case) -> bool:
    return case_access.partner_on_case(actor, case)


def can_contribute(actor: Actor, case: Case) -> bool:
    return case_access.can_contribute(actor, case)


def check_contributor(actor: Actor, case: Case, *, what: str) -> None:
    """Adding to a visible case: cases.access's rule, the same in every channel."""
    case_access.check_contribute(actor, case, what=what)


def can_refer(actor: Actor) -> bool:
    """Referrals are casework: practitioners, managers and partner systems."""
    return case_access.writes_case_content(actor)


def check_refer(actor: Actor) -> None:
    if not can_refer(actor):
        case_access.refuse(
            actor, action="create", object_type="referral", object_id=None, reason="role",
            message="Referrals are made by partner practitioners, managers and systems.",
        )  # fmt: skip


def can_upload_referrals(actor: Actor) -> bool:
    """A CSV of referrals uploaded on the web: the referral-creation right, for people signed in as
    themselves (partner systems send referrals through the API)."""
    return actor.user is not None and can_refer(actor)


def check_upload_referrals(actor: Actor) -> None:
    if not can_upload_referrals(actor):
        case_access.refuse(
            actor, action="upload", object_type="referral_upload", object_id=None, reason="role",
            message="Referrals are uploaded by partner practitioners and managers.",
        )  # fmt: skip


def referral_uploads_visible_to(actor: Actor) -> QuerySet[ReferralUpload]:
    """A partner's uploads are seen by its people who may upload; no other partner's, ever."""
    if not can_upload_referrals(actor):
        return ReferralUpload.objects.none()
    return ReferralUpload.objects.filter(partner_id=actor.partner.pk)


def log_upload(actor: Actor, upload: ReferralUpload, *, action: str, detail=None) -> None:
    access_record(
        actor=actor,
        action=action,
        accesses=[Access("referral_upload", upload.pk, justification="upload by this partner")],
        detail=detail,
    )


def referral_upload_get_for(
    actor: Actor, upload_id: UUID | str, *, log_as: str | None = "view"
) -> ReferralUpload:
    """An upload of the actor's partner; another partner's and a missing one are the same 404,
    both logged."""
    try:
        found = referral_uploads_visible_to(actor).filter(pk=upload_id).first()
    except (ValueError, TypeError, ValidationError):
        found = None
    if found is None:
        access_refused(
            actor=actor, action=log_as or "view", object_type="referral_upload",
            object_id=upload_id, reason="not visible",
        )  # fmt: skip
        raise NotFound("Upload not found.")
    if log_as:
        log_upload(actor, found, action=log_as)
    return found


def can_answer_screening(actor: Actor, referral: Referral) -> bool:
    """Confirming or challenging a proposed screening decision is a professional's judgement on
    behalf of their partner: a practitioner or manager (signed in as themselves, not a partner
    system) of a partner working the case (lead or live share; never break-glass) that is not the
    proposer's partner, so that a confirmed decision is always a joint one."""
    if actor.user is None or actor.role not in case_access.WORKING_ROLES:
        return False
    if not partner_on_case(actor, referral.case):
        return False
    screening = getattr(referral, "screening", None)
    return screening is None or screening.partner_id != actor.partner.pk


def check_answer_screening(actor: Actor, referral: Referral) -> None:
    if not can_answer_screening(actor, referral):
        screening = getattr(referral, "screening", None)
        own = screening is not None and screening.partner_id == actor.partner.pk
        case_access.refuse(
            actor, action="confirm_screening", object_type="referral", object_id=referral.pk,
            reason="proposer's partner" if own else "not allowed",
            message="Your organisation proposed this decision: another partner on the case must "
            "confirm it." if own else "Only practitioners and managers of another partner working "
            "this case can confirm or challenge its screening decision.",
        )  # fmt: skip


def can_amend_entry(actor: Actor, entry: ChronologyEntry) -> bool:
    """The author corrects their own entry; their partner's managers may too, and a partner system
    corrects entries its partner's systems wrote."""
    if entry.partner_id != actor.partner.pk or not case_access.writes_case_content(actor):
        return False
    if actor.is_client:
        return entry.author_id is None
    return entry.author_id == actor.user.pk or actor.role == Role.MANAGER


def check_amend_entry(actor: Actor, entry: ChronologyEntry) -> None:
    if not can_amend_entry(actor, entry):
        access_refused(
            actor=actor, action="amend", object_type="entry", object_id=entry.pk,
            reason="not the author",
        )  # fmt: skip
        raise Forbidden("Only the author or their partner's managers can correct this entry.")


def can_change_action(actor: Actor, action: Action) -> bool:
    """The lead partner, the partner that set the action and the owner's partner update it."""
    if not case_access.writes_case_content(actor):
        return False
    return actor.partner.pk in (
        action.case.lead_partner_id,
        action.partner_id,
        action.owner_partner_id,
    ) and partner_on_case(actor, action.case)


def check_change_action(actor: Actor, action: Action) -> None:
    if not can_change_action(actor, action):
        access_refused(
            actor=actor, action="update", object_type="action", object_id=action.pk,
            reason="not allowed",
        )  # fmt: skip
        raise Forbidden(
            "Only the lead partner, the partner that set this action and its owner can change it."
        )


def can_share_adversity(actor: Actor, record: AdversityRecord) -> bool:
    return record.partner_id == actor.partner.pk and case_access.writes_case_content(actor)


def check_share_adversity(actor: Actor, record: AdversityRecord) -> None:
    if not can_share_adversity(actor, record):
        access_refused(
            actor=actor, action="share", object_type="adversity", object_id=record.pk,
            reason="not the recording partner",
        )  # fmt: skip
        raise Forbidden("Only the partner that recorded this can share it.")


def case_for_break_glass(actor: Actor, case_id: UUID | str) -> Case:
    """The case a practitioner asks to break the glass on. Missing and restricted cases are the same
    404 (a restricted case is never opened this way, nor revealed); both refusals are logged."""
    case = Case.objects.select_related("subject").filter(pk=case_id).first()
    if case is None or case.restricted:
        access_refused(
            actor=actor,
            action="break_glass",
            object_type="case",
            object_id=case_id,
            reason="restricted" if case is not None else "not found",
        )
        raise NotFound("Case not found.")
    return case


def can_break_glass(actor: Actor) -> bool:
    """Break-glass is a person's decision, with their name on it: user practitioners only."""
    return actor.user is not None and actor.role == Role.PRACTITIONER


def check_break_glass(actor: Actor, case_id) -> None:
    if not can_break_glass(actor):
        access_refused(
            actor=actor, action="break_glass", object_type="case", object_id=case_id,
            reason="not a practitioner",
        )  # fmt: skip
        raise Forbidden("Only practitioners signed in as themselves can use break-glass access.")


def check_break_glass_agreement(actor: Actor, case: Case) -> None:
    """Break-glass still relies on a data sharing agreement: an active one that covers the
    user's partner and the case's lead partner."""
    from cases.services import agreement_covering

    if agreement_covering(case.lead_partner, actor.partner) is None:
        access_refused(
            actor=actor, action="break_glass", object_type="case", object_id=case.pk,
            reason="no data sharing agreement with the lead partner",
        )  # fmt: skip
        raise Forbidden(
            "Your organisation has no active data sharing agreement with the organisation that "
            "leads this case, so it cannot be opened in an emergency. Ask them to share it."
        )


def break_glass_requests_for_approval(actor: Actor) -> QuerySet:
    """Break-glass requests waiting for a manager of the requesting user's own partner."""
    if not can_approve_break_glass(actor):
        return BreakGlassAccess.objects.none()
    return BreakGlassAccess.objects.filter(
        partner_id=actor.partner.pk, status=BreakGlassAccess.Status.PENDING
    ).exclude(user_id=actor.user.pk)


def can_approve_break_glass(actor: Actor) -> bool:
    """A second break-glass in 24 hours is approved by one of the user's own managers."""
    return actor.user is not None and actor.role == Role.MANAGER


def break_glass_request_get_for(actor: Actor, request_id):
    """A pending request the actor may decide on; anything else is the same 404, logged."""
    try:
        found = break_glass_requests_for_approval(actor).filter(pk=request_id).first()
    except (ValueError, TypeError):
        found = None
    if found is None:
        access_refused(
            actor=actor, action="decide_break_glass", object_type="break_glass",
            object_id=request_id, reason="not visible",
        )  # fmt: skip
        raise NotFound("Break-glass request not found.")
    return found


# Reviewing a use of break-glass (information governance's work, recorded in audit.BreakGlassReview):
# on the scope of the auditor's break-glass list (cases.access.break_glass_visible_to).


def can_review_break_glass(actor: Actor, event) -> bool:
    """An auditor may review the uses they may see, and nobody else reviews any."""
    return (
        case_access.reviews_access(actor)
        and case_access.break_glass_visible_to(actor).filter(pk=event.pk).exists()
    )


def break_glass_for_review(actor: Actor, event_id: UUID | str) -> BreakGlassAccess:
    """The break-glass use an auditor reviews; 404 (logged) for one they may not see, or that
    does not exist, and for anyone who is not an auditor: the answer is the same."""
    event = (
        case_access.break_glass_visible_to(actor).filter(pk=event_id).first()
        if case_access.reviews_access(actor)
        else None
    )
    if event is None:
        access_refused(
            actor=actor, action="review_break_glass", object_type="break_glass",
            object_id=event_id, reason="not an auditor who may see this break-glass use",
        )  # fmt: skip
        raise NotFound("No such break-glass use.")
    return BreakGlassAccess.objects.select_related("case").get(pk=event.pk)


REPORT_ROLES = (Role.COORDINATOR, Role.MANAGER, Role.AUDITOR)


def can_read_partnership_figures(actor: Actor) -> bool:
    """Aggregate figures (no personal data, suppressed when shown): coordinators, managers and
    auditors."""
    return actor.user is not None and actor.role in REPORT_ROLES


def check_partnership_figures(actor: Actor) -> None:
    if not can_read_partnership_figures(actor):
        raise Forbidden("Only coordinators, managers and auditors can read partnership figures.")
