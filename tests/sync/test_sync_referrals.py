"""POST /api/v1/sync/referrals: referrals keyed by the caller's ids, received through
casework.referral_create (subject, case in screening, deadline), and kept as received."""

from __future__ import annotations

import uuid

import pytest

from cases.models import Case
from casework.models import Referral
from core.models import Change
from followups.models import FollowUp
from sync.models import ExternalRef
from tests import factories
from tests.sync.test_batch_sync import person, push, statuses

pytestmark = pytest.mark.django_db


def referral(local_id, subject_local_id="RMS-1", **fields):
    record = {
        "local_id": local_id,
        "concerns": ["missing_episode", "county_lines"],
        "description": "Found 40 miles from home with unexplained cash.",
        **fields,
    }
    if subject_local_id:
        record["subject_local_id"] = subject_local_id
    return record


@pytest.fixture
def synced(api, police_system):
    """The police system's people RMS-1 and RMS-2, and an open case CASE-1 about RMS-1."""
    client = api(police_system)
    push(client, "people", [person("RMS-1"), person("RMS-2", given_name="Amara")])
    body = push(
        client, "cases", [{"local_id": "CASE-1", "subject_local_id": "RMS-1", "status": "open"}]
    )
    return Case.objects.get(pk=body["results"][0]["id"])


class TestReferrals:
    def test_it_receives_them_then_finds_them_unchanged(self, api, police_system, police, synced):
        client = api(police_system)
        records = [
            referral("PPN-1", subject_local_id="RMS-2", urgency="urgent"),
            referral("PPN-2"),
        ]
        first = push(client, "referrals", records)
        assert statuses(first) == ["created", "created"]
        new_case_referral = Referral.objects.get(pk=first["results"][0]["id"])
        # No live case for RMS-2: one is opened in screening with the police as lead.
        assert new_case_referral.case.status == "screening"
        assert new_case_referral.case.lead_partner == police
        assert (new_case_referral.source_reference, new_case_referral.channel) == ("PPN-1", "sync")
        assert new_case_referral.urgency == "urgent"
        assert FollowUp.objects.filter(
            kind="screening_deadline", subject_id=new_case_referral.pk
        ).exists()
        # RMS-1's live case is linked.
        assert Referral.objects.get(pk=first["results"][1]["id"]).case == synced
        assert ExternalRef.objects.filter(partner=police, resource="referral").count() == 2
        journal = Change.objects.count()
        again = push(client, "referrals", records)
        assert statuses(again) == ["unchanged", "unchanged"]
        assert Change.objects.count() == journal
        assert Referral.objects.count() == 2

    def test_a_referral_into_a_given_case(self, api, police_system, synced):
        body = push(
            api(police_system),
            "referrals",
            [referral("PPN-1", subject_local_id=None, case_local_id="CASE-1")],
        )
        assert statuses(body) == ["created"]
        saved = Referral.objects.get()
        assert (saved.case, saved.subject) == (synced, synced.subject)
        by_our_ids = push(
            api(police_system),
            "referrals",
            [referral("PPN-2", subject_local_id=None, subject=str(synced.subject_id))],
        )
        assert statuses(by_our_ids) == ["created"]

    def test_a_changed_referral_is_refused_not_rewritten(self, api, police_system, synced):
        client = api(police_system)
        push(client, "referrals", [referral("PPN-1")])
        body = push(client, "referrals", [referral("PPN-1", description="Something else")])
        error = body["results"][0]["error"]
        assert error["code"] == "referral_received"
        assert error["fields"] == {"description": ["differs from the referral as received"]}
        assert Referral.objects.get().description.startswith("Found 40 miles")

    def test_one_bad_record_does_not_fail_the_batch(self, api, police_system, synced):
        body = push(
            api(police_system),
            "referrals",
            [
                referral("PPN-1"),
                referral("PPN-2", concerns=["astrology"]),
                referral("PPN-3", subject_local_id="NOBODY"),
                referral("PPN-4", case_local_id="NO-SUCH-CASE"),
                referral("PPN-5", subject_local_id="RMS-2", case_local_id="CASE-1"),
                referral("PPN-6", subject_local_id=None),
                {"local_id": "PPN-7", "subject_local_id": "RMS-1"},
                referral("PPN-8"),
            ],
        )
        assert statuses(body) == ["created"] + ["error"] * 6 + ["created"]
        fields = [r["error"]["fields"] for r in body["results"][1:-1]]
        assert "concerns" in fields[0]
        assert fields[1] == {"subject_local_id": ["unknown person"]}
        assert fields[2] == {"case_local_id": ["unknown case"]}
        assert fields[3] == {"case": ["not the subject's case"]}
        assert "subject_local_id" in fields[4]
        assert set(fields[5]) == {"concerns", "description"}
        assert Referral.objects.count() == 2

    def test_a_closed_case_takes_no_referral(self, api, police_system, synced):
        client = api(police_system)
        push(
            client,
            "cases",
            [{"local_id": "CASE-1", "status": "closed", "closure_reason": "no_further_action"}],
        )
        body = push(client, "referrals", [referral("PPN-1", case_local_id="CASE-1")])
        assert body["results"][0]["error"]["code"] == "case_closed"


class TestPermissions:
    def test_an_outsiders_local_ids_never_resolve_to_another_partners_records(
        self, api, police_system, synced, outsider_partner
    ):
        push(api(police_system), "referrals", [referral("PPN-1")])
        outsider = api(factories.client_token(outsider_partner))
        body = push(outsider, "referrals", [referral("PPN-1", case_local_id="CASE-1")])
        assert body["results"][0]["error"]["fields"] == {"subject_local_id": ["unknown person"]}
        body = push(
            outsider,
            "referrals",
            [referral("PPN-1", subject_local_id=None, case_local_id="CASE-1")],
        )
        assert body["results"][0]["error"]["fields"] == {"case_local_id": ["unknown case"]}
        assert Referral.objects.count() == 1

    def test_a_case_the_caller_cannot_see_is_an_unknown_case(self, api, school_system, synced):
        client = api(school_system)
        hidden = push(
            client, "referrals", [referral("R-1", subject_local_id=None, case=str(synced.pk))]
        )
        missing = push(
            client, "referrals", [referral("R-1", subject_local_id=None, case=str(uuid.uuid4()))]
        )
        assert hidden["results"][0]["error"] == missing["results"][0]["error"]
        assert hidden["results"][0]["error"]["fields"] == {"case": ["unknown case"]}
        person_hidden = push(
            client,
            "referrals",
            [referral("R-1", subject_local_id=None, subject=str(synced.subject_id))],
        )
        assert person_hidden["results"][0]["error"]["fields"] == {"subject": ["unknown person"]}
        assert not Referral.objects.exists()

    def test_a_partner_the_case_is_shared_with_refers_into_it(
        self, api, school_system, school, police, synced, share_with
    ):
        share_with(synced, school)
        body = push(
            api(school_system),
            "referrals",
            [referral("MIS-1", subject_local_id=None, case=str(synced.pk))],
        )
        assert statuses(body) == ["created"]
        saved = Referral.objects.get()
        assert (saved.case, saved.source_partner, saved.case.lead_partner) == (
            synced,
            school,
            police,
        )

    def test_roles_that_do_not_refer_are_refused(self, api, coordinator):
        client = api(coordinator)
        push(client, "people", [person("RMS-1")])
        body = push(client, "referrals", [referral("PPN-1")])
        assert body["results"][0]["error"]["code"] == "forbidden"
