"""Potential duplicates: exact identifier match first, then fuzzy name + date of birth.

Records the actor may not see are counted, never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from rapidfuzz import fuzz

from cases import access
from cases.identifiers import InvalidIdentifier, Scheme, normalise
from cases.models import Person, PersonIdentifier
from partners.actor import Actor

NAME_THRESHOLD = 85.0
CANDIDATE_LIMIT = 2000


@dataclass
class Match:
    person: Person
    score: float
    reason: str


def _name(given: str, family: str) -> str:
    return f"{given} {family}".strip().lower()


def _dob_candidates(dob: date) -> Q:
    # Same date, or day and month swapped (a common transcription slip).
    q = Q(date_of_birth=dob)
    if dob.day <= 12 and dob.day != dob.month:
        q |= Q(date_of_birth=dob.replace(month=dob.day, day=dob.month))
    return q | Q(date_of_birth_approximate=True, date_of_birth__year=dob.year)


def find_matches(
    *,
    actor: Actor,
    given_name: str = "",
    family_name: str = "",
    date_of_birth: date | None = None,
    identifiers=(),
) -> tuple[list[Match], int]:
    """Returns (visible matches, number of matches the actor may not see)."""
    access.check_use_person_index(actor, action="match")
    scores: dict[object, tuple[float, str]] = {}
    id_filter = Q()
    for item in identifiers:
        try:
            value = normalise(item.get("scheme", ""), item.get("value", ""))
        except InvalidIdentifier:
            continue
        issuer = actor.partner if item["scheme"] == Scheme.LOCAL else None
        id_filter |= Q(scheme=item["scheme"], value=value, issuer=issuer)
    if id_filter:
        for person_id, scheme in PersonIdentifier.objects.filter(id_filter).values_list(
            "person_id", "scheme"
        ):
            scores[person_id] = (100.0, f"same {Scheme(scheme).label}")

    wanted = _name(given_name, family_name)
    if wanted and date_of_birth:
        candidates = Person.objects.filter(_dob_candidates(date_of_birth)).values_list(
            "id", "given_name", "preferred_name", "family_name"
        )[:CANDIDATE_LIMIT]
        for person_id, given, preferred, family in candidates:
            score = max(
                fuzz.token_sort_ratio(wanted, _name(given, family)),
                fuzz.token_sort_ratio(wanted, _name(preferred, family)) if preferred else 0,
            )
            if score >= NAME_THRESHOLD and person_id not in scores:
                scores[person_id] = (round(score, 1), "similar name and date of birth")

    if not scores:
        return [], 0
    visible = list(
        access.persons_visible_to(actor).filter(pk__in=scores).prefetch_related("identifiers")
    )
    matches = [Match(p, *scores[p.pk]) for p in visible]
    matches.sort(key=lambda m: -m.score)
    if matches:
        access.log_person_access(actor, [m.person for m in matches], action="match")
    return matches, len(scores) - len(visible)
