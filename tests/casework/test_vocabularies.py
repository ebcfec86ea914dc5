from __future__ import annotations

import pytest

NAMES = [
    "adversities", "sectors", "roles", "case-statuses", "screening-outcomes", "enrolment-statuses",
    "identifier-schemes",
]  # fmt: skip


@pytest.mark.django_db
class TestVocabularies:
    @pytest.mark.parametrize("name", NAMES)
    def test_every_published_name_has_the_contract_shape(self, api, officer, name):
        response = api(officer).get(f"/api/v1/vocabularies/{name}")
        assert response.status_code == 200
        body = response.json()
        assert body["name"] == name and body["items"]
        for item in body["items"]:
            assert set(item) == {"code", "label", "group"}
        codes = [i["code"] for i in body["items"]]
        assert len(codes) == len(set(codes))

    def test_adversities_are_the_ten_aces_the_wider_adversities_and_protective_factors(
        self, api, officer
    ):
        items = api(officer).get("/api/v1/vocabularies/adversities").json()["items"]
        by_group = {}
        for item in items:
            by_group.setdefault(item["group"], []).append(item["code"])
        assert len(by_group["ace"]) == 10 and len(by_group["wider"]) == 10
        assert len(by_group["protective"]) == 4
        assert (
            "parental_incarceration" in by_group["ace"]
            and "trusted_adult" in by_group["protective"]
        )

    def test_enrolment_statuses_are_the_ten_in_the_contract(self, api, officer):
        codes = [
            i["code"]
            for i in api(officer).get("/api/v1/vocabularies/enrolment-statuses").json()["items"]
        ]
        assert codes == [
            "referred", "eligibility_checked", "waitlisted", "offered", "enrolled", "active",
            "completed", "withdrawn", "declined", "ineligible",
        ]  # fmt: skip

    def test_screening_outcomes(self, api, officer):
        items = api(officer).get("/api/v1/vocabularies/screening-outcomes").json()["items"]
        assert {i["code"] for i in items} >= {
            "no_further_action", "information_only", "early_help", "statutory_social_care",
            "programme_referral", "other",
        }  # fmt: skip

    def test_case_statuses_and_sectors_follow_the_contract(self, api, officer):
        statuses = [
            i["code"]
            for i in api(officer).get("/api/v1/vocabularies/case-statuses").json()["items"]
        ]
        assert statuses == ["referred", "screening", "open", "closed"]
        sectors = {
            i["code"] for i in api(officer).get("/api/v1/vocabularies/sectors").json()["items"]
        }
        assert sectors == {
            "police", "education", "housing", "health", "probation", "youth_justice", "social_care",
            "vru", "voluntary",
        }  # fmt: skip

    def test_unknown_name_is_404_in_the_error_shape(self, api, officer):
        response = api(officer).get("/api/v1/vocabularies/horoscopes")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_the_index_lists_every_name(self, api, auditor):
        names = api(auditor).get("/api/v1/vocabularies/").json()["names"]
        assert set(NAMES) <= set(names)

    def test_authentication_is_required(self, api):
        assert api().get("/api/v1/vocabularies/adversities").status_code == 401


@pytest.mark.django_db
def test_the_openapi_document_describes_the_case_work_api(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/cases/{case_id}/entries", "/api/v1/entries/{entry_id}", "/api/v1/cases/{case_id}/adversities",
        "/api/v1/cases/{case_id}/actions", "/api/v1/actions/{action_id}", "/api/v1/referrals/",
        "/api/v1/referrals/{referral_id}/screening", "/api/v1/cases/{case_id}/break-glass",
        "/api/v1/vocabularies/{name}",
    ):  # fmt: skip
        assert path in schema
    assert "CaseworkEntryKindEnum" in schema
