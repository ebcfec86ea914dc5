"""The case list for a partner that sees few cases is worked out from those cases, not by walking
every case in page order (bench/case_list.py measured 311 ms to 3.6 s for a 200-case partner on
1,000,000 cases before; docs/performance.md). The plan shape is pinned here so a later change to
the rule cannot bring the walk back silently."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection

from cases import access, services
from cases.models import Case
from partners.actor import actor_for_user
from tests import factories
from tests.conftest import postgres_only

pytestmark = pytest.mark.django_db


def plan_nodes(queryset, *, sorting: bool = True) -> list[dict]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Statistics of this test's rows, not those left by earlier tests (autovacuum may have
        # analysed a table while another test had thousands of rows in it): the plan must follow
        # from the data in hand, whatever ran before.
        cursor.execute(
            "ANALYZE cases_case, cases_casegroupobjectpermission, cases_caseuserobjectpermission, "
            "cases_share"
        )
        # On a test-sized table a sequential scan is always cheapest: rule it out so the plan
        # shows which index the query is driven by, as it would be at scale. The same goes for
        # sorting a few rows: ruling it out shows whether an index can give the page order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not sorting:
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        [[plan]] = cursor.fetchall()[0]
    nodes, stack = [], [(plan if isinstance(plan, dict) else json.loads(plan))["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


@pytest.fixture
def partnership(officer, police, school, make_case):
    """The police lead twelve cases; a mentoring charity is given two of them."""
    charity = factories.make_partner("charity", sector="voluntary", name="Mentoring Charity")
    services.agreement_create(
        name="Mentoring ISA", parties=[police, school, charity], review_date=date(2030, 1, 1)
    )
    mentor = factories.make_user(charity, email="mentor@charity.example")
    cases = [make_case(summary=f"Case {n}") for n in range(12)]
    for case in cases[:2]:
        services.case_share(
            actor=actor_for_user(officer, channel="api"),
            case=case,
            partner=charity,
            lawful_basis="public_task",
            reason="Mentoring",
        )
    return mentor, cases


def listed(user):
    return access.cases_visible_to(actor_for_user(user, channel="api")).order_by(
        "-created_at", "-id"
    )


def test_a_partner_that_sees_few_cases_is_listed_from_those_cases(partnership):
    mentor, cases = partnership
    assert len(access.few_visible_case_ids(actor_for_user(mentor, channel="api"))) == 2
    assert [c.pk for c in listed(mentor)] == [c.pk for c in reversed(cases[:2])]


def test_either_way_the_same_cases_are_listed(officer, partnership, monkeypatch):
    _, cases = partnership
    few = [c.pk for c in listed(officer)]
    monkeypatch.setattr(access, "FEW_CASES", 5)  # the police now count as a large partner
    assert access.few_visible_case_ids(actor_for_user(officer, channel="api")) is None
    assert [c.pk for c in listed(officer)] == few == [c.pk for c in reversed(cases)]


@postgres_only
def test_the_small_partner_plan_looks_cases_up_by_key_and_never_walks_them(partnership):
    mentor, _ = partnership
    nodes = plan_nodes(listed(mentor)[:51])
    case_scans = [n for n in nodes if n.get("Relation Name") == Case._meta.db_table]
    assert case_scans, nodes
    by_key = [n for n in case_scans if n.get("Index Name") == "cases_case_pkey"] + [
        n for n in nodes if n.get("Node Type") == "Bitmap Index Scan"
        and n.get("Index Name") == "cases_case_pkey"
    ]  # fmt: skip
    assert by_key, [(n["Node Type"], n.get("Index Name")) for n in nodes]
    walked = [n for n in nodes if "created" in (n.get("Index Name") or "")]
    assert not walked, walked


def paged(user):
    """The case list as the API pages it (core.api.pagination orders by `listed_at`)."""
    return access.cases_visible_to(actor_for_user(user, channel="api")).order_by(
        "-listed_at", "-id"
    )


def test_the_ordered_access_form_lists_the_same_cases_in_the_same_order(
    officer, partnership, monkeypatch
):
    mentor, cases = partnership
    few = [c.pk for c in paged(officer)], [c.pk for c in paged(mentor)]
    monkeypatch.setattr(access, "FEW_CASES", 0)  # everyone is a large partner now
    assert ([c.pk for c in paged(officer)], [c.pk for c in paged(mentor)]) == few
    assert few == ([c.pk for c in reversed(cases)], [c.pk for c in reversed(cases[:2])])
    deep = paged(officer).filter(listed_at__lt=cases[5].created_at)
    assert [c.pk for c in deep] == [c.pk for c in reversed(cases[:5])]


def test_a_restricted_case_or_an_expired_share_drops_out_of_the_ordered_form_at_once(
    officer, partnership, monkeypatch
):
    from django.utils import timezone

    from cases.models import CaseGroupObjectPermission

    mentor, cases = partnership
    monkeypatch.setattr(access, "FEW_CASES", 0)
    Case.objects.filter(pk=cases[11].pk).update(restricted=True)
    CaseGroupObjectPermission.objects.filter(
        content_object=cases[0], group=mentor.membership.partner.group
    ).update(expires_at=timezone.now())
    assert cases[11].pk not in [c.pk for c in paged(officer)]
    assert [c.pk for c in paged(mentor)] == [cases[1].pk]


@postgres_only
def test_a_large_partner_pages_by_one_ordered_index_range_scan(officer, partnership, monkeypatch):
    _, cases = partnership
    monkeypatch.setattr(access, "FEW_CASES", 0)
    for page in (
        paged(officer)[:51],
        paged(officer).filter(listed_at__lt=cases[6].created_at)[:51],
    ):
        nodes = plan_nodes(page, sorting=False)
        ordered = [n for n in nodes if n.get("Index Name") == "case_perm_ordered_access"]
        assert ordered, [(n["Node Type"], n.get("Index Name")) for n in nodes]
        # (A sort inside a subplan orders one case's shares, not the page.)
        inside_subplans = {
            id(inner) for n in nodes if n.get("Parent Relationship") == "SubPlan"
            for inner in plan_nodes_under(n)
        }  # fmt: skip
        page_sorts = [
            n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")
            and id(n) not in inside_subplans
        ]  # fmt: skip
        assert not page_sorts, page_sorts


def plan_nodes_under(node: dict) -> list[dict]:
    under, stack = [], [node]
    while stack:
        node = stack.pop()
        under.append(node)
        stack.extend(node.get("Plans", []))
    return under


@postgres_only
def test_a_name_search_can_start_from_the_trigram_indexes_on_names(partnership):
    """The matching people are found through the indexes (their expression is the one Django's
    `icontains` writes); which side a whole search starts from is the planner's call by size."""
    from cases.search import people_named

    nodes = plan_nodes(people_named("ami smi"))
    by_trigrams = {n.get("Index Name") for n in nodes if "trgm" in (n.get("Index Name") or "")}
    assert by_trigrams == {
        "cases_person_given_name_trgm",
        "cases_person_family_name_trgm",
        "cases_person_preferred_name_trgm",
    }, [(n["Node Type"], n.get("Index Name")) for n in nodes]
