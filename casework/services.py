"""Writes for chronology, adversities, actions, referrals, screening and break-glass access.

One transaction each; the access log and the change journal are written in the same transaction as
the change they record. Callers pass a case the actor can see (cases.access.case_get_for); these
services decide whether the actor may add to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import BreakGlassReview
from audit.services import Access, access_record
from cases import access as case_access
from cases import services as case_services
from cases.matching import Match, find_matches
from cases.models import (
    BreakGlassAccess,
    Case,
    CaseStatus,
    ClosureReason,
    Person,
    PersonIdentifier,
    RiskLevel,
)
from cases.signals import eligibility_facts_changed
from casework import access, vocabularies
from casework.models import (
    Action,
    ActionHistory,
    ActionStatus,
    AdversityRecord,
    AdversitySource,
    ChronologyEntry,
    EntryAmendment,
    EntryKind,
    EntryVisibility,
    Referral,
    Screening,
    ScreeningConfirmation,
    ScreeningDecision,
    ScreeningOutcome,
    ScreeningStatus,
    Urgency,
)
from core.changes import record_change
from core.errors import Conflict, PreconditionFailed, ValidationFailed
from core.guards import guarded
from followups.services import followup_create, notify
from partners.actor import Actor
from partners.models import Partner, Role, User

SCREENING_FOLLOWUP = "screening_deadline"


MAX_BODY = 20000


def _jsonable(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return sorted(str(v) for v in value)
    if hasattr(value, "pk"):
        return str(value.pk)
    return value


def _not_in_future(value: datetime | None, name: str) -> None:
    # A minute's grace for clocks that disagree a little.
    if value is not None and value > timezone.now() + timedelta(minutes=1):
        raise ValidationFailed(
            f"{name.replace('_', ' ').capitalize()} cannot be in the future.",
            fields={name: ["in the future"]},
        )


def _choice(value: str, choices, name: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(
            f"'{value}' is not a valid {name}; use one of: {', '.join(choices.values)}.",
            fields={name: ["invalid"]},
        )
    return value


def _partner_ids_on_case(case: Case) -> set:
    return set(case_access.partners_with_access(case).values_list("pk", flat=True))


def _users_on_case(case: Case, users: Iterable[User], name: str) -> list[User]:
    users = list(dict.fromkeys(users))
    partner_ids = _partner_ids_on_case(case)
    wrong = [
        str(u.pk)
        for u in users
        if not u.is_active
        or getattr(getattr(u, "membership", None), "partner_id", None) not in partner_ids
    ]
    if wrong:
        raise ValidationFailed(
            "Only active staff of partners working this case can be named.",
            fields={name: [f"{pk} is not on this case" for pk in wrong]},
        )
    return users


# Chronology


@guarded(lambda actor, case, **_: access.check_contributor(actor, case, what="add_entry"))
def entry_create(
    *,
    actor: Actor,
    case: Case,
    kind: str,
    occurred_at: datetime,
    body: str,
    visibility: str = EntryVisibility.CASE,
    named_users: Iterable[User] = (),
) -> ChronologyEntry:
    """Records one thing that happened. `named` entries need named people, who are told (without
    the content) that they have been named."""
    _choice(kind, EntryKind, "kind")
    _choice(visibility, EntryVisibility, "visibility")
    _not_in_future(occurred_at, "occurred_at")
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Say what happened.", fields={"body": ["required"]})
    named = _users_on_case(case, named_users, "named_users")
    if visibility == EntryVisibility.NAMED and not named:
        raise ValidationFailed(
            "A `named` entry needs at least one named user.", fields={"named_users": ["required"]}
        )
    if visibility != EntryVisibility.NAMED and named:
        raise ValidationFailed(
            "Name users only on `named` entries.", fields={"named_users": ["only for named"]}
        )
    entry = ChronologyEntry.objects.create(
        case=case, kind=kind, occurred_at=occurred_at, body=body, visibility=visibility,
        author=actor.user, author_client=actor.client, partner=actor.partner,
    )  # fmt: skip
    if named:
        entry.named_users.set(named)
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    record_change("entry", entry.pk, "created", case_id=case.pk, person_id=case.subject_id)
    access_record(
        actor=actor,
        action="create",
        accesses=[
            Access(
                "entry",
                entry.pk,
                case_id=case.pk,
                person_id=case.subject_id,
                justification=f"author ({visibility} entry)",
            )
        ],
    )
    _notify_named(entry, [u for u in named if u != actor.user])
    return entry


def _notify_named(entry: ChronologyEntry, users: list[User]) -> None:
    if users:
        notify(
            recipients=users,
            kind="entry_named",
            title="You have been named on a chronology entry",
            link=f"/cases/{entry.case_id}#entry-{entry.pk}",
            dedupe_key=f"entry-named:{entry.pk}:{entry.version}",
        )


ENTRY_AMENDABLE = ("kind", "occurred_at", "body", "visibility", "named_users")


@guarded(lambda actor, entry, **_: access.check_amend_entry(actor, entry))
def entry_amend(
    *,
    actor: Actor,
    entry: ChronologyEntry,
    expected_version: int,
    reason: str,
    data: dict[str, Any],
) -> ChronologyEntry:
    """A correction. The entry shows the corrected text; an amendment keeps what it said before,
    who changed it, when and why. Only the author (or their partner's managers) may correct it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say why the entry is being corrected.", fields={"reason": ["required"]}
        )
    data = {k: v for k, v in data.items() if k in ENTRY_AMENDABLE}
    if "kind" in data:
        _choice(data["kind"], EntryKind, "kind")
    if "visibility" in data:
        _choice(data["visibility"], EntryVisibility, "visibility")
    if "occurred_at" in data:
        _not_in_future(data["occurred_at"], "occurred_at")
    if "body" in data:
        data["body"] = (data["body"] or "").strip()
        if not data["body"]:
            raise ValidationFailed("An entry cannot be blank.", fields={"body": ["required"]})
    old_named = list(entry.named_users.all())
    visibility = data.get("visibility", entry.visibility)
    named = (
        _users_on_case(entry.case, data["named_users"], "named_users")
        if "named_users" in data
        else (old_named if visibility == EntryVisibility.NAMED else [])
    )
    if visibility == EntryVisibility.NAMED and not named:
        raise ValidationFailed(
            "A `named` entry needs at least one named user.", fields={"named_users": ["required"]}
        )
    if visibility != EntryVisibility.NAMED:
        named = []
    previous, changes = {}, {}
    for name in ("kind", "occurred_at", "body", "visibility"):
        if name in data and getattr(entry, name) != data[name]:
            previous[name], changes[name] = _jsonable(getattr(entry, name)), _jsonable(data[name])
    if {u.pk for u in named} != {u.pk for u in old_named}:
        previous["named_users"], changes["named_users"] = (
            _jsonable([u.pk for u in old_named]),
            _jsonable([u.pk for u in named]),
        )
    if not changes:
        raise ValidationFailed("Nothing to correct: the entry already says that.")
    fields = {k: data[k] for k in ("kind", "occurred_at", "body", "visibility") if k in changes}
    updated = ChronologyEntry.objects.filter(pk=entry.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields
    )
    if updated != 1:
        raise PreconditionFailed(
            "This entry has been changed since you read it. Fetch it again and reapply your change."
        )
    # Who could see the version being replaced, so its history is never shown more widely.
    amendment = EntryAmendment.objects.create(
        entry=entry, version=expected_version, previous=previous, changes=changes, reason=reason[:500],
        amended_by=actor.user, amended_by_client=actor.client, partner=actor.partner,
        previous_visibility=entry.visibility, previous_partner_id=entry.partner_id,
    )  # fmt: skip
    if old_named:
        amendment.previous_named_users.set(old_named)
    if "named_users" in changes:
        entry.named_users.set(named)
    case = entry.case
    old_visibility = entry.visibility
    entry.refresh_from_db()
    record_change("entry", entry.pk, "updated", case_id=case.pk, person_id=case.subject_id)
    if old_visibility == EntryVisibility.CASE and entry.visibility != EntryVisibility.CASE:
        # Partners that could see the entry and now cannot are told it is gone from their view.
        for partner in case_access.partners_with_access(case).exclude(pk=entry.partner_id):
            record_change(
                "entry", entry.pk, "revoked", case_id=case.pk, person_id=case.subject_id,
                audience_partner=partner,
            )  # fmt: skip
    access_record(
        actor=actor,
        action="amend",
        accesses=[
            Access(
                "entry", entry.pk, case_id=case.pk, person_id=case.subject_id,
                justification="author's partner",
            )
        ],
        detail={"fields": sorted(changes)},  # the reason is kept with the amendment
    )  # fmt: skip
    new_named = [u for u in named if u.pk not in {o.pk for o in old_named} and u != actor.user]
    _notify_named(entry, new_named)
    return entry


# Adversities and protective factors


def _partners_on_case(case: Case, partners: Iterable[Partner], name: str) -> list[Partner]:
    partners = list(dict.fromkeys(partners))
    on_case = _partner_ids_on_case(case)
    wrong = [p.slug for p in partners if p.pk not in on_case]
    if wrong:
        raise ValidationFailed(
            "Share only with partners working this case.",
            fields={name: [f"{slug} is not on this case" for slug in wrong]},
        )
    return partners


@guarded(lambda actor, case, **_: access.check_contributor(actor, case, what="add_adversity"))
def adversity_create(
    *,
    actor: Actor,
    case: Case,
    code: str,
    source: str,
    sensitive: bool = False,
    note: str = "",
    recorded_at: datetime | None = None,
    shared_with: Iterable[Partner] = (),
) -> AdversityRecord:
    """Records an adversity or protective factor with a code from the published vocabulary; a
    sensitive one stays with the recording partner unless shared explicitly."""
    vocabularies.check_codes("adversities", [code], field="code")
    _choice(source, AdversitySource, "source")
    _not_in_future(recorded_at, "recorded_at")
    shared = _partners_on_case(case, shared_with, "shared_with")
    shared = [p for p in shared if p.pk != actor.partner.pk]
    if shared and not sensitive:
        raise ValidationFailed(
            "Only sensitive records are shared partner by partner; the others are seen by everyone "
            "on the case.",
            fields={"shared_with": ["only for sensitive records"]},
        )
    record = AdversityRecord.objects.create(
        case=case, code=code, source=source, sensitive=sensitive, note=(note or "").strip(),
        recorded_by=actor.user, recorded_by_client=actor.client, partner=actor.partner,
        recorded_at=recorded_at or timezone.now(),
    )  # fmt: skip
    if shared:
        record.shared_with.set(shared)
    record_change("adversity", record.pk, "created", case_id=case.pk, person_id=case.subject_id)
    eligibility_facts_changed.send(sender=AdversityRecord, actor=actor, case_id=case.pk)
    access_record(
        actor=actor,
        action="create",
        accesses=[
            Access(
                "adversity", record.pk, case_id=case.pk, person_id=case.subject_id,
                justification="recording partner",
            )
        ],
    )  # fmt: skip
    return record


@guarded(lambda actor, record, **_: access.check_share_adversity(actor, record))
def adversity_share(*, actor: Actor, record: AdversityRecord, partner: Partner) -> AdversityRecord:
    """The recording partner lets one more partner on the case see a sensitive record."""
    if not record.sensitive:
        raise Conflict("This record is not sensitive: everyone on the case already sees it.")
    if partner.pk == record.partner_id:
        raise ValidationFailed(
            "The recording partner already sees it.", fields={"partner": ["recording partner"]}
        )
    _partners_on_case(record.case, [partner], "partner")
    record.shared_with.add(partner)
    AdversityRecord.objects.filter(pk=record.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    record.refresh_from_db()
    case = record.case
    record_change("adversity", record.pk, "updated", case_id=case.pk, person_id=case.subject_id)
    access_record(
        actor=actor,
        action="share",
        accesses=[
            Access(
                "adversity", record.pk, case_id=case.pk, person_id=case.subject_id,
                justification="recording partner",
            )
        ],
        detail={"partner": partner.slug},
    )  # fmt: skip
    return record


# Actions


def _resolve_owner(
    actor: Actor, case: Case, owner_user: User | None, owner_partner: Partner | None
) -> tuple[User | None, Partner]:
    if owner_user is not None:
        membership = getattr(owner_user, "membership", None)
        if membership is None:
            raise ValidationFailed("The owner has no partner.", fields={"owner_user": ["invalid"]})
        if owner_partner is not None and owner_partner.pk != membership.partner_id:
            raise ValidationFailed(
                "The owner does not work for that partner.", fields={"owner_partner": ["mismatch"]}
            )
        _users_on_case(case, [owner_user], "owner_user")
        return owner_user, membership.partner
    if owner_partner is not None:
        _partners_on_case(case, [owner_partner], "owner_partner")
        return None, owner_partner
    return actor.user, actor.partner


@guarded(lambda actor, case, **_: access.check_contributor(actor, case, what="add_action"))
def action_create(
    *,
    actor: Actor,
    case: Case,
    title: str,
    due_date: date,
    description: str = "",
    owner_user: User | None = None,
    owner_partner: Partner | None = None,
) -> Action:
    """An action with an owner on the case (a person, or a partner) and a due date; it defaults to
    the actor (or, for a partner system, its partner)."""
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("Say what needs doing.", fields={"title": ["required"]})
    if due_date < timezone.localdate():
        raise ValidationFailed("The due date is in the past.", fields={"due_date": ["in the past"]})
    owner_user, owner_partner = _resolve_owner(actor, case, owner_user, owner_partner)
    action = Action.objects.create(
        case=case, title=title, description=(description or "").strip(), due_date=due_date,
        owner_user=owner_user, owner_partner=owner_partner, created_by=actor.user,
        created_by_client=actor.client, partner=actor.partner,
    )  # fmt: skip
    record_change("action", action.pk, "created", case_id=case.pk, person_id=case.subject_id)
    access_record(
        actor=actor,
        action="create",
        accesses=[
            Access(
                "action", action.pk, case_id=case.pk, person_id=case.subject_id,
                justification=access.justification(actor, _with_basis(action, actor)),
            )
        ],
    )  # fmt: skip
    if owner_user is not None and owner_user != actor.user:
        notify(
            recipients=[owner_user],
            kind="action_assigned",
            title="An action on a case has been assigned to you",
            link=f"/cases/{case.pk}#action-{action.pk}",
            dedupe_key=f"action-assigned:{action.pk}:{action.version}",
        )
    return action


def _with_basis(record, actor: Actor):
    from cases.models import Share

    record.share_basis = (
        Share.objects.filter(case_id=record.case_id, partner=actor.partner, revoked_at__isnull=True)
        .values_list("lawful_basis", flat=True)
        .first()
    )
    return record


ACTION_FIELDS = ("title", "description", "due_date", "status", "owner_user", "owner_partner")


@guarded(lambda actor, action, **_: access.check_change_action(actor, action))
def action_update(
    *, actor: Actor, action: Action, expected_version: int, data: dict[str, Any]
) -> Action:
    """Only if nobody else has changed it since it was read. The lead partner, the partner that
    set it and the owner's partner may change it; every change is kept in its history."""
    data = {k: v for k, v in data.items() if k in ACTION_FIELDS}
    if "title" in data:
        data["title"] = (data["title"] or "").strip()
        if not data["title"]:
            raise ValidationFailed("Say what needs doing.", fields={"title": ["required"]})
    if "status" in data:
        _choice(data["status"], ActionStatus, "status")
    if (
        "due_date" in data
        and data["due_date"] != action.due_date
        and data["due_date"] < timezone.localdate()
    ):
        raise ValidationFailed("The due date is in the past.", fields={"due_date": ["in the past"]})
    if "owner_user" in data or "owner_partner" in data:
        owner_user = data.get(
            "owner_user", action.owner_user if "owner_partner" not in data else None
        )
        owner_partner = data.get("owner_partner")
        if owner_user is None and owner_partner is None:
            raise ValidationFailed(
                "An action needs an owner.", fields={"owner_user": ["or owner_partner required"]}
            )
        data["owner_user"], data["owner_partner"] = _resolve_owner(
            actor, action.case, owner_user, owner_partner
        )
    changes = {
        k: [_jsonable(getattr(action, k)), _jsonable(v)]
        for k, v in data.items()
        if getattr(action, k) != v
    }
    if "status" in changes:
        data["completed_at"] = timezone.now() if data["status"] != ActionStatus.OPEN else None
    updated = Action.objects.filter(pk=action.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), **data
    )
    if updated != 1:
        raise PreconditionFailed(
            "This action has been changed since you read it. Fetch it again and reapply your change."
        )
    action.refresh_from_db()
    case = action.case
    ActionHistory.objects.create(
        action=action, version=action.version, changed_by=actor.user, changed_by_client=actor.client,
        partner=actor.partner, changes=changes,
    )  # fmt: skip
    record_change("action", action.pk, "updated", case_id=case.pk, person_id=case.subject_id)
    access_record(
        actor=actor,
        action="update",
        accesses=[
            Access(
                "action", action.pk, case_id=case.pk, person_id=case.subject_id,
                justification=access.justification(actor, _with_basis(action, actor)),
            )
        ],
        detail={"fields": sorted(changes)},
    )  # fmt: skip
    if "owner_user" in changes and action.owner_user and action.owner_user != actor.user:
        notify(
            recipients=[action.owner_user],
            kind="action_assigned",
            title="An action on a case has been assigned to you",
            link=f"/cases/{case.pk}#action-{action.pk}",
            dedupe_key=f"action-assigned:{action.pk}:{action.version}",
        )
    return action


# Referrals and joint screening

SUBJECT_FIELDS = (*case_services.PERSON_FIELDS,)


@dataclass
class Intake:
    """What happened to a referral on arrival: how its subject was found and which case it joined,
    and how each child in the household was found (in the order given)."""

    referral: Referral
    subject_found_by: str  # "given", "identifier" or "new person"
    case_opened: bool
    possible_duplicates: list[Match] = field(default_factory=list)
    hidden_matches: int = 0
    withheld_identifiers: list[str] = field(default_factory=list)
    household: list[tuple[Person, str]] = field(default_factory=list)
    # False when the referral joined a case the actor's partner does not lead: the children stay
    # on the referral for the lead partner to add (only the lead changes the case record).
    household_added: bool = True


# Police Protection Notice details on a referral: all optional; a police referral fills them in.
PPN_TEXT_LIMITS = {
    "incident_place": 200,
    "occurrence_number": 50,
    "present": 5000,
    "officer_observations": MAX_BODY,
    "voice": MAX_BODY,
}
PPN_FIELDS = ("incident_date", "incident_time", *PPN_TEXT_LIMITS)
# The level of concern a case opened by a referral starts at (cases.models.RiskLevel).
RISK_FOR_URGENCY = {Urgency.URGENT: RiskLevel.HIGH, Urgency.STANDARD: RiskLevel.MEDIUM}


def screening_deadline(urgency: str, received_at: datetime) -> datetime:
    hours = (
        settings.SCREENING_DEADLINE_HOURS_URGENT
        if urgency == Urgency.URGENT
        else settings.SCREENING_DEADLINE_HOURS_STANDARD
    )
    return received_at + timedelta(hours=hours)


def _clean_ppn(ppn: dict[str, Any]) -> dict[str, Any]:
    """The PPN details, every problem reported at once (the form at the end of a shift shows them
    together)."""
    unknown = set(ppn) - set(PPN_FIELDS)
    if unknown:
        raise ValueError(f"not PPN fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, limit in PPN_TEXT_LIMITS.items():
        value = (ppn.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = [f"Ensure this field has no more than {limit} characters."]
        cleaned[name] = value
    when, at = ppn.get("incident_date"), ppn.get("incident_time")
    if when is not None and (not isinstance(when, date) or isinstance(when, datetime)):
        errors["incident_date"] = ["Give the incident date as YYYY-MM-DD."]
    elif when is not None and when > timezone.localdate():
        errors["incident_date"] = ["The incident date cannot be in the future."]
    if at is not None and not isinstance(at, time):
        errors["incident_time"] = ["Give the incident time as HH:MM (24-hour clock)."]
    elif at is not None and when is None and "incident_date" not in errors:
        errors["incident_date"] = ["Give the incident date with its time."]
    elif at is not None and when is not None and "incident_date" not in errors:
        moment = timezone.make_aware(datetime.combine(when, at.replace(second=0, microsecond=0)))
        if moment > timezone.now() + timedelta(minutes=1):
            errors["incident_time"] = ["The incident time cannot be in the future."]
    if errors:
        raise ValidationFailed("Some incident details are not valid.", fields=errors)
    cleaned["incident_date"] = when
    cleaned["incident_time"] = at.replace(second=0, microsecond=0) if at else None
    return cleaned


@dataclass
class HouseholdChild:
    """A child in the household as the referrer gave them: a person they can already see, or
    details to match. `new_person` says the referrer checked the offered matches and this is
    someone else."""

    person: Person | None = None
    details: dict[str, Any] = field(default_factory=dict)
    identifiers: list[dict] = field(default_factory=list)
    new_person: bool = False


def household_child_matches(actor: Actor, child: HouseholdChild) -> tuple[list[Match], int]:
    """Who a child in the household may already be, as the person index matches anyone (visible
    matches shown, others counted)."""
    if child.person is not None:
        return [], 0
    return find_matches(
        actor=actor,
        given_name=child.details.get("given_name", ""),
        family_name=child.details.get("family_name", ""),
        date_of_birth=child.details.get("date_of_birth"),
        identifiers=child.identifiers,
    )


@dataclass
class _ChildFound:
    person: Person | None
    found_by: str
    child: HouseholdChild
    withheld: list[str] = field(default_factory=list)


def _resolve_household(actor: Actor, children: list[HouseholdChild]) -> list[_ChildFound]:
    """Each child: the person given, the visible record holding their identifier, or (once the
    referrer has said none of the offered matches is them) a new record. A possible match the
    actor can see is offered, never duplicated: the whole referral is refused (409) naming every
    child with matches, so the referrer answers for all of them at once. Nothing is written here."""
    found, offers, errors = [], {}, {}
    for index, child in enumerate(children):
        key = f"household_children.{index}"
        if child.person is not None:
            found.append(_ChildFound(child.person, "given", child))
            continue
        details = child.details
        missing = [
            n for n in ("given_name", "family_name") if not str(details.get(n) or "").strip()
        ]
        if missing:
            errors[key] = [
                f"Give the child's {' and '.join(n.replace('_', ' ') for n in missing)}."
            ]
            continue
        matches, _hidden = household_child_matches(actor, child)
        by_identifier = {m.person.pk: m.person for m in matches if m.reason.startswith("same ")}
        if len(by_identifier) > 1:
            errors[key] = ["These identifiers belong to different people."]
        elif by_identifier:
            found.append(_ChildFound(next(iter(by_identifier.values())), "identifier", child))
        elif matches and not child.new_person:
            offers[key] = [f"possible match: {m.person.pk} ({m.reason})" for m in matches]
        else:
            found.append(_ChildFound(None, "new person", child))
    if errors:
        raise ValidationFailed("Some children in the household are not complete.", fields=errors)
    if offers:
        raise Conflict(
            "A child in the household may already be known. For each, give the matching "
            "`person`, or `new_person: true` if none of the possible matches is them.",
            code="household_match",
            fields=offers,
        )
    return found


def _record_new_children(actor: Actor, found: list[_ChildFound]) -> None:
    for item in found:
        if item.person is not None:
            continue
        cleaned = case_services._clean_identifiers(actor, item.child.identifiers)
        free = []
        for scheme, value, issuer in cleaned:
            if PersonIdentifier.objects.filter(scheme=scheme, value=value, issuer=issuer).exists():
                item.withheld.append(f"{scheme}:{value}")  # held by a record not shown
            else:
                free.append({"scheme": scheme, "value": value})
        data = {k: v for k, v in item.child.details.items() if k in SUBJECT_FIELDS}
        item.person = case_services.person_create(actor=actor, data=data, identifiers=free)


def _find_subject(
    actor: Actor, person: dict[str, Any], identifiers: list[dict]
) -> tuple[Person, str, list[Match], int, list[str]]:
    """An identifier match the actor can see is the person; otherwise a new person record, never
    revealing (or copying) one the actor may not see. Possible duplicates go back to the caller."""
    matches, hidden = find_matches(
        actor=actor,
        given_name=person.get("given_name", ""),
        family_name=person.get("family_name", ""),
        date_of_birth=person.get("date_of_birth"),
        identifiers=identifiers,
    )
    by_identifier = {m.person.pk: m.person for m in matches if m.reason.startswith("same ")}
    if len(by_identifier) > 1:
        raise Conflict(
            "These identifiers belong to different people. Check them, or give `subject` instead.",
            code="identifiers_disagree",
            fields={"person.identifiers": ["held by more than one person"]},
        )
    if by_identifier:
        return next(iter(by_identifier.values())), "identifier", [], 0, []
    cleaned = case_services._clean_identifiers(actor, identifiers)
    free, withheld = [], []
    for scheme, value, issuer in cleaned:
        if PersonIdentifier.objects.filter(scheme=scheme, value=value, issuer=issuer).exists():
            # Held by a record the actor may not see: screening resolves the duplicate.
            withheld.append(f"{scheme}:{value}")
        else:
            free.append({"scheme": scheme, "value": value})
    data = {k: v for k, v in person.items() if k in SUBJECT_FIELDS}
    created = case_services.person_create(actor=actor, data=data, identifiers=free)
    return created, "new person", matches, hidden, withheld


def referral_create(
    *,
    actor: Actor,
    concerns: Iterable[str],
    description: str,
    urgency: str = Urgency.STANDARD,
    subject: Person | None = None,
    person: dict[str, Any] | None = None,
    identifiers: Iterable[dict] = (),
    received_at: datetime | None = None,
    source_reference: str = "",
    channel: str | None = None,
    case: Case | None = None,
    ppn: dict[str, Any] | None = None,
    household_children: Iterable[HouseholdChild] = (),
    referred_with: uuid.UUID | None = None,
) -> Intake:
    """Receives a referral: finds or records its subject, links the subject's live case visible to
    the actor (or opens one in `screening` with the actor's partner as lead, its level of concern
    set by the urgency: RISK_FOR_URGENCY), sets the screening deadline from its urgency and
    schedules the follow-up that escalates a missed deadline.
    A repeat of the same `source_reference` from the same partner is a conflict, not a new one.
    A referral into a given `case` (one the actor can see) needs the actor's partner working it,
    the case live and about the referral's subject.
    `subject` with `person` (the web's "same person" answer) keeps the details as typed in
    `subject_details`. `ppn` holds the PPN details (PPN_FIELDS); `household_children` are found
    or recorded like any person (possible matches offered, never duplicated) and added to the
    case's household when the actor's partner leads the case.

    The right, the details and the children's matches are checked before the transaction, so a
    refusal and the matches offered stay in the access log."""
    access.check_refer(actor)
    concerns = vocabularies.check_codes("concerns", concerns, field="concerns")
    if not concerns:
        raise ValidationFailed("Give at least one concern.", fields={"concerns": ["required"]})
    description = (description or "").strip()
    if not description:
        raise ValidationFailed("Describe the concern.", fields={"description": ["required"]})
    _choice(urgency, Urgency, "urgency")
    _not_in_future(received_at, "received_at")
    ppn = _clean_ppn(ppn or {})
    found = _resolve_household(actor, list(household_children))
    return _referral_receive(
        actor=actor, concerns=concerns, description=description, urgency=urgency,
        subject=subject, person=person, identifiers=list(identifiers), received_at=received_at,
        source_reference=(source_reference or "").strip(), channel=channel, case=case, ppn=ppn,
        found=found, referred_with=referred_with,
    )  # fmt: skip


@transaction.atomic
def _referral_receive(
    *,
    actor: Actor,
    concerns: list[str],
    description: str,
    urgency: str,
    subject: Person | None,
    person: dict[str, Any] | None,
    identifiers: list[dict],
    received_at: datetime | None,
    source_reference: str,
    channel: str | None,
    case: Case | None,
    ppn: dict[str, Any],
    found: list[_ChildFound],
    referred_with: uuid.UUID | None = None,
) -> Intake:
    if (
        source_reference
        and Referral.objects.filter(
            source_partner=actor.partner, source_reference=source_reference
        ).exists()
    ):
        raise Conflict(
            f"Your partner has already sent a referral with reference '{source_reference}'.",
            code="duplicate_referral",
            fields={"source_reference": ["already received"]},
        )
    if subject is not None:
        found_by, matches, hidden, withheld = "given", [], 0, []
        details = {"person": str(subject.pk)}
        # The same person, chosen on the web's duplicate check: what was typed is kept as said.
        details.update({k: _jsonable(v) for k, v in (person or {}).items() if k in SUBJECT_FIELDS})
    elif person:
        subject, found_by, matches, hidden, withheld = _find_subject(actor, person, identifiers)
        details = {k: _jsonable(v) for k, v in person.items() if k in SUBJECT_FIELDS}
        details["identifiers"] = [
            {"scheme": i.get("scheme", ""), "value": i.get("value", "")} for i in identifiers
        ]
    else:
        raise ValidationFailed(
            "Say who the referral is about: `subject` (a person id) or `person` (their details).",
            fields={"subject": ["or person required"]},
        )

    case_services.ensure_processing_allowed(subject.pk, "referred")
    live = (CaseStatus.REFERRED, CaseStatus.SCREENING, CaseStatus.OPEN)
    if case is not None:
        if case.subject_id != subject.pk:
            raise ValidationFailed(
                "That case is about someone else.", fields={"case": ["not the subject's case"]}
            )
        if case.status not in live:
            raise Conflict(
                "That case is closed: send the referral without a case to open a new one.",
                code="case_closed",
                fields={"case": ["closed"]},
            )
        access.check_contributor(actor, case, what="refer")
    else:
        case = (
            case_access.cases_visible_to(actor)
            .filter(subject=subject, status__in=live)
            .order_by("-created_at")
            .first()
        )
    opened = case is None
    if opened:
        case = case_services.case_create(
            actor=actor,
            subject=subject,
            status=CaseStatus.SCREENING,
            data={
                "summary": "Opened from a referral; awaiting joint screening.",
                "risk_level": RISK_FOR_URGENCY[urgency],
            },
        )
    elif case.status == CaseStatus.REFERRED and case.lead_partner_id == actor.partner.pk:
        case = case_services.case_transition(
            actor=actor, case=case, to=CaseStatus.SCREENING, reason="New referral received"
        )
    received_at = received_at or timezone.now()
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                source_partner=actor.partner, source_reference=source_reference,
                channel=channel or actor.channel, submitted_by=actor.user,
                submitted_by_client=actor.client, subject=subject, subject_details=details,
                case=case, concerns=concerns, description=description, urgency=urgency,
                received_at=received_at, screening_due_at=screening_deadline(urgency, received_at),
                referred_with=referred_with, **ppn,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(
            f"Your partner has already sent a referral with reference '{source_reference}'.",
            code="duplicate_referral",
        ) from None
    household_added = True
    if found:
        _record_new_children(actor, found)
        children = list(dict.fromkeys(i.person for i in found if i.person.pk != subject.pk))
        referral.household_children.set(children)
        household_added = case_access.can(actor, case, case_access.CHANGE)
        if household_added:
            for child in children:
                case_services.case_household_add(
                    actor=actor, case=case, person=child, reason="Named in a referral"
                )
            case.refresh_from_db()
        withheld = [*withheld, *(w for i in found for w in i.withheld)]
    followup_create(
        kind=SCREENING_FOLLOWUP,
        due_at=referral.screening_due_at,
        subject_resource="referral",
        subject_id=referral.pk,
        title="Joint screening due for a referral",
        case=case,
        assignee_partner=case.lead_partner,
    )
    record_change("referral", referral.pk, "created", case_id=case.pk, person_id=subject.pk)
    access_record(
        actor=actor,
        action="create",
        accesses=[
            Access(
                "referral", referral.pk, case_id=case.pk, person_id=subject.pk,
                justification="referral sent by this partner",
            ),
            # The children the referral names: their ids, never their details.
            *(
                Access(
                    "person", i.person.pk, case_id=case.pk, person_id=i.person.pk,
                    justification="named in a referral sent by this partner",
                )
                for i in found
            ),
        ],
        detail={"case_opened": opened, "subject_found_by": found_by},
    )  # fmt: skip
    return Intake(
        referral, found_by, opened, matches, hidden, withheld,
        household=[(i.person, i.found_by) for i in found], household_added=household_added,
    )  # fmt: skip


@transaction.atomic
def referrals_create_together(
    *,
    actor: Actor,
    subjects: list[Person],
    household_children: Iterable[HouseholdChild] = (),
    **referral: Any,
) -> list[Intake]:
    """Brothers and sisters referred together: the same concern, description and PPN details
    for each child, each referral on that child's own case (found or opened as referral_create
    does), all linked by one `referred_with` id. The first subject's referral is the one the
    referrer started, and names the household's new children. All or none: one refusal
    refuses them all."""
    if len({s.pk for s in subjects}) != len(subjects):
        raise ValidationFailed("A child is named twice.", fields={"siblings": ["named twice"]})
    together = uuid.uuid4() if len(subjects) > 1 else None
    intakes = []
    for n, subject in enumerate(subjects):
        children = household_children if n == 0 else ()
        intake = referral_create(
            actor=actor, subject=subject, referred_with=together, household_children=children,
            **referral,
        )  # fmt: skip
        intakes.append(intake)
    return intakes


SCREENING_CLOSES = (ScreeningOutcome.NO_FURTHER_ACTION, ScreeningOutcome.INFORMATION_ONLY)


def takes_effect_on_proposal(referral: Referral) -> bool:
    """A proposal on a standard referral takes effect at once (labelled single-agency until
    confirmed); on an urgent one nothing takes effect until another partner confirms it: the
    referral still counts as unscreened, so its deadline still escalates and a single-agency "no
    further action" never closes the case."""
    return referral.urgency != Urgency.URGENT


@guarded(lambda actor, referral, **_: access.check_contributor(actor, referral.case, what="screen"))
def referral_screen(
    *,
    actor: Actor,
    referral: Referral,
    outcome: str,
    reasons: str,
    participants: Iterable[Partner] = (),
    participant_names: str = "",
    early_help_partner: Partner | None = None,
) -> Screening:
    """Proposes the screening decision on a referral, by a partner working its case.

    An "early help" outcome may name the partner that does the early help (working the case; the
    web asks for it); when the decision takes effect that partner gets the task, an action on the
    case due in EARLY_HELP_DAYS.

    The decision is single-agency until another partner on the case confirms it
    (referral_screening_answer). One decision at a time: a second proposal is a conflict unless
    the current one has been challenged, which it then replaces. On a standard referral the
    proposal takes effect now, as it always has: the referral counts as screened, the
    screening-deadline follow-up is marked done, and when the lead partner proposes on the last
    unscreened referral of a case in `screening` the case moves on (closed with no further action
    for no-support outcomes, otherwise open). On an urgent referral all of that waits for the
    confirmation. Other partners on the case are told a decision awaits their confirmation, and
    the referrer that a decision has been proposed."""
    case = referral.case
    vocabularies.check_codes("screening-outcomes", [outcome], field="outcome")
    reasons = (reasons or "").strip()
    if not reasons:
        raise ValidationFailed(
            "Record the reasons for the outcome.", fields={"reasons": ["required"]}
        )
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    current = Screening.objects.select_for_update().filter(referral=locked).first()
    if current is not None and current.status != ScreeningStatus.CHALLENGED:
        raise Conflict(
            f"A screening decision was proposed on {current.screened_at:%Y-%m-%d %H:%M} UTC "
            f"({'screened jointly' if current.joint else 'awaiting confirmation'}); a decision is "
            "recorded once. Another partner on the case may confirm or challenge it.",
            code="already_screened",
        )
    participants = _partners_on_case(case, [actor.partner, *participants], "participants")
    if outcome == ScreeningOutcome.EARLY_HELP and early_help_partner is not None:
        _partners_on_case(case, [early_help_partner], "early_help_partner")
    elif early_help_partner is not None:
        raise ValidationFailed(
            "A partner for early help is named only with the early help outcome.",
            fields={"early_help_partner": ["only for early help"]},
        )
    now = timezone.now()
    proposal = {
        "outcome": outcome, "reasons": reasons, "early_help_partner": early_help_partner,
        "participant_names": (participant_names or "").strip()[:500],
        "screened_by": actor.user, "screened_by_client": actor.client, "partner": actor.partner,
        "screened_at": now, "status": ScreeningStatus.PROPOSED, "confirmed_at": None,
    }  # fmt: skip
    if current is None:
        try:
            with transaction.atomic():
                screening = Screening.objects.create(referral=locked, **proposal)
        except IntegrityError:
            raise Conflict(
                "This referral has just been screened.", code="already_screened"
            ) from None
    else:
        # A new proposal after a challenge: the challenge keeps what it challenged.
        screening = current
        for name, value in proposal.items():
            setattr(screening, name, value)
        screening.round += 1
        screening.save()
    screening.participants.set(participants)
    if takes_effect_on_proposal(locked):
        _screening_takes_effect(locked, screening, now, movers=[actor])
    else:
        Referral.objects.filter(pk=locked.pk).update(version=F("version") + 1, updated_at=now)
    record_change("referral", locked.pk, "updated", case_id=case.pk, person_id=locked.subject_id)
    access_record(
        actor=actor,
        action="screen",
        accesses=[
            Access(
                "referral", locked.pk, case_id=case.pk, person_id=locked.subject_id,
                justification=access.justification(actor, _with_basis(locked, actor)),
            )
        ],
        detail={"participants": sorted(p.slug for p in participants)},
    )  # fmt: skip
    _tell_of_proposal(actor, locked, screening)
    return screening


@guarded(lambda actor, referral, **_: access.check_answer_screening(actor, referral))
def referral_screening_answer(
    *, actor: Actor, referral: Referral, decision: str, reason: str
) -> Screening:
    """Another partner on the case confirms or challenges the proposed screening decision, with
    a reason; each partner answers a proposal once.

    Confirming makes the decision joint. If it had not taken effect yet (an urgent referral) it
    does now: the referral counts as screened, the deadline follow-up is done, and the case moves
    on as if the lead partner had screened it, when the lead partner proposed or confirms it (a
    transition proposed by the lead partner is made in its proposer's name, by the system).
    Further partners may add their confirmation; a joint decision can no longer be challenged.

    Challenging reopens the decision: the referral counts as unscreened again (its deadline
    follow-up reopens and escalates when missed) and a new decision may be proposed. A case the
    proposal already moved on stays where it is: only the lead partner moves its case, and it is
    told."""
    _choice(decision, ScreeningDecision, "decision")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give the reason you confirm or challenge this decision.",
            fields={"reason": ["required"]},
        )
    locked = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    case = locked.case
    screening = Screening.objects.select_for_update().filter(referral=locked).first()
    if screening is None:
        raise Conflict(
            "No screening decision has been proposed for this referral yet.", code="no_proposal"
        )
    if screening.partner_id == actor.partner.pk:
        # Re-proposed by the actor's own partner since the actor's partner was checked.
        raise Conflict(
            "Your organisation has since proposed this decision: another partner must confirm it.",
            code="proposal_changed",
        )
    if screening.status == ScreeningStatus.CHALLENGED:
        raise Conflict(
            "This decision has been challenged: a new decision must be proposed before it can be "
            "confirmed or challenged.",
            code="screening_challenged",
        )
    earlier = ScreeningConfirmation.objects.filter(
        screening=screening, round=screening.round, partner=actor.partner
    ).first()
    if earlier is not None:
        raise Conflict(
            f"{actor.partner.name} already answered this decision ({earlier.decision}ed on "
            f"{earlier.at:%Y-%m-%d %H:%M} UTC); each partner answers a proposal once.",
            code="already_answered",
        )
    if screening.joint and decision == ScreeningDecision.CHALLENGE:
        raise Conflict(
            "This decision has already been confirmed jointly, so it can no longer be challenged "
            "here. Raise your concern with the lead partner, who can reopen the case.",
            code="already_joint",
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            ScreeningConfirmation.objects.create(
                screening=screening, round=screening.round, partner=actor.partner, user=actor.user,
                decision=decision, reason=reason[:5000], proposal=_proposal_record(screening),
                at=now,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(
            f"{actor.partner.name} has just answered this decision.", code="already_answered"
        ) from None
    if decision == ScreeningDecision.CONFIRM:
        if not screening.joint:
            screening.status, screening.confirmed_at = ScreeningStatus.CONFIRMED, now
            screening.save(update_fields=["status", "confirmed_at"])
        movers = [actor, _proposer(screening)]
        if locked.screened_at is None:
            _screening_takes_effect(locked, screening, now, movers=movers)
        else:
            Referral.objects.filter(pk=locked.pk).update(version=F("version") + 1, updated_at=now)
            _move_case_on(locked, screening, movers=[actor])
    else:
        screening.status = ScreeningStatus.CHALLENGED
        screening.save(update_fields=["status"])
        Referral.objects.filter(pk=locked.pk).update(
            screened_at=None, version=F("version") + 1, updated_at=now
        )
        if locked.screened_at is not None:
            _reopen_screening_followups(locked.pk, now)
    record_change("referral", locked.pk, "updated", case_id=case.pk, person_id=locked.subject_id)
    access_record(
        actor=actor,
        action=f"{decision}_screening",
        accesses=[
            Access(
                "referral", locked.pk, case_id=case.pk, person_id=locked.subject_id,
                justification=access.justification(actor, _with_basis(locked, actor)),
            )
        ],
        detail={"partner": screening.partner.slug},  # whose proposal was answered
    )  # fmt: skip
    _tell_of_answer(actor, locked, screening, decision)
    return screening


def _proposal_record(screening: Screening) -> dict:
    """What an answer was about, kept with the answer (a later proposal replaces the screening)."""
    return {
        "round": screening.round,
        "outcome": screening.outcome,
        "reasons": screening.reasons,
        "partner": screening.partner.slug,
        "screened_by": str(screening.screened_by_id) if screening.screened_by_id else None,
        "screened_by_client": (
            str(screening.screened_by_client_id) if screening.screened_by_client_id else None
        ),
        "screened_at": screening.screened_at.isoformat(),
    }


def _proposer(screening: Screening) -> Actor | None:
    """The proposer, acting through the system: a lead partner's proposal made on condition of
    confirmation is carried out in their name once confirmed. None if they can no longer act
    for the partner that proposed."""
    from partners.actor import actor_for_client, actor_for_user

    if screening.screened_by_id:
        proposer = actor_for_user(screening.screened_by, channel="system")
    elif screening.screened_by_client_id:
        proposer = actor_for_client(screening.screened_by_client)
        proposer = proposer.via("system") if proposer else None
    else:
        proposer = None
    if proposer is None or proposer.partner.pk != screening.partner_id:
        return None
    return proposer


def _screening_takes_effect(
    referral: Referral, screening: Screening, now: datetime, *, movers: list[Actor | None]
) -> None:
    Referral.objects.filter(pk=referral.pk).update(
        screened_at=now, version=F("version") + 1, updated_at=now
    )
    _complete_screening_followups(referral.pk, now)
    _give_early_help_task(referral, screening, now, by=movers[0])
    _move_case_on(referral, screening, movers=movers)


EARLY_HELP_DAYS = 10


def _give_early_help_task(
    referral: Referral, screening: Screening, now: datetime, *, by: Actor | None
) -> None:
    """The partner named for early help gets the task when the decision takes effect: one action
    on the case, owned by that partner (on their My work), created once per decision."""
    if screening.outcome != ScreeningOutcome.EARLY_HELP or screening.early_help_partner is None:
        return
    given = screening.early_help_action
    if given is not None and given.owner_partner_id == screening.early_help_partner_id:
        return
    case = referral.case
    action = Action.objects.create(
        case=case, title="Early help assessment, agreed at joint screening",
        description=f"Agreed at the screening of the referral of {referral.received_at:%-d %B %Y}: "
        "offer an early help assessment. The reasons are with the screening decision.",
        due_date=timezone.localdate(now) + timedelta(days=EARLY_HELP_DAYS),
        owner_partner=screening.early_help_partner, created_by=screening.screened_by,
        created_by_client=screening.screened_by_client, partner=screening.partner,
    )  # fmt: skip
    Screening.objects.filter(pk=screening.pk).update(early_help_action=action)
    screening.early_help_action = action
    record_change("action", action.pk, "created", case_id=case.pk, person_id=case.subject_id)
    if by is not None:  # whoever made the decision take effect wrote the task
        access_record(
            actor=by,
            action="create",
            accesses=[
                Access(
                    "action", action.pk, case_id=case.pk, person_id=case.subject_id,
                    justification="early help agreed at screening",
                )
            ],
        )  # fmt: skip


def _move_case_on(referral: Referral, screening: Screening, *, movers: list[Actor | None]) -> None:
    """When the last unscreened referral of a case in `screening` is screened, the lead partner's
    screener (the first of `movers` acting for the lead partner) moves the case on."""
    case = Case.objects.get(pk=referral.case_id)
    if (
        case.status != CaseStatus.SCREENING
        or Referral.objects.filter(case=case, screened_at__isnull=True).exists()
    ):
        return
    mover = next(
        (
            m
            for m in movers
            if m is not None
            and m.partner.pk == case.lead_partner_id
            and case_access.can(m, case, case_access.CHANGE)
        ),
        None,
    )
    if mover is None:
        return
    reason = f"Screening: {screening.outcome}" + (" (screened jointly)" if screening.joint else "")
    if screening.outcome in SCREENING_CLOSES:
        case_services.case_transition(
            actor=mover, case=case, to=CaseStatus.CLOSED, reason=reason,
            closure_reason=ClosureReason.NO_FURTHER_ACTION,
        )  # fmt: skip
    else:
        case_services.case_transition(actor=mover, case=case, to=CaseStatus.OPEN, reason=reason)


def _complete_screening_followups(referral_id, now: datetime) -> None:
    from followups.models import FollowUp

    FollowUp.objects.filter(
        kind=SCREENING_FOLLOWUP,
        subject_resource="referral",
        subject_id=referral_id,
        status__in=(FollowUp.Status.PENDING, FollowUp.Status.NOTIFIED, FollowUp.Status.ESCALATED),
    ).update(status=FollowUp.Status.DONE, completed_at=now, updated_at=now)


def _reopen_screening_followups(referral_id, now: datetime) -> None:
    """A challenged decision is no screening: the deadline follow-up is pending again, so a
    missed deadline still escalates (the sweep delivers it once due)."""
    from followups.models import FollowUp

    FollowUp.objects.filter(
        kind=SCREENING_FOLLOWUP,
        subject_resource="referral",
        subject_id=referral_id,
        status=FollowUp.Status.DONE,
    ).update(status=FollowUp.Status.PENDING, completed_at=None, updated_at=now)


def _referral_link(user: User, referral: Referral) -> str:
    """The referral on its case page, for someone who can open the case; otherwise no link."""
    from partners.actor import actor_for_user

    reader = actor_for_user(user, channel="system")
    if reader is None or not (
        case_access.cases_visible_to(reader).filter(pk=referral.case_id).exists()
    ):
        return ""
    return f"/cases/{referral.case_id}#referral-{referral.pk}"


def _tell_referrer(actor: Actor, referral: Referral, screening: Screening, *, title: str, key: str):
    referrer = referral.submitted_by
    if referrer is None or referrer == actor.user:
        return
    notify(
        recipients=[referrer],
        kind="screening_outcome",
        title=title,
        link=_referral_link(referrer, referral),
        dedupe_key=f"screening:{screening.pk}:{screening.round}:{key}",
    )


def _tell_of_proposal(actor: Actor, referral: Referral, screening: Screening) -> None:
    """Titles say where the decision stands, never what it is (they are emailed): the outcome
    is on the case page, for those who may see it."""
    _tell_referrer(
        actor, referral, screening, key="proposed",
        title="A screening decision has been proposed on a referral you sent (single-agency "
        "until another partner confirms it)",
    )  # fmt: skip
    others = case_access.partners_with_access(referral.case).exclude(pk=actor.partner.pk)
    notify(
        recipients=User.objects.filter(
            is_active=True,
            membership__partner__in=others,
            membership__role__in=case_access.WORKING_ROLES,
        ).exclude(pk=getattr(referral.submitted_by, "pk", None)),
        kind="screening_confirmation",
        title="A screening decision on a case shared with your organisation awaits confirmation "
        "by another partner",
        link=f"/cases/{referral.case_id}#referral-{referral.pk}",
        dedupe_key=f"screening:{screening.pk}:{screening.round}:confirm",
    )


def _tell_of_answer(actor: Actor, referral: Referral, screening: Screening, decision: str):
    confirmed = decision == ScreeningDecision.CONFIRM
    proposer = screening.screened_by
    if proposer is not None and proposer != actor.user:
        notify(
            recipients=[proposer],
            kind="screening_confirmation",
            title="Your screening decision was confirmed by another partner: screened jointly"
            if confirmed
            else "Your screening decision was challenged by another partner: it needs a new "
            "decision",
            link=_referral_link(proposer, referral),
            dedupe_key=f"screening:{screening.pk}:{screening.round}:{actor.partner.slug}",
        )
    if referral.submitted_by != proposer:
        _tell_referrer(
            actor, referral, screening, key=f"{decision}:{actor.partner.slug}",
            title="The screening decision on a referral you sent was confirmed jointly"
            if confirmed
            else "The screening decision on a referral you sent was challenged and will be made "
            "again",
        )  # fmt: skip


# Break-glass


def break_glass_open(*, actor: Actor, case_id, reason: str) -> BreakGlassAccess:
    """Emergency access to a case not shared with the actor's partner: a practitioner's own
    decision with a reason, for BREAK_GLASS_HOURS, logged, and told to the lead partner's managers
    and the user's own managers. It needs an active data sharing agreement between the two
    partners. A second use by the same user within 24 hours waits for one of their own managers
    to approve it (status `pending`, no access until then). Restricted cases are never opened
    this way (and are not revealed: 404 like a missing case)."""
    access.check_break_glass(actor, case_id)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationFailed(
            "Give the reason you need this case now (at least 10 characters).",
            fields={"reason": ["required"]},
        )
    case = access.case_for_break_glass(actor, case_id)
    access.check_break_glass_agreement(actor, case)
    return _break_glass_request(actor=actor, case=case, reason=reason)


def _managers(partner_id) -> Iterable[User]:
    return User.objects.filter(
        is_active=True, membership__partner_id=partner_id, membership__role=Role.MANAGER
    )


@transaction.atomic
def _break_glass_request(*, actor: Actor, case: Case, reason: str) -> BreakGlassAccess:
    if case_access.cases_visible_to(actor).filter(pk=case.pk).exists():
        raise Conflict("You can already see this case.", code="already_visible")
    # One request at a time per user, so two at once cannot both count as the first of the day.
    User.objects.select_for_update().filter(pk=actor.user.pk).first()
    now = timezone.now()
    recent = (
        BreakGlassAccess.objects.filter(user=actor.user, requested_at__gt=now - timedelta(hours=24))
        .exclude(status=BreakGlassAccess.Status.REFUSED)
        .exists()
    )
    grant = BreakGlassAccess.objects.create(
        case=case, user=actor.user, partner=actor.partner, reason=reason, requested_at=now,
        status=BreakGlassAccess.Status.PENDING if recent else BreakGlassAccess.Status.OPEN,
    )  # fmt: skip
    if recent:
        access_record(
            actor=actor,
            action="break_glass_request",
            accesses=[Access("case", case.pk, case_id=case.pk, justification="second in 24 hours")],
            detail={"grant": str(grant.pk)},
        )
        notify(
            recipients=_managers(actor.partner.pk).exclude(pk=actor.user.pk),
            kind="break_glass_approval",
            title="A break-glass request from your team needs your approval",
            link="/manager/break-glass/",
            dedupe_key=f"break-glass:{grant.pk}:approval",
        )
        return grant
    return _break_glass_grant(grant=grant, actor=actor, now=now)


def _break_glass_grant(*, grant: BreakGlassAccess, actor: Actor, now: datetime) -> BreakGlassAccess:
    """Opens the access: the user permission, the access-log row, and the notices to the lead
    partner's managers and the user's own managers."""
    case = grant.case
    grant.status = BreakGlassAccess.Status.OPEN
    grant.opened_at = now
    grant.expires_at = now + timedelta(hours=settings.BREAK_GLASS_HOURS)
    grant.save(update_fields=["status", "opened_at", "expires_at"])
    case_access.grant_user(case, grant.user, expires_at=grant.expires_at)
    access_record(
        actor=actor,
        action="break_glass",
        accesses=[
            Access(
                "case", case.pk, case_id=case.pk, person_id=case.subject_id,
                justification="break-glass",
            )
        ],
        detail={"expires_at": grant.expires_at.isoformat(), "grant": str(grant.pk)},
    )  # fmt: skip
    notify(
        recipients=_managers(case.lead_partner_id),
        kind="break_glass",
        title="Break-glass access was used on a case your partner leads",
        link=f"/cases/{case.pk}/access-log",
        dedupe_key=f"break-glass:{grant.pk}",
    )
    notify(
        recipients=_managers(grant.partner_id).exclude(pk=grant.user_id),
        kind="break_glass",
        title="Someone in your team used break-glass access",
        link="/manager/break-glass/",
        dedupe_key=f"break-glass:{grant.pk}:own",
    )
    return grant


@transaction.atomic
def break_glass_decide(
    *, actor: Actor, request_id, decision: str, reason: str = ""
) -> BreakGlassAccess:
    """One of the requesting user's own managers approves or refuses a second break-glass within
    24 hours. Approving opens the access from now; refusing is recorded with the reason."""
    if decision not in ("approve", "refuse"):
        raise ValidationFailed(
            "The decision is 'approve' or 'refuse'.", fields={"decision": ["invalid"]}
        )
    reason = (reason or "").strip()
    if decision == "refuse" and not reason:
        raise ValidationFailed("Say why you refuse.", fields={"reason": ["required"]})
    found = access.break_glass_request_get_for(actor, request_id)
    grant = (
        BreakGlassAccess.objects.select_for_update().select_related("case", "user").get(pk=found.pk)
    )
    if grant.status != BreakGlassAccess.Status.PENDING:
        raise Conflict("This request has already been decided.", code="already_decided")
    now = timezone.now()
    grant.decided_by, grant.decided_at, grant.decision_reason = actor.user, now, reason
    grant.save(update_fields=["decided_by", "decided_at", "decision_reason"])
    access_record(
        actor=actor,
        action=f"break_glass_{decision}",
        accesses=[Access("break_glass", grant.pk, case_id=grant.case_id)],
    )
    if decision == "refuse":
        grant.status = BreakGlassAccess.Status.REFUSED
        grant.save(update_fields=["status"])
        notify(
            recipients=[grant.user],
            kind="break_glass_refused",
            title="Your manager refused your break-glass request",
            link="/cases/emergency-access/",
            dedupe_key=f"break-glass:{grant.pk}:refused",
        )
        return grant
    grant = _break_glass_grant(grant=grant, actor=actor, now=now)
    notify(
        recipients=[grant.user],
        kind="break_glass_approved",
        title="Your manager approved your break-glass request",
        link=f"/cases/{grant.case_id}/",
        dedupe_key=f"break-glass:{grant.pk}:approved",
    )
    return grant


def break_glass_review(*, actor: Actor, event_id, note: str = ""):
    """An auditor marks a use of break-glass access as reviewed: who, for which partner, when, and
    an optional note. Once only (409 when already reviewed). The access log records the review by
    ids; the note stays with the review."""
    # Decided before the transaction, so a refusal stays in the access log.
    event = access.break_glass_for_review(actor, event_id)
    try:
        with transaction.atomic():
            review = BreakGlassReview.objects.create(
                break_glass=event, reviewed_by=actor.user, partner=actor.partner,
                note=note.strip(),
            )  # fmt: skip
            access_record(
                actor=actor,
                action="review_break_glass",
                accesses=[Access("break_glass", event.pk, case_id=event.case_id)],
            )
    except IntegrityError:
        done = BreakGlassReview.objects.select_related("reviewed_by").get(break_glass=event)
        raise Conflict(
            f"This break-glass use was reviewed by {done.reviewed_by.get_full_name()} on "
            f"{timezone.localtime(done.reviewed_at):%-d %B %Y}.",
            code="already_reviewed",
        ) from None
    return review
