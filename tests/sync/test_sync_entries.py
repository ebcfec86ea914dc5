"""POST /api/v1/sync/entries: chronology entries keyed by the caller's ids, written through
casework's services (who may add to a case, named users, amendments that keep the original)."""

from __future__ import annotations

import uuid

import pytest

from audit.models import AccessLog
from cases import services as case_services
from casework.models import ChronologyEntry, EntryAmendment
from core.models import Change
from sync.models import ExternalRef
from tests import factories
from tests.factories import actor as as_actor
from tests.sync.test_batch_sync import person, push, statuses

pytestmark = pytest.mark.django_db


def entry(local_id, case_local_id="CASE-1", **fields):
    record = {
        "local_id": local_id,
        "kind": "contact",
        "occurred_at": "2026-11-01T10:00:00+00:00",
        "body": f"Home visit {local_id}: spoke with mum.",
        **fields,
    }
    if case_local_id:
        record["case_local_id"] = case_local_id
    return record


@pytest.fixture
def police_case(api, police_system):
    """A case the police system synced: its person RMS-1, its case CASE-1."""
    client = api(police_system)
    push(client, "people", [person("RMS-1")])
    body = push(client, "cases", [{"local_id": "CASE-1", "subject_local_id": "RMS-1"}])
    from cases.models import Case

    return Case.objects.get(pk=body["results"][0]["id"])


class TestEntries:
    def test_it_creates_then_finds_them_unchanged(self, api, police_system, police, police_case):
        client = api(police_system)
        records = [entry(f"E-{n}") for n in range(3)]
        first = push(client, "entries", records)
        assert statuses(first) == ["created"] * 3
        assert ExternalRef.objects.filter(partner=police, resource="entry").count() == 3
        entries = ChronologyEntry.objects.filter(case=police_case)
        assert {(e.partner, e.author, e.version) for e in entries} == {(police, None, 1)}
        assert Change.objects.filter(resource="entry", action="created").count() == 3
        assert (
            AccessLog.objects.filter(action="create", object_type="entry", channel="sync").count()
            == 3
        )
        journal, log = Change.objects.count(), AccessLog.objects.count()
        again = push(client, "entries", records)
        assert statuses(again) == ["unchanged"] * 3
        assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
        assert (Change.objects.count(), AccessLog.objects.count()) == (journal, log)
        assert not EntryAmendment.objects.exists()

    def test_a_changed_entry_is_corrected_by_an_amendment_keeping_the_original(
        self, api, police_system, police_case
    ):
        client = api(police_system)
        push(client, "entries", [entry("E-1", body="Spoke with mum.")])
        body = push(
            client,
            "entries",
            [entry("E-1", body="Spoke with dad.", reason="Wrong parent recorded")],
        )
        assert statuses(body) == ["updated"]
        assert body["results"][0]["version"] == 2
        saved = ChronologyEntry.objects.get()
        assert (saved.body, saved.version) == ("Spoke with dad.", 2)
        amendment = EntryAmendment.objects.get(entry=saved)
        assert amendment.previous == {"body": "Spoke with mum."}
        assert amendment.changes == {"body": "Spoke with dad."}
        assert amendment.reason == "Wrong parent recorded"
        assert Change.objects.filter(resource="entry", action="updated").count() == 1
        # Without a reason the amendment says where the correction came from.
        push(client, "entries", [entry("E-1", body="Spoke with both parents.")])
        assert EntryAmendment.objects.get(version=2).reason.endswith("(batch sync)")
        # The same data again is unchanged; fields left out are left as they are.
        again = push(client, "entries", [{"local_id": "E-1", "kind": "contact"}])
        assert statuses(again) == ["unchanged"]

    def test_the_case_can_be_named_by_our_id(self, api, police_system, police_case):
        body = push(
            api(police_system),
            "entries",
            [entry("E-1", case_local_id=None, case=str(police_case.pk))],
        )
        assert statuses(body) == ["created"]
        assert ChronologyEntry.objects.get().case == police_case

    def test_named_entries_name_staff_on_the_case(
        self, api, police_system, police_case, officer, sergeant
    ):
        client = api(police_system)
        named = entry("E-1", visibility="named", named_users=[str(officer.pk)])
        assert statuses(push(client, "entries", [named])) == ["created"]
        saved = ChronologyEntry.objects.get()
        assert list(saved.named_users.all()) == [officer]
        # A partner system never reads `named` entries back, yet it finds its own to compare ...
        assert statuses(push(client, "entries", [named])) == ["unchanged"]
        # ... and corrects them through an amendment.
        moved = {**named, "named_users": [str(sergeant.pk)]}
        assert statuses(push(client, "entries", [moved])) == ["updated"]
        assert list(saved.named_users.all()) == [sergeant]
        assert EntryAmendment.objects.get().previous == {"named_users": [str(officer.pk)]}

    def test_one_bad_record_does_not_fail_the_batch(self, api, police_system, police_case, teacher):
        body = push(
            api(police_system),
            "entries",
            [
                entry("E-1"),
                entry("E-2", kind="gossip"),
                entry("E-3", occurred_at="2999-01-01T00:00:00+00:00"),
                {"local_id": "E-4", "case_local_id": "CASE-1", "kind": "contact"},
                entry("E-5", case_local_id="NO-SUCH-CASE"),
                entry("E-6", visibility="named"),
                entry("E-7", visibility="named", named_users=[str(teacher.pk)]),
                entry("E-8", case_local_id=None),
                entry("E-1"),
                entry("E-9"),
            ],
        )
        assert statuses(body) == ["created"] + ["error"] * 8 + ["created"]
        fields = [r["error"]["fields"] for r in body["results"][1:-1]]
        assert "kind" in fields[0]
        assert fields[1] == {"occurred_at": ["in the future"]}
        assert set(fields[2]) == {"occurred_at", "body"}
        assert fields[3] == {"case_local_id": ["unknown case"]}
        assert fields[4] == {"named_users": ["required"]}
        assert fields[5] == {"named_users": [f"{teacher.pk} is not on this case"]}
        assert "case_local_id" in fields[6]
        assert body["results"][8]["error"]["code"] == "duplicate_in_batch"
        assert ChronologyEntry.objects.count() == 2

    def test_an_entrys_case_cannot_change(self, api, police_system, police_case):
        client = api(police_system)
        push(client, "people", [person("RMS-2")])
        push(client, "cases", [{"local_id": "CASE-2", "subject_local_id": "RMS-2"}])
        push(client, "entries", [entry("E-1")])
        body = push(client, "entries", [entry("E-1", case_local_id="CASE-2")])
        assert body["results"][0]["error"]["fields"] == {"case": ["differs from the entry's case"]}
        assert ChronologyEntry.objects.get().case == police_case

    def test_a_stale_version_is_refused_not_overwritten(self, api, police_system, police_case):
        client = api(police_system)
        push(client, "entries", [entry("E-1", body="One")])
        push(client, "entries", [entry("E-1", body="Two")])
        body = push(client, "entries", [entry("E-1", body="Three", version=1)])
        assert body["results"][0]["error"]["code"] == "stale"
        assert ChronologyEntry.objects.get().body == "Two"

    def test_an_unchanged_re_push_reads_in_bulk(
        self, api, police_system, police_case, django_assert_max_num_queries
    ):
        client = api(police_system)
        records = [entry(f"E-{n}") for n in range(100)]
        push(client, "entries", records)
        with django_assert_max_num_queries(30):
            assert statuses(push(client, "entries", records)) == ["unchanged"] * 100


class TestPermissions:
    def test_an_outsiders_local_ids_never_resolve_to_another_partners_records(
        self, api, police_system, police_case, outsider_partner
    ):
        push(api(police_system), "entries", [entry("E-1", body="Police only")])
        outsider = api(factories.client_token(outsider_partner))
        body = push(outsider, "entries", [entry("E-1", body="Overwritten?")])
        assert body["results"][0]["error"]["fields"] == {"case_local_id": ["unknown case"]}
        push(outsider, "people", [person("RMS-1")])
        push(outsider, "cases", [{"local_id": "CASE-1", "subject_local_id": "RMS-1"}])
        body = push(outsider, "entries", [entry("E-1", body="Overwritten?")])
        assert statuses(body) == ["created"]  # its own E-1, on its own CASE-1
        police_entry = ChronologyEntry.objects.get(partner__slug="police")
        assert (police_entry.body, police_entry.version) == ("Police only", 1)
        assert police_entry.case == police_case

    def test_a_case_the_caller_cannot_see_is_an_unknown_case(self, api, school_system, police_case):
        client = api(school_system)
        hidden = push(
            client, "entries", [entry("E-1", case_local_id=None, case=str(police_case.pk))]
        )
        missing = push(
            client, "entries", [entry("E-1", case_local_id=None, case=str(uuid.uuid4()))]
        )
        assert hidden["results"][0]["error"] == missing["results"][0]["error"]
        assert hidden["results"][0]["error"]["fields"] == {"case": ["unknown case"]}
        assert not ChronologyEntry.objects.exists()

    def test_a_partner_the_case_is_shared_with_may_add_until_the_share_ends(
        self, api, school_system, school, officer, police_case, share_with
    ):
        share_with(police_case, school)
        client = api(school_system)
        record = entry("S-1", case_local_id=None, case=str(police_case.pk))
        assert statuses(push(client, "entries", [record])) == ["created"]
        assert ChronologyEntry.objects.get().partner == school
        case_services.share_revoke(actor=as_actor(officer), case=police_case, partner=school)
        body = push(client, "entries", [{**record, "local_id": "S-2"}])
        assert body["results"][0]["error"]["fields"] == {"case": ["unknown case"]}

    def test_a_reader_who_does_not_work_the_case_cannot_add_and_is_logged(
        self, api, police_case, outsider, police
    ):
        from datetime import date

        from casework import services as casework_services

        case_services.agreement_create(
            name="Emergency ISA", parties=[police, outsider.membership.partner],
            review_date=date(2030, 6, 30),
        )  # fmt: skip
        casework_services.break_glass_open(
            actor=as_actor(outsider), case_id=police_case.pk, reason="Missing child, urgent"
        )
        body = push(
            api(outsider),
            "entries",
            [entry("E-1", case_local_id=None, case=str(police_case.pk))],
        )
        assert body["results"][0]["error"]["code"] == "forbidden"
        assert AccessLog.objects.filter(
            action="add_entry", allowed=False, object_id=str(police_case.pk)
        ).exists()
        assert not ChronologyEntry.objects.exists()

    def test_only_those_who_may_correct_an_entry_change_it(
        self, api, police_system, officer, police_case
    ):
        # The officer's own push: the entry's author is the officer, not the police system.
        push(api(officer), "entries", [entry("E-1", body="Officer's words")])
        body = push(api(police_system), "entries", [entry("E-1", body="System's words")])
        assert body["results"][0]["error"]["code"] == "forbidden"
        assert ChronologyEntry.objects.get().body == "Officer's words"
        assert AccessLog.objects.filter(action="amend", allowed=False).count() == 1

    @pytest.mark.parametrize("resource", ["entries", "referrals"])
    @pytest.mark.parametrize("scopes", ["read", "read,write"])
    def test_it_needs_the_sync_scope(self, api, police, resource, scopes):
        token = factories.client_token(police, scopes)
        response = api(token).post(f"/api/v1/sync/{resource}", {"records": []}, format="json")
        assert response.status_code == 403
        assert "sync" in response.json()["error"]["message"]

    @pytest.mark.parametrize("resource", ["entries", "referrals"])
    def test_more_than_500_records_is_413(self, api, police_system, resource):
        response = api(police_system).post(
            f"/api/v1/sync/{resource}",
            {"records": [entry(f"E-{n}") for n in range(501)]},
            format="json",
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "too_large"
        assert not ChronologyEntry.objects.exists()
