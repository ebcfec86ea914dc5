"""Reads the pages need, always through the domain's access functions (given the actor)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases import access
from cases.models import Case
from partners.actor import Actor


def visible_cases(actor: Actor) -> QuerySet[Case]:
    return access.cases_visible_to(actor).select_related(
        "subject", "lead_partner", "lead_practitioner"
    )


def case_search(actor: Actor, q: str) -> QuerySet[Case]:
    """By reference, any part of the subject's names, or an identifier value (exact)."""
    q = q.strip()
    terms = Q()
    for word in q.split()[:4]:
        terms &= (
            Q(subject__given_name__icontains=word)
            | Q(subject__family_name__icontains=word)
            | Q(subject__preferred_name__icontains=word)
        )
    compact = q.replace(" ", "").replace("-", "")
    by_identifier = Q(subject__identifiers__value__iexact=q.replace(" ", "")) | Q(
        subject__identifiers__value__iexact=compact
    )
    matching = (
        visible_cases(actor)
        .filter(Q(reference__iexact=q) | terms | by_identifier)
        .values("pk")
        .distinct()
    )
    return visible_cases(actor).filter(pk__in=matching).order_by("-updated_at")


def case_id_for_reference(actor: Actor, value: str):
    """An auditor types a case reference or id; the access log lookup then decides what they see."""
    import uuid

    value = value.strip()
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    if not access.reviews_access(actor):
        return None
    # Auditors may reach any case's access log (cases.access.can_read_access_log); a reference is
    # only how they name it. Content is never loaded here.
    return Case.objects.filter(reference__iexact=value).values_list("pk", flat=True).first()


def case_log_filter(case: Case) -> Q:
    """A case's access-log rows: those about it, and refused attempts at it (which carry only the
    id that was asked for, since a refusal must not depend on the case existing)."""
    return Q(case_id=case.pk) | Q(object_type="case", object_id=str(case.pk))


def case_id_for_break_glass(reference: str):
    """The id of the case with this reference, to ask the break-glass service about it. Called
    only once a practitioner has confirmed the request and given a reason, so nothing about the
    case is revealed to someone who stops before then; whether they may open it is the service's
    decision (casework.access.case_for_break_glass), which refuses restricted cases as missing."""
    value = reference.strip()
    if not value:
        return None
    return Case.objects.filter(reference__iexact=value).values_list("pk", flat=True).first()


def active_break_glass(actor: Actor, case: Case):
    """The actor's own live emergency access to a case they see only through it."""
    from django.utils import timezone

    from cases.models import BreakGlassAccess

    if actor.user is None or getattr(case, "share_basis", None):
        return None
    if case.lead_partner_id == actor.partner.pk:
        return None
    return (
        BreakGlassAccess.objects.filter(case=case, user=actor.user, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def case_people(actor: Actor, case: Case) -> list:
    """The person the case is about, then their household, as far as the actor may see them."""
    ids = [case.subject_id, *case.household.values_list("pk", flat=True)]
    people = {p.pk: p for p in access.persons_visible_to(actor).filter(pk__in=ids)}
    return [people[i] for i in dict.fromkeys(ids) if i in people]


def relationships_between(people) -> list:
    """Recorded relationships among these (already visible) people."""
    from cases.models import Relationship

    ids = [p.pk for p in people]
    return list(
        Relationship.objects.filter(person_id__in=ids, related_to_id__in=ids)
        .select_related("person", "related_to")
        .order_by("created_at")
    )
