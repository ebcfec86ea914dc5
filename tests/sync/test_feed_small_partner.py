"""The change feed for a partner that sees few cases reads that partner's own journal rows, not
everyone's (sync.feed.narrowing): a poll stays as cheap with ten million changes to other
partners' records as with none, and still answers exactly as the visibility rule says."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from cases import access as case_access
from cases import services as case_services
from core.models import Change
from sync import feed
from tests import factories
from tests.conftest import postgres_only
from tests.factories import actor as as_actor

pytestmark = pytest.mark.django_db

OTHERS = 3_000


def others_change(count: int) -> None:
    """Changes to records nobody here may see, already sequenced, as a busy partnership makes."""
    start = (Change.objects.aggregate(top=Max("seq"))["top"] or 0) + 1
    Change.objects.bulk_create(
        [
            Change(
                seq=start + n, resource="case", object_id=uuid.uuid4(), action="updated",
                case_id=uuid.uuid4(), person_id=uuid.uuid4(),
            )
            for n in range(count)
        ],
        batch_size=5000,
    )  # fmt: skip


@pytest.fixture
def mentor(police, officer, agreement):
    charity = factories.make_partner("charity", sector="voluntary", name="Mentoring Charity")
    agreement.parties.add(charity)
    return factories.make_user(charity, email="mentor@charity.example")


def share(officer, case, user):
    case_services.case_share(
        actor=as_actor(officer),
        case=case,
        partner=user.membership.partner,
        lawful_basis="public_task",
        reason="Mentoring",
    )


def test_a_small_partner_gets_its_changes_past_any_number_of_others(
    api, officer, mentor, make_case, monkeypatch
):
    # A poll of the whole journal looks at this many rows at most: fewer than lie between.
    monkeypatch.setattr(feed, "SCAN_LIMIT", OTHERS // 3)
    monkeypatch.setattr(feed, "SCAN_WINDOW", OTHERS // 6)
    first = make_case(summary="Before")
    share(officer, first, mentor)
    others_change(OTHERS)
    second = make_case(summary="After")
    share(officer, second, mentor)
    others_change(10)

    response = api(mentor).get("/api/v1/changes", {"page_size": 50})

    assert response.status_code == 200
    body = response.json()
    seen = {(i["resource"], i["id"]) for i in body["results"]}
    assert {("case", str(first.pk)), ("case", str(second.pk))} <= seen
    assert {("person", str(first.subject_id)), ("person", str(second.subject_id))} <= seen
    assert all(i["id"] in {str(first.pk), str(second.pk), str(first.subject_id),
                           str(second.subject_id)} for i in body["results"])  # fmt: skip
    # Nothing more to come: the cursor is at the head, past everyone else's changes.
    again = api(mentor).get("/api/v1/changes", {"cursor": body["next_cursor"]}).json()
    assert again["results"] == []


def test_the_narrowing_never_widens_what_the_rule_allows(officer, mentor, make_case):
    hidden = make_case(summary="Not shared")
    shown = make_case(summary="Shared")
    share(officer, shown, mentor)
    actor = as_actor(mentor)
    assert case_access.few_visible_case_ids(actor) == [shown.pk]
    page = feed.read(actor, None, limit=100)
    assert str(hidden.pk) not in {str(i.object_id) for i in page.items}
    assert str(shown.pk) in {str(i.object_id) for i in page.items}


def test_a_large_partner_is_still_served_by_the_windowed_scan(officer, make_case, monkeypatch):
    make_case()
    monkeypatch.setattr(case_access, "FEW_CASES", 0)
    assert feed.narrowing(as_actor(officer), 0) is None
    assert feed.read(as_actor(officer), None, limit=10).items


@postgres_only
def test_the_small_partner_poll_reads_the_journal_by_its_own_keys(officer, mentor, make_case):
    case = make_case()
    share(officer, case, mentor)
    others_change(2000)
    feed.sequence()
    actor = as_actor(mentor)
    condition = feed.visibility_condition(actor) & feed.narrowing(actor, 0)
    rows = Change.objects.filter(seq__gt=0).filter(condition).order_by("seq")[:51]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_change")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    text = json.dumps(plan)
    assert "change_case_seq" in text and "change_person_seq" in text, text[:2000]


def test_a_poll_reads_the_callers_permission_rows_once(officer, mentor, make_case):
    """Every resource's rule rests on the same permission rows: they are read once per poll."""
    share(officer, make_case(), mentor)
    with CaptureQueriesContext(connection) as ctx:
        feed.read(as_actor(mentor), None, limit=50)
    held = [q for q in ctx.captured_queries if f"LIMIT {case_access.FEW_CASES + 1}" in q["sql"]]
    assert len(held) == 1
