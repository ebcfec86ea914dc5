"""Eligibility is evaluated from the person, the case and the details, and explained rule by rule;
checking eligibility refuses (409) what fails unless a coordinator overrides it with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps

from programmes.eligibility import age_on, evaluate
from programmes.models import EnrolmentTransition
from tests.factories import actor
from tests.programmes.conftest import DIVERT_CUSTODY, share, years_ago

pytestmark = pytest.mark.django_db

DIVERT_RULES = {
    "age": {"min": 18, "max": 25},
    "cohort": {"field": "cohort", "allowed": ["custody", "care_leaver", "ae"]},
}


class Person:
    def __init__(self, dob, approximate=False):
        self.date_of_birth = dob
        self.date_of_birth_approximate = approximate


def rules_of(result):
    return {r["rule"]: (r["outcome"], r["explanation"]) for r in result["rules"]}


def record_adversity(case, code, partner):
    model = apps.get_model("casework", "AdversityRecord")
    return model.objects.create(case=case, code=code, source="disclosed", partner=partner)


class TestAge:
    def test_age_counts_whole_years_on_the_day(self):
        assert age_on(date(2000, 6, 15), date(2018, 6, 14)) == 17
        assert age_on(date(2000, 6, 15), date(2018, 6, 15)) == 18
        assert age_on(None, date(2018, 6, 15)) is None

    def test_inside_the_band_is_met(self):
        result = evaluate(
            DIVERT_RULES,
            actor=None,
            person=Person(date(2004, 11, 20)),
            case=None,
            details={"cohort": "custody"},
            on=date(2026, 11, 27),
        )
        assert result["eligible"] is True
        assert result["summary"] == "Eligible: every rule is met."
        assert rules_of(result) == {
            "age": ("met", "Aged 22 at referral, which is within the age band 18–25."),
            "cohort": ("met", "Cohort 'custody' is one this programme accepts."),
        }

    def test_outside_the_band_is_not_met_and_says_so(self):
        result = evaluate(
            DIVERT_RULES,
            actor=None,
            person=Person(date(2010, 3, 14), approximate=True),
            case=None,
            details={"cohort": "custody"},
            on=date(2026, 11, 27),
        )
        assert result["eligible"] is False
        assert rules_of(result)["age"] == (
            "not_met",
            "Aged 16 at referral (date of birth approximate), which is outside the age band 18–25.",
        )

    def test_no_date_of_birth_is_unknown_and_leaves_it_undecided(self):
        result = evaluate(
            DIVERT_RULES,
            actor=None,
            person=Person(None),
            case=None,
            details={"cohort": "ae"},
            on=date.today(),
        )
        assert result["eligible"] is None
        assert rules_of(result)["age"] == (
            "unknown",
            "No date of birth is recorded; the programme is for ages 18–25.",
        )

    def test_an_open_ended_band(self):
        result = evaluate(
            {"age": {"max": 17}}, actor=None, person=Person(date(2014, 1, 9)), case=None, details={},
            on=date(2026, 1, 9),
        )  # fmt: skip
        assert rules_of(result)["age"] == (
            "met",
            "Aged 12 at referral, which is within the age band 17 or under.",
        )


class TestCohort:
    def test_a_cohort_not_accepted_is_not_met(self):
        result = evaluate(
            DIVERT_RULES,
            actor=None,
            person=Person(date(2004, 1, 1)),
            case=None,
            details={"cohort": "school"},
            on=date(2026, 1, 9),
        )
        assert rules_of(result)["cohort"] == (
            "not_met",
            "Cohort 'school' is not one this programme accepts (custody, care_leaver, ae).",
        )

    def test_a_missing_cohort_is_unknown(self):
        result = evaluate(
            DIVERT_RULES, actor=None, person=Person(date(2004, 1, 1)), case=None, details={},
            on=date(2026, 1, 9),
        )  # fmt: skip
        assert rules_of(result)["cohort"][0] == "unknown"


class TestAdversities:
    RULES = {"adversities": {"codes": ["parental_incarceration"], "match": "all"}}

    @pytest.fixture
    def lead(self, officer):
        """Adversities are read as the acting user sees them: here, the lead partner's officer."""
        return actor(officer)

    def test_no_records_do_not_meet_the_rule(self, lead, case):
        result = evaluate(self.RULES, actor=lead, person=Person(None), case=case, details={})
        assert result["eligible"] is False
        assert rules_of(result)["adversities"] == (
            "not_met",
            "Not recorded on the case in the records you can see: parental_incarceration "
            "(required).",
        )

    def test_a_recorded_adversity_meets_it(self, lead, case, police):
        record_adversity(case, "parental_incarceration", police)
        result = evaluate(self.RULES, actor=lead, person=Person(None), case=case, details={})
        assert result["eligible"] is True
        assert rules_of(result)["adversities"] == (
            "met",
            "Recorded on the case: parental_incarceration.",
        )

    def test_records_on_another_case_do_not_count(self, lead, case, make_case, police):
        record_adversity(make_case(given_name="Other"), "parental_incarceration", police)
        result = evaluate(self.RULES, actor=lead, person=Person(None), case=case, details={})
        assert result["eligible"] is False

    def test_any_of_several(self, lead, case, police):
        rules = {"adversities": {"codes": ["bereavement", "bullying"], "match": "any"}}
        assert (
            evaluate(rules, actor=lead, person=Person(None), case=case, details={})["eligible"]
            is False
        )
        record_adversity(case, "bullying", police)
        result = evaluate(rules, actor=lead, person=Person(None), case=case, details={})
        assert rules_of(result)["adversities"] == (
            "met",
            "Recorded on the case: bullying (one of bereavement, bullying is needed).",
        )

    def test_all_of_several_names_the_missing(self, lead, case, police):
        rules = {"adversities": {"codes": ["bereavement", "bullying"]}}
        record_adversity(case, "bullying", police)
        result = evaluate(rules, actor=lead, person=Person(None), case=case, details={})
        assert rules_of(result)["adversities"] == (
            "not_met",
            "Not recorded on the case in the records you can see: bereavement (all of "
            "bereavement, bullying are needed).",
        )

    def test_no_rules_is_eligible(self):
        result = evaluate({}, actor=None, person=Person(None), case=None, details={})
        assert result == {
            "eligible": True,
            "summary": "Eligible: the programme has no rules.",
            "evaluated_on": result["evaluated_on"],
            "checked_at": result["checked_at"],
            "rules": [],
        }


class TestCheckingEligibility:
    """The coordinator's move to eligibility_checked re-evaluates and explains."""

    def url(self, enrolment):
        return f"/api/v1/enrolments/{enrolment.pk}/transitions"

    def test_an_eligible_referral_is_checked(self, api, coordinator, divert, refer, case):
        enrolment = refer(divert, case)
        response = api(coordinator).post(
            self.url(enrolment), {"to": "eligibility_checked"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "eligibility_checked"
        assert response.json()["eligibility"]["eligible"] is True

    def test_an_ineligible_referral_is_refused_with_the_failing_rule(
        self, api, coordinator, divert, refer, make_case
    ):
        enrolment = refer(divert, make_case(dob=years_ago(16)))
        response = api(coordinator).post(
            self.url(enrolment), {"to": "eligibility_checked"}, format="json"
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "not_eligible"
        assert "Aged 16 at referral, which is outside the age band 18–25." in error["message"]

    def test_a_coordinator_can_override_with_a_reason_which_is_kept(
        self, api, coordinator, divert, refer, make_case
    ):
        enrolment = refer(divert, make_case(dob=years_ago(26)))
        client = api(coordinator)
        without_reason = client.post(
            self.url(enrolment),
            {"to": "eligibility_checked", "override_eligibility": True},
            format="json",
        )
        assert without_reason.status_code == 400
        assert "reason" in without_reason.json()["error"]["fields"]
        response = client.post(
            self.url(enrolment),
            {
                "to": "eligibility_checked",
                "override_eligibility": True,
                "reason": "Turned 26 last week; the custody approach was before that.",
            },
            format="json",
        )
        assert response.status_code == 200
        last = EnrolmentTransition.objects.filter(enrolment=enrolment).last()
        assert last.detail == {"override_eligibility": True}
        assert last.reason.startswith("Turned 26")

    def test_adversities_recorded_after_referral_count_at_the_check(
        self, api, coordinator, invisible_walls, refer, make_case, police, officer, vru
    ):
        case = make_case(dob=years_ago(9))
        # The coordinator reads adversities only on a case they can open (see
        # test_eligibility_visibility.py for one they cannot).
        share(case, vru, officer)
        details = {
            "prison": "HMP Northshire",
            "imprisoned_family_member": {"name": "Dan", "relationship": "father"},
        }
        enrolment = refer(invisible_walls, case, details)
        assert enrolment.eligibility["eligible"] is False  # as the referring officer saw it
        record_adversity(case, "parental_incarceration", police)
        response = api(coordinator).post(
            self.url(enrolment), {"to": "eligibility_checked"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["eligibility"]["eligible"] is True

    def test_the_referral_keeps_the_first_evaluation(self, divert, refer, case):
        enrolment = refer(divert, case, {**DIVERT_CUSTODY})
        assert enrolment.eligibility["eligible"] is True
        assert len(enrolment.eligibility["rules"]) == 2
