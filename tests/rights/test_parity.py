"""One rights table (tests/rights/table.py), every channel: the partner API, the web forms and
batch sync must all answer each cell the same way.

Allowed: 2xx (web: a redirect after saving; sync: the record created or updated) and the record
written. Refused: 403 or 404 in the error shape (web: a 403 or 404 page, or the form shown again
with an error; sync: the record fails with `forbidden` or `not_found`, or the whole request is
403; a case named in the body rather than the URL that the actor cannot see is an unknown id,
400 `invalid` / `unknown case`, as for one that does not exist) and nothing written; a refusal
about a case the actor cannot read reveals nothing of it.

A cell where a channel disagrees with the table is a bug in that channel: it is listed in
DISAGREEMENTS below (strict xfail, so fixing it makes the suite say so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases.models import (
    BreakGlassAccess,
    Case,
    ConsentRecord,
    LegalHold,
    Person,
    ProcessingRestriction,
    Share,
)
from casework.models import Action, AdversityRecord, ChronologyEntry, Screening
from governance.models import SubjectAccessRequest
from programmes.models import Enrolment, EnrolmentSession, Milestone
from tests.conftest import Api
from tests.rights import table
from tests.rights.conftest import BREAK_GLASS_REASON, Browser, Persona, Situation, World

pytestmark = pytest.mark.django_db

API, WEB, SYNC = table.API, table.WEB, table.SYNC

# (channel, operation, role or programme actor, situation or "programme") → why it fails today.
# Empty: every channel agrees with the table.
DISAGREEMENTS: dict[tuple[str, str, str, str], str] = {}


# --- outcomes -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # allowed, refused, refused_by_form, unexpected
    status: int
    detail: str
    body: bytes = b""


def _body(response) -> bytes:
    """The response's bytes, a download (a streamed file) included."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _api_outcome(response) -> Outcome:
    status = response.status_code
    body = _body(response)
    detail = f"{status} {body[:400]!r}"
    if 200 <= status < 300:
        return Outcome("allowed", status, detail, body)
    if status in (403, 404) and _error_shape(response):
        return Outcome("refused", status, detail, body)
    if status == 400 and _error_shape(response) and _unknown_reference(response.json()["error"]):
        # A record named in the body (not the URL) that the caller cannot see is an unknown id:
        # refused, with nothing revealed, exactly as for an id that does not exist.
        return Outcome("refused", status, detail, body)
    return Outcome("unexpected", status, detail, body)


def _unknown_reference(error: dict) -> bool:
    messages = [m for ms in (error.get("fields") or {}).values() for m in ms]
    return error.get("code") == "invalid" and any(str(m).startswith("unknown ") for m in messages)


def _error_shape(response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and set(body) == {"error"}
        and {"code", "message"} <= set(body["error"])
    )


def _sync_outcome(response) -> Outcome:
    status = response.status_code
    detail = f"{status} {response.content[:400]!r}"
    if status == 403 and _error_shape(response):
        return Outcome("refused", status, detail, response.content)
    if status != 200:
        return Outcome("unexpected", status, detail, response.content)
    (result,) = response.json()["results"]
    if result["status"] in ("created", "updated"):
        return Outcome("allowed", status, detail, response.content)
    if result["status"] == "error" and result["error"]["code"] in ("forbidden", "not_found"):
        return Outcome("refused", status, detail, response.content)
    if result["status"] == "error" and _unknown_reference(result["error"]):
        return Outcome("refused", status, detail, response.content)
    return Outcome("unexpected", status, detail, response.content)


def _web_outcome(response, *, read: bool = False) -> Outcome:
    status = response.status_code
    content = _body(response)
    assert b"CSRF verification failed" not in content, "the form was posted without its token"
    detail = f"{status} {response.get('Location', '')} {_text(content)[:300]!r}"
    if status in (403, 404):
        return Outcome("refused", status, detail, content)
    if read and status == 200:
        return Outcome("allowed", status, detail, content)
    if not read and status == 302:
        if response["Location"].startswith("/login"):
            return Outcome("unexpected", status, detail, content)
        return Outcome("allowed", status, detail, content)
    if not read and status in (200, 400) and b"There is a problem" in content:
        return Outcome("refused_by_form", status, detail, content)
    return Outcome("unexpected", status, detail, content)


def _text(content: bytes) -> str:
    """The visible text of a page, for failure messages."""
    text = re.sub(rb"<(script|style)[^>]*>.*?</\1>", b" ", content, flags=re.S)
    text = re.sub(rb"<[^>]+>", b" ", text)
    return re.sub(rb"\s+", b" ", text).decode(errors="replace")


# --- clients ------------------------------------------------------------------------------------


def _api(persona: Persona) -> Api:
    return Api(persona.token)


# --- the cells ----------------------------------------------------------------------------------


@dataclass
class Scene:
    world: World
    operation: str
    role: str
    situation: str

    @property
    def persona(self) -> Persona:
        return self.world.personas[self.role]

    @property
    def place(self) -> Situation | None:
        return self.world.situations.get(self.situation)

    @property
    def case_id(self):
        return self.place.case_id


def _now_minus(**kwargs) -> str:
    return (timezone.now() - timedelta(**kwargs)).isoformat()


def _date_fields(prefix: str, day) -> dict[str, Any]:
    return {f"{prefix}_day": day.day, f"{prefix}_month": day.month, f"{prefix}_year": day.year}


def _yesterday():
    return timezone.localdate() - timedelta(days=1)


def _person(scene: Scene) -> Person:
    return Person.objects.get(pk=scene.place.subject_id)


def _case(scene: Scene) -> Case:
    return Case.objects.get(pk=scene.case_id)


# What each operation writes, read before and after the request (None: a read, nothing to write).
PROBES = {
    "view_case": lambda s: None,
    "add_entry": lambda s: ChronologyEntry.objects.filter(case_id=s.case_id).count(),
    "add_adversity": lambda s: AdversityRecord.objects.filter(case_id=s.case_id).count(),
    "add_action": lambda s: Action.objects.filter(case_id=s.case_id).count(),
    "record_consent": lambda s: ConsentRecord.objects.filter(case_id=s.case_id).count(),
    "screen_referral": lambda s: Screening.objects.filter(referral_id=s.place.referral_id).count(),
    "refer_programme": lambda s: Enrolment.objects.filter(case_id=s.case_id).count(),
    "edit_person": lambda s: tuple(
        Person.objects.filter(pk=s.place.subject_id).values_list("version", "preferred_name").get()
    ),
    "create_person": lambda s: Person.objects.count(),
    "match_people": lambda s: None,
    "change_case": lambda s: tuple(
        Case.objects.filter(pk=s.case_id).values_list("version", "summary", "goals").get()
    ),
    "close_case": lambda s: Case.objects.get(pk=s.case_id).status,
    "share_case": lambda s: Share.objects.filter(case_id=s.case_id, partner=s.world.third).count(),
    "break_glass": lambda s: (
        BreakGlassAccess.objects.filter(case_id=s.case_id).count(),
        BreakGlassAccess.objects.filter(case_id=s.case_id, opened_at__isnull=False).count(),
    ),
    "request_subject_access": lambda s: SubjectAccessRequest.objects.filter(
        person_id=s.place.subject_id
    ).count(),
    "follow_subject_access": lambda s: None,
    "download_subject_access": lambda s: None,
    "restrict_processing": lambda s: _restrictions(s),
    "lift_restriction": lambda s: _restrictions(s),
    "place_legal_hold": lambda s: _holds(s),
    "lift_legal_hold": lambda s: _holds(s),
    "extend_retention": lambda s: Case.objects.get(pk=s.case_id).retention_until,
    "dispose_case": lambda s: Case.objects.filter(pk=s.case_id).exists(),
}
# Reads: allowed is 200 with the record (no redirect), and nothing is written.
READS = {"view_case", "follow_subject_access", "download_subject_access"}


def _restrictions(s: Scene):
    return (
        Person.objects.get(pk=s.place.subject_id).processing_restricted,
        ProcessingRestriction.objects.filter(
            person_id=s.place.subject_id, lifted_at__isnull=True
        ).count(),
    )


def _holds(s: Scene) -> int:
    return LegalHold.objects.filter(case_id=s.case_id, lifted_at__isnull=True).count()


RETENTION_REASON = "Held for a Child Safeguarding Practice Review."


def _api_request(scene: Scene, api: Api):
    place = scene.place
    case_id = place.case_id if place else None
    op = scene.operation
    if op == "view_case":
        return api.get(f"/api/v1/cases/{case_id}")
    if op == "add_entry":
        return api.post(
            f"/api/v1/cases/{case_id}/entries",
            {"kind": "contact", "occurred_at": _now_minus(hours=2), "body": "Rights table."},
            format="json",
        )
    if op == "add_adversity":
        return api.post(
            f"/api/v1/cases/{case_id}/adversities",
            {"code": "domestic_violence", "source": "disclosed"},
            format="json",
        )
    if op == "add_action":
        due = timezone.localdate() + timedelta(days=7)
        return api.post(
            f"/api/v1/cases/{case_id}/actions",
            {"title": "Call the school", "due_date": due.isoformat()},
            format="json",
        )
    if op == "record_consent":
        return api.post(
            f"/api/v1/cases/{case_id}/consents",
            {
                "person": str(place.subject_id),
                "decision": "given",
                "lawful_basis": "consent",
                "scope": "Sharing school attendance",
            },
            format="json",
        )
    if op == "screen_referral":
        return api.post(
            f"/api/v1/referrals/{place.referral_id}/screening",
            {"outcome": "early_help", "reasons": "Agreed together."},
            format="json",
        )
    if op == "refer_programme":
        return api.post(
            "/api/v1/programmes/divert/referrals",
            {
                "person": str(place.subject_id),
                "case": str(case_id),
                "details": {"cohort": "care_leaver"},
            },
            format="json",
        )
    if op == "edit_person":
        return api.patch(
            f"/api/v1/people/{place.subject_id}",
            {"preferred_name": "Sammy"},
            format="json",
            HTTP_IF_MATCH=_person(scene).etag,
        )
    if op == "create_person":
        return api.post(
            "/api/v1/people/",
            {"given_name": "Robin", "family_name": "Rightstablenew", "date_of_birth": "2009-02-03"},
            format="json",
        )
    if op == "match_people":
        shared = scene.world.situations["shared"]
        person = Person.objects.get(pk=shared.subject_id)
        return api.post(
            "/api/v1/people/matches",
            {"family_name": person.family_name, "date_of_birth": str(person.date_of_birth)},
            format="json",
        )
    if op == "change_case":
        return api.patch(
            f"/api/v1/cases/{case_id}",
            {"summary": "Changed through the API."},
            format="json",
            HTTP_IF_MATCH=_case(scene).etag,
        )
    if op == "close_case":
        return api.post(
            f"/api/v1/cases/{case_id}/transitions",
            {"to": "closed", "closure_reason": "support_completed", "reason": "Done."},
            format="json",
        )
    if op == "share_case":
        return api.post(
            f"/api/v1/cases/{case_id}/shares",
            {
                "partner": scene.world.third.slug,
                "lawful_basis": "public_task",
                "reason": "Youth team picks this up.",
            },
            format="json",
        )
    if op == "break_glass":
        return api.post(
            f"/api/v1/cases/{case_id}/break-glass", {"reason": BREAK_GLASS_REASON}, format="json"
        )
    if op == "request_subject_access":
        return api.post(f"/api/v1/people/{place.subject_id}/subject-access", {}, format="json")
    if op == "follow_subject_access":
        return api.get(f"/api/v1/subject-access/{scene.world.subject_access_id}")
    if op == "download_subject_access":
        return api.get(f"/api/v1/subject-access/{scene.world.subject_access_id}/download")
    if op == "restrict_processing":
        return api.post(
            f"/api/v1/people/{place.subject_id}/restriction",
            {"reason": "Contests the accuracy of the record."},
            format="json",
        )
    if op == "lift_restriction":
        return api.delete(
            f"/api/v1/people/{place.subject_id}/restriction",
            {"reason": "Record corrected."},
            format="json",
        )
    if op == "place_legal_hold":
        return api.post(
            f"/api/v1/cases/{case_id}/legal-hold", {"reason": RETENTION_REASON}, format="json"
        )
    if op == "lift_legal_hold":
        return api.delete(f"/api/v1/cases/{case_id}/legal-hold")
    if op == "extend_retention":
        until = timezone.localdate() + timedelta(days=400)
        return api.post(
            f"/api/v1/cases/{case_id}/retention",
            {"decision": "extend", "until": until.isoformat(), "reason": RETENTION_REASON},
            format="json",
        )
    if op == "dispose_case":
        return api.post(
            f"/api/v1/cases/{case_id}/retention", {"decision": "dispose"}, format="json"
        )
    raise AssertionError(f"no API request for {op}")


def _web_request(scene: Scene, browser: Browser):
    """The form's POST, or the GET for a read."""
    place = scene.place
    case_id = place.case_id if place else None
    op = scene.operation
    base = f"/cases/{case_id}"
    if op == "view_case":
        return browser.get(f"{base}/")
    if op == "add_entry":
        return browser.post(
            f"{base}/entries/new/",
            {
                "kind": "contact",
                **_date_fields("occurred_on", _yesterday()),
                "occurred_time": "10:15",
                "body": "Rights table.",
                "visibility": "case",
            },
        )
    if op == "add_adversity":
        return browser.post(
            f"{base}/adversities/new/", {"code": "domestic_violence", "source": "disclosed"}
        )
    if op == "add_action":
        due = timezone.localdate() + timedelta(days=7)
        return browser.post(
            f"{base}/actions/new/",
            {
                "title": "Call the school",
                **_date_fields("due_date", due),
                "owner": str(scene.persona.user.pk),
            },
        )
    if op == "record_consent":
        return browser.post(
            f"{base}/consents/new/",
            {
                "person": str(place.subject_id),
                "decision": "given",
                "lawful_basis": "consent",
                "scope": "Sharing school attendance",
            },
        )
    if op == "screen_referral":
        return browser.post(
            f"/referrals/{place.referral_id}/screen/",
            # The web asks which partner does early help; a programme referral asks nothing more.
            {"outcome": "programme_referral", "reasons": "Agreed together."},
        )
    if op == "refer_programme":
        return browser.post(f"{base}/programmes/divert/refer/", {"cohort": "care_leaver"})
    if op == "edit_person":
        person = _person(scene)
        return browser.post(
            f"{base}/people/{place.subject_id}/edit/",
            {
                "version": person.version,
                "given_name": person.given_name,
                "family_name": person.family_name,
                "preferred_name": "Sammy",
                **_date_fields("date_of_birth", person.date_of_birth),
            },
        )
    if op == "change_case":
        return browser.post(
            f"{base}/voice/",
            {"version": _case(scene).version, "goals": "Changed on the web.", "what_matters": ""},
        )
    if op == "close_case":
        return browser.post(
            f"{base}/status/", {"to": "closed", "closure_reason": "support_completed"}
        )
    if op == "share_case":
        return browser.post(
            f"{base}/share/",
            {
                "partner": scene.world.third.slug,
                "lawful_basis": "public_task",
                "reason": "Youth team picks this up.",
            },
        )
    if op == "break_glass":
        return browser.post(
            "/cases/emergency-access/",
            {"reference": place.reference, "reason": BREAK_GLASS_REASON, "confirm": "on"},
        )
    if op == "request_subject_access":
        return browser.post(f"/people/{place.subject_id}/subject-access/", {})
    if op == "follow_subject_access":
        return browser.get(f"/people/{scene.world.subject_access_person_id}/information-rights/")
    if op == "download_subject_access":
        return browser.get(f"/subject-access/{scene.world.subject_access_id}/download/")
    if op in ("restrict_processing", "lift_restriction"):
        return browser.post(
            f"/people/{place.subject_id}/restriction/", {"reason": "Asked by the person."}
        )
    if op in ("place_legal_hold", "lift_legal_hold"):
        return browser.post(f"{base}/legal-hold/", {"reason": RETENTION_REASON})
    if op == "extend_retention":
        until = timezone.localdate() + timedelta(days=400)
        return browser.post(
            f"{base}/retention/extend/",
            {**_date_fields("until", until), "reason": RETENTION_REASON},
        )
    if op == "dispose_case":
        return browser.post(f"{base}/retention/dispose/", {"confirm": "on"})
    raise AssertionError(f"no web form for {op}")


def _sync_request(scene: Scene, api: Api):
    place = scene.place
    op = scene.operation
    if op == "add_entry":
        resource, record = (
            "entries",
            {
                "local_id": "RMS-ENTRY-1",
                "case_local_id": place.case_local_id,
                "kind": "contact",
                "occurred_at": _now_minus(hours=2),
                "body": "Rights table.",
            },
        )
    elif op == "edit_person":
        resource, record = "people", {"local_id": place.person_local_id, "preferred_name": "Sammy"}
    elif op == "change_case":
        resource, record = "cases", {"local_id": place.case_local_id, "summary": "Changed by sync."}
    elif op == "create_person":
        resource, record = (
            "people",
            {
                "local_id": "RMS-PERSON-new",
                "given_name": "Robin",
                "family_name": "Rightstablenew",
            },
        )
    else:
        raise AssertionError(f"no sync resource for {op}")
    return api.post(f"/api/v1/sync/{resource}", {"records": [record]}, format="json")


def _params(cells, channel: str, key):
    params = []
    for cell in cells:
        reason = DISAGREEMENTS.get((channel, *key(cell)))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(*cell, id="-".join(cell), marks=marks))
    return params


def _case_params(channel: str):
    return _params(table.case_cells(channel), channel, lambda cell: cell)


def _prepare(scene: Scene) -> None:
    op, place = scene.operation, scene.place
    lead_partner = scene.world.police if scene.situation == table.L else scene.world.school
    placed_by = scene.world.personas["manager"].user
    if op == "lift_restriction":
        ProcessingRestriction.objects.create(
            person_id=place.subject_id, reason="Contests the record.", placed_by=placed_by,
            placed_by_partner=scene.world.police,
        )  # fmt: skip
        Person.objects.filter(pk=place.subject_id).update(processing_restricted=True)
    if op == "lift_legal_hold":
        LegalHold.objects.create(
            case_id=place.case_id, reason=RETENTION_REASON, placed_by=placed_by,
            placed_by_partner=lead_partner,
        )  # fmt: skip
    if op in ("extend_retention", "dispose_case"):
        # Closed a year ago, and its retention period has run out.
        Case.objects.filter(pk=place.case_id).update(
            status="closed",
            closed_at=timezone.now() - timedelta(days=365),
            retention_until=timezone.localdate() - timedelta(days=1),
        )
    if scene.operation == "break_glass":
        # The police practitioner opened the break-glass case for the world; this cell asks
        # about a first use in 24 hours (a second one waits for a manager's approval).
        BreakGlassAccess.objects.filter(user=scene.world.personas["practitioner"].user).update(
            requested_at=timezone.now() - timedelta(hours=25)
        )


def _check(scene: Scene, outcome: Outcome, before, after) -> None:
    want = table.allowed(scene.operation, scene.role, scene.situation)
    if want:
        assert outcome.kind == "allowed", f"expected allowed, got {outcome.kind}: {outcome.detail}"
        if before is not None:
            assert after != before, f"allowed but nothing was written: {outcome.detail}"
        if scene.operation == "view_case":
            assert scene.place.reference.encode() in outcome.body
        if scene.operation == "download_subject_access":
            assert outcome.body.startswith(b"PK"), "not the pack (a ZIP)"
        return
    assert outcome.kind in ("refused", "refused_by_form"), (
        f"expected refused, got {outcome.kind}: {outcome.detail}"
    )
    assert after == before, f"refused ({outcome.detail}) but something was written"
    if scene.place is not None and not table.allowed("view_case", scene.role, scene.situation):
        # Refused on a case they cannot read: nothing about it in the answer.
        assert scene.place.reference.encode() not in outcome.body
        assert scene.place.family_name.encode() not in outcome.body


def _run(world: World, operation: str, role: str, situation: str, channel: str) -> None:
    scene = Scene(world, operation, role, situation)
    _prepare(scene)
    probe = PROBES[operation]
    before = probe(scene)
    if channel == API:
        outcome = _api_outcome(_api_request(scene, _api(scene.persona)))
    elif channel == SYNC:
        outcome = _sync_outcome(_sync_request(scene, _api(scene.persona)))
    else:
        response = _web_request(scene, scene.persona.browser)
        outcome = _web_outcome(response, read=operation in READS)
    _check(scene, outcome, before, probe(scene))


@pytest.mark.parametrize(("operation", "role", "situation"), _case_params(API))
def test_api(world, operation, role, situation):
    _run(world, operation, role, situation, API)


@pytest.mark.parametrize(("operation", "role", "situation"), _case_params(WEB))
def test_web(world, operation, role, situation):
    _run(world, operation, role, situation, WEB)


@pytest.mark.parametrize(("operation", "role", "situation"), _case_params(SYNC))
def test_sync(world, operation, role, situation):
    _run(world, operation, role, situation, SYNC)


# --- programme enrolments -----------------------------------------------------------------------

PROGRAMME_PROBES = {
    "record_session": lambda e: EnrolmentSession.objects.filter(enrolment_id=e).count(),
    "record_milestone": lambda e: Milestone.objects.filter(enrolment_id=e).count(),
    "update_intake_details": lambda e: tuple(
        Enrolment.objects.filter(pk=e).values_list("version", "details").get()
    ),
    "withdraw": lambda e: Enrolment.objects.get(pk=e).status,
    "coordinator_move": lambda e: Enrolment.objects.get(pk=e).status,
}


def _programme_api_request(operation: str, enrolment_id, api: Api):
    url = f"/api/v1/enrolments/{enrolment_id}"
    if operation == "record_session":
        return api.post(
            f"{url}/sessions",
            {"kind": "coaching", "occurred_at": _now_minus(days=1), "attendance": "attended"},
            format="json",
        )
    if operation == "record_milestone":
        return api.post(
            f"{url}/milestones",
            {"code": "cv_completed", "achieved_on": _yesterday().isoformat()},
            format="json",
        )
    if operation == "update_intake_details":
        etag = Enrolment.objects.get(pk=enrolment_id).etag
        return api.patch(url, {"details": {"cohort": "ae"}}, format="json", HTTP_IF_MATCH=etag)
    if operation == "withdraw":
        return api.post(
            f"{url}/transitions", {"to": "withdrawn", "reason": "Moved away."}, format="json"
        )
    if operation == "coordinator_move":
        return api.post(f"{url}/transitions", {"to": "active"}, format="json")
    raise AssertionError(f"no API request for {operation}")


def _programme_web_request(operation: str, enrolment_id, browser: Browser):
    page = f"/enrolments/{enrolment_id}/"
    version = Enrolment.objects.get(pk=enrolment_id).version
    if operation == "record_session":
        yesterday = _yesterday()
        return browser.post(
            f"{page}sessions/new/",
            {
                "session-kind": "coaching",
                "session-occurred_on_day": yesterday.day,
                "session-occurred_on_month": yesterday.month,
                "session-occurred_on_year": yesterday.year,
                "session-occurred_time": "15:00",
                "session-attendance": "attended",
            },
        )
    if operation == "record_milestone":
        return browser.post(
            f"{page}milestones/new/",
            {
                "milestone-code": "cv_completed",
                **_date_fields("milestone-achieved_on", _yesterday()),
            },
        )
    if operation == "withdraw":
        return browser.post(page, {"to": "withdrawn", "reason": "Moved away.", "version": version})
    if operation == "coordinator_move":
        return browser.post(page, {"to": "active", "version": version})
    raise AssertionError(f"no web form for {operation}")


def _programme_params(channel: str):
    return _params(table.programme_cells(channel), channel, lambda cell: (*cell, "programme"))


def _run_programme(world: World, operation: str, actor: str, channel: str) -> None:
    persona = world.programme_personas[actor]
    enrolment_id = world.enrolment_id
    probe = PROGRAMME_PROBES[operation]
    before = probe(enrolment_id)
    if channel == API:
        outcome = _api_outcome(_programme_api_request(operation, enrolment_id, _api(persona)))
    else:
        outcome = _web_outcome(_programme_web_request(operation, enrolment_id, persona.browser))
    after = probe(enrolment_id)
    if table.programme_allowed(operation, actor):
        assert outcome.kind == "allowed", f"expected allowed, got {outcome.kind}: {outcome.detail}"
        assert after != before, f"allowed but nothing was written: {outcome.detail}"
        return
    assert outcome.kind in ("refused", "refused_by_form"), (
        f"expected refused, got {outcome.kind}: {outcome.detail}"
    )
    assert after == before, f"refused ({outcome.detail}) but something was written"
    if actor in ("other_coordinator", "auditor"):
        # They cannot see the enrolment's case: nothing about the person in the answer.
        assert b"Rightstableprogramme" not in outcome.body


@pytest.mark.parametrize(("operation", "actor"), _programme_params(API))
def test_programme_api(world, operation, actor):
    _run_programme(world, operation, actor, API)


@pytest.mark.parametrize(("operation", "actor"), _programme_params(WEB))
def test_programme_web(world, operation, actor):
    _run_programme(world, operation, actor, WEB)


def test_the_web_checks_csrf_so_a_refusal_is_never_a_missing_token(world):
    """The browsers post with CSRF checks on: without the token the same form is refused by the
    CSRF check (which _web_outcome rules out for every cell), and nothing is written."""
    browser = world.personas["practitioner"].browser
    case_id = world.situations["lead"].case_id
    response = browser.client.post(
        f"/cases/{case_id}/status/", {"to": "closed", "closure_reason": "support_completed"}
    )
    assert response.status_code == 403 and b"CSRF verification failed" in response.content
    assert Case.objects.get(pk=case_id).status != "closed"
