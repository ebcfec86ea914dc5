"""GET /api/v1/changes: ordered, gap-free, visibility-filtered, opaque cursors (sync/feed.py)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from cases import services as case_services
from core.models import Change
from sync import feed
from tests.conftest import postgres_only
from tests.factories import actor as as_actor

pytestmark = pytest.mark.django_db


def read_all(client, cursor=None, page_size=2):
    """Follow the feed to its end: (items, final cursor)."""
    items = []
    while True:
        params = {"page_size": page_size, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/changes", params)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["results"]
        if not body["results"]:
            return items, body["next_cursor"]
        cursor = body["next_cursor"]


def ids(items, resource=None):
    return [
        (i["resource"], i["id"], i["action"]) for i in items if resource in (None, i["resource"])
    ]


class TestOrderAndPaging:
    def test_it_lists_changes_in_order_with_the_contract_fields(self, api, officer, make_case):
        case = make_case(summary="First contact")
        items, _ = read_all(api(officer))
        assert ids(items) == [
            ("person", str(case.subject_id), "created"),
            ("case", str(case.pk), "created"),
        ]
        assert set(items[0]) == {"cursor", "resource", "id", "action", "changed_at"}

    def test_an_empty_page_returns_the_same_cursor(self, api, officer, make_case):
        make_case()
        client = api(officer)
        _, cursor = read_all(client)
        response = client.get("/api/v1/changes", {"cursor": cursor})
        assert response.json() == {"results": [], "next_cursor": cursor, "has_more": False}

    def test_paging_while_writes_happen_misses_nothing(self, api, officer, make_person):
        client = api(officer)
        created, seen, cursor = [], [], None
        for round_ in range(6):
            created += [str(make_person(given_name=f"P{round_}{n}").pk) for n in range(3)]
            body = client.get(
                "/api/v1/changes", {"page_size": 2, **({"cursor": cursor} if cursor else {})}
            ).json()
            seen += [i["id"] for i in body["results"]]
            cursor = body["next_cursor"]
        items, _ = read_all(client, cursor)
        seen += [i["id"] for i in items]
        assert seen == created  # each once, in order

    def test_a_row_that_commits_late_is_not_skipped(self, api, officer, make_person):
        """Id order is not commit order: a row holding a lower id can commit after a reader has
        passed the higher ones (test_late_commit_on_postgresql does it with two connections)."""
        client = api(officer)
        placeholder = Change.objects.create(
            resource="person", object_id=uuid.uuid4(), action="created"
        )
        reserved = placeholder.pk  # the id a slow transaction took and has not committed yet
        placeholder.delete()
        later = make_person(given_name="Later")
        items, cursor = read_all(client)
        assert [i["id"] for i in items] == [str(later.pk)]
        straggler = make_person(given_name="Straggler")  # ... and now it commits
        Change.objects.filter(object_id=straggler.pk).update(id=reserved)
        items, _ = read_all(client, cursor)
        assert [i["id"] for i in items] == [str(straggler.pk)]
        rows = {c.object_id: c for c in Change.objects.all()}
        assert rows[straggler.pk].id < rows[later.pk].id
        assert rows[straggler.pk].seq > rows[later.pk].seq

    def test_latest_starts_at_the_head(self, api, officer, make_person):
        make_person()
        client = api(officer)
        cursor = client.get("/api/v1/changes", {"latest": "true"}).json()["next_cursor"]
        new = make_person(given_name="New")
        items, _ = read_all(client, cursor)
        assert [i["id"] for i in items] == [str(new.pk)]


class TestVisibility:
    def test_changes_to_records_you_cannot_see_never_appear(self, api, teacher, make_case):
        client = api(teacher)
        _, cursor = read_all(client)
        make_case(summary="Police only")
        items, after = read_all(client, cursor)
        assert items == []
        assert after == cursor

    def test_a_share_makes_the_case_appear_and_a_revocation_says_so(
        self, api, officer, school, school_system, make_case, share_with
    ):
        client = api(school_system)
        case = make_case()
        _, cursor = read_all(client)
        share_with(case, school)
        items, cursor = read_all(client, cursor)
        assert ids(items) == [("case", str(case.pk), "updated")]
        case_services.share_revoke(actor=as_actor(officer), case=case, partner=school)
        items, cursor = read_all(client, cursor)
        assert ids(items) == [
            ("case", str(case.pk), "revoked"),
            ("person", str(case.subject_id), "revoked"),
        ]
        # The lead partner is told nothing of someone else's revocation.
        assert "revoked" not in {i["action"] for i in read_all(api(officer))[0]}

    def test_the_subject_is_not_revoked_while_still_visible_another_way(
        self, api, officer, school, teacher, school_system, make_case, share_with, make_person
    ):
        subject = make_person()
        first, second = make_case(subject=subject), make_case(subject=subject)
        share_with(first, school)
        share_with(second, school)
        client = api(school_system)
        _, cursor = read_all(client)
        case_services.share_revoke(actor=as_actor(officer), case=first, partner=school)
        items, _ = read_all(client, cursor)
        assert ids(items) == [("case", str(first.pk), "revoked")]

    def test_auditors_see_no_content_changes(self, api, auditor, make_case):
        make_case()
        assert read_all(api(auditor))[0] == []


class TestCursors:
    @pytest.mark.parametrize("cursor", ["nonsense", "MTIzLjk", "MS45OmZvcmdlZA"])
    def test_an_unknown_or_tampered_cursor_is_410(self, api, officer, cursor):
        response = api(officer).get("/api/v1/changes", {"cursor": cursor})
        assert response.status_code == 410
        assert response.json()["error"]["code"] == "cursor_expired"

    def test_a_cursor_from_the_future_is_410(self, api, officer):
        cursor = feed.encode_cursor(feed.Position(10_000))
        assert api(officer).get("/api/v1/changes", {"cursor": cursor}).status_code == 410

    def test_a_cursor_older_than_the_journal_keeps_is_410(self, api, officer, make_person):
        client = api(officer)
        make_person()
        _, old = read_all(client)
        make_person(given_name="Two")
        make_person(given_name="Three")
        assert feed.prune(older_than=timedelta(0)) >= 2
        response = client.get("/api/v1/changes", {"cursor": old})
        assert response.status_code == 410
        # The newest row is kept, and a fresh start still works.
        assert client.get("/api/v1/changes").status_code == 200

    def test_bad_page_size_is_400(self, api, officer):
        assert api(officer).get("/api/v1/changes", {"page_size": 0}).status_code == 400


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_late_commit_on_postgresql(api, officer, make_person):
    """Two connections: a transaction takes its journal id first and commits last. A reader that
    pages past the rows committed meanwhile still gets the late row afterwards."""
    from django.db import connection, transaction

    client = api(officer)
    make_person(given_name="Before")
    _, cursor = read_all(client)
    inserted, release = threading.Event(), threading.Event()
    late = {}

    def slow_writer():
        try:
            with transaction.atomic():
                late["person"] = make_person(given_name="Late")
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(10)
    quick = make_person(given_name="Quick")  # a higher journal id, committed first
    items, cursor = read_all(client, cursor)
    assert [i["id"] for i in items] == [str(quick.pk)]
    release.set()
    writer.join()
    items, _ = read_all(client, cursor)
    assert [i["id"] for i in items] == [str(late["person"].pk)]
    ids_by_commit = list(Change.objects.order_by("seq").values_list("id", flat=True))
    assert ids_by_commit != sorted(ids_by_commit)  # the late row's id is lower, its seq higher
