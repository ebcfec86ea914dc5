"""Building a subject access pack: what the requester's partner controls about the person, as a
readable HTML page (print it to PDF from the browser) and a JSON file, in one ZIP.

The pack holds the partner's own records only: the person's details and identifiers (national
ones and the partner's own local ids), the cases it leads about them, the entries, adversity
records, actions and referrals its staff wrote, programme enrolments it referred or runs, consent
decisions on its cases or recorded by its staff, and the shares it made and received. Other
partners' records are theirs to answer for. The access log is the exception: every recorded read
of the person's records, by whichever organisation, is shown (organisation, role, when, why), with
staff names withheld unless SUBJECT_ACCESS_NAMES_STAFF is set.

Third-party information is flagged, not removed: other people in the household and in recorded
relationships, and any text that names one of them. Someone must review the pack before it goes.

Packs are written under SUBJECT_ACCESS_DIR (a private directory, never a static or media path)
and read back only through governance.services.pack_open.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import AccessLog
from cases.access import identifiers_shown_to
from cases.models import (
    CONTACT_SAFETY_FIELDS,
    Case,
    ConsentRecord,
    Person,
    Relationship,
    Share,
)
from governance.models import SubjectAccessRequest
from partners.models import ApiClient, Partner, User

WITHHELD = "withheld"
_NAME_MIN = 3  # shorter names match too much ordinary text to be worth flagging


def pack_dir() -> Path:
    path = Path(settings.SUBJECT_ACCESS_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _path(name: str) -> Path:
    # Names are ours (`<uuid>.zip`); never follow anything else out of the directory.
    if not re.fullmatch(r"[0-9a-f-]{36}\.zip", name):
        raise ValueError(f"not a pack name: {name!r}")
    return pack_dir() / name


def open_pack(name: str):
    return _path(name).open("rb")


def remove_pack(name: str) -> None:
    with contextlib.suppress(ValueError):
        _path(name).unlink(missing_ok=True)


# --- what the pack holds -----------------------------------------------------------------------


class _Staff:
    """Who did something, as the pack may say it: an organisation and role always, a member of
    staff's name only when SUBJECT_ACCESS_NAMES_STAFF allows it."""

    def __init__(self):
        self.names = settings.SUBJECT_ACCESS_NAMES_STAFF
        self.partners = dict(Partner.objects.values_list("pk", "name"))
        self._users: dict = {}
        self._clients: dict = {}

    def user(self, user_id) -> str | None:
        if user_id is None:
            return None
        if not self.names:
            return WITHHELD
        if user_id not in self._users:
            user = User.objects.filter(pk=user_id).first()
            self._users[user_id] = (user.get_full_name() or user.email) if user else None
        return self._users[user_id]

    def client(self, client_id) -> str | None:
        if client_id is None:
            return None
        if client_id not in self._clients:
            self._clients[client_id] = (
                ApiClient.objects.filter(pk=client_id).values_list("name", flat=True).first()
            )
        return self._clients[client_id]

    def partner(self, partner_id) -> str | None:
        return self.partners.get(partner_id)


class _ThirdParties:
    """Other people the pack mentions: household members and relatives. Text naming one of them
    is flagged for redaction review."""

    def __init__(self, person: Person, cases):
        household = Person.objects.filter(household_cases__in=cases).exclude(pk=person.pk)
        subjects = Person.objects.filter(cases__in=cases).exclude(pk=person.pk)
        related = Person.objects.filter(
            Q(relationships__related_to=person) | Q(relationships_to__person=person)
        ).exclude(pk=person.pk)
        self.people = {p.pk: p for p in (*household, *subjects, *related)}
        self.patterns = {}
        for pk, p in self.people.items():
            names = {n.strip() for n in (p.given_name, p.family_name, p.preferred_name)}
            names = sorted(n for n in names if len(n) >= _NAME_MIN)
            if names:
                self.patterns[pk] = re.compile(
                    r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE
                )

    def named_in(self, *texts: str) -> list[str]:
        text = "\n".join(t for t in texts if t)
        return [str(pk) for pk, pattern in self.patterns.items() if pattern.search(text)]


def _review(third: _ThirdParties, *texts: str, about_someone_else: bool = False) -> dict | None:
    named = third.named_in(*texts)
    reasons = []
    if named:
        reasons.append("names another person")
    if about_someone_else:
        reasons.append("recorded on a case about another person")
    if not reasons:
        return None
    return {"reasons": reasons, "third_parties": named}


def _person(person: Person, partner: Partner) -> dict:
    fields = (
        "given_name", "family_name", "preferred_name", "date_of_birth",
        "date_of_birth_approximate", "gender", "pronouns", "language", "interpreter_needed",
        "address_line_1", "address_line_2", "town", "postcode", "uprn",
    )  # fmt: skip
    details = {
        "id": str(person.pk),
        **{f: getattr(person, f) for f in fields},
        "recorded_by_this_organisation": person.created_by_partner_id == partner.pk,
        "processing_restricted": person.processing_restricted,
        # How it is safe to contact them: theirs to see, but "who must not be told" names others.
        "contact_safety": {f: getattr(person, f) for f in CONTACT_SAFETY_FIELDS},
    }
    if person.do_not_tell:
        details["redaction_review"] = {
            "reasons": ["names people the person asked not to be told"],
            "third_parties": [],
        }
    return details


def contents(request: SubjectAccessRequest, progress: Callable[[int], None]) -> dict:
    """Everything the pack says, as plain data (the JSON file is exactly this)."""
    from casework.models import Action, AdversityRecord, ChronologyEntry, Referral
    from programmes.models import Enrolment

    person, partner = request.person, request.partner
    staff = _Staff()
    concerning = Case.objects.filter(Q(subject=person) | Q(household=person)).distinct()
    concerning_ids = list(concerning.values_list("pk", flat=True))
    third = _ThirdParties(person, concerning_ids)
    others = {
        c: s for c, s in Case.objects.filter(pk__in=concerning_ids).values_list("pk", "subject_id")
    }

    def about_someone_else(case_id) -> bool:
        return others.get(case_id) != person.pk

    led = (
        Case.objects.filter(pk__in=concerning_ids, lead_partner=partner)
        .select_related("lead_partner")
        .order_by("created_at")
    )
    cases = [
        {
            "id": str(c.pk), "reference": c.reference,
            "person_is": "subject" if c.subject_id == person.pk else "household member",
            "status": c.get_status_display(), "risk_level": c.get_risk_level_display(),
            "summary": c.summary, "goals": c.goals, "what_matters": c.what_matters,
            "opened_at": c.created_at, "closed_at": c.closed_at,
            "closure_reason": c.get_closure_reason_display() if c.closure_reason else "",
            "kept_until": c.retention_until,
            "redaction_review": _review(
                third, c.summary, c.goals, c.what_matters,
                about_someone_else=c.subject_id != person.pk,
            ),
        }
        for c in led
    ]  # fmt: skip
    progress(15)

    entries = [
        {
            "id": str(e.pk), "case": str(e.case_id), "kind": e.get_kind_display(),
            "occurred_at": e.occurred_at, "recorded_at": e.created_at, "text": e.body,
            "written_by": staff.user(e.author_id) or staff.client(e.author_client_id),
            "redaction_review": _review(
                third, e.body, about_someone_else=about_someone_else(e.case_id)
            ),
        }
        for e in ChronologyEntry.objects.filter(case_id__in=concerning_ids, partner=partner)
        .order_by("occurred_at", "id")
    ]  # fmt: skip
    progress(30)

    adversities = [
        {
            "id": str(a.pk), "case": str(a.case_id), "code": a.code,
            "source": a.get_source_display(), "sensitive": a.sensitive, "note": a.note,
            "recorded_at": a.recorded_at,
            "recorded_by": staff.user(a.recorded_by_id) or staff.client(a.recorded_by_client_id),
            "redaction_review": _review(
                third, a.note, about_someone_else=about_someone_else(a.case_id)
            ),
        }
        for a in AdversityRecord.objects.filter(case_id__in=concerning_ids, partner=partner)
        .order_by("recorded_at", "id")
    ]  # fmt: skip
    actions = [
        {
            "id": str(a.pk), "case": str(a.case_id), "title": a.title,
            "description": a.description, "due_date": a.due_date, "status": a.get_status_display(),
            "created_at": a.created_at,
            "redaction_review": _review(
                third, a.title, a.description, about_someone_else=about_someone_else(a.case_id)
            ),
        }
        for a in Action.objects.filter(case_id__in=concerning_ids, partner=partner)
        .order_by("created_at", "id")
    ]  # fmt: skip
    progress(45)

    referrals = [
        {
            "id": str(r.pk), "case": str(r.case_id), "received_at": r.received_at,
            "concerns": r.concerns, "description": r.description,
            "urgency": r.get_urgency_display(), "screened_at": r.screened_at,
            "redaction_review": _review(
                third, r.description, about_someone_else=r.subject_id != person.pk
            ),
        }
        for r in Referral.objects.filter(
            Q(subject=person) | Q(case_id__in=concerning_ids), source_partner=partner
        ).order_by("received_at", "id")
    ]  # fmt: skip
    enrolments = [
        {
            "id": str(e.pk), "programme": e.programme.name, "case": str(e.case_id),
            "status": e.get_status_display(), "referred_at": e.referred_at,
            "details": e.details, "outcome": e.outcome, "outcome_notes": e.outcome_notes,
            "redaction_review": _review(third, e.outcome_notes),
        }
        for e in Enrolment.objects.filter(person=person)
        .filter(Q(referred_by_partner=partner) | Q(programme__owner=partner))
        .select_related("programme")
        .order_by("referred_at", "id")
    ]  # fmt: skip
    consents = [
        {
            "id": str(c.pk), "case": str(c.case_id), "decision": c.get_decision_display(),
            "lawful_basis": c.get_lawful_basis_display(), "scope": c.scope,
            "given_by": c.given_by, "recorded_at": c.recorded_at, "expires_at": c.expires_at,
            "notes": c.notes, "redaction_review": _review(third, c.notes, c.given_by),
        }
        for c in ConsentRecord.objects.filter(person=person)
        .filter(Q(case__lead_partner=partner) | Q(recorded_by__membership__partner=partner))
        .order_by("recorded_at", "id")
    ]  # fmt: skip
    progress(60)

    def share(s: Share) -> dict:
        return {
            "case": str(s.case_id), "shared_by": staff.partner(s.case.lead_partner_id),
            "shared_with": staff.partner(s.partner_id),
            "lawful_basis": s.get_lawful_basis_display(), "reason": s.reason,
            "shared_at": s.shared_at, "expires_at": s.expires_at, "ended_at": s.revoked_at,
        }  # fmt: skip

    shares = Share.objects.filter(case_id__in=concerning_ids).select_related("case")
    shares_made = [share(s) for s in shares.filter(case__lead_partner=partner)]
    shares_received = [share(s) for s in shares.filter(partner=partner)]
    progress(70)

    access_log = [
        {
            "at": row.at, "organisation": staff.partner(row.partner_id),
            "role": row.role or ("partner system" if row.client_id else ""),
            "who": staff.user(row.user_id) or staff.client(row.client_id),
            "action": row.action, "record": row.object_type, "record_id": row.object_id,
            "channel": row.channel, "why": row.justification,
        }
        for row in AccessLog.objects.filter(
            Q(person_id=person.pk) | Q(case_id__in=concerning_ids), allowed=True
        ).order_by("at", "id")
    ]  # fmt: skip
    progress(90)

    relations = Relationship.objects.filter(Q(person=person) | Q(related_to=person))
    related_kinds = {}
    for r in relations:
        other = r.related_to_id if r.person_id == person.pk else r.person_id
        related_kinds.setdefault(other, []).append(r.get_kind_display())
    household_ids = set(
        Person.objects.filter(household_cases__in=concerning_ids).values_list("pk", flat=True)
    )
    third_parties = [
        {
            "id": str(pk), "name": p.display_name,
            "connection": ", ".join(
                related_kinds.get(pk, [])
                + (["household"] if pk in household_ids else [])
                + (["subject of a case naming this person"] if pk in others.values() else [])
            ),
        }
        for pk, p in sorted(third.people.items(), key=lambda item: item[1].display_name)
    ]  # fmt: skip
    identifiers = identifiers_shown_to(
        _Controller(partner), person.identifiers.select_related("issuer")
    )
    return {
        "request": {
            "id": str(request.pk), "requested_at": request.requested_at,
            "due_on": request.due_on, "generated_at": timezone.now(),
            "controller": partner.name,
        },
        "person": _person(person, partner),
        "identifiers": [
            {"scheme": i.get_scheme_display(), "value": i.value} for i in identifiers
        ],
        "cases": cases, "entries": entries, "adversities": adversities, "actions": actions,
        "referrals": referrals, "enrolments": enrolments, "consents": consents,
        "shares_made": shares_made, "shares_received": shares_received,
        "access_log": access_log, "third_parties": third_parties,
        "staff_names_shown": staff.names,
    }  # fmt: skip


class _Controller:
    """identifiers_shown_to asks whose local ids may be shown: the requester's partner's."""

    def __init__(self, partner: Partner):
        self.partner = partner


def _flagged(data: dict) -> int:
    kinds = ("cases", "entries", "adversities", "actions", "referrals", "enrolments", "consents")
    records = (item for key in kinds for item in data[key])
    return sum(1 for item in (data["person"], *records) if item.get("redaction_review"))


def build(request: SubjectAccessRequest, *, progress: Callable[[int], None]) -> tuple[str, int]:
    """Write the pack's ZIP (written aside, then moved into place, so a crash leaves no half
    pack under its name); returns its file name and size."""
    data = contents(request, progress)
    as_json = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    html = render_to_string(
        "web/governance/pack.html",
        {"data": json.loads(as_json), "flagged": _flagged(data), "withheld": WITHHELD},
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subject-access.html", html)
        archive.writestr("subject-access.json", as_json)
    name = f"{request.pk}.zip"
    target = _path(name)
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(buffer.getvalue())
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    progress(99)
    return name, len(buffer.getvalue())
