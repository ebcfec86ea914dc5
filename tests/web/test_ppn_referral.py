"""The web referral form with PPN details: all errors at once, "same person" keeps what was typed and
joins the open case, children matched before saving; the case summary changed with history; other
partners see none of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases import services as case_services
from cases.models import Case, CaseHistory, Person
from casework.models import Referral
from tests.factories import ui_actor

YESTERDAY = timezone.localdate() - timedelta(days=1)
REFERRAL = {
    "given_name": "Dana", "family_name": "Wells",
    "date_of_birth_day": "11", "date_of_birth_month": "2", "date_of_birth_year": "1990",
    "concerns": ["domestic_abuse"], "description": "Domestic incident attended.",
    "urgency": "urgent", "voice": "I want the kids to be safe.",
    "incident_date_day": str(YESTERDAY.day), "incident_date_month": str(YESTERDAY.month),
    "incident_date_year": str(YESTERDAY.year), "incident_time_hour": "21",
    "incident_time_minute": "05", "incident_place": "14 Mill Lane",
    "occurrence_number": "NP-0456", "present": "Mother, partner, two children",
    "officer_observations": "Broken door frame.",
}  # fmt: skip


@pytest.mark.django_db
class TestPpnForm:
    def test_it_saves_the_ppn_and_the_children(self, login, officer, agreement):
        response = login(officer).post(
            "/referrals/new/",
            {**REFERRAL, "child_1_given_name": "Mia", "child_1_family_name": "Wells"},
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        referral = Referral.objects.get()
        assert referral.incident_time.strftime("%H:%M") == "21:05"
        assert referral.voice == "I want the kids to be safe."
        assert referral.case.risk_level == "high"
        assert [p.given_name for p in referral.case.household.all()] == ["Mia"]
        page = login(officer).get(f"/cases/{referral.case_id}/").content.decode()
        assert "NP-0456" in page and "In their own words" in page and "Mia Wells" in page

    def test_every_error_is_in_the_summary_at_once_naming_its_field(
        self, login, officer, agreement
    ):
        tomorrow = timezone.localdate() + timedelta(days=1)
        body = login(officer).post("/referrals/new/", {
            **REFERRAL, "description": "",
            "incident_date_day": str(tomorrow.day), "incident_date_month": str(tomorrow.month),
            "incident_date_year": str(tomorrow.year), "incident_time_minute": "",
            "child_1_given_name": "Mia",
        }).content.decode()  # fmt: skip
        start = body.index('class="govuk-error-summary"')
        summary = body[start : body.index("</ul>", start)]
        assert "Describe what has happened" in summary
        assert "The date of the incident must be today or in the past" in summary
        assert "The time of the incident must include a minute" in summary
        assert "Enter child 1&#x27;s last name" in summary or "Enter child 1's last name" in summary
        assert 'href="#id_incident_time_hour"' in summary
        assert not Referral.objects.exists()


@pytest.mark.django_db
class TestSamePerson:
    def test_same_person_keeps_what_was_typed_and_joins_the_open_case(self, login, officer, case):
        typed = {
            **REFERRAL, "given_name": "Jayden", "family_name": "Clarke",
            "date_of_birth_day": "14", "date_of_birth_month": "3", "date_of_birth_year": "2010",
            "pronouns": "they/them",
        }  # fmt: skip
        body = login(officer).post("/referrals/new/", typed).content.decode()
        assert 'name="same_person"' in body and not Referral.objects.exists()
        response = login(officer).post(
            "/referrals/new/", {**typed, "same_person": str(case.subject_id)}
        )
        assert response.status_code == 302
        referral = Referral.objects.get()
        assert referral.case == case and Case.objects.count() == 1
        assert referral.subject_details["pronouns"] == "they/them"
        assert referral.occurrence_number == "NP-0456"

    def test_a_child_with_a_visible_match_is_asked_about_then_linked(
        self, login, officer, agreement
    ):
        known = case_services.person_create(
            actor=ui_actor(officer),
            data={"given_name": "Leo", "family_name": "Wells", "date_of_birth": date(2016, 7, 4)},
        )
        child = {
            "child_1_given_name": "Leo", "child_1_family_name": "Wells",
            "child_1_date_of_birth_day": "4", "child_1_date_of_birth_month": "7",
            "child_1_date_of_birth_year": "2016",
        }  # fmt: skip
        body = login(officer).post("/referrals/new/", {**REFERRAL, **child}).content.decode()
        assert "Is Leo Wells someone already known?" in body and not Referral.objects.exists()
        response = login(officer).post(
            "/referrals/new/", {**REFERRAL, **child, "child_1_person": str(known.pk)}
        )
        assert response.status_code == 302
        assert list(Referral.objects.get().case.household.all()) == [known]
        assert Person.objects.filter(given_name="Leo").count() == 1


@pytest.mark.django_db
class TestVisibility:
    def test_another_partner_gets_404_and_sees_no_ppn(self, login, officer, outsider, agreement):
        login(officer).post(
            "/referrals/new/",
            {**REFERRAL, "child_1_given_name": "Mia", "child_1_family_name": "Wells"},
        )
        referral = Referral.objects.get()
        client = login(outsider)
        assert client.get(f"/cases/{referral.case_id}/").status_code == 404
        assert client.get(f"/cases/{referral.case_id}/summary/").status_code == 404
        assert client.get(f"/referrals/{referral.pk}/screen/").status_code == 404
        for path in ("/", "/cases/"):
            page = client.get(path).content.decode()
            assert "NP-0456" not in page and "Mill Lane" not in page
        assert AccessLog.objects.filter(user=outsider, allowed=False).exists()


@pytest.mark.django_db
class TestSummary:
    def test_the_lead_changes_the_summary_after_screening_and_it_is_in_history(
        self, login, officer, case
    ):
        case_services.case_transition(
            actor=ui_actor(officer), case=case, to="open", reason="Screened jointly"
        )
        case.refresh_from_db()
        page = login(officer).get(f"/cases/{case.pk}/").content.decode()
        assert f"/cases/{case.pk}/summary/" in page
        response = login(officer).post(f"/cases/{case.pk}/summary/", {
            "version": case.version, "summary": "Now engaging with the youth worker.",
            "reason": "Updated after joint screening",
        })  # fmt: skip
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.summary == "Now engaging with the youth worker."
        history = CaseHistory.objects.filter(case=case).latest("version")
        assert history.changes["summary"][0].startswith("Seen with older youths")
        assert history.reason == "Updated after joint screening"
        again = login(officer).get(f"/cases/{case.pk}/summary/").content.decode()
        assert "Earlier summaries" in again and "Seen with older youths" in again
        assert AccessLog.objects.filter(user=officer, action="update", case_id=case.pk).exists()

    def test_a_partner_the_case_is_shared_with_cannot_change_it(self, login, teacher, case):
        page = login(teacher).get(f"/cases/{case.pk}/").content.decode()
        assert f"/cases/{case.pk}/summary/" not in page
        assert login(teacher).get(f"/cases/{case.pk}/summary/").status_code in (403, 404)
        response = login(teacher).post(f"/cases/{case.pk}/summary/", {
            "version": case.version, "summary": "Changed", "reason": "x",
        })  # fmt: skip
        assert response.status_code in (403, 404)
        case.refresh_from_db()
        assert case.summary.startswith("Seen with older youths")

    def test_a_stale_version_keeps_the_words_and_changes_nothing(self, login, officer, case):
        response = login(officer).post(f"/cases/{case.pk}/summary/", {
            "version": case.version - 1 if case.version > 1 else 99, "summary": "Mine",
            "reason": "x",
        })  # fmt: skip
        assert response.status_code == 200 and "Someone else changed this case" in (
            response.content.decode()
        )
