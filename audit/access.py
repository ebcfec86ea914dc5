"""Who may review what in the access log's own records (the rights of information governance).

Reading the access log and the break-glass list is decided in cases.access (access_log_visible_to,
break_glass_visible_to); marking a break-glass use as reviewed is decided here, on the same scope:
an auditor may review the uses they may see, and nobody else reviews any.
"""

from __future__ import annotations

from uuid import UUID

from audit.services import access_refused
from core.errors import NotFound
from partners.actor import Actor


def can_review_break_glass(actor: Actor, event) -> bool:
    from cases import access as case_access

    return (
        case_access.reviews_access(actor)
        and case_access.break_glass_visible_to(actor).filter(pk=event.pk).exists()
    )


def break_glass_for_review(actor: Actor, event_id: UUID | str):
    """The break-glass use an auditor reviews; 404 (logged) for one they may not see, or that
    does not exist, and for anyone who is not an auditor: the answer is the same."""
    from cases import access as case_access
    from cases.models import BreakGlassAccess

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
