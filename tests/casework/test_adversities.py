"""Adversity and protective-factor records: published codes, sensitive records kept to the
recording partner unless shared explicitly."""

from __future__ import annotations

import pytest

from casework import services
from casework.access import adversities_visible_to
from tests.casework.conftest import logged
from tests.factories import actor


def record(api, user, case, **data):
    data = {"code": "parental_incarceration", "source": "disclosed", **data}
    return api(user).post(f"/api/v1/cases/{case.id}/adversities", data, format="json")


@pytest.mark.django_db
class TestCreate:
    def test_it_records_a_code_with_who_and_when(self, api, case, teacher):
        response = record(api, teacher, case, note="Dad in HMP Northshire")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["code"] == "parental_incarceration" and body["group"] == "ace"
        assert body["recorded_by"] == str(teacher.id) and body["partner"] == "school"
        assert body["recorded_at"] and body["sensitive"] is False
        assert logged(teacher, action="create", object_type="adversity").get().case_id == case.id

    def test_an_unknown_code_is_400_pointing_at_the_vocabulary(self, api, case, teacher):
        response = record(api, teacher, case, code="bad_luck")
        assert response.status_code == 400
        error = response.json()["error"]
        assert "/api/v1/vocabularies/adversities" in error["message"]
        assert "code" in error["fields"]

    def test_protective_factors_use_the_same_vocabulary(self, api, case, officer):
        response = record(api, officer, case, code="trusted_adult", source="observed")
        assert response.status_code == 201 and response.json()["group"] == "protective"

    @pytest.mark.parametrize("persona", ["outsider", "auditor"])
    def test_people_who_cannot_see_the_case_get_404(self, api, case, outsider, auditor, persona):
        user = {"outsider": outsider, "auditor": auditor}[persona]
        assert record(api, user, case).status_code == 404

    def test_shared_with_is_for_sensitive_records_on_the_case(
        self, api, case, officer, outsider_partner
    ):
        assert record(api, officer, case, shared_with=["school"]).status_code == 400
        response = record(api, officer, case, sensitive=True, shared_with=["elsewhere"])
        assert response.status_code == 400 and "shared_with" in response.json()["error"]["fields"]


PERSONAS = ["officer", "sergeant", "teacher", "coordinator", "outsider", "auditor"]


@pytest.fixture
def personas(officer, sergeant, teacher, coordinator, outsider, auditor):
    return dict(
        zip(PERSONAS, [officer, sergeant, teacher, coordinator, outsider, auditor], strict=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona, sees_plain, sees_sensitive, sees_shared",
    [
        ("officer", True, True, True),
        ("sergeant", True, True, True),
        ("teacher", True, False, True),
        ("coordinator", True, False, False),
        ("outsider", False, False, False),
        ("auditor", False, False, False),
    ],
)
def test_visibility_matrix(
    api, case, personas, school, persona, sees_plain, sees_sensitive, sees_shared
):
    officer = actor(personas["officer"])
    plain = services.adversity_create(actor=officer, case=case, code="poverty", source="observed")
    sensitive = services.adversity_create(
        actor=officer, case=case, code="sexual_abuse", source="disclosed", sensitive=True
    )
    shared = services.adversity_create(
        actor=officer, case=case, code="domestic_violence", source="disclosed", sensitive=True,
        shared_with=[school],
    )  # fmt: skip
    user = personas[persona]
    client = api(user)
    for rec, sees in ((plain, sees_plain), (sensitive, sees_sensitive), (shared, sees_shared)):
        assert client.get(f"/api/v1/adversities/{rec.id}").status_code == (200 if sees else 404)
        assert adversities_visible_to(actor(user)).filter(pk=rec.pk).exists() is sees
    listing = client.get(f"/api/v1/cases/{case.id}/adversities")
    if persona in ("outsider", "auditor"):
        assert listing.status_code == 404
    else:
        ids = {r["id"] for r in listing.json()["results"]}
        expected = {
            str(r.id)
            for r, s in ((plain, sees_plain), (sensitive, sees_sensitive), (shared, sees_shared))
            if s
        }
        assert ids == expected
        assert (
            set(
                logged(user, action="list", object_type="adversity").values_list(
                    "object_id", flat=True
                )
            )
            == ids
        )


@pytest.mark.django_db
class TestShare:
    def test_the_recording_partner_shares_a_sensitive_record(self, api, case, officer, teacher):
        rec = services.adversity_create(
            actor=actor(officer), case=case, code="sexual_abuse", source="disclosed", sensitive=True
        )
        assert api(teacher).get(f"/api/v1/adversities/{rec.id}").status_code == 404
        response = api(officer).post(
            f"/api/v1/adversities/{rec.id}/shares", {"partner": "school"}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response.json()["shared_with"] == ["school"]
        assert api(teacher).get(f"/api/v1/adversities/{rec.id}").status_code == 200
        assert logged(officer, action="share", object_type="adversity").exists()

    def test_others_cannot_share_it(self, api, case, officer, teacher, school):
        rec = services.adversity_create(
            actor=actor(officer), case=case, code="sexual_abuse", source="disclosed", sensitive=True,
            shared_with=[school],
        )  # fmt: skip
        response = api(teacher).post(
            f"/api/v1/adversities/{rec.id}/shares", {"partner": "vru"}, format="json"
        )
        assert response.status_code == 403
        assert logged(teacher, action="share", allowed=False).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [1, 5, 20])
def test_list_queries_are_constant(
    api, case, officer, teacher, school, page_size, django_assert_max_num_queries
):
    for n in range(10):
        services.adversity_create(
            actor=actor(officer), case=case, code="poverty", source="observed", sensitive=n % 2 == 0,
            shared_with=[school] if n % 2 == 0 else [],
        )  # fmt: skip
    with django_assert_max_num_queries(13):
        response = api(teacher).get(
            f"/api/v1/cases/{case.id}/adversities", {"page_size": page_size}
        )
    assert len(response.json()["results"]) == min(page_size, 10)
