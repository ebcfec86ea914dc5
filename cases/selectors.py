"""Reads of cases and the people on them. Those given the acting user go through cases.access and
return only what the actor may see; the caller logs what it shows (access.log_case_list,
access.log_person_access) unless the function says it logs itself. Those given a case are for a
case the actor has already been let into; the few given only an id or a reference say why.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from cases import access, agreements, search
from cases.models import (
    BreakGlassAccess,
    Case,
    CaseMember,
    ConsentRecord,
    Relationship,
    RelationshipKind,
    Share,
    Whereabouts,
)
from partners.actor import Actor
from partners.models import Partner


def visible_cases(actor: Actor) -> QuerySet[Case]:
    return access.cases_visible_to(actor).select_related(
        "subject", "lead_partner", "lead_practitioner"
    )


def case_search(actor: Actor, q: str) -> QuerySet[Case]:
    """By reference, any part of the subject's names, or an identifier value (exact)."""
    return (
        visible_cases(actor)
        .filter(search.cases_matching(q, identifiers=True))
        .order_by("-updated_at")
    )


def case_id_for_reference(actor: Actor, value: str):
    """An auditor types a case reference or id; the access log lookup then decides what they see."""
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
    ids = [p.pk for p in people]
    return list(
        Relationship.objects.filter(person_id__in=ids, related_to_id__in=ids)
        .select_related("person", "related_to")
        .order_by("created_at")
    )


def family_in_prison(actor: Actor, case: Case) -> list[tuple]:
    """(person, case member, relationship kind to the subject or "") for each visible person on
    the case recorded as in prison: what an Invisible Walls referral asks for."""
    members = list(
        CaseMember.objects.filter(
            case=case,
            whereabouts=Whereabouts.PRISON,
            person__in=access.persons_visible_to(actor),
        ).select_related("person")
    )
    kinds = dict(
        Relationship.objects.filter(
            person_id__in=[m.person_id for m in members], related_to_id=case.subject_id
        ).values_list("person_id", "kind")
    )
    return [(m.person, m, kinds.get(m.person_id, "")) for m in members]


def siblings_of(actor: Actor, person) -> list[tuple]:
    """(person, how they are family) for the brothers and sisters of `person` the actor can see:
    recorded sibling relationships, and the children in the household of a case about them."""
    visible = access.persons_visible_to(actor)
    related = Relationship.objects.filter(kind=RelationshipKind.SIBLING).filter(
        Q(person=person) | Q(related_to=person)
    )
    recorded = {
        (b if a == person.pk else a) for a, b in related.values_list("person_id", "related_to_id")
    }
    cutoff = timezone.localdate() - relativedelta(years=18)
    household = set(
        access.cases_visible_to(actor)
        .filter(subject=person)
        .filter(household__date_of_birth__gt=cutoff)
        .values_list("household", flat=True)
    )
    ids = (recorded | household) - {person.pk}
    found = visible.filter(pk__in=ids).order_by("given_name", "family_name")
    return [
        (p, "Brother or sister" if p.pk in recorded else "A child in the household") for p in found
    ]


# A case the actor has already been let into (cases.access.case_get_for): its parts, for its pages.


def case_shares(case: Case) -> QuerySet[Share]:
    """Every share of the case, live and ended, with who it is with, who made it and under which
    agreement."""
    return Share.objects.filter(case=case).select_related("partner", "shared_by", "agreement")


def live_share(case: Case, partner_slug: str) -> Share | None:
    return (
        Share.objects.filter(case=case, partner__slug=partner_slug, revoked_at__isnull=True)
        .select_related("partner")
        .first()
    )


def case_members(case: Case) -> dict:
    """{person id: their membership of the case (in the household or not, where they live)}."""
    return {m.person_id: m for m in CaseMember.objects.filter(case=case)}


def case_consents(case: Case) -> list[ConsentRecord]:
    """The consent decisions recorded on the case, newest first."""
    return list(
        ConsentRecord.objects.filter(case=case).select_related("person").order_by("-recorded_at")
    )


def share_candidates(case) -> tuple[list, list]:
    """The partners the case could be shared with, each with the agreement the share would rely
    on; and those it cannot be, with the lapsed agreement (if any) that says why."""
    taken = Share.objects.filter(case=case, revoked_at__isnull=True).values("partner_id")
    partners = list(
        Partner.objects.filter(active=True)
        .exclude(pk=case.lead_partner_id)
        .exclude(pk__in=taken)
        .order_by("name")
    )
    covering = agreements.covering_each(case.lead_partner, partners)
    offered, not_offered = [], []
    for p in partners:
        agreement, in_force = covering.get(p.pk, (None, False))
        if in_force:
            offered.append((p, agreement))
        else:
            not_offered.append(
                (p, f"the agreement “{agreement.name}” {agreements.why_lapsed(agreement)}")
                if agreement
                else (p, "no data sharing agreement names both partners")
            )
    return offered, not_offered


def shared_with_partner_since(actor: Actor, since: datetime, *, limit: int) -> list[Case]:
    """Cases another partner leads that were shared with the actor's partner since `since`, newest
    share first, each with `shared_at`; logged as seen in the inbox."""
    ours = Share.objects.filter(
        case=OuterRef("pk"), partner=actor.partner, revoked_at__isnull=True, shared_at__gte=since
    )
    cases = list(
        access.cases_visible_to(actor)
        .filter(Exists(ours))
        .exclude(lead_partner=actor.partner)
        .annotate(shared_at=Subquery(ours.order_by("-shared_at").values("shared_at")[:1]))
        .select_related("subject", "lead_partner")
        .order_by("-shared_at")[:limit]
    )
    access.log_case_list(actor, cases, action="list_inbox")
    return cases


def cases_by_id(actor: Actor, case_ids) -> dict:
    """{id: case (with its subject)} for those of these cases the actor may see; logged as listed.
    One query, however many ids."""
    if not case_ids:
        return {}
    cases = {
        c.pk: c
        for c in access.cases_visible_to(actor).filter(pk__in=case_ids).select_related("subject")
    }
    access.log_case_list(actor, list(cases.values()), action="list")
    return cases


def case_references(case_ids) -> dict[str, str]:
    """{str(id): reference} for the cases that rows of the access log name. Only for rows the
    reader may already read (cases.access.access_log_visible_to): a reference is how those rows
    name a case, and no content is loaded. Ids that are not UUIDs (a refused attempt records what
    was asked for) name no case."""
    return {
        str(pk): reference
        for pk, reference in Case.objects.filter(
            pk__in=[i for i in case_ids if _is_uuid(i)]
        ).values_list("pk", "reference")
    }


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
