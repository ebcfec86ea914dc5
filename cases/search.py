"""Finding cases and people by what a practitioner types: a case reference, any part of a name, or
an identifier value. Only ever a filter on a queryset the caller's visibility rule has already
built (cases.access), so a search never reaches further than a list would.

The matches are worked out from the people's side: the names carry trigram indexes on PostgreSQL
(cases migration 0007), so a search starts from the few people whose names match and looks their
cases up by key, instead of testing every visible case's subject (3.5 s for a partner that sees
1% of a million cases before; docs/performance.md). The words of a name are matched as substrings
of any of the three names, all words in some name.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.models import Case, Person, PersonIdentifier

MAX_WORDS = 4


def _name_terms(text: str) -> Q:
    terms = Q()
    for word in text.split()[:MAX_WORDS]:
        terms &= (
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(preferred_name__icontains=word)
        )
    return terms


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
    by_name = Person.objects.filter(_name_terms(text)).values("pk")
    return by_name.union(_by_identifier(text))


def cases_matching(text: str, *, identifiers: bool = False) -> QuerySet:
    """The ids of cases with this reference, or whose subject's names match every word (and, with
    `identifiers`, whose subject holds an identifier of that value)."""
    text = text.strip()
    subjects = Person.objects.filter(_name_terms(text)).values("pk")
    if identifiers:
        subjects = subjects.union(_by_identifier(text))
    by_reference = Case.objects.filter(reference__iexact=text).values("pk")
    return by_reference.union(Case.objects.filter(subject__in=subjects).values("pk"))
