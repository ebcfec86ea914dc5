"""The forms: each calls the domain's service, shows its errors on the field, and is access-logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases.models import Case, Share
from casework.models import AdversityRecord, ChronologyEntry, Referral
from programmes.models import Enrolment
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db

REFERRAL = {
    "given_name": "Morgan", "family_name": "Reed", "date_of_birth_day": "1",
    "date_of_birth_month": "5", "date_of_birth_year": "2009", "pronouns": "they/them",
    "concerns": ["weapon_carrying", "county_lines"], "description": "Found with a knife at the bus station.",
    "urgency": "urgent", "identifier_scheme": "", "identifier_value": "",
}  # fmt: skip


class TestReferral:
    def test_it_shows_matches_it_cannot_reveal_as_a_count_before_saving(
        self, login, officer, agreement, hidden_case
    ):
        c = login(officer)
        response = c.post("/referrals/new/", REFERRAL)
        body = response.content.decode()
        assert response.status_code == 200
        assert "This person may already be known" in body
        assert "1 possible match held by other partners" in body
        assert hidden_case.reference not in body and "Private" not in body
        assert not Referral.objects.filter(source_partner__slug="police").exists()

        response = c.post("/referrals/new/", {**REFERRAL, "confirm_new": "on"})
        referral = Referral.objects.get(source_partner__slug="police")
        assert response.status_code == 302 and response.url == f"/cases/{referral.case_id}/"
        assert referral.urgency == "urgent" and referral.channel == "ui"
        assert sorted(referral.concerns) == ["county_lines", "weapon_carrying"]
        assert referral.case.status == "screening" and referral.case.subject.pronouns == "they/them"

    def test_a_visible_match_is_offered_instead_of_a_new_record(self, login, officer, case):
        body = login(officer).post("/referrals/new/", {
            **REFERRAL, "given_name": "Jayden", "family_name": "Clarke",
            "date_of_birth_day": "14", "date_of_birth_month": "3", "date_of_birth_year": "2010",
        }).content.decode()  # fmt: skip
        assert "Jay Clarke" in body and f"Open case {case.reference}" in body
        # "Same person" saves what was typed for the matched record (tests/web/test_ppn_referral.py).
        assert f'name="same_person" value="{case.subject_id}"' in body

    def test_no_match_saves_straight_away(self, login, officer, agreement):
        response = login(officer).post("/referrals/new/", REFERRAL)
        assert response.status_code == 302

    def test_errors_are_summarised_and_linked_to_their_fields(self, login, officer):
        body = login(officer).post("/referrals/new/", {
            **REFERRAL, "given_name": "", "concerns": [], "date_of_birth_month": "13",
            "identifier_scheme": "nhs", "identifier_value": "1234567890",
        }).content.decode()  # fmt: skip
        assert "There is a problem" in body
        assert 'href="#id_given_name"' in body and "Enter their first name" in body
        assert 'href="#id_concerns_0"' in body
        assert 'href="#id_date_of_birth_day"' in body and "must be a real date" in body

    def test_an_invalid_identifier_is_shown_on_its_field(self, login, officer, agreement):
        body = login(officer).post("/referrals/new/", {
            **REFERRAL, "identifier_scheme": "nhs", "identifier_value": "1234567890", "confirm_new": "on",
        }).content.decode()  # fmt: skip
        assert 'href="#id_identifier_value"' in body and "check digit" in body

    def test_a_referral_about_a_known_person_asks_nothing_about_them(self, login, officer, case):
        c = login(officer)
        page = c.get(f"/people/{case.subject_id}/new-referral/").content.decode()
        assert "do not need to enter their details again" in page
        response = c.post(f"/people/{case.subject_id}/new-referral/", {
            "concerns": ["missing_episode"], "description": "Missing overnight", "urgency": "standard",
        })  # fmt: skip
        assert response.status_code == 302
        assert Referral.objects.get().case_id == case.pk


class TestSharing:
    def test_the_lead_shares_and_ends_a_share(self, login, officer, case, vru):
        c = login(officer)
        response = c.post(f"/cases/{case.pk}/share/", {
            "partner": "vru", "lawful_basis": "public_task", "reason": "Programme intake",
        })  # fmt: skip
        assert response.status_code == 302
        assert Share.objects.filter(case=case, partner=vru, revoked_at__isnull=True).exists()
        response = c.post(f"/cases/{case.pk}/shares/vru/end/", {"reason": "Not needed"})
        assert response.status_code == 302
        assert not Share.objects.filter(case=case, partner=vru, revoked_at__isnull=True).exists()

    def test_each_partner_offered_names_the_agreement_the_share_relies_on(
        self, login, officer, case, vru, agreement
    ):
        c = login(officer)
        body = c.get(f"/cases/{case.pk}/share/").content.decode()
        assert "Under the data sharing agreement “Test partnership agreement”" in body
        response = c.post(f"/cases/{case.pk}/share/", {
            "partner": "vru", "lawful_basis": "public_task", "reason": "Programme intake",
        }, follow=True)  # fmt: skip
        body = response.content.decode()
        assert "under the data sharing agreement “Test partnership agreement”" in body
        assert Share.objects.get(case=case, partner=vru, revoked_at__isnull=True).agreement == (
            agreement
        )

    def test_a_partner_with_no_agreement_in_force_is_not_offered_and_we_say_why(
        self, login, officer, case, vru, police
    ):
        from cases.models import AgreementStatus, DataSharingAgreement
        from tests import factories

        health = factories.make_partner("health", sector="health", name="Health Trust")
        ended = DataSharingAgreement.objects.create(
            name="Old health agreement", review_date=timezone.localdate() + timedelta(days=30),
            starts_on=timezone.localdate() - timedelta(days=400),
            ends_on=timezone.localdate() - timedelta(days=2), status=AgreementStatus.ENDED,
        )  # fmt: skip
        ended.parties.set([police, health])
        factories.make_partner("housing", sector="housing", name="Housing Association")
        c = login(officer)
        body = c.get(f"/cases/{case.pk}/share/").content.decode()
        assert 'value="health"' not in body and 'value="housing"' not in body
        assert "Health Trust: the agreement “Old health agreement” ended on" in body
        assert "Housing Association: no data sharing agreement names both partners" in body
        response = c.post(f"/cases/{case.pk}/share/", {
            "partner": "health", "lawful_basis": "public_task", "reason": "x",
        })  # fmt: skip
        assert "Select a valid choice" in response.content.decode()
        assert not Share.objects.filter(partner=health).exists()

    def test_sharing_needs_a_reason_and_a_basis(self, login, officer, case):
        body = login(officer).post(f"/cases/{case.pk}/share/", {"partner": "vru"}).content.decode()
        assert "Say why you are sharing this case" in body and "Select the lawful basis" in body

    def test_a_shared_partner_cannot_share(self, login, teacher, case):
        response = login(teacher).post(f"/cases/{case.pk}/share/", {
            "partner": "vru", "lawful_basis": "public_task", "reason": "x",
        })  # fmt: skip
        assert response.status_code == 403
        assert AccessLog.objects.filter(user=teacher, allowed=False, case_id=None).exists()


class TestCaseChanges:
    def test_status_moves_along_the_workflow_with_a_closure_reason(self, login, officer, case):
        c = login(officer)
        body = c.post(f"/cases/{case.pk}/status/", {"to": "closed"}).content.decode()
        assert "Select why the case is closing" in body
        response = c.post(
            f"/cases/{case.pk}/status/", {"to": "closed", "closure_reason": "moved_away"}
        )
        assert response.status_code == 302
        assert Case.objects.get(pk=case.pk).status == "closed"

    def test_the_persons_voice_is_saved_and_a_stale_form_keeps_their_words(
        self, login, officer, case
    ):
        c = login(officer)
        c.post(
            f"/cases/{case.pk}/voice/",
            {"version": case.version, "goals": "Get an apprenticeship", "what_matters": "My nan"},
        )
        assert Case.objects.get(pk=case.pk).goals == "Get an apprenticeship"
        body = c.post(
            f"/cases/{case.pk}/voice/",
            {"version": case.version, "goals": "Something else", "what_matters": ""},
        ).content.decode()
        assert "Someone else changed this case" in body and "Something else" in body


class TestCasework:
    def test_entries_are_added_with_a_visibility(self, login, officer, teacher, case):
        c = login(officer)
        # Yesterday: 10:15 today may still be in the future when the suite runs.
        today = timezone.localdate() - timedelta(days=1)
        response = c.post(f"/cases/{case.pk}/entries/new/", {
            "kind": "visit", "occurred_on_day": today.day, "occurred_on_month": today.month,
            "occurred_on_year": today.year, "occurred_time": "10:15", "body": "Home visit, mum present.",
            "visibility": "partner",
        })  # fmt: skip
        assert response.status_code == 302
        entry = ChronologyEntry.objects.get()
        assert entry.visibility == "partner" and entry.occurred_at.hour == 10
        assert "Home visit, mum present." in c.get(f"/cases/{case.pk}/").content.decode()
        # The school sees the case, but not an entry kept to the police.
        assert "Home visit" not in login(teacher).get(f"/cases/{case.pk}/").content.decode()

    def test_named_entries_need_names(self, login, officer, case):
        today = timezone.localdate()
        body = login(officer).post(f"/cases/{case.pk}/entries/new/", {
            "kind": "disclosure", "occurred_on_day": today.day, "occurred_on_month": today.month,
            "occurred_on_year": today.year, "body": "Said something.", "visibility": "named",
        }).content.decode()  # fmt: skip
        assert "Select at least one person to name" in body

    def test_a_sensitive_adversity_is_marked_and_kept_to_the_recording_partner(
        self, login, officer, teacher, case
    ):
        c = login(teacher)
        c.post(f"/cases/{case.pk}/adversities/new/", {
            "code": "domestic_violence", "source": "disclosed", "sensitive": "on", "note": "Told me at school",
        })  # fmt: skip
        record = AdversityRecord.objects.get()
        assert record.sensitive
        page = c.get(f"/cases/{case.pk}/").content.decode()
        assert "Domestic violence" in page and "Sensitive" in page
        assert "Told me at school" not in login(officer).get(f"/cases/{case.pk}/").content.decode()

    def test_actions_are_added_and_marked_done(self, login, officer, case):
        c = login(officer)
        due = timezone.localdate()
        c.post(f"/cases/{case.pk}/actions/new/", {
            "title": "Call the school", "due_date_day": due.day, "due_date_month": due.month,
            "due_date_year": due.year, "owner": str(officer.pk),
        })  # fmt: skip
        from casework.models import Action

        action = Action.objects.get()
        assert "Call the school" in c.get("/").content.decode()  # on My work: actions due
        c.post(f"/actions/{action.pk}/status/", {"status": "done", "version": action.version})
        assert Action.objects.get().status == "done"

    def test_joint_screening_is_recorded_with_the_other_partner(self, login, officer, case, school):
        from casework.services import referral_create

        intake = referral_create(
            actor=ui_actor(officer), concerns=["gang_association"], description="Seen with a gang",
            subject=case.subject,
        )  # fmt: skip
        c = login(officer)
        assert b"Record joint screening" in c.get(f"/cases/{case.pk}/").content
        response = c.post(f"/referrals/{intake.referral.pk}/screen/", {
            "outcome": "early_help", "reasons": "Agreed with the DSL", "participants": ["school"],
            "early_help_partner": "school",
        })  # fmt: skip
        assert response.status_code == 302
        screening = Referral.objects.get().screening
        assert {p.slug for p in screening.participants.all()} == {"police", "school"}
        assert screening.early_help_partner.slug == "school" and screening.early_help_action
        assert "Agreed with the DSL" in c.get(f"/cases/{case.pk}/").content.decode()

    def test_the_screening_queue_shows_the_deadlines(self, login, officer, sergeant, case):
        from casework.services import referral_create

        referral_create(
            actor=ui_actor(officer),
            concerns=["neglect"],
            description="x",
            subject=case.subject,
            urgency="urgent",
        )
        body = login(sergeant).get("/manager/screening/").content.decode()
        assert "Jay Clarke" in body and "Urgent" in body


class TestProgrammes:
    def test_a_practitioner_refers_to_divert_and_the_coordinator_enrols(
        self, login, officer, coordinator, young_case, divert
    ):
        c = login(officer)
        form = c.get(f"/cases/{young_case.pk}/programmes/divert/refer/").content.decode()
        # The referrer's part only: the approach is the coach's to record. Times use the
        # GOV.UK date-input pattern.
        assert "Cohort" in form and 'name="arrested_at_day"' in form
        assert 'name="arrested_at_hour"' in form and "approached_at" not in form
        assert "datetime-local" not in form
        body = c.post(
            f"/cases/{young_case.pk}/programmes/divert/refer/", {"cohort": "custody"}
        ).content.decode()
        assert "There is a problem" in body  # custody needs the suite
        response = c.post(f"/cases/{young_case.pk}/programmes/divert/refer/", {
            "cohort": "custody", "custody_suite": "Northshire Central",
            "arrested_at_day": "5", "arrested_at_month": "1", "arrested_at_year": "2026",
            "arrested_at_hour": "02", "arrested_at_minute": "15",
        })  # fmt: skip
        assert response.status_code == 302
        enrolment = Enrolment.objects.get()

        k = login(coordinator)
        board = k.get("/programmes/divert/intake/").content.decode()
        assert "Tyler Brooks" in board and "Eligible" in board
        for to in ["eligibility_checked", "waitlisted"]:
            enrolment.refresh_from_db()
            assert (
                k.post(
                    f"/enrolments/{enrolment.pk}/", {"to": to, "version": enrolment.version}
                ).status_code
                == 302
            )
        assert "On the waiting list (1)" in k.get("/programmes/divert/intake/").content.decode()
        k.post("/programmes/divert/offer-next/")
        enrolment.refresh_from_db()
        assert enrolment.status == "offered"
        k.post(f"/enrolments/{enrolment.pk}/", {"to": "enrolled", "version": enrolment.version})
        enrolment.refresh_from_db()
        assert enrolment.status == "enrolled"
        assert AccessLog.objects.filter(
            user=coordinator, action="list_intake", channel="ui"
        ).exists()

    def test_declining_needs_a_reason(self, login, officer, coordinator, young_case, divert):
        from programmes import services

        e = services.enrolment_create(
            actor=ui_actor(officer),
            programme=divert,
            person=young_case.subject,
            case=young_case,
            details={"cohort": "ae"},
        )
        body = (
            login(coordinator)
            .post(f"/enrolments/{e.pk}/", {"to": "declined", "version": e.version})
            .content.decode()
        )
        assert "Say why the enrolment is declined" in body


class TestAccessLog:
    def test_opening_a_case_is_logged_like_the_api(self, login, teacher, case):
        login(teacher).get(f"/cases/{case.pk}/")
        row = AccessLog.objects.filter(action="view", object_type="case", case_id=case.pk).get()
        assert row.channel == "ui" and row.user == teacher and row.allowed
        assert row.justification == "shared with school (public_task)"

    def test_a_refused_attempt_is_logged(self, login, outsider, case):
        login(outsider).get(f"/cases/{case.pk}/")
        row = AccessLog.objects.get(user=outsider, object_id=str(case.pk))
        assert not row.allowed and row.channel == "ui"

    def test_auditors_search_the_log_by_case_user_person_and_date(
        self, login, auditor, teacher, case
    ):
        login(teacher).get(f"/cases/{case.pk}/")
        c = login(auditor)
        today = timezone.localdate()
        by_case = c.get("/audit/access-log/", {"case": case.reference}).content.decode()
        assert "teacher@school.example" in by_case
        by_user = c.get("/audit/access-log/", {"user": "TEACHER@school.example"}).content.decode()
        assert "shared with school" in by_user
        by_person = c.get("/audit/access-log/", {"person": str(case.subject_id)}).content.decode()
        assert "teacher@school.example" in by_person
        dated = c.get(
            "/audit/access-log/",
            {
                "date_from_day": today.day,
                "date_from_month": today.month,
                "date_from_year": today.year,
            },
        ).content.decode()
        assert "teacher@school.example" in dated
        assert (
            "0 records"
            in c.get(
                "/audit/access-log/", {"date_to_day": 1, "date_to_month": 1, "date_to_year": 2000}
            ).content.decode()
        )
        assert AccessLog.objects.filter(user=auditor, action="search_access_log").count() == 5

    def test_break_glass_events_are_listed(self, login, auditor, outsider, case):
        from casework.services import break_glass_open

        break_glass_open(actor=ui_actor(outsider), case_id=case.pk, reason="Missing child, urgent")
        body = login(auditor).get("/audit/break-glass/").content.decode()
        assert "Missing child, urgent" in body and case.reference in body and "Active" in body


class TestSession:
    def test_keep_alive_needs_a_post_and_a_signed_in_user(self, client, login, officer):
        assert client.post("/session/keep-alive/").status_code == 302
        c = login(officer)
        assert c.get("/session/keep-alive/").status_code == 405
        assert c.post("/session/keep-alive/").status_code == 204

    def test_pages_carry_the_idle_timeout_for_the_warning(self, login, officer, settings):
        settings.SESSION_IDLE_TIMEOUT = 900
        body = login(officer).get("/").content.decode()
        assert 'data-session-timeout="900"' in body and 'id="session-timeout"' in body
