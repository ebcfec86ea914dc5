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

from datetime import datetime
from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.utils import timezone

from audit.services import Access, access_record, access_refused
from cases.models import Case, CaseGroupObjectPermission, CaseUserObjectPermission, Person, Share
from core.errors import Forbidden, NotFound
from partners.actor import Actor
from partners.models import Partner, Role

VIEW = "view_case"
CHANGE = "change_case"
SHARE = "share_case"
LEAD_PERMISSIONS = (VIEW, CHANGE, SHARE)

CONTENT_ROLES = (Role.PRACTITIONER, Role.MANAGER, Role.COORDINATOR)


def reads_case_content(actor: Actor) -> bool:
    """Auditors and administrators never read case content; partner systems do, as their partner."""
    return actor.is_client or actor.role in CONTENT_ROLES


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


def cases_visible_to(actor: Actor, codename: str = VIEW) -> QuerySet[Case]:
    """Every list, detail, search, count and filter of cases starts here."""
    if not reads_case_content(actor):
        return Case.objects.none()
    qs = Case.objects.filter(visibility_condition(actor, codename))
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
    cases = cases_visible_to(actor)
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
    if not reads_case_content(actor):
        return False
    if codename in (CHANGE, SHARE) and actor.role == Role.COORDINATOR:
        return False
    return cases_visible_to(actor, codename).filter(pk=case.pk).exists()


def can_read_access_log(actor: Actor, case: Case) -> bool:
    """The lead partner's managers and the partnership's auditors."""
    if actor.role == Role.AUDITOR:
        return True
    return actor.role == Role.MANAGER and case.lead_partner_id == actor.partner.pk


def case_for_access_log(actor: Actor, case_id: UUID | str) -> Case:
    """Auditors reach a case's access log without seeing its content."""
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
