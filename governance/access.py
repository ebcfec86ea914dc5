"""Who may ask for, follow and download a subject access pack (UK GDPR Art. 15).

Managers of a partner that can see the person ask for it (cases.access.person_for_manager: 404
for anyone who cannot see the person, 403 for those who can but are not managers). The request,
its progress and its pack belong to the partner that asked: only that partner's managers see
them; to anyone else they do not exist (404).
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from audit.services import access_refused
from cases import access as case_access
from cases.models import Person
from core.errors import NotFound
from governance.models import SubjectAccessRequest
from partners.actor import Actor

REFUSAL = "Only managers can ask for a subject access pack."


def can_request_subject_access(actor: Actor, person: Person) -> bool:
    """Managers of a partner that can see the person (the same right as restricting it)."""
    return case_access.can_restrict_processing(actor, person)


def check_request_subject_access(actor: Actor, person: Person) -> None:
    """The service checks again, whichever channel called it."""
    if not can_request_subject_access(actor, person):
        case_access.refuse(
            actor, action="request_subject_access", object_type="person", object_id=person.pk,
            reason="not allowed", message=REFUSAL,
        )  # fmt: skip


def person_for_subject_access(actor: Actor, person_id: UUID | str) -> Person:
    return case_access.person_for_manager(
        actor, person_id, action="request_subject_access", message=REFUSAL
    )


def requests_visible_to(actor: Actor) -> QuerySet[SubjectAccessRequest]:
    """Every read of subject access requests starts here: the actor's own partner's, for its
    managers; nothing for anyone else."""
    if not case_access.oversees_partner(actor):
        return SubjectAccessRequest.objects.none()
    return SubjectAccessRequest.objects.filter(partner_id=actor.partner.pk)


def request_get_for(actor: Actor, request_id: UUID | str, *, action: str) -> SubjectAccessRequest:
    """The request if the actor may follow it; otherwise not found, as for a missing one."""
    found = requests_visible_to(actor).filter(pk=request_id).first()
    if found is None:
        access_refused(
            actor=actor, action=action, object_type="subject_access", object_id=request_id,
            reason="not visible",
        )  # fmt: skip
        raise NotFound("Subject access request not found.")
    return found


def check_follow(actor: Actor, request: SubjectAccessRequest, *, action: str) -> None:
    """Services acting on a request (downloading its pack, recording it answered) check again."""
    request_get_for(actor, request.pk, action=action)
