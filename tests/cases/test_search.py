"""Searching cases by reference or name (cases/search.py): rare and common names take different
routes to the same answer, and a search never reaches past what the caller may see."""

from __future__ import annotations

import pytest

from cases import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_case, make_person):
    """Three police cases: two Clarkes (one known as "Jay"), one Okafor."""
    return {
        "jayden": make_case(subject=make_person(given_name="Jayden", preferred_name="Jay")),
        "amara": make_case(subject=make_person(given_name="Amara", family_name="Clarke")),
        "tunde": make_case(subject=make_person(given_name="Tunde", family_name="Okafor")),
    }


def found(client, q):
    return {c["id"] for c in client.get("/api/v1/cases/", {"q": q}).json()["results"]}


@pytest.mark.parametrize("common", [False, True], ids=["rare name", "common name"])
def test_every_word_must_be_part_of_some_name_whatever_the_route(
    api, officer, people, monkeypatch, common
):
    if common:
        monkeypatch.setattr(search, "FEW_PEOPLE", 0)  # every name now counts as common
    client = api(officer)
    ids = {name: str(case.pk) for name, case in people.items()}
    assert found(client, "clarke") == {ids["jayden"], ids["amara"]}
    assert found(client, "CLAR jay") == {ids["jayden"]}  # "Jay" is a preferred name
    assert found(client, "amara clarke") == {ids["amara"]}
    assert found(client, "okafor jayden") == set()


def test_a_reference_finds_its_case_in_any_case(api, officer, people):
    case = people["tunde"]
    assert found(api(officer), case.reference.lower()) == {str(case.pk)}


def test_a_search_never_reaches_cases_the_caller_cannot_see(api, outsider, people):
    client = api(outsider)
    assert found(client, "clarke") == set()
    assert found(client, people["amara"].reference) == set()
