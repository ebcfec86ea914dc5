"""Who may see and do what with programmes and enrolments. Every view, endpoint and service of this
app goes through here; case visibility itself is decided by cases.access, never re-implemented.

- Programmes (their configuration, capacity and places taken) are not personal data: every actor
  may read them. Their coordinators, and administrators, may change them.
- An enrolment is visible to the coordinators of its programme (intake needs it), to its key
  worker (their caseload), and to anyone who can see its case through cases.access. Nobody else learns it exists: 404, logged.
- A programme's coordinators see its intake queue with the minimum person information intake needs
  (name, preferred name, age); case content stays behind cases.access.
- Coordinators move enrolments along the workflow; people working the case may record that the
  person withdrew or declined.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value

from audit.services import Access, access_record, access_refused
from cases.access import (
    can_contribute,
    cases_visible_to,
    partner_on_case,
    reads_case_content,
)
from core.errors import Forbidden, NotFound
from partners.actor import Actor
from partners.models import Role
from programmes.models import (
    OPEN,
    Enrolment,
    EnrolmentSession,
    EnrolmentStatus,
    Milestone,
    Programme,
)

# Roles that may run intake when named as a programme's coordinator (a coach or mentor may be a
# practitioner of a voluntary-sector partner). Auditors and administrators never read intake.
INTAKE_ROLES = (Role.COORDINATOR, Role.MANAGER, Role.PRACTITIONER)
CASE_WORKER_MOVES = frozenset({EnrolmentStatus.WITHDRAWN, EnrolmentStatus.DECLINED})


def uses_programmes(actor: Actor) -> bool:
    """Staff who may run or refer into programmes see the programme pages."""
    return actor.user is not None and actor.role in INTAKE_ROLES


def programmes_visible_to(actor: Actor) -> QuerySet[Programme]:
    return Programme.objects.all()


def programme_get(slug: str) -> Programme:
    programme = Programme.objects.filter(slug=slug).select_related("owner").first()
    if programme is None:
        raise NotFound("Programme not found.")
    return programme


def _coordinating(actor: Actor):
    """A condition on Enrolment: the actor coordinates its programme."""
    if actor.user is None or actor.role not in INTAKE_ROLES:
        return Value(False, output_field=BooleanField())
    return Exists(
        Programme.coordinators.through.objects.filter(
            programme_id=OuterRef("programme_id"), user_id=actor.user.pk
        )
    )


def _key_working(actor: Actor):
    """A condition on Enrolment: the actor is its key worker (its coach or mentor)."""
    if actor.user is None or actor.role not in INTAKE_ROLES:
        return Value(False, output_field=BooleanField())
    return Q(key_worker_id=actor.user.pk)


def key_worker_candidates(programme: Programme):
    """Who may be an enrolment's key worker: active staff who may run intake and either
    coordinate the programme or work for the partner that runs it. Being key worker shows them
    the enrolment and how to contact the person safely, so it stays within the programme."""
    from partners.models import User

    who = Q(pk__in=programme.coordinators.values("pk"))
    if programme.owner_id:
        who |= Q(membership__partner_id=programme.owner_id)
    return User.objects.filter(who, is_active=True, membership__role__in=INTAKE_ROLES).distinct()


def enrolments_run_by(actor: Actor) -> QuerySet[Enrolment]:
    """Open enrolments the actor runs: as a coordinator of the programme, or as key worker.
    cases.access asks this for a person's contact and safety details: the people running
    someone's place on a programme need to reach them safely."""
    if actor.user is None or actor.role not in INTAKE_ROLES:
        return Enrolment.objects.none()
    return Enrolment.objects.filter(status__in=OPEN).filter(
        Q(key_worker_id=actor.user.pk)
        | Exists(
            Programme.coordinators.through.objects.filter(
                programme_id=OuterRef("programme_id"), user_id=actor.user.pk
            )
        )
    )


def coordinates_any_programme(actor: Actor) -> bool:
    """Coordinators see every enrolment of their programmes, whatever cases they can open."""
    if actor.user is None or actor.role not in INTAKE_ROLES:
        return False
    return Programme.coordinators.through.objects.filter(user_id=actor.user.pk).exists()


def is_coordinator(actor: Actor, programme: Programme) -> bool:
    if actor.user is None or actor.role not in INTAKE_ROLES:
        return False
    return programme.coordinators.filter(pk=actor.user.pk).exists()


def can_configure(actor: Actor, programme: Programme) -> bool:
    return actor.role == Role.ADMIN or is_coordinator(actor, programme)


def enrolments_visible_to(actor: Actor) -> QuerySet[Enrolment]:
    """Every list, detail and count of enrolments starts here. Each row carries `coordinated`
    (the actor runs its programme), `key_worked` (the actor is its coach or mentor) and
    `case_visible` (the actor may open its case). A key worker sees the enrolments they were
    given, whether or not they can open the case: it is their caseload."""
    if not reads_case_content(actor):
        return Enrolment.objects.none()
    return Enrolment.objects.annotate(
        coordinated=_coordinating(actor),
        key_worked=ExpressionWrapper(_key_working(actor), output_field=BooleanField()),
        case_visible=Exists(cases_visible_to(actor).filter(pk=OuterRef("case_id"))),
    ).filter(Q(coordinated=True) | Q(key_worked=True) | Q(case_visible=True))


def sessions_visible_to(actor: Actor) -> QuerySet[EnrolmentSession]:
    """Sessions of enrolments the actor may see (e.g. for the change feed)."""
    visible = enrolments_visible_to(actor).filter(pk=OuterRef("enrolment_id"))
    return EnrolmentSession.objects.filter(Exists(visible))


def milestones_visible_to(actor: Actor) -> QuerySet[Milestone]:
    visible = enrolments_visible_to(actor).filter(pk=OuterRef("enrolment_id"))
    return Milestone.objects.filter(Exists(visible))


def justification(enrolment: Enrolment) -> str:
    if getattr(enrolment, "coordinated", False):
        return f"coordinator of {enrolment.programme.slug}"
    if getattr(enrolment, "key_worked", False) and not getattr(enrolment, "case_visible", True):
        return "key worker"
    return "case visible"


def log_enrolment_access(actor: Actor, enrolments, *, action: str, detail=None) -> None:
    access_record(
        actor=actor,
        action=action,
        accesses=[
            Access(
                "enrolment",
                e.pk,
                case_id=e.case_id,
                person_id=e.person_id,
                justification=justification(e),
            )
            for e in enrolments
        ],
        detail=detail,
    )


def enrolment_get_for(
    actor: Actor, enrolment_id: UUID | str, *, log_as: str | None = "view"
) -> Enrolment:
    """The enrolment if the actor may see it; missing and not visible are the same 404, logged."""
    enrolment = (
        enrolments_visible_to(actor)
        .select_related("programme", "person")
        .filter(pk=enrolment_id)
        .first()
    )
    if enrolment is None:
        access_refused(
            actor=actor,
            action=log_as or "view",
            object_type="enrolment",
            object_id=enrolment_id,
            reason="not visible",
        )
        raise NotFound("Enrolment not found.")
    if log_as:
        log_enrolment_access(actor, [enrolment], action=log_as)
    return enrolment


def programme_for_intake(actor: Actor, slug: str, *, action: str = "list_intake") -> Programme:
    """A programme's intake queue is its coordinators' alone. For anyone else it does not exist,
    so the refusal is a 404 (logged), exactly as for a programme that does not exist."""
    programme = Programme.objects.filter(slug=slug).select_related("owner").first()
    if programme is None or not is_coordinator(actor, programme):
        access_refused(
            actor=actor,
            action=action,
            object_type="programme_intake",
            object_id=programme.pk if programme else slug,
            reason="not a coordinator of this programme" if programme else "no such programme",
        )
        raise NotFound("Programme intake not found.")
    return programme


def coordinates(actor: Actor, enrolment: Enrolment) -> bool:
    """The actor is one of the coordinators of the enrolment's programme."""
    coordinated = getattr(enrolment, "coordinated", None)
    if coordinated is None:
        return is_coordinator(actor, enrolment.programme)
    return bool(coordinated)


def _refuse(actor: Actor, enrolment: Enrolment, action: str, reason: str, message: str) -> None:
    access_refused(
        actor=actor, action=action, object_type="enrolment", object_id=enrolment.pk, reason=reason
    )
    raise Forbidden(message)


def can_refer(actor: Actor, case) -> bool:
    """Referring a case into a programme: practitioners, managers, coordinators and systems of a
    partner working the case (lead or live share; break-glass access is read-only)."""
    return reads_case_content(actor) and partner_on_case(actor, case)


def check_can_refer(actor: Actor, case) -> None:
    if not can_refer(actor, case):
        access_refused(
            actor=actor, action="refer_programme", object_type="case", object_id=case.pk,
            reason="not allowed",
        )  # fmt: skip
        raise Forbidden(
            "Only partners working this case can refer it to a programme; break-glass access is "
            "read-only."
        )


def can_transition(actor: Actor, enrolment: Enrolment, to: str) -> bool:
    """Coordinators run the workflow; the case's working partners may record a withdrawal or a
    decline (break-glass access is read-only)."""
    if coordinates(actor, enrolment):
        return True
    return to in CASE_WORKER_MOVES and can_contribute(actor, enrolment.case)


def check_can_transition(actor: Actor, enrolment: Enrolment, to: str) -> None:
    if not can_transition(actor, enrolment, to):
        _refuse(
            actor, enrolment, "transition", f"not allowed (move to {to})",
            f"Only the coordinators of {enrolment.programme.name} can move an enrolment to {to}; "
            "people working the case can record that the person withdrew or declined.",
        )  # fmt: skip


def can_run_intake(actor: Actor, enrolment: Enrolment) -> bool:
    """Intake details, priority, key worker, sessions and milestones: the programme's
    coordinators only, in every channel."""
    return coordinates(actor, enrolment)


def check_can_run_intake(actor: Actor, enrolment: Enrolment, *, action: str) -> None:
    if not can_run_intake(actor, enrolment):
        _refuse(
            actor, enrolment, action, "not a coordinator",
            f"Only the coordinators of {enrolment.programme.name} can do this.",
        )  # fmt: skip


def can_work_enrolment(actor: Actor, enrolment: Enrolment) -> bool:
    """Sessions, milestones and booking the next session: the programme's coordinators, and the
    enrolment's key worker (its coach or mentor), in every channel."""
    if coordinates(actor, enrolment):
        return True
    return (
        actor.user is not None
        and actor.role in INTAKE_ROLES
        and enrolment.key_worker_id == actor.user.pk
    )


def check_can_work_enrolment(actor: Actor, enrolment: Enrolment, *, action: str) -> None:
    if not can_work_enrolment(actor, enrolment):
        _refuse(
            actor, enrolment, action, "neither a coordinator nor the key worker",
            f"Only the coordinators of {enrolment.programme.name} and the person's key worker "
            "can do this.",
        )  # fmt: skip


def check_can_configure(actor: Actor, programme: Programme) -> None:
    if not can_configure(actor, programme):
        raise Forbidden(f"Only the coordinators of {programme.name} can change it.")
