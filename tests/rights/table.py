"""Who may do what: the one rights table, as plain data. It is the oracle.

tests/rights/test_parity.py runs every cell through every channel the operation exists in (the
partner API, the web forms, batch sync) and the code must agree with it; docs/security-model.md
shows it, rendered by render_markdown() (scripts/render-rights-table.py --write), and
tests/rights/test_security_doc.py keeps the two equal.

Every actor acts for the police partner. The case (and the person it is about) stands in one of
four situations towards the police:

- lead:        the police lead the case;
- shared:      the school leads it and shares it with the police (a live share, under a data
               sharing agreement naming both);
- break_glass: the school leads it and has not shared it; the police practitioner opened it with
               break-glass (for every other actor this is the same as `unrelated`);
- unrelated:   the school leads it and has not shared it.

Some operations do not depend on a case (situation `any`), and break-glass itself is tried on the
`unrelated` case (police and school have an agreement).

No Django imports here: scripts/render-rights-table.py renders this without a database.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

API, WEB, SYNC = "api", "web", "sync"
CHANNEL_NAMES = {API: "API", WEB: "web", SYNC: "sync"}

ROLES = ("practitioner", "manager", "coordinator", "auditor", "admin", "client")
ROLE_NAMES = {
    "practitioner": "practitioner",
    "manager": "manager",
    "coordinator": "coordinator",
    "auditor": "auditor",
    "admin": "admin",
    "client": "partner system",
}
# A partner system (API client) has no web pages.
USER_CHANNELS = (API, WEB, SYNC)
CLIENT_CHANNELS = (API, SYNC)

L, S, B, U = "lead", "shared", "break_glass", "unrelated"
ANY = "any"
SITUATIONS = (L, S, B, U)
SITUATION_NAMES = {
    L: "own partner leads",
    S: "shared with own partner",
    B: "opened with break-glass",
    U: "not shared",
    ANY: "any",
}


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    channels: tuple[str, ...]
    # role → the situations in which the operation is allowed (every other cell is refused).
    allowed: dict[str, tuple[str, ...]]
    situations: tuple[str, ...] = SITUATIONS
    # How each channel does it, for the reader (the tests hold the requests themselves).
    how: dict[str, str] = field(default_factory=dict)


def _case_writers(*situations: str) -> dict[str, tuple[str, ...]]:
    """Practitioners, managers and partner systems in `situations`; nobody else, ever."""
    return {
        "practitioner": situations,
        "manager": situations,
        "coordinator": (),
        "auditor": (),
        "admin": (),
        "client": situations,
    }


CONTENT_READERS = ("practitioner", "manager", "coordinator", "client")

CASE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "view_case",
        "read the case",
        (API, WEB),
        {
            "practitioner": (L, S, B),
            "manager": (L, S),
            "coordinator": (L, S),
            "client": (L, S),
            "auditor": (),
            "admin": (),
        },
        how={API: "GET /api/v1/cases/{id}", WEB: "GET /cases/{id}/"},
    ),
    Operation(
        "add_entry",
        "add a chronology entry",
        (API, WEB, SYNC),
        _case_writers(L, S),
        how={
            API: "POST /api/v1/cases/{id}/entries",
            WEB: "/cases/{id}/entries/new/",
            SYNC: "POST /api/v1/sync/entries (new entry)",
        },
    ),
    Operation(
        "add_adversity",
        "record an adversity or strength",
        (API, WEB),
        _case_writers(L, S),
        how={API: "POST /api/v1/cases/{id}/adversities", WEB: "/cases/{id}/adversities/new/"},
    ),
    Operation(
        "add_action",
        "add an action",
        (API, WEB),
        _case_writers(L, S),
        how={API: "POST /api/v1/cases/{id}/actions", WEB: "/cases/{id}/actions/new/"},
    ),
    Operation(
        "record_consent",
        "record a consent decision",
        (API, WEB),
        _case_writers(L, S),
        how={API: "POST /api/v1/cases/{id}/consents", WEB: "/cases/{id}/consents/new/"},
    ),
    Operation(
        "screen_referral",
        "record the joint screening of a referral on the case",
        (API, WEB),
        _case_writers(L, S),
        how={API: "POST /api/v1/referrals/{id}/screening", WEB: "/referrals/{id}/screen/"},
    ),
    Operation(
        "refer_programme",
        "refer the person to a programme (DIVERT)",
        (API, WEB),
        {
            "practitioner": (L, S),
            "manager": (L, S),
            "coordinator": (L, S),
            "client": (L, S),
            "auditor": (),
            "admin": (),
        },
        how={
            API: "POST /api/v1/programmes/divert/referrals",
            WEB: "/cases/{id}/programmes/divert/refer/",
        },
    ),
    Operation(
        "edit_person",
        "change the details of the person the case is about",
        (API, WEB, SYNC),
        _case_writers(L, S),
        how={
            API: "PATCH /api/v1/people/{id} (If-Match)",
            WEB: "/cases/{id}/people/{person}/edit/",
            SYNC: "POST /api/v1/sync/people (update by the caller's local id)",
        },
    ),
    Operation(
        "create_person",
        "record a new person",
        (API, SYNC),
        {role: (ANY,) for role in CONTENT_READERS} | {"auditor": (), "admin": ()},
        situations=(ANY,),
        how={API: "POST /api/v1/people/", SYNC: "POST /api/v1/sync/people (new person)"},
    ),
    Operation(
        "match_people",
        "look for possible duplicates",
        (API,),
        {role: (ANY,) for role in CONTENT_READERS} | {"auditor": (), "admin": ()},
        situations=(ANY,),
        how={API: "POST /api/v1/people/matches"},
    ),
    Operation(
        "change_case",
        "change the case",
        (API, WEB, SYNC),
        _case_writers(L),
        how={
            API: "PATCH /api/v1/cases/{id} (If-Match)",
            WEB: "/cases/{id}/voice/",
            SYNC: "POST /api/v1/sync/cases (update by the caller's case id)",
        },
    ),
    Operation(
        "close_case",
        "close the case",
        (API, WEB),
        _case_writers(L),
        how={API: "POST /api/v1/cases/{id}/transitions", WEB: "/cases/{id}/status/"},
    ),
    Operation(
        "share_case",
        "share the case with another partner",
        (API, WEB),
        _case_writers(L),
        how={API: "POST /api/v1/cases/{id}/shares", WEB: "/cases/{id}/share/"},
    ),
    Operation(
        "break_glass",
        "open a case with break-glass",
        (API, WEB),
        {
            "practitioner": (U,),
            "manager": (),
            "coordinator": (),
            "auditor": (),
            "admin": (),
            "client": (),
        },
        situations=(U,),
        how={API: "POST /api/v1/cases/{id}/break-glass", WEB: "/cases/emergency-access/"},
    ),
)

# Information rights and retention (docs/information-governance.md): decided by the managers of a
# partner that can see the person (subject access, restriction), and by the lead partner's managers
# (legal holds, retention decisions; the partnership's auditors, of the VRU, may also hold a case,
# but every actor here works for the police). A subject access request is followed and downloaded
# by its own partner's managers: it is tried on one the police's managers made about the subject of
# another case the police lead, its pack ready. Retention decisions are tried on the case once closed
# and past its retention date; lifting, on a restriction or hold in place.
_MANAGERS_OF = {
    "practitioner": (),
    "coordinator": (),
    "auditor": (),
    "admin": (),
    "client": (),
}

GOVERNANCE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "request_subject_access",
        "ask for a subject access pack of the person the case is about",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (L, S)},
        how={
            API: "POST /api/v1/people/{id}/subject-access",
            WEB: "/people/{id}/subject-access/",
        },
    ),
    Operation(
        "follow_subject_access",
        "follow a subject access request the own partner made",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (ANY,)},
        situations=(ANY,),
        how={API: "GET /api/v1/subject-access/{id}", WEB: "GET /people/{id}/information-rights/"},
    ),
    Operation(
        "download_subject_access",
        "download its pack",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (ANY,)},
        situations=(ANY,),
        how={
            API: "GET /api/v1/subject-access/{id}/download",
            WEB: "GET /subject-access/{id}/download/",
        },
    ),
    Operation(
        "restrict_processing",
        "restrict the processing of the person's data",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (L, S)},
        how={API: "POST /api/v1/people/{id}/restriction", WEB: "/people/{id}/restriction/"},
    ),
    Operation(
        "lift_restriction",
        "lift the restriction",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (L, S)},
        how={API: "DELETE /api/v1/people/{id}/restriction", WEB: "/people/{id}/restriction/"},
    ),
    Operation(
        "place_legal_hold",
        "place a legal hold on the case",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (L,)},
        how={API: "POST /api/v1/cases/{id}/legal-hold", WEB: "/cases/{id}/legal-hold/"},
    ),
    Operation(
        "lift_legal_hold",
        "lift the legal hold",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (L,)},
        how={API: "DELETE /api/v1/cases/{id}/legal-hold", WEB: "/cases/{id}/legal-hold/"},
    ),
    Operation(
        "extend_retention",
        "keep the closed case longer",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (L,)},
        how={
            API: "POST /api/v1/cases/{id}/retention (extend)",
            WEB: "/cases/{id}/retention/extend/",
        },
    ),
    Operation(
        "dispose_case",
        "dispose of the closed case",
        (API, WEB),
        {**_MANAGERS_OF, "manager": (L,)},
        how={
            API: "POST /api/v1/cases/{id}/retention (dispose)",
            WEB: "/cases/{id}/retention/dispose/",
        },
    ),
)
CASE_OPERATIONS += GOVERNANCE_OPERATIONS

# How the rendered table groups the operations.
CASE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Reading a case", ("view_case",)),
    (
        "Adding to a case",
        (
            "add_entry",
            "add_adversity",
            "add_action",
            "record_consent",
            "screen_referral",
            "refer_programme",
        ),
    ),
    ("People", ("edit_person", "create_person", "match_people")),
    ("Changing and sharing a case", ("change_case", "close_case", "share_case")),
    ("Emergency access", ("break_glass",)),
    ("Information rights and retention", tuple(op.name for op in GOVERNANCE_OPERATIONS)),
)


# Programmes: an enrolment in DIVERT, status `enrolled`, of the subject of a case the police lead.

PROGRAMME_ACTORS = (
    "programme_coordinator",
    "other_coordinator",
    "case_practitioner",
    "break_glass_practitioner",
    "auditor",
)
PROGRAMME_ACTOR_NAMES = {
    "programme_coordinator": "the programme's coordinator",
    "other_coordinator": "another programme's coordinator",
    "case_practitioner": "practitioner of the lead partner",
    "break_glass_practitioner": "practitioner with break-glass access only",
    "auditor": "auditor",
}


@dataclass(frozen=True)
class ProgrammeOperation:
    name: str
    label: str
    channels: tuple[str, ...]
    allowed: tuple[str, ...]  # the actors allowed; every other actor is refused
    how: dict[str, str] = field(default_factory=dict)


PROGRAMME_OPERATIONS: tuple[ProgrammeOperation, ...] = (
    ProgrammeOperation(
        "record_session",
        "record a session",
        (API, WEB),
        ("programme_coordinator",),
        how={
            API: "POST /api/v1/enrolments/{id}/sessions",
            WEB: "/enrolments/{id}/sessions/new/",
        },
    ),
    ProgrammeOperation(
        "record_milestone",
        "record a milestone",
        (API, WEB),
        ("programme_coordinator",),
        how={
            API: "POST /api/v1/enrolments/{id}/milestones",
            WEB: "/enrolments/{id}/milestones/new/",
        },
    ),
    ProgrammeOperation(
        "update_intake_details",
        "change the intake details",
        (API,),
        ("programme_coordinator",),
        how={API: "PATCH /api/v1/enrolments/{id} (If-Match)"},
    ),
    ProgrammeOperation(
        "withdraw",
        "record that the person withdrew",
        (API, WEB),
        ("programme_coordinator", "case_practitioner"),
        how={API: "POST /api/v1/enrolments/{id}/transitions", WEB: "/enrolments/{id}/"},
    ),
    ProgrammeOperation(
        "coordinator_move",
        "move the enrolment on (enrolled to active)",
        (API, WEB),
        ("programme_coordinator",),
        how={API: "POST /api/v1/enrolments/{id}/transitions", WEB: "/enrolments/{id}/"},
    ),
)


# Lookups used by the tests.

_CASE_OPS = {op.name: op for op in CASE_OPERATIONS}
_PROGRAMME_OPS = {op.name: op for op in PROGRAMME_OPERATIONS}


def case_operation(name: str) -> Operation:
    return _CASE_OPS[name]


def programme_operation(name: str) -> ProgrammeOperation:
    return _PROGRAMME_OPS[name]


def allowed(operation: str, role: str, situation: str) -> bool:
    op = _CASE_OPS[operation]
    if situation not in op.situations:
        raise KeyError(f"{operation} is not run in situation {situation}")
    return situation in op.allowed[role]


def programme_allowed(operation: str, actor: str) -> bool:
    return actor in _PROGRAMME_OPS[operation].allowed


def role_channels(role: str) -> tuple[str, ...]:
    return CLIENT_CHANNELS if role == "client" else USER_CHANNELS


def case_cells(channel: str) -> list[tuple[str, str, str]]:
    """(operation, role, situation) for every cell run through `channel`."""
    return [
        (op.name, role, situation)
        for op in CASE_OPERATIONS
        if channel in op.channels
        for role in ROLES
        if channel in role_channels(role)
        for situation in op.situations
    ]


def programme_cells(channel: str) -> list[tuple[str, str]]:
    return [
        (op.name, actor)
        for op in PROGRAMME_OPERATIONS
        if channel in op.channels
        for actor in PROGRAMME_ACTORS
    ]


# Rendering (docs/security-model.md shows exactly this, between the markers).

START = "<!-- rights-table:start -->"
END = "<!-- rights-table:end -->"
YES, NO = "✓", "✗"


def _mark(ok: bool) -> str:
    return YES if ok else NO


def _channels(channels: tuple[str, ...]) -> str:
    return ", ".join(CHANNEL_NAMES[c] for c in channels)


def _prose(text: str) -> str:
    """A paragraph wrapped as the rest of the document is (100 columns)."""
    return textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _case_group(title: str, names: tuple[str, ...]) -> list[str]:
    header = ["operation", "case is", *(ROLE_NAMES[r] for r in ROLES), "checked through"]
    lines = [f"**{title}**", "", _row(header), _row(["---"] * len(header))]
    for name in names:
        op = _CASE_OPS[name]
        for i, situation in enumerate(op.situations):
            marks = [_mark(situation in op.allowed[role]) for role in ROLES]
            label = op.label if i == 0 else ""
            lines.append(_row([label, SITUATION_NAMES[situation], *marks, _channels(op.channels)]))
    return lines


def _programme_group() -> list[str]:
    header = ["operation", *(PROGRAMME_ACTOR_NAMES[a] for a in PROGRAMME_ACTORS), "checked through"]
    lines = [
        _prose(
            "**Programme enrolments**: an enrolment in DIVERT, status enrolled, of the subject of a "
            "case the police lead. Both coordinators work for the VRU, which runs the programmes "
            "(only the first is named as DIVERT's coordinator); the practitioner with break-glass "
            "access only works for the school; the auditor is the VRU's."
        ),
        "",
        _row(header),
        _row(["---"] * len(header)),
    ]
    for op in PROGRAMME_OPERATIONS:
        marks = [_mark(actor in op.allowed) for actor in PROGRAMME_ACTORS]
        lines.append(_row([op.label, *marks, _channels(op.channels)]))
    return lines


def render_markdown() -> str:
    """The block between the markers in docs/security-model.md, markers included."""
    lines = [
        START,
        "",
        _prose(
            "In the case tables every actor acts for the police, and *case is* says how the case "
            "stands towards the police. ✓: allowed (2xx, the web form saves and redirects, or "
            "the sync record is created or updated) and the record is written. ✗: refused (403 or "
            "404 in the error shape; on the web a 403 or 404 page, or the form shown again with an "
            "error; in sync the record fails with `forbidden` or `not_found`, or the whole request "
            "is 403) and nothing is written. *Checked through* names the channels each row is run "
            "through by `tests/rights/test_parity.py`; a partner system has no web pages. "
            "Break-glass is tried on a case the school leads and has not shared (police and school "
            "have a data sharing agreement). Information rights and retention: a subject access "
            "request is followed and downloaded on one the police's managers made about the "
            "subject of another case the police lead, its pack ready; retention decisions are tried "
            "on the case once closed and past its retention date, lifting on a restriction or "
            "legal hold in place. The partnership's auditors (of the VRU) may also place and lift "
            "a legal hold on any case; the auditor here is the police's."
        ),
        "",
    ]
    groups = [_case_group(title, names) for title, names in CASE_GROUPS]
    groups.append(_programme_group())
    for group in groups:
        lines.extend(group)
        lines.append("")
    lines.append(END)
    return "\n".join(lines)
