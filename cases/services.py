"""Writes for persons, cases, shares and agreements. One transaction each; the access log is
written in the same transaction as the change it records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import Access, access_record
from cases import access, agreements, retention
from cases.identifiers import InvalidIdentifier, Scheme, normalise
from cases.models import (
    CONTACT_SAFETY_FIELDS,
    Case,
    CaseHistory,
    CaseReferenceCounter,
    CaseStatus,
    ClosureReason,
    ConsentDecision,
    ConsentRecord,
    DataSharingAgreement,
    LawfulBasis,
    Person,
    PersonIdentifier,
    ProcessingRestriction,
    Relationship,
    Share,
    Whereabouts,
)
from cases.signals import eligibility_facts_changed
from core.changes import record_change
from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from core.guards import guarded
from partners.actor import Actor
from partners.models import Partner, Role

PERSON_FIELDS = (
    "given_name", "family_name", "preferred_name", "date_of_birth", "date_of_birth_approximate", "gender",
    "pronouns", "language", "interpreter_needed", "address_line_1", "address_line_2", "town", "postcode", "uprn",
)  # fmt: skip
CASE_FIELDS = ("summary", "risk_level", "goals", "what_matters", "review_date", "lead_practitioner")

# Which status may follow which. Closing needs a closure reason; reopening a closed case is allowed.
TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.REFERRED: {CaseStatus.SCREENING, CaseStatus.OPEN, CaseStatus.CLOSED},
    CaseStatus.SCREENING: {CaseStatus.OPEN, CaseStatus.CLOSED},
    CaseStatus.OPEN: {CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.OPEN},
}


def moves_from(status: str) -> list[str]:
    """Where a case can move from `status`, in workflow order (as CaseStatus lists them)."""
    return [s for s in CaseStatus.values if s in TRANSITIONS[status]]


def _clean_identifiers(
    actor: Actor, identifiers: Iterable[dict]
) -> list[tuple[str, str, Partner | None]]:
    cleaned, errors = [], {}
    for index, item in enumerate(identifiers):
        scheme, value = item.get("scheme", ""), item.get("value", "")
        try:
            cleaned.append(
                (
                    scheme,
                    normalise(scheme, value),
                    actor.partner if scheme == Scheme.LOCAL else None,
                )
            )
        except InvalidIdentifier as exc:
            errors[
                f"identifiers.{index}.value"
                if scheme in Scheme.values
                else f"identifiers.{index}.scheme"
            ] = [str(exc)]
    if errors:
        raise ValidationFailed("An identifier is not valid.", fields=errors)
    return cleaned


def _identifier_holder(scheme: str, value: str, issuer: Partner | None) -> Person | None:
    found = (
        PersonIdentifier.objects.filter(scheme=scheme, value=value, issuer=issuer)
        .select_related("person")
        .first()
    )
    return found.person if found else None


def _attach_identifiers(actor: Actor, person: Person, cleaned) -> bool:
    """Add identifiers the person does not have yet. An identifier held by someone else is a conflict;
    the message does not say who holds it (the caller may not be allowed to see them)."""
    added = False
    for scheme, value, issuer in cleaned:
        holder = _identifier_holder(scheme, value, issuer)
        if holder is None:
            PersonIdentifier.objects.create(
                person=person, scheme=scheme, value=value, issuer=issuer
            )
            added = True
        elif holder.pk != person.pk:
            raise Conflict(
                f"The {Scheme(scheme).label} {value} is already recorded for another person. "
                "Check for a duplicate with POST /api/v1/people/matches before adding it.",
                code="identifier_in_use",
                fields={"identifiers": [f"{scheme}:{value} is already in use"]},
            )
    return added


def _validate_person(data: dict[str, Any]) -> None:
    errors = {}
    for name in ("given_name", "family_name"):
        if name in data and not str(data[name] or "").strip():
            errors[name] = ["This field may not be blank."]
    dob = data.get("date_of_birth")
    if isinstance(dob, date) and dob > timezone.localdate():
        errors["date_of_birth"] = ["A date of birth cannot be in the future."]
    if errors:
        raise ValidationFailed("Some fields are not valid.", fields=errors)


@guarded(lambda actor, **_: access.check_use_person_index(actor, action="create"))
def person_create(
    *, actor: Actor, data: dict[str, Any], identifiers: Iterable[dict] = ()
) -> Person:
    """A new person record, created by (and so visible to) the actor's partner."""
    cleaned = _clean_identifiers(actor, identifiers)
    _validate_person({"given_name": "", "family_name": "", **data})
    person = Person.objects.create(
        created_by_partner=actor.partner, **{k: v for k, v in data.items() if k in PERSON_FIELDS}
    )
    _attach_identifiers(actor, person, cleaned)
    access.log_person_access(actor, [person], action="create")
    record_change("person", person.pk, "created", person_id=person.pk)
    return person


def _validate_contact_safety(safety: dict[str, str]) -> None:
    errors = {}
    for name in CONTACT_SAFETY_FIELDS:
        limit = Person._meta.get_field(name).max_length
        if len(safety.get(name, "")) > limit:
            errors[f"contact_safety.{name}"] = [f"At most {limit} characters."]
    if safety.get("email"):
        try:
            validate_email(safety["email"])
        except DjangoValidationError:
            errors["contact_safety.email"] = ["Enter a valid email address."]
    if errors:
        raise ValidationFailed("Some contact and safety details are not valid.", fields=errors)


def _check_person_update(actor: Actor, person: Person, contact_safety=None, **_) -> None:
    access.check_edit_person(actor, person)
    if contact_safety is not None:
        access.check_edit_contact_safety(actor, person)


@guarded(_check_person_update)
def person_update(
    *,
    actor: Actor,
    person: Person,
    expected_version: int,
    data: dict[str, Any],
    identifiers: Iterable[dict] | None = None,
    contact_safety: dict[str, Any] | None = None,
) -> Person:
    """Update only if nobody else has since: the version must still be the one the caller read.
    The contact and safety details (`contact_safety`) change under their own right, with the same
    version."""
    _validate_person(data)
    changes = {k: v for k, v in data.items() if k in PERSON_FIELDS and getattr(person, k) != v}
    safety = {
        k: (v or "").strip()
        for k, v in (contact_safety or {}).items()
        if k in CONTACT_SAFETY_FIELDS and getattr(person, k) != (v or "").strip()
    }
    _validate_contact_safety(safety)
    now = timezone.now()
    if safety:
        changes.update(safety, contact_safety_updated_at=now)
    cleaned = _clean_identifiers(actor, identifiers or ())
    updated = Person.objects.filter(pk=person.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=now, **changes
    )
    if updated != 1:
        raise PreconditionFailed(
            "This person has been changed since you read it. Fetch it again and reapply your change."
        )
    _attach_identifiers(actor, person, cleaned)
    person.refresh_from_db()
    access.log_person_access(actor, [person], action="update")
    if safety:
        # Which fields changed, never their values.
        access_record(
            actor=actor, action="update_contact_safety",
            accesses=[Access("person", person.pk, person_id=person.pk,
                             justification="works a case about them")],
            detail={"fields": sorted(safety)},
        )  # fmt: skip
    record_change("person", person.pk, "updated", person_id=person.pk)
    if {"date_of_birth", "date_of_birth_approximate"} & set(changes):
        eligibility_facts_changed.send(sender=Person, actor=actor, person_id=person.pk)
    return person


@guarded(lambda actor, **_: access.check_use_person_index(actor, action="upsert"))
def person_upsert_by_identifier(
    *, actor: Actor, scheme: str, value: str, data: dict[str, Any], expected_version: int | None
) -> tuple[Person, bool]:
    """PUT by identifier: create (the identifier is attached) or update the person holding it."""
    [(scheme, value, issuer)] = _clean_identifiers(actor, [{"scheme": scheme, "value": value}])
    holder = _identifier_holder(scheme, value, issuer)
    if holder is None:
        return person_create(
            actor=actor, data=data, identifiers=[{"scheme": scheme, "value": value}]
        ), True
    person = access.person_get_for(actor, holder.pk, log_as=None)
    if expected_version is None:
        from core.errors import PreconditionRequired

        raise PreconditionRequired(
            "This person already exists: send If-Match with the ETag you last read."
        )
    return person_update(
        actor=actor, person=person, expected_version=expected_version, data=data
    ), False


@guarded(lambda actor, person, **_: access.check_edit_person(actor, person, action="relate"))
def relationship_add(
    *, actor: Actor, person: Person, related_to: Person, kind: str, note: str = ""
) -> Relationship:
    """Adversity is household-wide, so households are recorded; both people must be visible."""
    if person.pk == related_to.pk:
        raise ValidationFailed(
            "A person cannot be related to themselves.", fields={"related_to": ["same person"]}
        )
    relationship, created = Relationship.objects.get_or_create(
        person=person, related_to=related_to, kind=kind, defaults={"note": note}
    )
    access.log_person_access(actor, [person, related_to], action="relate")
    if created:
        Person.objects.filter(pk=person.pk).update(updated_at=timezone.now())
        record_change("person", person.pk, "updated", person_id=person.pk)
    return relationship


@guarded(lambda actor, case, **_: access.check(actor, case, access.CHANGE, action="update"))
def case_household_add(
    *,
    actor: Actor,
    case: Case,
    person: Person,
    reason: str = "",
    whereabouts: str = Whereabouts.HOUSEHOLD,
    place: str = "",
    expected_release_date: date | None = None,
) -> Case:
    """Adds a person to the case: to its household (adversity is household-wide), or as family who
    live elsewhere, such as a parent in prison (with the prison and expected release date). Only the
    lead partner changes the case record (the caller passes a case fetched with CHANGE); the person
    must be visible to the actor. Kept in the case's history; anyone the case is shared with then
    sees them."""
    if not access.persons_visible_to(actor).filter(pk=person.pk).exists():
        raise ValidationFailed(
            "No person you can see has that id.", fields={"household": ["unknown person"]}
        )
    if whereabouts not in Whereabouts.values:
        raise ValidationFailed(
            f"'{whereabouts}' is not a whereabouts; use one of: {', '.join(Whereabouts.values)}.",
            fields={"whereabouts": ["invalid"]},
        )
    if whereabouts != Whereabouts.PRISON and (place.strip() or expected_release_date):
        raise ValidationFailed(
            "A prison and release date are only recorded for someone in prison.",
            fields={"place": ["only for someone in prison"]},
        )
    if person.pk == case.subject_id or case.household.filter(pk=person.pk).exists():
        return case
    case.household.add(
        person,
        through_defaults={
            "whereabouts": whereabouts,
            "place": place.strip(),
            "expected_release_date": expected_release_date,
        },
    )
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1, updated_at=timezone.now())
    case.refresh_from_db()
    changes = {"household": [None, str(person.pk)]}
    if whereabouts != Whereabouts.HOUSEHOLD:
        changes["whereabouts"] = [None, whereabouts]
    _record_history(case, actor, changes, reason)
    record_change("case", case.pk, "updated", case_id=case.pk, person_id=case.subject_id)
    access_record(
        actor=actor,
        action="update",
        accesses=[
            Access(
                "case", case.pk, case_id=case.pk, person_id=person.pk,
                justification=access.justification(actor, case),
            )
        ],
        detail={"fields": ["household"]},
    )  # fmt: skip
    return case


@guarded(lambda actor, case, **_: access.check_contribute(actor, case, what="record_consent"))
def consent_record(
    *,
    actor: Actor,
    case: Case,
    person: Person,
    decision: str,
    lawful_basis: str,
    scope: str,
    given_by: str = "",
    expires_at: datetime | None = None,
    notes: str = "",
) -> ConsentRecord:
    """Consent decisions are recorded, never edited: a new decision supersedes the last."""
    on_case = person.pk == case.subject_id or case.household.filter(pk=person.pk).exists()
    if not on_case:
        raise ValidationFailed(
            "The person must be the case's subject or a household member.",
            fields={"person": ["not on this case"]},
        )
    if not scope.strip():
        raise ValidationFailed("Say what the decision covers.", fields={"scope": ["required"]})
    consent = ConsentRecord.objects.create(
        case=case, person=person, decision=decision, lawful_basis=lawful_basis, scope=scope.strip(),
        given_by=given_by, recorded_by=actor.user, expires_at=expires_at, notes=notes,
    )  # fmt: skip
    access_record(
        actor=actor,
        action="record_consent",
        accesses=[
            Access(
                "consent",
                consent.pk,
                case_id=case.pk,
                person_id=person.pk,
                justification=access.justification(actor, case),
            )
        ],
    )
    return consent


def _next_reference(now: datetime) -> str:
    counter, _ = CaseReferenceCounter.objects.select_for_update().get_or_create(year=now.year)
    CaseReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db()
    return f"VRU-{now.year}-{counter.last:06d}"


def _record_history(case: Case, actor: Actor, changes: dict, reason: str = "") -> None:
    CaseHistory.objects.create(
        case=case,
        version=case.version,
        changed_by=actor.user,
        changed_by_client=actor.client,
        partner=actor.partner,
        changes=changes,
        reason=reason,
    )


def _jsonable(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value.pk)
    return value


def _check_lead_practitioner(actor: Actor, user) -> None:
    if user is None:
        return
    membership = getattr(user, "membership", None)
    if membership is None or membership.partner_id != actor.partner.pk or not user.is_active:
        raise ValidationFailed(
            "The lead practitioner must be an active member of the lead partner.",
            fields={"lead_practitioner": ["invalid"]},
        )


def default_lead_practitioner(actor: Actor):
    """A practitioner who opens a case leads it; anyone else leaves it to be assigned."""
    return actor.user if actor.user is not None and actor.role == Role.PRACTITIONER else None


@guarded(lambda actor, **_: access.check_create_case(actor))
def case_create(
    *,
    actor: Actor,
    subject: Person,
    data: dict[str, Any] | None = None,
    household: Iterable[Person] = (),
    status: str = CaseStatus.REFERRED,
) -> Case:
    """The actor's partner becomes the lead and holds view, change and share permissions."""
    data = {k: v for k, v in (data or {}).items() if k in CASE_FIELDS}
    if "lead_practitioner" not in data:
        data["lead_practitioner"] = default_lead_practitioner(actor)
    _check_lead_practitioner(actor, data.get("lead_practitioner"))
    now = timezone.now()
    case = Case.objects.create(
        reference=_next_reference(now),
        subject=subject,
        lead_partner=actor.partner,
        status=status,
        **data,
    )
    if household:
        case.household.set(household)
    access.grant_partner(case, actor.partner, access.LEAD_PERMISSIONS)
    _record_history(case, actor, {"created": [None, case.reference], "status": [None, status]})
    record_change("case", case.pk, "created", case_id=case.pk, person_id=subject.pk)
    access_record(
        actor=actor,
        action="create",
        accesses=[
            Access(
                "case", case.pk, case_id=case.pk, person_id=subject.pk, justification="lead partner"
            )
        ],
    )
    return case


@guarded(lambda actor, case, **_: access.check(actor, case, access.CHANGE, action="update"))
def case_update(
    *, actor: Actor, case: Case, expected_version: int, data: dict[str, Any], reason: str = ""
) -> Case:
    """Only the lead partner changes the case record; every change is kept in its history."""
    data = {k: v for k, v in data.items() if k in CASE_FIELDS}
    if "lead_practitioner" in data:
        _check_lead_practitioner(actor, data["lead_practitioner"])
    changes = {
        k: [_jsonable(getattr(case, k)), _jsonable(v)]
        for k, v in data.items()
        if getattr(case, k) != v
    }
    updated = Case.objects.filter(pk=case.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), **data
    )
    if updated != 1:
        raise PreconditionFailed(
            "This case has been changed since you read it. Fetch it again and reapply your change."
        )
    case.refresh_from_db()
    _record_history(case, actor, changes, reason)
    record_change("case", case.pk, "updated", case_id=case.pk, person_id=case.subject_id)
    access_record(
        actor=actor,
        action="update",
        accesses=[
            Access(
                "case",
                case.pk,
                case_id=case.pk,
                person_id=case.subject_id,
                justification="lead partner",
            )
        ],
        detail={"fields": sorted(changes)},
    )
    return case


@guarded(lambda actor, case, **_: access.check(actor, case, access.CHANGE, action="transition"))
def case_transition(
    *, actor: Actor, case: Case, to: str, reason: str = "", closure_reason: str = ""
) -> Case:
    """Moves along the status workflow only; anything else is a conflict with the current state."""
    if to not in CaseStatus.values:
        raise ValidationFailed(
            f"'{to}' is not a case status; use one of: {', '.join(CaseStatus.values)}.",
            fields={"to": ["invalid"]},
        )
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if to not in TRANSITIONS[locked.status]:
        allowed = ", ".join(moves_from(locked.status))
        raise Conflict(
            f"A {locked.status} case cannot move to {to}. From {locked.status} it can move to: {allowed}.",
            code="illegal_transition",
        )
    fields: dict[str, Any] = {"status": to}
    if to == CaseStatus.CLOSED:
        if closure_reason not in ClosureReason.values:
            raise ValidationFailed(
                f"Closing a case needs a closure_reason: one of {', '.join(ClosureReason.values)}.",
                fields={"closure_reason": ["required"]},
            )
        fields["closure_reason"] = closure_reason
    else:
        fields["closure_reason"] = ""
    now = timezone.now()
    fields.update(retention.closing_fields(locked, to, now))
    changes = {
        k: [_jsonable(getattr(locked, k)), _jsonable(v)]
        for k, v in fields.items()
        if getattr(locked, k) != v
    }
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1, updated_at=now, **fields)
    locked.refresh_from_db()
    _record_history(locked, actor, changes, reason)
    record_change("case", locked.pk, "updated", case_id=locked.pk, person_id=locked.subject_id)
    access_record(
        actor=actor,
        action="transition",
        accesses=[
            Access(
                "case",
                locked.pk,
                case_id=locked.pk,
                person_id=locked.subject_id,
                justification="lead partner",
            )
        ],
    )  # status and reason are in the case history; the access log keeps no content
    return locked


def agreement_covering(
    lead: Partner, partner: Partner, on: date | None = None
) -> DataSharingAgreement | None:
    """The agreement in force naming both partners that a share relies on (cases/agreements.py:
    not ended, not past its end date, its review not overdue beyond the grace period)."""
    on = on or timezone.localdate()
    return (
        DataSharingAgreement.objects.filter(agreements.in_force_q(on), parties=lead)
        .filter(parties=partner)
        .order_by("-starts_on", "name")
        .first()
    )


def consent_to_share_given(case: Case) -> bool:
    """The subject's latest consent decision on the case is "given" and has not expired: a
    share may then rely on consent. A later refusal or withdrawal ends it."""
    latest = (
        ConsentRecord.objects.filter(case=case, person_id=case.subject_id)
        .order_by("-recorded_at")
        .first()
    )
    return (
        latest is not None
        and latest.decision == ConsentDecision.GIVEN
        and (latest.expires_at is None or latest.expires_at > timezone.now())
    )


@guarded(lambda actor, case, **_: access.check(actor, case, access.SHARE, action="share"))
def case_share(
    *,
    actor: Actor,
    case: Case,
    partner: Partner,
    lawful_basis: str,
    reason: str,
    expires_at: datetime | None = None,
) -> Share:
    """The lead partner shares with another partner, relying on an active data sharing agreement
    that covers both. The share's expiry is copied to the permission so it ends on time."""
    if partner.pk == case.lead_partner_id:
        raise ValidationFailed(
            "The lead partner already has the case.", fields={"partner": ["is the lead partner"]}
        )
    if not partner.active:
        raise ValidationFailed(
            f"Partner '{partner.slug}' is not active.", fields={"partner": ["inactive"]}
        )
    if lawful_basis not in LawfulBasis.values:
        raise ValidationFailed(
            f"'{lawful_basis}' is not a lawful basis; use one of: {', '.join(LawfulBasis.values)}.",
            fields={"lawful_basis": ["invalid"]},
        )
    if not reason.strip():
        raise ValidationFailed("Say why the case is being shared.", fields={"reason": ["required"]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(
            "The expiry must be in the future.", fields={"expires_at": ["in the past"]}
        )
    if lawful_basis == LawfulBasis.CONSENT and not consent_to_share_given(case):
        raise ValidationFailed(
            "Consent is the lawful basis, but no consent is recorded on this case: record the "
            "person's consent first (who gave it and what it covers), or choose another basis.",
            fields={"lawful_basis": ["no consent recorded"]},
        )
    ensure_case_processing_allowed(case)
    agreement = agreement_covering(case.lead_partner, partner)
    lapsed = agreements.lapsed_covering(case.lead_partner, partner) if agreement is None else None
    if lapsed is not None:
        raise Conflict(
            f"The data sharing agreement “{lapsed.name}” between {case.lead_partner.name} and "
            f"{partner.name} {agreements.why_lapsed(lapsed)}, so no new share can rely on it. Ask "
            "your information governance lead to review or renew it before sharing.",
            code="agreement_lapsed",
        )
    if agreement is None:
        raise Conflict(
            f"There is no active data sharing agreement between {case.lead_partner.name} ({case.lead_partner.slug}) "
            f"and {partner.name} ({partner.slug}). Ask your information governance lead to record one before sharing.",
            code="no_agreement",
        )
    Share.objects.filter(case=case, partner=partner, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor.user, revoke_reason="replaced by a new share"
    )
    try:
        with transaction.atomic():
            share = Share.objects.create(
                case=case, partner=partner, agreement=agreement, lawful_basis=lawful_basis, reason=reason.strip(),
                shared_by=actor.user, shared_by_client=actor.client, expires_at=expires_at,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(
            "This case was shared with that partner at the same moment; fetch the shares again."
        ) from None
    access.grant_partner(case, partner, (access.VIEW,), expires_at=expires_at)
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    retention.lengthen_after_share(case)
    # The new partner sees the case (and its subject) appear in its feed.
    record_change("case", case.pk, "updated", case_id=case.pk, person_id=case.subject_id)
    access_record(
        actor=actor,
        action="share",
        accesses=[
            Access(
                "case",
                case.pk,
                case_id=case.pk,
                person_id=case.subject_id,
                justification="lead partner",
            )
        ],
        detail={
            "partner": partner.slug,
            "agreement": str(agreement.pk),
            "lawful_basis": lawful_basis,
        },
    )
    return share


@guarded(lambda actor, case, **_: access.check(actor, case, access.SHARE, action="revoke_share"))
def share_revoke(*, actor: Actor, case: Case, partner: Partner, reason: str = "") -> Share:
    """Revocation takes effect at once: the permission row goes in the same transaction."""
    share = Share.objects.filter(case=case, partner=partner, revoked_at__isnull=True).first()
    if share is None:
        raise NotFound(f"This case is not shared with '{partner.slug}'.")
    Share.objects.filter(pk=share.pk).update(
        revoked_at=timezone.now(), revoked_by=actor.user, revoke_reason=reason
    )
    access.revoke_partner(case, partner)
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    # Read after our UPDATE: a concurrent expiry sweep's claim is then committed and seen.
    share.refresh_from_db()
    if share.expiry_announced_at is None:  # a lapsed share's partner has been told already
        record_change(
            "case",
            case.pk,
            "revoked",
            case_id=case.pk,
            person_id=case.subject_id,
            audience_partner=partner,
        )
    access_record(
        actor=actor,
        action="unshare",
        accesses=[
            Access(
                "case",
                case.pk,
                case_id=case.pk,
                person_id=case.subject_id,
                justification="lead partner",
            )
        ],
        detail={"partner": partner.slug},
    )
    return share


def share_expiry_announce(*, now=None) -> int:
    """A share that lapses by time ends the partner's access the moment it expires (the permission
    carries the expiry); this tells the partner, as share_revoke does for a revocation: a `revoked`
    journal row for that partner only, so its feed and webhooks say to delete its copy (and, via
    the feed, its subject when that went out of sight too).

    Each lapsed share is claimed once by a conditional UPDATE of `expiry_announced_at`, in the same
    transaction as its journal row, so a sweep that runs twice or on two workers announces nothing
    twice. A share revoked or replaced before the sweep reached it is not claimed (revocation told
    the partner; a replacement kept access). Returns how many were announced."""
    now = now or timezone.now()
    lapsed = Share.objects.filter(
        revoked_at__isnull=True, expiry_announced_at__isnull=True, expires_at__lte=now
    )
    announced = 0
    for share_id in list(lapsed.values_list("pk", flat=True)):
        with transaction.atomic():
            if lapsed.filter(pk=share_id).update(expiry_announced_at=now) != 1:
                continue  # another sweep, or a revocation, got there first
            share = Share.objects.select_related("case", "partner").get(pk=share_id)
            case = share.case
            if access.partners_with_access(case, now).filter(pk=share.partner_id).exists():
                continue  # still reaches the case another way: nothing to remove
            record_change(
                "case",
                case.pk,
                "revoked",
                case_id=case.pk,
                person_id=case.subject_id,
                audience_partner=share.partner,
            )
            announced += 1
    return announced


@transaction.atomic
def agreement_create(
    *,
    name: str,
    parties: Iterable[Partner],
    lawful_basis: str = LawfulBasis.PUBLIC_TASK,
    review_date: date,
    purposes: str | None = None,
    data_categories: Iterable[str] = ("personal", "special_category", "criminal_offence"),
    condition: str = "",
    retention_months: int = 72,
) -> DataSharingAgreement:
    """An agreement needs at least two parties and a lawful basis from the published list."""
    parties = list(parties)
    if len({p.pk for p in parties}) < 2:
        raise ValidationFailed("An agreement needs at least two partner parties.")
    if lawful_basis not in LawfulBasis.values:
        raise ValidationFailed(
            f"'{lawful_basis}' is not a lawful basis; use one of: {', '.join(LawfulBasis.values)}."
        )
    from cases.models import DataCategory

    categories = list(data_categories)
    unknown = set(categories) - set(DataCategory.values)
    if unknown:
        raise ValidationFailed(f"Unknown data categories: {', '.join(sorted(unknown))}.")
    if DataSharingAgreement.objects.filter(name=name).exists():
        raise Conflict(f"An agreement called '{name}' already exists.")
    agreement = DataSharingAgreement.objects.create(
        name=name, lawful_basis=lawful_basis, review_date=review_date, data_categories=categories,
        condition=condition, retention_months=retention_months,
        **({"purposes": purposes} if purposes else {}),
    )  # fmt: skip
    agreement.parties.set(parties)
    return agreement


# Restriction of processing (UK GDPR Art. 18). While a person's processing is restricted their
# records are kept and read as before, but nothing new is done with them: no share of a case
# about them, no referral about them, no programme referral. Rights: cases.access.


def ensure_processing_allowed(person_id, what: str) -> None:
    """Refuse (409) new processing of a person whose processing is restricted. Read from the
    database, not the caller's copy, so a restriction placed a moment ago counts."""
    if Person.objects.filter(pk=person_id, processing_restricted=True).exists():
        raise Conflict(
            f"The processing of this person's data is restricted (UK GDPR Article 18): they cannot "
            f"be {what} until a manager lifts the restriction.",
            code="processing_restricted",
        )


def ensure_case_processing_allowed(case: Case) -> None:
    """A share discloses everyone on the case: refuse (409) when anyone's processing is
    restricted, the subject's or a household member's."""
    ensure_processing_allowed(case.subject_id, "shared with another partner")
    if case.household.filter(processing_restricted=True).exists():
        raise Conflict(
            "The processing of the data of someone in this case's household is restricted (UK "
            "GDPR Article 18): the case cannot be shared with another partner until a manager "
            "lifts the restriction.",
            code="processing_restricted",
        )


def _restriction_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        message = f"Say why the restriction is being {what}."
        raise ValidationFailed(message, fields={"reason": [message]})
    return reason


def _log_restriction(actor: Actor, person: Person, action: str) -> None:
    access_record(
        actor=actor,
        action=action,
        accesses=[
            Access("person", person.pk, person_id=person.pk, justification="partner's manager")
        ],
    )  # the reason stays with the restriction; the access log keeps no content


@guarded(
    lambda actor, person, **_: access.check_restrict_processing(
        actor, person, action="restrict_processing"
    )
)
def processing_restrict(*, actor: Actor, person: Person, reason: str) -> ProcessingRestriction:
    """Restrict the processing of the person's data, with a reason. One live restriction."""
    reason = _restriction_reason(reason, "placed")
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if locked.processing_restricted:
        raise Conflict(
            "The processing of this person's data is already restricted.",
            code="processing_restricted",
        )
    try:
        with transaction.atomic():
            restriction = ProcessingRestriction.objects.create(
                person=locked, reason=reason, placed_by=actor.user, placed_by_partner=actor.partner
            )
    except IntegrityError:
        raise Conflict(
            "The processing of this person's data was restricted at the same moment.",
            code="processing_restricted",
        ) from None
    Person.objects.filter(pk=person.pk).update(
        processing_restricted=True, version=F("version") + 1, updated_at=timezone.now()
    )
    record_change("person", person.pk, "updated", person_id=person.pk)
    _log_restriction(actor, person, "restrict_processing")
    return restriction


@guarded(
    lambda actor, person, **_: access.check_restrict_processing(
        actor, person, action="lift_restriction"
    )
)
def processing_lift(*, actor: Actor, person: Person, reason: str) -> ProcessingRestriction:
    """Lift the restriction, with a reason (kept with the restriction)."""
    reason = _restriction_reason(reason, "lifted")
    restriction = (
        ProcessingRestriction.objects.select_for_update()
        .filter(person=person, lifted_at__isnull=True)
        .first()
    )
    if restriction is None:
        raise NotFound("The processing of this person's data is not restricted.")
    now = timezone.now()
    ProcessingRestriction.objects.filter(pk=restriction.pk).update(
        lifted_at=now, lifted_by=actor.user, lifted_by_partner=actor.partner, lift_reason=reason
    )
    Person.objects.filter(pk=person.pk).update(
        processing_restricted=False, version=F("version") + 1, updated_at=now
    )
    restriction.refresh_from_db()
    record_change("person", person.pk, "updated", person_id=person.pk)
    _log_restriction(actor, person, "lift_restriction")
    return restriction


def live_restriction(person: Person) -> ProcessingRestriction | None:
    return (
        ProcessingRestriction.objects.filter(person=person, lifted_at__isnull=True)
        .select_related("placed_by", "placed_by_partner")
        .first()
    )
