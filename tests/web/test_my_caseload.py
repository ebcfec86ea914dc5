"""My work for the frontline: a coach's caseload, the partner's inbox, follow-ups that name their
person and enrolment; the safety summary on the case, person and enrolment pages; the coordinator
choosing the key worker and checking eligibility again. Nothing is shown to anyone who may not
see it, and every read is in the access log by ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases import services as case_services
from casework import services as casework_services
from followups.models import FollowUp
from programmes import access as programme_access
from programmes import services
from tests.factories import ui_actor
from tests.web.conftest import DO_NOT_TELL

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


class TestMyCaseload:
    def test_the_key_worker_sees_their_caseload_and_overdue_check_ins(
        self, login, mentor, enrolment
    ):
        FollowUp.objects.create(
            kind="divert_check_in", due_at=timezone.now() - timedelta(days=1),
            subject_resource="enrolment", subject_id=enrolment.pk, assignee_user=mentor,
            title="DIVERT check-in",
        )  # fmt: skip
        page = text(login(mentor).get("/"))
        assert "My caseload" in page
        assert f"/enrolments/{enrolment.pk}/" in page
        assert "Tyler Brooks" in page
        assert "1 overdue check-in" in page
        assert AccessLog.objects.filter(
            user=mentor, action="list_caseload", object_id=str(enrolment.pk)
        ).exists()

    def test_others_have_no_caseload(self, login, enrolment, officer, teacher, outsider):
        for user in (officer, teacher, outsider):
            page = text(login(user).get("/"))
            assert "My caseload" not in page
        assert "Tyler" not in text(login(outsider).get("/"))

    def test_constant_queries(self, login, mentor, enrolment, divert, officer, coordinator,
                              django_assert_max_num_queries):  # fmt: skip
        client = login(mentor)
        client.get("/")
        with django_assert_max_num_queries(60) as few:
            client.get("/")
        for name in ("Ash", "Blake", "Casey"):
            person = case_services.person_create(
                actor=ui_actor(officer),
                data={"given_name": name, "family_name": "Lee",
                      "date_of_birth": enrolment.person.date_of_birth},
            )  # fmt: skip
            case = case_services.case_create(
                actor=ui_actor(officer), subject=person, data={"summary": "x"}
            )
            other = services.enrolment_create(
                actor=ui_actor(officer), programme=divert, person=person, case=case,
                details={"cohort": "care_leaver"},
            )  # fmt: skip
            for to in ("eligibility_checked", "enrolled"):
                other = services.enrolment_transition(
                    actor=ui_actor(coordinator), enrolment=other, to=to
                )
            services.enrolment_update(
                actor=ui_actor(coordinator),
                enrolment=programme_access.enrolments_visible_to(ui_actor(coordinator)).get(
                    pk=other.pk
                ),
                expected_version=other.version,
                data={"key_worker": mentor},
            )
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = text(client.get("/"))
        assert page.count("/enrolments/") >= 4


class TestFollowUpsNameTheirSubject:
    def test_the_key_worker_sees_the_person_and_enrolment(self, login, mentor, enrolment):
        page = text(login(mentor).get("/follow-ups/"))
        assert f'href="/enrolments/{enrolment.pk}/"' in page
        assert "Tyler Brooks: DIVERT custody coaching" in page
        # The mentor cannot open the case: no link to it.
        assert f"/cases/{enrolment.case_id}" not in page

    def test_a_follow_up_about_an_enrolment_not_visible_names_nobody(
        self, login, outsider, enrolment
    ):
        FollowUp.objects.create(
            kind="divert_check_in", due_at=timezone.now(), subject_resource="enrolment",
            subject_id=enrolment.pk, assignee_user=outsider, title="Check-in",
        )  # fmt: skip
        for path in ("/follow-ups/", "/"):
            page = text(login(outsider).get(path))
            assert "Check-in" in page
            assert "Tyler" not in page and str(enrolment.pk) not in page


class TestInbox:
    def test_a_case_newly_shared_with_us(self, login, teacher, case):
        page = text(login(teacher).get("/"))
        assert "Cases newly shared with us" in page
        assert f"/cases/{case.pk}/" in page or f"/cases/{case.pk}" in page
        assert AccessLog.objects.filter(
            user=teacher, action="list_inbox", object_id=str(case.pk)
        ).exists()

    def test_a_new_referral_to_screen_and_the_response_to_ours(self, login, officer, teacher, case):
        referral = casework_services.referral_create(
            actor=ui_actor(teacher), concerns=["gang_association"], description="Seen with a gang",
            subject=case.subject, case=case,
        ).referral  # fmt: skip
        police_page = text(login(officer).get("/"))
        assert "New referrals to screen" in police_page
        assert f"#referral-{referral.pk}" in police_page
        assert "Responses to our referrals" not in text(login(teacher).get("/"))
        response = login(officer).post(f"/referrals/{referral.pk}/screen/", {
            "outcome": "early_help", "reasons": "Agreed", "participants": ["school"],
            "early_help_partner": "school",
        })  # fmt: skip
        assert response.status_code == 302
        school_page = text(login(teacher).get("/"))
        assert "Responses to our referrals" in school_page
        assert "Northshire Police screened our referral" in school_page
        assert "New referrals to screen" not in text(login(officer).get("/"))

    def test_our_referral_to_a_programme_answered(self, login, officer, enrolment):
        page = text(login(officer).get("/"))
        assert "Responses to our referrals" in page
        assert f"/enrolments/{enrolment.pk}/" in page

    def test_what_arrived_since_the_last_look_is_marked_new(self, login, officer, teacher, case):
        c = login(officer)
        assert "since you last looked" not in c.get("/").content.decode()  # nothing arrived yet
        referral = casework_services.referral_create(
            actor=ui_actor(teacher), concerns=["gang_association"], description="Seen with a gang",
            subject=case.subject, case=case,
        ).referral  # fmt: skip
        page = c.get("/").content.decode()
        assert "1 new since you last looked" in page
        inbox = page.split('id="inbox"', 1)[1]
        item = inbox.split(f"#referral-{referral.pk}", 1)[0].rsplit("<li>", 1)[1]
        assert 'govuk-tag--blue">New' in item
        # Remembered across sign-ins: a new session does not make it new again.
        again = login(officer).get("/").content.decode()
        assert "Nothing new since you last looked" in again
        assert 'govuk-tag--blue">New' not in again.split('id="inbox"', 1)[1]

    def test_nothing_for_another_partner(self, login, outsider, enrolment, case):
        page = text(login(outsider).get("/"))
        assert "Inbox" not in page
        assert "Tyler" not in page and "Jayden" not in page


class TestSafetySummary:
    def test_on_the_enrolment_page_for_the_coordinator_and_key_worker(
        self, login, coordinator, mentor, enrolment
    ):
        for user in (coordinator, mentor):
            page = text(login(user).get(f"/enrolments/{enrolment.pk}/"))
            assert "Contacting Tyler Brooks safely" in page
            assert DO_NOT_TELL in page
            assert AccessLog.objects.filter(
                user=user, action="view_contact_safety", object_id=str(enrolment.person_id)
            ).exists()

    def test_on_the_case_page_for_partners_working_it(self, login, officer, teacher, enrolment):
        for user in (officer, teacher):
            page = text(login(user).get(f"/cases/{enrolment.case_id}/"))
            assert DO_NOT_TELL in page
            assert f"/people/{enrolment.person_id}/safety/" in page

    def test_not_for_anyone_else(self, login, outsider, auditor, enrolment):
        assert login(outsider).get(f"/enrolments/{enrolment.pk}/").status_code == 404
        assert login(outsider).get(f"/cases/{enrolment.case_id}/").status_code == 404
        response = login(auditor).get(f"/enrolments/{enrolment.pk}/")
        assert response.status_code in (302, 403, 404)
        assert DO_NOT_TELL not in text(response)

    def test_changing_it_from_the_case(self, login, teacher, enrolment):
        url = f"/cases/{enrolment.case_id}/people/{enrolment.person_id}/safety/"
        client = login(teacher)
        assert client.get(url).status_code == 200
        person = enrolment.person
        person.refresh_from_db()
        response = client.post(
            url,
            {"version": person.version, "do_not_tell": "Nobody at the old address",
             "safe_contact_how": "", "safe_contact_when": "", "phone": "", "email": "",
             "safety_summary": ""},
        )  # fmt: skip
        assert response.status_code == 302
        person.refresh_from_db()
        assert person.do_not_tell == "Nobody at the old address"
        row = AccessLog.objects.get(action="update_contact_safety", user=teacher)
        assert row.detail == {"fields": ["do_not_tell", "safe_contact_how"]}

    def test_coordinators_and_outsiders_cannot_change_it(
        self, login, coordinator, outsider, enrolment
    ):
        url = f"/cases/{enrolment.case_id}/people/{enrolment.person_id}/safety/"
        assert login(coordinator).get(url).status_code == 403
        assert login(outsider).get(url).status_code in (403, 404)


class TestCoordinatorActions:
    def test_choosing_the_key_worker(self, login, coordinator, mentor, enrolment):
        client = login(coordinator)
        enrolment.refresh_from_db()
        response = client.post(
            f"/enrolments/{enrolment.pk}/key-worker/",
            {"key_worker": str(coordinator.pk), "version": enrolment.version},
        )
        assert response.status_code == 302
        enrolment.refresh_from_db()
        assert enrolment.key_worker_id == coordinator.pk

    def test_others_cannot_choose_it(self, login, officer, mentor, enrolment):
        response = login(officer).post(
            f"/enrolments/{enrolment.pk}/key-worker/",
            {"key_worker": str(officer.pk), "version": enrolment.version},
        )
        assert response.status_code == 403
        enrolment.refresh_from_db()
        assert enrolment.key_worker_id == mentor.pk

    def test_rechecking_eligibility_shows_when(self, login, coordinator, officer, enrolment):
        client = login(coordinator)
        assert "Last checked" in text(client.get(f"/enrolments/{enrolment.pk}/"))
        response = client.post(f"/enrolments/{enrolment.pk}/eligibility/")
        assert response.status_code == 302
        page = text(client.get(f"/enrolments/{enrolment.pk}/"))
        assert "Re-check eligibility" in page
        assert login(officer).post(f"/enrolments/{enrolment.pk}/eligibility/").status_code == 403
