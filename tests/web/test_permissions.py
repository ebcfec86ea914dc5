"""Who reaches which page: lead partner, shared partner, outsider, and the wrong role."""

from __future__ import annotations

import re

import pytest

from audit.models import AccessLog

pytestmark = pytest.mark.django_db

CASE_PAGES = ["", "voice/", "status/", "share/", "access-log/", "entries/new/",
              "adversities/new/", "actions/new/", "programmes/", "programmes/divert/refer/",
              "household/new/", "relationships/new/", "consents/new/"]  # fmt: skip


def _get(client, url):
    return client.get(url).status_code


class TestCasePages:
    def test_it_shows_the_lead_partner_everything_it_may_do(self, login, officer, case):
        c = login(officer)
        for page in ["", "voice/", "status/", "share/", "entries/new/", "adversities/new/",
                     "actions/new/", "programmes/"]:  # fmt: skip
            assert _get(c, f"/cases/{case.pk}/{page}") == 200, page

    def test_it_lets_a_shared_partner_read_and_add_but_not_manage(self, login, teacher, case):
        c = login(teacher)
        for page in ["", "entries/new/", "adversities/new/", "actions/new/", "programmes/"]:
            assert _get(c, f"/cases/{case.pk}/{page}") == 200, page
        for page in ["voice/", "status/", "share/"]:
            assert _get(c, f"/cases/{case.pk}/{page}") == 403, page
        body = c.get(f"/cases/{case.pk}/").content.decode()
        assert "Share with another partner" not in body and "End share" not in body

    def test_it_gives_an_outsider_404_on_every_case_page(self, login, outsider, case, divert):
        c = login(outsider)
        for page in CASE_PAGES:
            response = c.get(f"/cases/{case.pk}/{page}")
            assert response.status_code == 404, page
            assert (
                b"Jay" not in response.content and case.reference.encode() not in response.content
            )
        assert c.post(f"/cases/{case.pk}/share/", {"partner": "elsewhere"}).status_code == 404
        assert c.get(f"/people/{case.subject_id}/new-referral/").status_code == 404
        assert c.get(f"/cases/{case.pk}/people/{case.subject_id}/edit/").status_code == 404

    def test_a_missing_case_looks_exactly_like_a_hidden_one(self, login, outsider, case):
        c = login(outsider)
        hidden = c.get(f"/cases/{case.pk}/")
        missing = c.get("/cases/00000000-0000-0000-0000-000000000000/")
        assert hidden.status_code == missing.status_code == 404

        # CSRF tokens and the support reference (the request id) differ on every page.
        def strip(response):
            content = re.sub(rb'value="[^"]{32,}"', b"", response.content)
            return re.sub(rb'app-support-reference">[^<]*<', b"", content)

        assert strip(hidden) == strip(missing)

    def test_auditors_never_see_case_content(self, login, auditor, case):
        c = login(auditor)
        # A role refusal, the same for every case id (so it reveals nothing).
        assert _get(c, f"/cases/{case.pk}/") == 403
        assert _get(c, "/cases/00000000-0000-0000-0000-000000000000/") == 403
        assert _get(c, "/cases/") == 403
        log = c.get(f"/cases/{case.pk}/access-log/")
        assert log.status_code == 200
        assert b"Jay" not in log.content and b"Seen with older youths" not in log.content

    def test_only_the_lead_partners_manager_reads_the_case_access_log(
        self, login, officer, sergeant, teacher, case
    ):
        assert _get(login(sergeant), f"/cases/{case.pk}/access-log/") == 200
        assert _get(login(officer), f"/cases/{case.pk}/access-log/") == 403
        assert _get(login(teacher), f"/cases/{case.pk}/access-log/") == 403


class TestListsAndSearch:
    def test_my_work_lists_led_and_shared_cases_only(
        self, login, officer, teacher, outsider, case, hidden_case
    ):
        assert b"Jay Clarke" in login(officer).get("/").content
        shared = login(teacher).get("/").content.decode()
        assert "Jay Clarke" in shared and "Morgan" not in shared
        mine = login(outsider).get("/").content.decode()
        assert "Morgan Reed" in mine and "Jay" not in mine

    @pytest.mark.parametrize("q", ["Clarke", "jay", "9434765919", "943 476 5919"])
    def test_search_finds_visible_cases_by_name_reference_or_identifier(
        self, login, teacher, case, q
    ):
        body = login(teacher).get("/cases/", {"q": q}).content.decode()
        assert case.reference in body and "1 case found" in body

    @pytest.mark.parametrize("q", ["Clarke", "9434765919", "VRU"])
    def test_search_reveals_nothing_to_an_outsider(self, login, outsider, case, q):
        body = login(outsider).get("/cases/", {"q": q}).content.decode()
        # The random CSRF token can spell anything ("...NJayLc..." once): it is not page content.
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
        assert case.reference not in body and "Jay" not in body
        if q != "VRU":
            assert "0 cases found" in body

    def test_search_by_reference(self, login, officer, case):
        body = login(officer).get("/cases/", {"q": case.reference.lower()}).content.decode()
        assert "1 case found" in body

    def test_lists_are_logged_for_each_case_shown(self, login, teacher, case):
        login(teacher).get("/cases/", {"q": "Clarke"})
        row = AccessLog.objects.get(action="search", case_id=case.pk)
        assert (
            row.channel == "ui"
            and row.user == teacher
            and "shared with school" in row.justification
        )


class TestRoles:
    @pytest.mark.parametrize(
        "url", ["/manager/caseload/", "/manager/staff/", "/manager/screening/"]
    )
    def test_manager_pages_are_for_managers(self, login, officer, sergeant, url):
        assert _get(login(officer), url) == 403
        assert _get(login(sergeant), url) == 200

    @pytest.mark.parametrize("url", ["/audit/access-log/", "/audit/break-glass/"])
    def test_audit_pages_are_for_auditors(self, login, officer, sergeant, auditor, url):
        assert _get(login(officer), url) == 403
        assert _get(login(sergeant), url) == 403
        assert _get(login(auditor), url) == 200

    def test_coordinators_cannot_make_referrals_or_change_cases(self, login, coordinator):
        assert _get(login(coordinator), "/referrals/new/") == 403

    def test_signed_out_people_are_sent_to_sign_in(self, client, case):
        response = client.get(f"/cases/{case.pk}/")
        assert response.status_code == 302 and response.url.startswith("/login/")

    def test_the_caseload_shows_only_the_partners_own_cases(
        self, login, sergeant, case, hidden_case
    ):
        body = login(sergeant).get("/manager/caseload/").content.decode()
        assert case.reference in body and hidden_case.reference not in body

    def test_staff_shows_training_levels_of_the_managers_own_partner(
        self, login, sergeant, officer, teacher
    ):
        officer.profile.trauma_training_level = "skilled"
        officer.profile.save()
        body = login(sergeant).get("/manager/staff/").content.decode()
        assert officer.email in body and "Trauma-skilled" in body and teacher.email not in body


class TestProgrammes:
    def test_intake_board_is_the_coordinators_alone(
        self, login, coordinator, officer, outsider, divert
    ):
        assert _get(login(coordinator), "/programmes/divert/intake/") == 200
        assert _get(login(officer), "/programmes/divert/intake/") == 404
        assert _get(login(outsider), "/programmes/divert/intake/") == 404

    def test_an_enrolment_is_hidden_from_outsiders(
        self, login, officer, outsider, young_case, divert
    ):
        from programmes import services
        from tests.factories import ui_actor

        enrolment = services.enrolment_create(
            actor=ui_actor(officer), programme=divert, person=young_case.subject, case=young_case,
            details={"cohort": "care_leaver"},
        )  # fmt: skip
        assert _get(login(officer), f"/enrolments/{enrolment.pk}/") == 200
        assert _get(login(outsider), f"/enrolments/{enrolment.pk}/") == 404
