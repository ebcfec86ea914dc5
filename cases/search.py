"""Finding cases and people by what a practitioner types: a case reference, any part of a name, or
an identifier value. Only ever a filter on a queryset the caller's visibility rule has already
built (cases.access), so a search never reaches further than a list would.

The names carry trigram indexes on PostgreSQL (cases migration 0007), so a search for a rare name
can start from the few people it matches and look their cases up by key, instead of testing every
visible case's subject (3.5 s for a partner that sees 1% of a million cases before;
docs/performance.md). Each word of the search must be part of one of the three names.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.models import Case, Person, PersonIdentifier

MAX_WORDS = 4
FEW_PEOPLE = 5000


def people_named(text: str) -> QuerySet[Person]:
    """Everyone whose names contain every word (case-insensitively)."""
    terms = Q()
    for word in text.split()[:MAX_WORDS]:
        terms &= (
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(preferred_name__icontains=word)
        )
    return Person.objects.filter(terms)


def _by_identifier(text: str) -> QuerySet:
    """People holding an identifier with this value, typed with or without spaces or dashes."""
    spaced = text.replace(" ", "")
    values = {spaced, spaced.replace("-", "")}
    exact = Q()
    for value in values:
        exact |= Q(value__iexact=value)
    return PersonIdentifier.objects.filter(exact).values("person_id")


def people_matching(text: str) -> QuerySet:
    """The ids of people whose names match every word, or who hold an identifier of that value."""
    text = text.strip()
    by_name = people_named(text).values("pk")
    return by_name.union(_by_identifier(text))


def cases_matching(text: str, *, identifiers: bool = False) -> Q:
    """A filter on cases: the case with this reference, else those whose subject's names match
    every word (and, with `identifiers`, whose subject holds an identifier of that value).

    A rare name (at most FEW_PEOPLE people) is searched from its people, looked up through the
    trigram indexes and named outright; a common one by walking the visible cases in page order,
    which then meets a match every few rows."""
    text = text.strip()
    # References are issued in capitals (VRU-2026-000123): the unique index answers this.
    reference = Case.objects.filter(reference=text.upper()).values_list("pk", flat=True).first()
    if reference is not None:
        return Q(pk=reference)
    holders = list(_by_identifier(text).values_list("person_id", flat=True)) if identifiers else []
    named = list(people_named(text).values_list("pk", flat=True)[: FEW_PEOPLE + 1])
    if len(named) <= FEW_PEOPLE:
        # A rare name: naming its people outright lets the database start from them (its
        # estimate of a substring match is a guess; a list's size is not).
        return Q(subject__in=named + holders)
    return Q(subject__in=people_named(text).values("pk")) | Q(subject__in=holders)
