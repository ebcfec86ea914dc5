"""A programme referral asks the referrer only for the referrer's part; the programme's team
records its own part afterwards. Eligibility is shown before the referral is sent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AccessLog
from programmes import services
from programmes.config import at_referral, programme_fields
from programmes.models import Enrolment
from tests.web.conftest import ui_actor

pytestmark = pytest.mark.django_db


def _refer(client, case):
    return client.post(f"/cases/{case.pk}/programmes/divert/refer/", {
        "cohort": "custody", "custody_suite": "Northshire Central",
    })  # fmt: skip


class TestTheReferrersPart:
    def test_the_schema_at_referral_does_not_require_the_programmes_fields(self, divert):
        schema = divert.intake_schema
        # As a set: PostgreSQL's jsonb does not keep the order of an object's keys.
        assert set(programme_fields(schema)) == {
            "approached_at",
            "coach",
            "approach_outcome",
            "pathway",
        }
        assert at_referral(schema)["then"] == {"required": ["custody_suite"]}
        assert schema["then"] == {"required": ["custody_suite", "approached_at"]}  # untouched

    def test_a_referral_without_the_coachs_part_is_accepted(
        self, login, officer, young_case, divert
    ):
        assert _refer(login(officer), young_case).status_code == 302
        enrolment = Enrolment.objects.get()
        assert enrolment.details == {"cohort": "custody", "custody_suite": "Northshire Central"}

    def test_errors_come_all_at_once_naming_each_field(self, login, officer, young_case, divert):
        body = login(officer).post(f"/cases/{young_case.pk}/programmes/divert/refer/", {
            "arrested_at_day": "31", "arrested_at_month": "2", "arrested_at_year": "2026",
            "arrested_at_hour": "9",
        }).content.decode()  # fmt: skip
        assert "Select cohort" in body
        assert "Arrest time must include a minute" in body
        assert not Enrolment.objects.exists()


class TestEligibilityBeforeSending:
    def test_a_person_outside_the_age_band_is_told_before_sending(
        self, login, officer, case, divert
    ):
        # Jay is 16: DIVERT is for 18 to 25.
        page = login(officer).get(f"/cases/{case.pk}/programmes/divert/refer/").content.decode()
        assert "Not eligible: DIVERT custody coaching is for ages 18–25" in page
        assert "which is outside the age band 18–25" in page

    def test_an_eligible_age_is_shown_as_met(self, login, officer, young_case, divert):
        page = (
            login(officer).get(f"/cases/{young_case.pk}/programmes/divert/refer/").content.decode()
        )
        assert "Not eligible" not in page
        assert "Aged 20 at referral, which is within the age band 18–25" in page


class TestTheProgrammesPart:
    def _enrolment(self, officer, young_case, divert):
        return services.enrolment_create(
            actor=ui_actor(officer), programme=divert, person=young_case.subject,
            case=young_case, details={"cohort": "custody", "custody_suite": "Northshire Central"},
        )  # fmt: skip

    def test_the_coordinator_records_the_coach_and_the_approach(
        self, login, officer, coordinator, young_case, divert
    ):
        enrolment = self._enrolment(officer, young_case, divert)
        c = login(coordinator)
        page = c.get(f"/enrolments/{enrolment.pk}/").content.decode()
        missing = page.split("Still to be recorded by the programme: ", 1)[1].split(".", 1)[0]
        assert {"Approach time", "Coach"} <= set(missing.split(", "))
        url = f"/enrolments/{enrolment.pk}/programme-details/"
        form = c.get(url).content.decode()
        assert 'name="approached_at_day"' in form and "custody_suite" not in form
        response = c.post(url, {
            "version": enrolment.version, "coach": "Jay Campbell",
            "approached_at_day": "3", "approached_at_month": "11", "approached_at_year": "2026",
            "approached_at_hour": "21", "approached_at_minute": "40",
            "approach_outcome": "engaged",
        })  # fmt: skip
        assert response.status_code == 302
        enrolment.refresh_from_db()
        approached = timezone.localtime(
            timezone.datetime.fromisoformat(enrolment.details["approached_at"])
        )
        assert (approached.day, approached.hour, approached.minute) == (3, 21, 40)
        assert enrolment.details["coach"] == "Jay Campbell"
        assert enrolment.details["custody_suite"] == "Northshire Central"  # the referrer's, kept
        page = c.get(f"/enrolments/{enrolment.pk}/").content.decode()
        assert "Still to be recorded by the programme: Pathway." in page
        assert AccessLog.objects.filter(
            user=coordinator, action="update", object_id=str(enrolment.pk)
        ).exists()

    def test_a_stale_form_is_refused_and_nothing_is_lost(
        self, login, officer, coordinator, young_case, divert
    ):
        enrolment = self._enrolment(officer, young_case, divert)
        stale = enrolment.version
        services.enrolment_update(
            actor=ui_actor(coordinator), enrolment=enrolment, expected_version=stale,
            data={"details": {**enrolment.details, "coach": "Sam Ali"}},
        )  # fmt: skip
        body = login(coordinator).post(f"/enrolments/{enrolment.pk}/programme-details/", {
            "version": stale, "coach": "Jay Campbell",
        }).content.decode()  # fmt: skip
        assert "Someone else changed this referral" in body
        enrolment.refresh_from_db()
        assert enrolment.details["coach"] == "Sam Ali"

    def test_only_the_coordinators_record_it(
        self, login, officer, outsider, coordinator, young_case, divert
    ):
        enrolment = self._enrolment(officer, young_case, divert)
        url = f"/enrolments/{enrolment.pk}/programme-details/"
        assert login(officer).get(url).status_code == 403
        assert login(officer).post(url, {"version": 1, "coach": "X"}).status_code == 403
        assert login(outsider).get(url).status_code == 404
        enrolment.refresh_from_db()
        assert "coach" not in enrolment.details
