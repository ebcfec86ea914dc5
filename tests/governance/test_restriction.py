"""Restriction of processing (UK GDPR Art. 18): managers of a partner that can see the person set
and lift it, each with a reason; while it stands no share, referral or programme referral is
made (409, in the API error shape), and the person resource says so."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases.models import Person, ProcessingRestriction, Share
from casework.models import Referral
from partners.models import Role
from programmes.catalogue import install_standard_programmes
from programmes.models import Enrolment, Programme
from tests import factories
from tests.programmes.conftest import DIVERT_CUSTODY

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-0000-0000-000000000000"


def restrict(api, who, person_id, reason="The person contests the accuracy of their record"):
    return api(who).post(
        f"/api/v1/people/{person_id}/restriction", {"reason": reason}, format="json"
    )


def lift(api, who, person_id, reason="Accuracy checked and corrected"):
    body = {} if reason is None else {"reason": reason}
    return api(who).delete(f"/api/v1/people/{person_id}/restriction", body, format="json")


@pytest.fixture
def restricted(api, sergeant, police_case):
    response = restrict(api, sergeant, police_case.subject_id)
    assert response.status_code == 201, response.content
    return police_case


class TestSettingAndLifting:
    def test_a_manager_restricts_and_lifts_with_reasons_and_the_person_shows_it(
        self, api, sergeant, officer, police_case
    ):
        person_url = f"/api/v1/people/{police_case.subject_id}"
        assert api(officer).get(person_url).json()["processing_restricted"] is False
        placed = restrict(api, sergeant, police_case.subject_id)
        assert placed.status_code == 201
        assert placed.json()["placed_by_partner"] == "police"
        assert api(officer).get(person_url).json()["processing_restricted"] is True
        assert restrict(api, sergeant, police_case.subject_id).status_code == 409

        no_reason = lift(api, sergeant, police_case.subject_id, reason=None)
        assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["fields"]
        blank = lift(api, sergeant, police_case.subject_id, reason="   ")
        assert blank.status_code == 400
        assert Person.objects.get(pk=police_case.subject_id).processing_restricted

        lifted = lift(api, sergeant, police_case.subject_id)
        assert lifted.status_code == 200
        assert lifted.json()["lift_reason"] == "Accuracy checked and corrected"
        assert api(officer).get(person_url).json()["processing_restricted"] is False
        assert lift(api, sergeant, police_case.subject_id).status_code == 404
        record = ProcessingRestriction.objects.get()
        assert (record.placed_by, record.lifted_by) == (sergeant, sergeant)

    def test_restricting_needs_a_reason(self, api, sergeant, police_case):
        assert restrict(api, sergeant, police_case.subject_id, reason="").status_code == 400
        assert not Person.objects.get(pk=police_case.subject_id).processing_restricted

    def test_a_manager_of_a_partner_it_is_shared_with_may_restrict(
        self, api, school_manager, police_case
    ):
        assert restrict(api, school_manager, police_case.subject_id).status_code == 201

    def test_practitioners_get_403_and_strangers_404_with_nothing_leaked(
        self, api, officer, auditor, police_case
    ):
        refused = restrict(api, officer, police_case.subject_id)
        assert refused.status_code == 403 and "Jayden" not in refused.content.decode()
        stranger = factories.make_user(factories.make_partner(sector="probation"), Role.MANAGER)
        for who in (stranger, auditor):
            hidden, missing = (
                restrict(api, who, police_case.subject_id),
                restrict(api, who, MISSING),
            )
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json() == missing.json()
            assert lift(api, who, police_case.subject_id).status_code == 404
        assert not ProcessingRestriction.objects.exists()

    def test_setting_and_lifting_are_access_logged_without_the_reason(
        self, api, sergeant, police_case
    ):
        restrict(api, sergeant, police_case.subject_id)
        lift(api, sergeant, police_case.subject_id)
        rows = AccessLog.objects.filter(
            user=sergeant, action__in=["restrict_processing", "lift_restriction"], allowed=True
        )
        assert sorted(rows.values_list("action", flat=True)) == [
            "lift_restriction", "restrict_processing",
        ]  # fmt: skip
        for row in rows:
            assert row.person_id == police_case.subject_id and row.detail == {}
            assert "accuracy" not in row.justification.lower()


class TestWhatItBlocks:
    def test_no_new_share(self, api, officer, vru, restricted):
        before = Share.objects.count()
        response = api(officer).post(
            f"/api/v1/cases/{restricted.pk}/shares",
            {"partner": "vru", "lawful_basis": "public_task", "reason": "Programme intake"},
            format="json",
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "processing_restricted" and "Article 18" in error["message"]
        assert Share.objects.count() == before

    def test_no_new_referral(self, api, officer, restricted):
        before = Referral.objects.count()
        response = api(officer).post(
            "/api/v1/referrals/",
            {
                "subject": str(restricted.subject_id),
                "concerns": ["missing_episode"],
                "description": "Reported missing overnight.",
            },
            format="json",
        )
        assert response.status_code == 409, response.content
        assert response.json()["error"]["code"] == "processing_restricted"
        assert Referral.objects.count() == before

    def test_no_new_programme_referral(self, api, officer, vru, restricted):
        install_standard_programmes(Programme)
        Programme.objects.filter(slug="divert").update(owner=vru)
        body = {
            "person": str(restricted.subject_id),
            "case": str(restricted.pk),
            "details": DIVERT_CUSTODY,
        }
        response = api(officer).post("/api/v1/programmes/divert/referrals", body, format="json")
        assert response.status_code == 409, response.content
        assert response.json()["error"]["code"] == "processing_restricted"
        assert not Enrolment.objects.exists()

    def test_lifting_lets_processing_resume(self, api, sergeant, officer, vru, restricted):
        lift(api, sergeant, restricted.subject_id)
        response = api(officer).post(
            f"/api/v1/cases/{restricted.pk}/shares",
            {"partner": "vru", "lawful_basis": "public_task", "reason": "Programme intake"},
            format="json",
        )
        assert response.status_code == 201


class TestOtherChannels:
    def test_a_household_members_restriction_blocks_sharing_the_case(
        self, api, sergeant, officer, vru, police_case, sister
    ):
        assert restrict(api, sergeant, sister.pk).status_code == 201
        response = api(officer).post(
            f"/api/v1/cases/{police_case.pk}/shares",
            {"partner": "vru", "lawful_basis": "public_task", "reason": "Programme intake"},
            format="json",
        )
        assert response.status_code == 409
        assert "household" in response.json()["error"]["message"]
        assert "Amarachi" not in response.content.decode()

    def test_batch_sync_refuses_a_referral_about_them_record_by_record(
        self, api, police, restricted
    ):
        client = api(factories.client_token(police, "read,write,sync", name="police-rms"))
        before = Referral.objects.count()
        record = {
            "local_id": "PPN-9",
            "subject": str(restricted.subject_id),
            "concerns": ["missing_episode"],
            "description": "Found far from home.",
        }
        response = client.post("/api/v1/sync/referrals", {"records": [record]}, format="json")
        assert response.status_code == 200, response.content
        [result] = response.json()["results"]
        assert result["status"] == "error"
        assert result["error"]["code"] == "processing_restricted"
        assert Referral.objects.count() == before

    def test_an_idempotent_repeat_of_a_restriction_replays_and_writes_nothing(
        self, api, sergeant, police_case
    ):
        client = api(sergeant)
        path = f"/api/v1/people/{police_case.subject_id}/restriction"
        body = {"reason": "Contests accuracy"}
        first = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
        again = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
        assert ProcessingRestriction.objects.count() == 1
