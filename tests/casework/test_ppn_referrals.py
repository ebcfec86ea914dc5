"""Police Protection Notice (PPN) details on a referral: the incident, who was present, what the
officer saw apart from the person's own words, and the children in the household (matched like any
person, never duplicated); urgency sets a new case's level of concern; the details are seen exactly
as the referral is."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, Person
from casework import services
from casework.models import Referral
from tests.casework.conftest import logged
from tests.factories import actor

PPN = {
    "incident_date": (timezone.localdate() - timedelta(days=3)).isoformat(),
    "incident_time": "21:30",
    "incident_place": "14 Mill Lane, Northshire",
    "occurrence_number": "NP-2026-0301-0456",
    "present": "Mother, her partner, two children",
    "officer_observations": "Broken door frame; mother had a red mark on her cheek.",
    "voice": '"I want him to leave and the kids to be safe."',
}


def refer(api, user, **data):
    body = {
        "person": {"given_name": "Dana", "family_name": "Wells", "date_of_birth": "1990-02-11"},
        "concerns": ["domestic_abuse"],
        "description": "Domestic incident attended.",
        **data,
    }
    return api(user).post("/api/v1/referrals/", body, format="json")


@pytest.fixture
def known_child(officer, agreement):
    """A child the police already recorded (a visible match for 'Leo Wells')."""
    return case_services.person_create(
        actor=actor(officer),
        data={"given_name": "Leo", "family_name": "Wells", "date_of_birth": date(2016, 7, 4)},
    )


@pytest.mark.django_db
class TestPpnFields:
    def test_a_police_referral_keeps_the_ppn_details_and_gives_them_back(
        self, api, officer, agreement
    ):
        response = refer(api, officer, **PPN, urgency="urgent")
        assert response.status_code == 201, response.content
        body = response.json()
        for name, value in PPN.items():
            assert body[name] == value
        referral = Referral.objects.get(pk=body["id"])
        assert referral.officer_observations != referral.voice
        got = api(officer).get(f"/api/v1/referrals/{referral.pk}").json()
        assert got["incident_time"] == "21:30" and got["voice"] == PPN["voice"]

    def test_other_partners_leave_them_out(self, api, teacher, agreement):
        response = refer(api, teacher)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["incident_date"] is None and body["incident_time"] is None
        assert body["occurrence_number"] == "" and body["household_children"] == []

    @pytest.mark.parametrize(
        "data, field",
        [
            ({"incident_date": (timezone.localdate() + timedelta(days=1)).isoformat()}, "incident_date"),
            ({"incident_date": PPN["incident_date"], "incident_time": "9.30pm"}, "incident_time"),
            ({"incident_date": PPN["incident_date"], "incident_time": "25:00"}, "incident_time"),
            ({"incident_time": "21:30"}, "incident_date"),
            ({"occurrence_number": "x" * 51}, "occurrence_number"),
        ],
    )  # fmt: skip
    def test_invalid_details_are_400_naming_the_field_and_nothing_is_written(
        self, api, officer, agreement, data, field
    ):
        response = refer(api, officer, **data)
        assert response.status_code == 400, response.content
        assert field in response.json()["error"]["fields"]
        assert not Referral.objects.exists() and not Person.objects.exists()

    def test_every_problem_is_reported_at_once_by_the_service(self, officer, agreement):
        from core.errors import ValidationFailed

        with pytest.raises(ValidationFailed) as raised:
            services.referral_create(
                actor=actor(officer), concerns=["domestic_abuse"], description="x",
                person={"given_name": "A", "family_name": "B"},
                ppn={"incident_date": timezone.localdate() + timedelta(days=2),
                     "incident_place": "x" * 201, "present": "y" * 5001},
            )  # fmt: skip
        assert set(raised.value.fields) == {"incident_date", "incident_place", "present"}

    def test_the_fields_are_in_the_openapi_document(self, api, officer):
        schema = api(officer).get("/api/schema/?format=json").json()
        props = schema["components"]["schemas"]["ReferralCreateRequest"]["properties"]
        for name in [*PPN, "household_children"]:
            assert name in props, name
        assert "Police Protection Notice" in props["incident_date"]["description"]


@pytest.mark.django_db
class TestUrgencySetsTheLevelOfConcern:
    @pytest.mark.parametrize("urgency, risk", [("urgent", "high"), ("standard", "medium")])
    def test_a_new_case_starts_at_the_urgency_s_level(self, api, officer, agreement, urgency, risk):
        body = refer(api, officer, urgency=urgency).json()
        assert body["intake"]["case_opened"]
        assert Case.objects.get(pk=body["case"]).risk_level == risk

    def test_a_referral_into_an_existing_case_leaves_its_level_alone(self, api, officer, make_case):
        case = make_case(risk_level="low")
        response = refer(api, officer, subject=str(case.subject_id), person=None, urgency="urgent")
        assert response.status_code == 201, response.content
        case.refresh_from_db()
        assert case.risk_level == "low"


@pytest.mark.django_db
class TestHouseholdChildren:
    def test_new_children_are_recorded_and_added_to_the_new_case_s_household(
        self, api, officer, agreement
    ):
        children = [
            {"given_name": "Mia", "family_name": "Wells", "date_of_birth": "2018-01-09"},
            {"given_name": "Ava", "family_name": "Wells"},
        ]
        body = refer(api, officer, household_children=children).json()
        case = Case.objects.get(pk=body["case"])
        assert [h["found_by"] for h in body["intake"]["household"]] == ["new person"] * 2
        assert body["intake"]["household_added"] is True
        assert set(body["household_children"]) == {str(p.pk) for p in case.household.all()}
        assert case.history.filter(reason="Named in a referral").count() == 2
        # The access log names the children by id, never by what they are called.
        log = logged(officer, action="create", object_type="person")
        assert log.filter(person_id__in=case.household.all()).count() >= 2
        assert "Mia" not in str(list(log.values()))

    def test_a_visible_match_is_offered_never_duplicated(
        self, api, officer, agreement, known_child
    ):
        child = {"given_name": "Leo", "family_name": "Wells", "date_of_birth": "2016-07-04"}
        response = refer(api, officer, household_children=[child])
        assert response.status_code == 409, response.content
        error = response.json()["error"]
        assert error["code"] == "household_match"
        assert str(known_child.pk) in error["fields"]["household_children.0"][0]
        assert not Referral.objects.exists()
        assert Person.objects.filter(given_name="Leo").count() == 1
        assert Person.objects.filter(given_name="Dana").count() == 0
        # The match shown is in the access log (it survives the refusal).
        assert (
            logged(officer, action="match", object_type="person")
            .filter(person_id=known_child.pk)
            .exists()
        )

    def test_the_offered_person_is_linked_or_a_new_one_recorded_when_asked(
        self, api, officer, agreement, known_child
    ):
        same = refer(api, officer, household_children=[{"person": str(known_child.pk)}])
        assert same.status_code == 201, same.content
        case = Case.objects.get(pk=same.json()["case"])
        assert list(case.household.all()) == [known_child]
        other = {
            "given_name": "Leo", "family_name": "Wells", "date_of_birth": "2016-07-04",
            "new_person": True,
        }  # fmt: skip
        again = refer(
            api, officer, subject=str(case.subject_id), person=None, household_children=[other]
        )
        assert again.status_code == 201, again.content
        assert again.json()["intake"]["household"][0]["found_by"] == "new person"
        assert Person.objects.filter(given_name="Leo").count() == 2

    def test_a_match_the_caller_cannot_see_is_neither_shown_nor_blocking(
        self, api, officer, outsider, agreement
    ):
        hidden = case_services.person_create(
            actor=actor(outsider),
            data={"given_name": "Leo", "family_name": "Wells", "date_of_birth": date(2016, 7, 4)},
        )
        child = {"given_name": "Leo", "family_name": "Wells", "date_of_birth": "2016-07-04"}
        response = refer(api, officer, household_children=[child])
        assert response.status_code == 201, response.content
        assert str(hidden.pk) not in response.content.decode()
        assert Person.objects.filter(given_name="Leo").count() == 2

    def test_a_person_the_caller_cannot_see_is_400(self, api, officer, outsider, agreement):
        hidden = case_services.person_create(
            actor=actor(outsider), data={"given_name": "Zed", "family_name": "Hidden"}
        )
        response = refer(api, officer, household_children=[{"person": str(hidden.pk)}])
        assert response.status_code == 400
        assert "household_children.0.person" in response.json()["error"]["fields"]

    def test_joining_another_partner_s_case_keeps_the_children_on_the_referral_only(
        self, api, teacher, officer, make_case, school
    ):
        case = make_case(share_with=[school])
        response = refer(
            api, teacher, subject=str(case.subject_id), person=None,
            household_children=[{"given_name": "Ava", "family_name": "Wells"}],
        )  # fmt: skip
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["case"] == str(case.pk) and body["intake"]["household_added"] is False
        assert len(body["household_children"]) == 1 and not case.household.exists()


@pytest.mark.django_db
class TestVisibility:
    def test_another_partner_sees_nothing_of_the_ppn(self, api, officer, outsider, agreement):
        body = refer(
            api, officer, **PPN, household_children=[{"given_name": "Mia", "family_name": "Wells"}]
        ).json()
        assert api(outsider).get(f"/api/v1/referrals/{body['id']}").status_code == 404
        listed = api(outsider).get("/api/v1/referrals/").json()["results"]
        assert listed == []
        child = body["household_children"][0]
        assert api(outsider).get(f"/api/v1/people/{child}").status_code == 404
        assert (
            logged(outsider, object_type="referral", allowed=False)
            .filter(object_id=body["id"])
            .exists()
        )

    def test_a_partner_on_the_case_sees_them_and_the_read_is_logged(
        self, api, officer, teacher, school, agreement
    ):
        body = refer(api, officer, **PPN).json()
        case = Case.objects.get(pk=body["case"])
        case_services.case_share(
            actor=actor(officer), case=case, partner=school, lawful_basis="public_task",
            reason="Joint screening",
        )  # fmt: skip
        got = api(teacher).get(f"/api/v1/referrals/{body['id']}").json()
        assert got["officer_observations"] == PPN["officer_observations"]
        assert (
            logged(teacher, action="view", object_type="referral")
            .filter(object_id=body["id"])
            .exists()
        )

    def test_a_child_the_reader_cannot_see_is_left_out_of_the_referral(
        self, api, teacher, officer, make_case, school
    ):
        """The school's child is on its referral only (the police lead the case): the police read
        the referral without learning the child's id."""
        case = make_case(share_with=[school])
        body = refer(
            api, teacher, subject=str(case.subject_id), person=None,
            household_children=[{"given_name": "Ava", "family_name": "Wells"}],
        ).json()  # fmt: skip
        assert len(body["household_children"]) == 1
        got = api(officer).get(f"/api/v1/referrals/{body['id']}").json()
        assert got["household_children"] == []
        listed = api(officer).get("/api/v1/referrals/").json()["results"]
        assert [r["household_children"] for r in listed if r["id"] == body["id"]] == [[]]
