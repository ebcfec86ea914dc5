"""Who may see and do what with cases and persons. The only module that touches guardian.

A partner reaches a case through a guardian object permission granted to the partner's group:
the lead partner holds view/change/share, a partner the case is shared with holds view (with the
share's expiry copied onto the permission row, so expiry takes effect the moment it passes).
A user reaches a case through a user permission only when named on a restricted case (both the
user and their partner need access) or through time-limited break-glass access.
Roles refine it: practitioners, managers and coordinators see case content; auditors see access
logs, never content; administrators provision, they do not read cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.utils import timezone

from audit.models import AccessLog
from audit.services import Access, access_record, access_refused
from cases.models import (
    BreakGlassAccess,
    Case,
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    Person,
    Share,
)
from core.errors import Forbidden, NotFound
from partners.actor import Actor
from partners.models import Partner, Role, Sector

T = TypeVar("T")

VIEW = "view_case"
CHANGE = "change_case"
SHARE = "share_case"
LEAD_PERMISSIONS = (VIEW, CHANGE, SHARE)

CONTENT_ROLES = (Role.PRACTITIONER, Role.MANAGER, Role.COORDINATOR)
# Roles that work cases: record, change and share. Coordinators read what intake needs and run
# programmes; they never write case content.
WORKING_ROLES = (Role.PRACTITIONER, Role.MANAGER)


def reads_case_content(actor: Actor) -> bool:
    """Auditors and administrators never read case content; partner systems do, as their partner."""
    return actor.is_client or actor.role in CONTENT_ROLES


def writes_case_content(actor: Actor) -> bool:
    """Practitioners, managers and partner systems write case content; coordinators, auditors and
    administrators never do, whatever the channel."""
    return actor.is_client or actor.role in WORKING_ROLES


def oversees_partner(actor: Actor) -> bool:
    """Managers oversee their own partner's caseload, screening queue and staff."""
    return actor.user is not None and actor.role == Role.MANAGER


def reviews_access(actor: Actor) -> bool:
    """Auditors review the access log and break-glass use (never case content)."""
    return actor.user is not None and actor.role == Role.AUDITOR


def refuse(actor: Actor, *, action: str, object_type: str, object_id, reason: str, message: str):
    """Log a refusal and raise Forbidden: every check_* below ends here."""
    access_refused(
        actor=actor, action=action, object_type=object_type, object_id=object_id, reason=reason
    )
    raise Forbidden(message)


_permission_ids: dict[str, int] = {}


def permission_id(codename: str) -> int:
    """The id of a case permission, cached: a constant lets the database probe the permission
    index per row instead of joining auth_permission (measured in bench/case_list.py)."""
    if codename not in _permission_ids:
        from django.contrib.auth.models import Permission

        _permission_ids[codename] = Permission.objects.get(
            content_type__app_label="cases", content_type__model="case", codename=codename
        ).pk
    return _permission_ids[codename]


@receiver(post_migrate)
def _forget_permission_ids(**kwargs) -> None:
    # Permissions are recreated (with new ids) after a flush or migration.
    _permission_ids.clear()


def _live(qs: QuerySet, now: datetime) -> QuerySet:
    return qs.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def _group_permissions(actor: Actor, codename: str, now: datetime) -> QuerySet:
    return _live(
        CaseGroupObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            group_id=actor.partner.group_id,
            permission_id=permission_id(codename),
        ),
        now,
    ).values("content_object_id")


def _user_permissions(actor: Actor, codename: str, now: datetime) -> QuerySet:
    return _live(
        CaseUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            user_id=actor.user.pk,
            permission_id=permission_id(codename),
        ),
        now,
    ).values("content_object_id")


def visibility_condition(actor: Actor, codename: str = VIEW, *, now: datetime | None = None) -> Q:
    """The one rule, as a filter on Case, for the permission `codename`."""
    now = now or timezone.now()
    by_partner = _group_permissions(actor, codename, now)
    if actor.user is None:
        return Q(restricted=False) & Exists(by_partner)
    by_user = _user_permissions(actor, codename, now)
    # One EXISTS over a UNION ALL, not two EXISTS joined by OR: PostgreSQL then probes the
    # permission index for each case in page order instead of hashing every permission the
    # partner holds (8 ms → under 1 ms per page at 100,000 cases; bench/case_list.py).
    return (Q(restricted=False) & Exists(by_partner.union(by_user, all=True))) | (
        Q(restricted=True) & Exists(by_partner) & Exists(by_user)
    )


# Partners differ in size by four orders of magnitude: the police see a quarter of all cases, a
# mentoring charity a few hundred. One plan serves them all when the page is read from the
# partner's own permission rows in page order: each row carries its case's creation time under the
# ordered access index (group, permission, created_at desc, case desc), so any page is one index
# range scan, however many or few cases the partner sees (`_through_ordered_access`).
#
# That form holds for an actor named on no case. A user named on a restricted case, or given
# break-glass access, needs the full rule (`visibility_condition`); when they hold permissions on at
# most FEW_CASES cases it is narrowed to those, so the database sorts a few cases instead of walking
# them all. Persons and the change feed use the same few-case list to name their rows outright.
# The forms are measured by bench/case_list.py (docs/performance.md).
FEW_CASES = 2000
# Within `one_reading()`: each actor's few_visible_case_ids, whether they are named on any case,
# and their visible cases and persons (querysets, so their `now` too), worked out once.
_reading: ContextVar[dict | None] = ContextVar("cases_access_reading", default=None)


@contextmanager
def one_reading() -> Iterator[None]:
    """For a read that builds one statement out of many selectors (the change feed asks every
    resource's rule, each resting on cases_visible_to): the actor's permission rows are read, and
    their visible cases built, once in the block instead of once per selector. Only around reads:
    a write inside the block could grant a case the remembered ids do not name."""
    token = _reading.set({})
    try:
        yield
    finally:
        _reading.reset(token)


def _once(key: tuple, build: Callable[[], T]) -> T:
    """`build()`, remembered under `key` within `one_reading()`."""
    remembered = _reading.get()
    if remembered is None:
        return build()
    if key not in remembered:
        remembered[key] = build()
    return remembered[key]


def _actor_key(actor: Actor) -> tuple:
    return (actor.partner.pk, actor.user.pk if actor.user else None)


def few_visible_case_ids(
    actor: Actor, codename: str = VIEW, *, now: datetime | None = None
) -> list[UUID] | None:
    """The cases the actor holds a live `codename` permission on (through its partner or, for a
    user, by name), when there are at most FEW_CASES of them; None when there are more.

    A superset of what the actor may see (a restricted case needs both permissions), so it only
    ever narrows `visibility_condition`, never replaces it."""
    return _once(
        ("few", *_actor_key(actor), codename),
        lambda: _few_visible_case_ids(actor, codename, now or timezone.now()),
    )


def _few_visible_case_ids(actor: Actor, codename: str, now: datetime) -> list[UUID] | None:
    held = _live(
        CaseGroupObjectPermission.objects.filter(
            group_id=actor.partner.group_id, permission_id=permission_id(codename)
        ),
        now,
    ).values_list("content_object_id", flat=True)
    if actor.user is not None:
        by_name = _live(
            CaseUserObjectPermission.objects.filter(
                user_id=actor.user.pk, permission_id=permission_id(codename)
            ),
            now,
        ).values_list("content_object_id", flat=True)
        held = held.union(by_name, all=True)
    ids = list(held[: FEW_CASES + 1])
    return ids if len(ids) <= FEW_CASES else None


def cases_visible_to(actor: Actor, codename: str = VIEW) -> QuerySet[Case]:
    """Every list, detail, search, count and filter of cases starts here. With CHANGE or SHARE,
    the cases the actor may change or share (only roles that write case content ever may)."""
    if not reads_case_content(actor) or (codename != VIEW and not writes_case_content(actor)):
        return Case.objects.none()
    return _once(
        ("cases", *_actor_key(actor), codename),
        lambda: _visible_cases(actor, codename, timezone.now()),
    )


def _holds_named_cases(actor: Actor, codename: str, now: datetime) -> bool:
    """Is the user named on any case (a restricted case, or break-glass) with a live permission?"""
    if actor.user is None:
        return False
    return _once(
        ("named", actor.user.pk, codename),
        lambda: _live(
            CaseUserObjectPermission.objects.filter(
                user_id=actor.user.pk, permission_id=permission_id(codename)
            ),
            now,
        ).exists(),
    )


def _through_ordered_access(actor: Actor, codename: str, now: datetime) -> QuerySet[Case]:
    """The cases the actor's partner holds a live `codename` permission on, restricted ones left
    out: the whole rule for an actor named on no case. Joined (not EXISTS) to the permission rows,
    one per case (guardian's unique key), so a page in `listed_at` order is one range scan of the
    ordered access index."""
    return Case.objects.filter(
        Q(casegroupobjectpermission__expires_at__isnull=True)
        | Q(casegroupobjectpermission__expires_at__gt=now),
        casegroupobjectpermission__group_id=actor.partner.group_id,
        casegroupobjectpermission__permission_id=permission_id(codename),
        restricted=False,
    ).annotate(listed_at=F("casegroupobjectpermission__case_created_at"))


def _visible_cases(actor: Actor, codename: str, now: datetime) -> QuerySet[Case]:
    # Every form annotates `listed_at`, the case's creation time: lists page on it (the API's
    # cursor pagination), so the form that can read it from the permission rows does.
    if not _holds_named_cases(actor, codename, now):
        qs = _through_ordered_access(actor, codename, now)
    else:
        qs = Case.objects.filter(visibility_condition(actor, codename, now=now))
        few = few_visible_case_ids(actor, codename, now=now)
        if few is not None:
            qs = qs.filter(pk__in=few)
        qs = qs.annotate(listed_at=F("created_at"))
    return qs.annotate(
        share_basis=Subquery(
            Share.objects.filter(
                case=OuterRef("pk"), partner=actor.partner, revoked_at__isnull=True
            ).values("lawful_basis")[:1]
        )
    )


def persons_visible_to(actor: Actor) -> QuerySet[Person]:
    """A person is visible when a visible case concerns them, or the actor's partner created them."""
    if not reads_case_content(actor):
        return Person.objects.none()
    return _once(("persons", *_actor_key(actor)), lambda: _visible_persons(actor, timezone.now()))


def _visible_persons(actor: Actor, now: datetime) -> QuerySet[Person]:
    few = few_visible_case_ids(actor, now=now)
    cases = _visible_cases(actor, VIEW, now)
    if few is not None:
        # Few cases: name their people outright, so the database looks them up by key (and the
        # partner's own by its index) instead of testing every person against the cases.
        seen = set()
        for subject_id, member_id in cases.values_list("subject_id", "household"):
            seen.update((subject_id, member_id))
        seen.discard(None)
        return Person.objects.filter(Q(created_by_partner=actor.partner) | Q(pk__in=seen))
    return Person.objects.filter(
        Q(created_by_partner=actor.partner)
        | Exists(cases.filter(subject=OuterRef("pk")))
        | Exists(cases.filter(household=OuterRef("pk")))
    )


def justification(actor: Actor, case: Case) -> str:
    """Why the actor may see this case, for the access log."""
    if case.lead_partner_id == actor.partner.pk:
        return "lead partner"
    basis = getattr(case, "share_basis", None)
    if basis:
        return f"shared with {actor.partner.slug} ({basis})"
    if case.restricted:
        return "named user on a restricted case"
    return "break-glass access"


def _case_accesses(actor: Actor, cases) -> list[Access]:
    return [
        Access(
            "case",
            c.pk,
            case_id=c.pk,
            person_id=c.subject_id,
            justification=justification(actor, c),
        )
        for c in cases
    ]


def case_get_for(
    actor: Actor, case_id: UUID | str, codename: str = VIEW, *, log_as: str | None = "view"
) -> Case:
    """The case if the actor may see it (and, for change/share, act on it); else not found.

    A case the actor cannot see raises NotFound, exactly as a case that does not exist; one they can
    see but not change raises Forbidden. Both refusals are logged.
    """
    case = (
        cases_visible_to(actor).select_related("subject", "lead_partner").filter(pk=case_id).first()
    )
    if case is None:
        access_refused(
            actor=actor,
            action=log_as or codename,
            object_type="case",
            object_id=case_id,
            reason="not visible",
        )
        raise NotFound("Case not found.")
    if codename != VIEW and not can(actor, case, codename):
        access_refused(
            actor=actor,
            action=log_as or codename,
            object_type="case",
            object_id=case_id,
            reason="not allowed",
        )
        raise Forbidden(_REFUSALS[codename])
    if log_as:
        access_record(actor=actor, action=log_as, accesses=_case_accesses(actor, [case]))
    return case


_REFUSALS = {
    CHANGE: "Only the lead partner can change this case.",
    SHARE: "Only the lead partner's practitioners and managers can share this case.",
}


def can(actor: Actor, case: Case, codename: str) -> bool:
    """May the actor see (VIEW), change (CHANGE) or share (SHARE) this case?"""
    return cases_visible_to(actor, codename).filter(pk=case.pk).exists()


def check(actor: Actor, case: Case, codename: str, *, action: str) -> None:
    """Services call this before changing or sharing a case, whatever channel called them."""
    if not can(actor, case, codename):
        refuse(
            actor, action=action, object_type="case", object_id=case.pk, reason="not allowed",
            message=_REFUSALS.get(codename, "You cannot see this case."),
        )  # fmt: skip


def can_create_case(actor: Actor) -> bool:
    """Opening a case (which makes the actor's partner its lead) is casework."""
    return writes_case_content(actor)


def check_create_case(actor: Actor) -> None:
    if not can_create_case(actor):
        refuse(
            actor, action="create", object_type="case", object_id=None, reason="role",
            message="Only practitioners, managers and partner systems can open cases.",
        )  # fmt: skip


def partner_on_case(actor: Actor, case: Case) -> bool:
    """The actor's partner leads the case or holds a live share of it (not break-glass: that is
    one person's read-only access)."""
    now = timezone.now()
    return _live(
        CaseGroupObjectPermission.objects.filter(
            content_object_id=case.pk,
            group_id=actor.partner.group_id,
            permission_id=permission_id(VIEW),
        ),
        now,
    ).exists()


def can_contribute(actor: Actor, case: Case) -> bool:
    """Adding to a case (entries, adversities, actions, consents, screening, programme referrals)
    needs a role that writes case content and the actor's partner working the case."""
    return writes_case_content(actor) and partner_on_case(actor, case)


def check_contribute(actor: Actor, case: Case, *, what: str) -> None:
    if not can_contribute(actor, case):
        refuse(
            actor, action=what, object_type="case", object_id=case.pk, reason="not allowed",
            message="Only practitioners and managers of partners working this case (and their "
            "systems) can add to it; break-glass access is read-only.",
        )  # fmt: skip


# The person index: creating people, upserting by identifier, looking for duplicates.


def can_use_person_index(actor: Actor) -> bool:
    """Creating people and matching demographics against the index: roles that read case
    content. Auditors and administrators never probe the index."""
    return reads_case_content(actor)


def check_use_person_index(actor: Actor, *, action: str) -> None:
    if not can_use_person_index(actor):
        refuse(
            actor, action=action, object_type="person", object_id=None, reason="role",
            message="Auditors and administrators cannot create or look up people.",
        )  # fmt: skip


def can_edit_person(actor: Actor, person: Person) -> bool:
    """A person's record is changed by practitioners, managers and systems of a partner that
    recorded them or works a case concerning them (never through break-glass)."""
    if not writes_case_content(actor):
        return False
    if person.created_by_partner_id == actor.partner.pk:
        return True
    now = timezone.now()
    working = _live(
        CaseGroupObjectPermission.objects.filter(
            group_id=actor.partner.group_id, permission_id=permission_id(VIEW)
        ),
        now,
    ).values("content_object_id")
    return (
        Case.objects.filter(pk__in=working)
        .filter(Q(subject_id=person.pk) | Q(household=person.pk))
        .exists()
    )


def check_edit_person(actor: Actor, person: Person, *, action: str = "update") -> None:
    if not can_edit_person(actor, person):
        refuse(
            actor, action=action, object_type="person", object_id=person.pk, reason="not allowed",
            message="Only practitioners and managers of a partner that recorded this person or "
            "works a case about them can change their record; break-glass access is read-only.",
        )  # fmt: skip


def identifiers_shown_to(actor: Actor | None, identifiers) -> list:
    """National identifiers, and the actor's own partner's local ids: another partner's local ids
    are theirs. The API, the web and exports all show a person's identifiers through this."""
    partner_id = actor.partner.pk if actor is not None else None
    return [i for i in identifiers if i.issuer_id is None or i.issuer_id == partner_id]


# The access log. A row says who did what to which record, when, why they could and whether it was
# allowed; never what the record says. Who reads which rows:
# - the lead partner's managers and auditors: every row about a case their partner leads;
# - the partnership's information-governance auditors (auditors of the VRU itself): every row;
# - any other auditor: rows about their own partner's users (and client systems), wherever those
#   went, and rows about cases their partner leads.
# Auditors never read case content, so reading a case's log never opens the case.


def is_partnership_auditor(actor: Actor) -> bool:
    """An auditor of the VRU (sector `vru`): the partnership-wide information governance role."""
    return actor.role == Role.AUDITOR and actor.partner.sector == Sector.VRU


def case_log_condition(case: Case) -> Q:
    """A case's access-log rows: those about it, and refused attempts at it (which carry only the
    id that was asked for, since a refusal must not depend on the case existing)."""
    return Q(case_id=case.pk) | Q(object_type="case", object_id=str(case.pk))


def _reads_whole_case_log(actor: Actor, case: Case) -> bool:
    if is_partnership_auditor(actor):
        return True
    return actor.role in (Role.MANAGER, Role.AUDITOR) and case.lead_partner_id == actor.partner.pk


def case_access_log_rows(actor: Actor, case: Case) -> QuerySet[AccessLog]:
    """The rows of a case's access log this actor may read (case_for_access_log decides first
    whether they may open it at all)."""
    rows = AccessLog.objects.filter(case_log_condition(case))
    if _reads_whole_case_log(actor, case):
        return rows
    if actor.role == Role.AUDITOR:
        return rows.filter(partner_id=actor.partner.pk)
    return rows.none()


def can_read_access_log(actor: Actor, case: Case) -> bool:
    """The lead partner's managers and auditors, and the partnership's auditors, read a case's
    whole log. Another partner's auditor reads the rows about their own partner's staff on it,
    once those staff (not auditors: reading the log is not a reason to read it) have worked it."""
    if _reads_whole_case_log(actor, case):
        return True
    if actor.role != Role.AUDITOR:
        return False
    return (
        AccessLog.objects.filter(case_id=case.pk, partner_id=actor.partner.pk, allowed=True)
        .exclude(role=Role.AUDITOR)
        .exists()
    )


def access_log_visible_to(actor: Actor) -> QuerySet[AccessLog]:
    """Every search of the access log starts here: all rows for the partnership's auditors;
    for another partner's auditor, rows about their own partner's users and about cases their
    partner leads; nothing for anyone else (managers read one case's log at a time)."""
    if actor.role != Role.AUDITOR:
        return AccessLog.objects.none()
    if is_partnership_auditor(actor):
        return AccessLog.objects.all()
    led = Case.objects.filter(lead_partner_id=actor.partner.pk).values("pk")
    return AccessLog.objects.filter(Q(partner_id=actor.partner.pk) | Q(case_id__in=led))


def break_glass_visible_to(actor: Actor) -> QuerySet[BreakGlassAccess]:
    """Break-glass events, for auditors, with the same scope as the access log."""
    if actor.role != Role.AUDITOR:
        return BreakGlassAccess.objects.none()
    if is_partnership_auditor(actor):
        return BreakGlassAccess.objects.all()
    return BreakGlassAccess.objects.filter(
        Q(partner_id=actor.partner.pk) | Q(case__lead_partner_id=actor.partner.pk)
    )


def case_for_access_log(actor: Actor, case_id: UUID | str) -> Case:
    """The case whose access log the actor asks for, if they may read (some of) it; never its
    content. A case they may not read the log of is 404 (403 only when they can see the case)."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or not can_read_access_log(actor, case):
        access_refused(
            actor=actor,
            action="read_access_log",
            object_type="case",
            object_id=case_id,
            reason="not allowed",
        )
        if case is not None and cases_visible_to(actor).filter(pk=case.pk).exists():
            raise Forbidden(
                "Only the lead partner's managers and auditors can read this case's access log."
            )
        raise NotFound("Case not found.")
    access_record(
        actor=actor, action="read_access_log", accesses=[Access("case", case.pk, case_id=case.pk)]
    )
    return case


def log_case_list(actor: Actor, cases, *, action: str = "list") -> None:
    access_record(actor=actor, action=action, accesses=_case_accesses(actor, cases))


def person_get_for(actor: Actor, person_id: UUID | str, *, log_as: str | None = "view") -> Person:
    person = persons_visible_to(actor).filter(pk=person_id).first()
    if person is None:
        access_refused(
            actor=actor,
            action=log_as or "view",
            object_type="person",
            object_id=person_id,
            reason="not visible",
        )
        raise NotFound("Person not found.")
    if log_as:
        log_person_access(actor, [person], action=log_as)
    return person


def log_person_access(actor: Actor, persons, *, action: str) -> None:
    access_record(
        actor=actor,
        action=action,
        accesses=[
            Access("person", p.pk, person_id=p.pk, justification=_person_justification(actor, p))
            for p in persons
        ],
    )


def _person_justification(actor: Actor, person: Person) -> str:
    if person.created_by_partner_id == actor.partner.pk:
        return "recorded by this partner"
    return "subject or household member of a visible case"


# Granting and revoking: called only by services, inside their transaction.


def grant_partner(
    case: Case, partner: Partner, codenames=(VIEW,), *, expires_at: datetime | None = None
) -> None:
    for codename in codenames:
        CaseGroupObjectPermission.objects.update_or_create(
            group_id=partner.group_id,
            permission_id=permission_id(codename),
            content_object=case,
            defaults={"expires_at": expires_at},
        )


def revoke_partner(case: Case, partner: Partner) -> None:
    CaseGroupObjectPermission.objects.filter(
        group_id=partner.group_id, content_object=case
    ).delete()


def grant_user(case: Case, user, *, expires_at: datetime | None = None) -> None:
    CaseUserObjectPermission.objects.update_or_create(
        user=user,
        permission_id=permission_id(VIEW),
        content_object=case,
        defaults={"expires_at": expires_at},
    )


def revoke_user(case: Case, user) -> None:
    CaseUserObjectPermission.objects.filter(user=user, content_object=case).delete()


def partners_with_access(case: Case, now: datetime | None = None) -> QuerySet[Partner]:
    now = now or timezone.now()
    groups = _live(
        CaseGroupObjectPermission.objects.filter(content_object=case, permission__codename=VIEW),
        now,
    ).values("group_id")
    return Partner.objects.filter(group_id__in=groups)


# Information governance: retention decisions and legal holds (cases/retention.py). These rights
# do not hang on reading the case: a restricted case is still its lead partner's to keep or dispose
# of, and the partnership's auditors hold cases they never read. Nothing here opens content.


def reviews_retention(actor: Actor) -> bool:
    """The retention queue: a partner's managers review the closed cases it leads."""
    return oversees_partner(actor)


def can_decide_retention(actor: Actor, case: Case) -> bool:
    """Extending a closed case's retention or disposing of it: the lead partner's managers."""
    return oversees_partner(actor) and case.lead_partner_id == actor.partner.pk


def can_hold(actor: Actor, case: Case) -> bool:
    """Placing or lifting a legal hold: the lead partner's managers, and the partnership's
    auditors (information governance for the whole partnership)."""
    if can_decide_retention(actor, case):
        return True
    return actor.user is not None and is_partnership_auditor(actor)


def check_decide_retention(actor: Actor, case: Case, *, action: str) -> None:
    if not can_decide_retention(actor, case):
        refuse(
            actor, action=action, object_type="case", object_id=case.pk, reason="not allowed",
            message="Only the lead partner's managers can decide how long this case is kept.",
        )  # fmt: skip


def check_hold(actor: Actor, case: Case, *, action: str) -> None:
    if not can_hold(actor, case):
        refuse(
            actor, action=action, object_type="case", object_id=case.pk, reason="not allowed",
            message="Only the lead partner's managers and the partnership's auditors can place "
            "or lift a legal hold.",
        )  # fmt: skip


_GOVERNANCE_REFUSALS = {
    can_decide_retention: "Only the lead partner's managers can decide how long this case is kept.",
    can_hold: "Only the lead partner's managers and the partnership's auditors can place or lift "
    "a legal hold.",
}


def case_for_governance(actor: Actor, case_id: UUID | str, right, *, action: str) -> Case:
    """The case a retention decision or legal hold is asked for, when `right` (can_decide_retention
    or can_hold) allows the actor; never its content. Anyone else gets 404, as for a missing case,
    or 403 when they can see the case anyway (a 403 confirms nothing new). Refusals are logged."""
    case = Case.objects.select_related("lead_partner").filter(pk=case_id).first()
    if case is None or not right(actor, case):
        access_refused(
            actor=actor, action=action, object_type="case", object_id=case_id, reason="not allowed"
        )
        if case is not None and cases_visible_to(actor).filter(pk=case.pk).exists():
            raise Forbidden(_GOVERNANCE_REFUSALS[right])
        raise NotFound("Case not found.")
    return case


# The record of processing activities (UK GDPR Art. 30; reports/processing.py): the partnership's
# agreements and how many shares rely on each. No case content, but it is the partnership's
# information governance's to keep, so it is for the partnership's auditors only.


def can_read_processing_record(actor: Actor) -> bool:
    """The partnership's auditors (auditors of the VRU: information governance for the whole
    partnership) read the record of processing; nobody else, partner systems included."""
    return actor.user is not None and is_partnership_auditor(actor)


def check_processing_record(actor: Actor, *, action: str) -> None:
    if not can_read_processing_record(actor):
        refuse(
            actor, action=action, object_type="report", object_id="processing_record",
            reason="not a partnership auditor",
            message="Only the partnership's auditors can read the record of processing.",
        )  # fmt: skip


def case_audience(case: Case, now: datetime | None = None) -> set[tuple[UUID, UUID | None]]:
    """Who can see the case now, by the one rule, as (partner id, user id or None): a partner
    (its staff and systems) that leads it or holds a live share, unless it is restricted; and the
    users who see it by name (restricted, with their partner's access) or by break-glass."""
    now = now or timezone.now()
    from partners.models import Membership

    groups = set(
        _live(
            CaseGroupObjectPermission.objects.filter(
                content_object_id=case.pk, permission_id=permission_id(VIEW)
            ),
            now,
        ).values_list("group_id", flat=True)
    )
    partners = dict(Partner.objects.filter(group_id__in=groups).values_list("group_id", "pk"))
    by_name = _live(
        CaseUserObjectPermission.objects.filter(
            content_object_id=case.pk, permission_id=permission_id(VIEW)
        ),
        now,
    ).values("user_id")
    users = Membership.objects.filter(user_id__in=by_name).values_list("user_id", "partner_id")
    partner_ids = set(partners.values())
    if case.restricted:
        return {(partner, user) for user, partner in users if partner in partner_ids}
    audience: set[tuple[UUID, UUID | None]] = {(partner, None) for partner in partner_ids}
    audience |= {(partner, user) for user, partner in users if partner not in partner_ids}
    return audience


def partners_seeing_person(person: Person, partner_ids, now: datetime | None = None) -> set[UUID]:
    """Of these partners, those whose staff and systems see the person now: they recorded them,
    or hold live access to an unrestricted case about them (as persons_visible_to decides)."""
    now = now or timezone.now()
    partner_ids = set(partner_ids)
    seeing = {person.created_by_partner_id} & partner_ids
    concerning = Case.objects.filter(
        Q(subject_id=person.pk) | Q(household=person.pk), restricted=False
    ).values("pk")
    groups = _live(
        CaseGroupObjectPermission.objects.filter(
            content_object_id__in=concerning, permission_id=permission_id(VIEW)
        ),
        now,
    ).values("group_id")
    seeing |= set(
        Partner.objects.filter(pk__in=partner_ids, group_id__in=groups).values_list("pk", flat=True)
    )
    return seeing


# Restriction of processing (UK GDPR Art. 18; cases.services.processing_restrict and _lift) and
# subject access requests (governance/). Any partner that can see the person may be the one the
# person asks; its managers decide.


def can_restrict_processing(actor: Actor, person: Person) -> bool:
    """Restricting a person's processing, or lifting the restriction, and asking for their
    subject access pack: managers of a partner that can see the person."""
    return oversees_partner(actor) and persons_visible_to(actor).filter(pk=person.pk).exists()


def check_restrict_processing(actor: Actor, person: Person, *, action: str) -> None:
    if not can_restrict_processing(actor, person):
        refuse(
            actor, action=action, object_type="person", object_id=person.pk, reason="not allowed",
            message="Only managers of a partner that can see this person can do this.",
        )  # fmt: skip


def person_for_manager(actor: Actor, person_id: UUID | str, *, action: str, message: str) -> Person:
    """The person a manager's information-rights request is about: 404 (as for a missing person)
    when the actor cannot see them, 403 when they can but are not a manager. Refusals are logged;
    nothing is read here, so nothing else is."""
    person = persons_visible_to(actor).filter(pk=person_id).first()
    if person is None:
        access_refused(
            actor=actor, action=action, object_type="person", object_id=person_id,
            reason="not visible",
        )  # fmt: skip
        raise NotFound("Person not found.")
    if not oversees_partner(actor):
        refuse(
            actor, action=action, object_type="person", object_id=person.pk, reason="role",
            message=message,
        )  # fmt: skip
    return person


# A person's contact details and safe-contact preferences (Person.CONTACT_SAFETY_FIELDS): how and
# when it is safe to reach them, and who must not be told. Those who work with the person need
# them; nobody else should hold them, so they are left out of every response and page for anyone
# else, even where the person is visible.


def contact_safety_condition(actor: Actor | None):
    """A condition on Person: the actor may see their contact and safety details. Practitioners,
    managers and systems of a partner working a case about them (leading it or holding a live
    share, and seeing it: a restricted case only by name; never break-glass, which is one
    person's read-only look), and the coordinators and key worker of an open enrolment of theirs
    (programmes.access decides). Coordinators see them only that way; auditors and administrators
    never. An annotation, so that lists decide it in the query that reads the people."""
    if actor is None or not reads_case_content(actor):
        return Value(False, output_field=BooleanField())
    condition = Q(pk__in=[])  # matches nothing; built up below
    if writes_case_content(actor):
        working = _live(
            CaseGroupObjectPermission.objects.filter(
                group_id=actor.partner.group_id, permission_id=permission_id(VIEW)
            ),
            timezone.now(),
        ).values("content_object_id")
        cases = cases_visible_to(actor).filter(pk__in=working)
        condition |= Q(Exists(cases.filter(subject=OuterRef("pk")))) | Q(
            Exists(cases.filter(household=OuterRef("pk")))
        )
    if actor.user is not None:
        from programmes.access import enrolments_run_by

        condition |= Q(Exists(enrolments_run_by(actor).filter(person_id=OuterRef("pk"))))
    return ExpressionWrapper(condition, output_field=BooleanField())


def with_contact_safety_shown(actor: Actor | None, persons: QuerySet[Person]) -> QuerySet[Person]:
    """Each person carries `contact_safety_shown` for this actor."""
    return persons.annotate(contact_safety_shown=contact_safety_condition(actor))


def contact_safety_visible_ids(actor: Actor | None, person_ids) -> set[UUID]:
    """Of these people, those whose contact and safety details the actor may see. One query."""
    ids = {p for p in person_ids if p is not None}
    if actor is None or not ids or not reads_case_content(actor):
        return set()
    return set(
        with_contact_safety_shown(actor, Person.objects.filter(pk__in=ids))
        .filter(contact_safety_shown=True)
        .values_list("pk", flat=True)
    )


def can_see_contact_safety(actor: Actor | None, person: Person) -> bool:
    return person.pk in contact_safety_visible_ids(actor, [person.pk])


def can_edit_contact_safety(actor: Actor, person: Person) -> bool:
    """Changed by those who may both see them and change the person's record."""
    return can_edit_person(actor, person) and can_see_contact_safety(actor, person)


def check_edit_contact_safety(actor: Actor, person: Person) -> None:
    if not can_edit_contact_safety(actor, person):
        refuse(
            actor, action="update_contact_safety", object_type="person", object_id=person.pk,
            reason="not allowed",
            message="Only practitioners and managers of a partner working a case about this "
            "person can change how to contact them safely.",
        )  # fmt: skip


def log_contact_safety_read(actor: Actor, persons) -> None:
    """Reading someone's contact and safety details is logged on its own (ids only)."""
    access_record(
        actor=actor,
        action="view_contact_safety",
        accesses=[
            Access(
                "person", p.pk, person_id=p.pk,
                justification="works a case about them or runs their enrolment",
            )
            for p in persons
        ],
    )  # fmt: skip
