"""Referrals: subject matching on intake, a case in screening, the deadline and its follow-up;
joint screening recorded once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, Person
from casework import services
from casework.models import Referral
from followups.models import FollowUp
from tests import factories
from tests.casework.conftest import logged
from tests.factories import actor

NHS = "9434765919"


def refer(api, user, **data):
    data = {
        "person": {"given_name": "Kai", "family_name": "Thompson", "date_of_birth": "2011-05-23"},
        "concerns": ["missing_episode"],
        "description": "Reported missing overnight.",
        **data,
    }
    return api(user).post("/api/v1/referrals/", data, format="json")


@pytest.mark.django_db
class TestIntake:
    @pytest.mark.parametrize("urgency, hours", [("standard", 72), ("urgent", 24)])
    def test_it_opens_a_case_in_screening_with_a_deadline_and_a_follow_up(
        self, api, officer, police, urgency, hours, settings
    ):
        settings.SCREENING_DEADLINE_HOURS_STANDARD = 72
        settings.SCREENING_DEADLINE_HOURS_URGENT = 24
        response = refer(api, officer, urgency=urgency)
        assert response.status_code == 201, response.content
        body = response.json()
        referral = Referral.objects.get(pk=body["id"])
        assert referral.screening_due_at - referral.received_at == timedelta(hours=hours)
        case = Case.objects.get(pk=body["case"])
        assert case.status == "screening" and case.lead_partner == police
        assert body["intake"]["subject_found_by"] == "new person" and body["intake"]["case_opened"]
        assert body["status"] == "awaiting_screening" and body["screening"] is None
        followup = FollowUp.objects.get(kind="screening_deadline", subject_id=referral.pk)
        assert followup.due_at == referral.screening_due_at and followup.assignee_partner == police
        assert "Kai" not in followup.title
        assert logged(officer, action="create", object_type="referral").get().case_id == case.id

    def test_a_visible_identifier_match_links_the_person_and_their_live_case(
        self, api, make_case, officer, teacher, school
    ):
        case = make_case(share_with=[school])
        from cases.models import PersonIdentifier

        PersonIdentifier.objects.create(person=case.subject, scheme="nhs", value=NHS)
        response = refer(
            api, teacher,
            person={"given_name": "Jay", "family_name": "Clarke", "identifiers": [{"scheme": "nhs", "value": NHS}]},
        )  # fmt: skip
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["subject"] == str(case.subject_id) and body["case"] == str(case.id)
        assert body["intake"]["subject_found_by"] == "identifier"
        assert not body["intake"]["case_opened"]

    def test_a_referral_on_a_referred_case_the_actor_leads_moves_it_to_screening(
        self, api, make_case, officer
    ):
        case = make_case()
        response = refer(api, officer, person=None, subject=str(case.subject_id))
        assert response.status_code == 201, response.content
        case.refresh_from_db()
        assert case.status == "screening" and response.json()["case"] == str(case.id)

    def test_a_hidden_identifier_match_is_counted_never_shown_or_copied(
        self, api, make_case, outsider
    ):
        case = make_case()
        from cases.models import PersonIdentifier

        PersonIdentifier.objects.create(person=case.subject, scheme="nhs", value=NHS)
        response = refer(
            api, outsider,
            person={"given_name": "Jayden", "family_name": "Clarke", "date_of_birth": "2010-03-14",
                    "identifiers": [{"scheme": "nhs", "value": NHS}]},
        )  # fmt: skip
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["subject"] != str(case.subject_id) and body["case"] != str(case.id)
        assert body["intake"]["hidden_matches"] >= 1
        assert body["intake"]["withheld_identifiers"] == [f"nhs:{NHS}"]
        assert body["intake"]["possible_duplicates"] == []
        assert not Person.objects.get(pk=body["subject"]).identifiers.exists()

    def test_a_fuzzy_visible_match_is_offered_not_merged(self, api, make_case, officer):
        case = make_case()
        response = refer(
            api, officer,
            person={"given_name": "Jaydon", "family_name": "Clarke", "date_of_birth": "2010-03-14"},
        )  # fmt: skip
        body = response.json()
        assert body["subject"] != str(case.subject_id)
        assert [d["person"] for d in body["intake"]["possible_duplicates"]] == [
            str(case.subject_id)
        ]

    def test_a_repeated_source_reference_is_409(self, api, officer):
        assert refer(api, officer, source_reference="PPN-1").status_code == 201
        response = refer(api, officer, source_reference="PPN-1")
        assert (
            response.status_code == 409 and response.json()["error"]["code"] == "duplicate_referral"
        )
        assert Referral.objects.count() == 1

    @pytest.mark.parametrize(
        "payload, field, text",
        [
            ({"concerns": ["bad_vibes"]}, "concerns", "/api/v1/vocabularies/concerns"),
            ({"concerns": []}, "concerns", ""),
            ({"person": None}, "subject", ""),
            ({"person": None, "subject": "00000000-0000-0000-0000-000000000000"}, "subject", ""),
            ({"received_at": "2999-01-01T00:00:00Z"}, "received_at", ""),
            ({"urgency": "whenever"}, "urgency", ""),
        ],
    )
    def test_it_rejects_bad_input(self, api, officer, payload, field, text):
        response = refer(api, officer, **payload)
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert field in error["fields"] and text in error["message"]
        assert not Referral.objects.exists()

    @pytest.mark.parametrize("persona", ["coordinator", "auditor"])
    def test_coordinators_and_auditors_do_not_refer(self, api, coordinator, auditor, persona):
        assert (
            refer(api, {"coordinator": coordinator, "auditor": auditor}[persona]).status_code == 403
        )

    def test_a_partner_system_refers(self, api, police):
        response = refer(api, factories.client_token(police))
        assert response.status_code == 201 and response.json()["channel"] == "api"


@pytest.fixture
def referral(officer, school, agreement):
    intake = services.referral_create(
        actor=actor(officer), concerns=["domestic_abuse"], description="PPN",
        person={"given_name": "Amira", "family_name": "Hassan", "date_of_birth": date(2012, 7, 2)},
    )  # fmt: skip
    case_services.case_share(
        actor=actor(officer), case=intake.referral.case, partner=school,
        lawful_basis="public_task", reason="Joint screening",
    )  # fmt: skip
    return intake.referral


@pytest.mark.django_db
class TestVisibility:
    def test_the_source_partner_and_partners_on_the_case_see_it(
        self, api, referral, officer, teacher, outsider, auditor, coordinator
    ):
        for user, sees in (
            (officer, True),
            (teacher, True),
            (outsider, False),
            (auditor, False),
            (coordinator, False),
        ):
            listed = [r["id"] for r in api(user).get("/api/v1/referrals/").json()["results"]]
            assert (str(referral.id) in listed) is sees
            assert api(user).get(f"/api/v1/referrals/{referral.id}").status_code == (
                200 if sees else 404
            )
        assert logged(teacher, action="view", object_type="referral").exists()
        assert logged(outsider, action="view", object_type="referral", allowed=False).exists()

    def test_filters(self, api, referral, officer):
        client = api(officer)
        assert (
            len(
                client.get("/api/v1/referrals/", {"status": "awaiting_screening"}).json()["results"]
            )
            == 1
        )
        assert client.get("/api/v1/referrals/", {"status": "screened"}).json()["results"] == []
        assert client.get("/api/v1/referrals/", {"overdue": "true"}).json()["results"] == []
        assert (
            client.get("/api/v1/referrals/", {"updated_since": "2999-01-01T00:00:00Z"}).json()[
                "results"
            ]
            == []
        )

    @pytest.mark.parametrize("page_size", [1, 5, 20])
    def test_list_queries_are_constant(
        self, api, officer, agreement, page_size, django_assert_max_num_queries
    ):
        for n in range(8):
            intake = services.referral_create(
                actor=actor(officer), concerns=["neglect"], description="d",
                person={"given_name": f"Child{n}", "family_name": "Test"},
            )  # fmt: skip
            if n % 2:
                services.referral_screen(
                    actor=actor(officer),
                    referral=intake.referral,
                    outcome="early_help",
                    reasons="r",
                )
        # 14: the household children are read as the people the reader may see (2 queries).
        with django_assert_max_num_queries(14):
            response = api(officer).get("/api/v1/referrals/", {"page_size": page_size})
        assert len(response.json()["results"]) == min(page_size, 8)


@pytest.mark.django_db
class TestScreening:
    def screen(self, api, user, referral, **data):
        data = {"outcome": "early_help", "reasons": "Family agreed to early help.", **data}
        return api(user).post(f"/api/v1/referrals/{referral.id}/screening", data, format="json")

    def test_it_records_the_outcome_once_and_opens_the_case(self, api, referral, officer):
        response = self.screen(
            api, officer, referral, participants=["school"], participant_names="PC, DSL"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["outcome"] == "early_help" and sorted(body["participants"]) == [
            "police",
            "school",
        ]
        referral.refresh_from_db()
        assert referral.screened_at is not None
        assert referral.case.status == "open"
        assert FollowUp.objects.get(subject_id=referral.pk).status == "done"
        assert logged(officer, action="screen", object_type="referral").exists()
        again = self.screen(api, officer, referral)
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_screened"
        detail = api(officer).get(f"/api/v1/referrals/{referral.id}").json()
        assert detail["status"] == "screened" and detail["screening"]["outcome"] == "early_help"

    def test_no_further_action_closes_the_case(self, api, referral, officer):
        assert self.screen(api, officer, referral, outcome="no_further_action").status_code == 201
        referral.case.refresh_from_db()
        assert referral.case.status == "closed"
        assert referral.case.closure_reason == "no_further_action"

    def test_a_shared_partner_screens_jointly_and_the_lead_moves_the_case(
        self, api, referral, teacher
    ):
        assert self.screen(api, teacher, referral).status_code == 201
        referral.case.refresh_from_db()
        assert referral.case.status == "screening"  # the lead partner moves its own case on

    def test_an_unknown_outcome_points_at_the_vocabulary(self, api, referral, officer):
        response = self.screen(api, officer, referral, outcome="shrug")
        assert response.status_code == 400
        assert "/api/v1/vocabularies/screening-outcomes" in response.json()["error"]["message"]

    def test_participants_must_be_on_the_case(self, api, referral, officer, outsider_partner):
        response = self.screen(api, officer, referral, participants=["elsewhere"])
        assert response.status_code == 400 and "participants" in response.json()["error"]["fields"]

    @pytest.mark.parametrize(
        "persona, status", [("outsider", 404), ("auditor", 404), ("coordinator", 404)]
    )
    def test_people_off_the_case_cannot_screen(
        self, api, referral, outsider, auditor, coordinator, persona, status
    ):
        user = {"outsider": outsider, "auditor": auditor, "coordinator": coordinator}[persona]
        assert self.screen(api, user, referral).status_code == status
        referral.refresh_from_db()
        assert referral.screened_at is None

    def test_overdue_referrals_for_the_follow_up_jobs(self, referral):
        from casework.selectors import unscreened_overdue_referral_ids

        assert list(unscreened_overdue_referral_ids()) == []
        Referral.objects.filter(pk=referral.pk).update(
            screening_due_at=timezone.now() - timedelta(hours=1)
        )
        assert [row[0] for row in unscreened_overdue_referral_ids()] == [referral.pk]
