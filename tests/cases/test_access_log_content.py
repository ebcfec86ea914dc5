"""The access log records who, what kind of record, which id, why, when and the outcome: never
content. And each auditor reads only their share of it.

The police lead a case shared with the school. The school records a sensitive adversity; the
police close a stage of the case with a reason; an entry is corrected with a reason. None of the
code, the sensitive flag or the reasons reaches the log or its readers (the police's managers, a
school auditor, the VRU's auditor). A school auditor reads rows about the school's own staff and
about cases the school leads; the VRU's auditor (partnership-wide information governance) reads all.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from audit.services import Access, access_record
from cases import services
from casework import services as casework_services
from partners.models import Role
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.django_db

CODE = "parental_incarceration"
CLOSE_REASON = "Dad's release date moved; family asked us to step back"
AMEND_REASON = "Misheard the name of the prison"


@pytest.fixture
def school_auditor(school):
    return factories.make_user(school, Role.AUDITOR, email="auditor@school.example")


@pytest.fixture
def worked_case(shared_case, officer, teacher):
    """The school records a sensitive adversity and an entry it then corrects; the police move
    the case on with a reason."""
    casework_services.adversity_create(
        actor=actor(teacher), case=shared_case, code=CODE, source="disclosed", sensitive=True
    )
    entry = casework_services.entry_create(
        actor=actor(teacher), case=shared_case, kind="contact",
        occurred_at=timezone.now() - timedelta(hours=1), body="Spoke to Jayden about his dad.",
    )  # fmt: skip
    casework_services.entry_amend(
        actor=actor(teacher), entry=entry, expected_version=entry.version, reason=AMEND_REASON,
        data={"body": "Spoke to Jayden about home."},
    )  # fmt: skip
    services.case_transition(
        actor=actor(officer), case=shared_case, to="screening", reason=CLOSE_REASON
    )
    return shared_case


CONTENT = (CODE, "sensitive", CLOSE_REASON, AMEND_REASON, "screening", "Jayden")


def assert_no_content(text: str) -> None:
    for word in CONTENT:
        assert word not in text, word


def log_table(response) -> str:
    """The access-log table of a page (the rest of the page has menus and the search form)."""
    html = response.content.decode()
    start = html.index('<table class="govuk-table app-access-log">')
    return html[start : html.index("</table>", start)]


class TestNoContent:
    def test_rows_hold_ids_and_field_names_only(self, worked_case):
        rows = AccessLog.objects.filter(case_id=worked_case.pk)
        assert {r.object_type for r in rows} >= {"adversity", "entry", "case"}
        assert_no_content(json.dumps([r.detail for r in rows]))
        assert_no_content(json.dumps([r.justification for r in rows]))

    def test_the_case_log_shows_no_detail_to_the_lead_partners_manager(
        self, api, sergeant, worked_case
    ):
        response = api(sergeant).get(f"/api/v1/cases/{worked_case.pk}/access-log")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert {r["object_type"] for r in rows} >= {"adversity", "entry", "case"}
        assert all("detail" not in r for r in rows)
        assert_no_content(response.content.decode())

    def test_content_in_older_rows_is_never_shown(self, api, sergeant, auditor, worked_case):
        # A row as the log was written before: content in `detail`.
        AccessLog.objects.create(
            channel="api", action="create", object_type="adversity", object_id="x",
            case_id=worked_case.pk, detail={"code": CODE, "sensitive": True},
        )  # fmt: skip
        for user in (sergeant, auditor):
            response = api(user).get(f"/api/v1/cases/{worked_case.pk}/access-log")
            assert response.status_code == 200
            assert_no_content(response.content.decode())

    def test_the_web_pages_show_no_content(self, client, sergeant, auditor, worked_case):
        client.force_login(sergeant)
        page = client.get(f"/cases/{worked_case.pk}/access-log/")
        assert page.status_code == 200
        assert_no_content(log_table(page))
        client.force_login(auditor)
        page = client.get("/audit/access-log/", {"case": worked_case.reference})
        assert page.status_code == 200
        assert "adversity" in log_table(page).lower()  # its row is there, labelled in words
        assert_no_content(log_table(page))

    def test_detail_keys_that_may_be_content_are_never_written(self, officer):
        access_record(
            actor=actor(officer),
            action="update",
            accesses=[Access("case", "1")],
            detail={"fields": ["summary"], "code": CODE, "reason": CLOSE_REASON, "to": "closed"},
        )
        assert AccessLog.objects.get(object_id="1").detail == {"fields": ["summary"]}

    def test_an_auditors_search_is_logged_by_ids(self, client, auditor, worked_case, officer):
        client.force_login(auditor)
        client.get("/audit/access-log/", {"case": worked_case.reference, "user": officer.email})
        row = AccessLog.objects.get(user=auditor, action="search_access_log")
        assert row.detail == {"case": str(worked_case.pk), "user": [str(officer.pk)]}


class TestAuditorScope:
    def log(self, api, user, case):
        return api(user).get(f"/api/v1/cases/{case.pk}/access-log")

    def test_the_vru_auditor_reads_every_case_log(self, api, auditor, worked_case):
        response = self.log(api, auditor, worked_case)
        assert response.status_code == 200
        partners = {r["partner"] for r in response.json()["results"]}
        assert {"police", "school"} <= partners

    def test_a_partner_auditor_reads_the_whole_log_of_cases_their_partner_leads(
        self, api, make_case, teacher, school_auditor, officer
    ):
        case = make_case(by=teacher)
        api(officer).get(f"/api/v1/cases/{case.pk}")  # refused: the police cannot see it
        response = self.log(api, school_auditor, case)
        assert response.status_code == 200
        rows = response.json()["results"]
        assert {r["partner"] for r in rows} == {"school", "police"}
        assert any(r["allowed"] is False and r["partner"] == "police" for r in rows)

    def test_on_another_partners_case_they_read_only_their_own_staffs_rows(
        self, api, school_auditor, worked_case
    ):
        response = self.log(api, school_auditor, worked_case)
        assert response.status_code == 200
        rows = response.json()["results"]
        assert rows and {r["partner"] for r in rows} == {"school"}
        assert AccessLog.objects.filter(case_id=worked_case.pk, partner__slug="police").exists()

    def test_a_case_their_staff_never_worked_is_not_found_however_often_they_ask(
        self, api, make_case, school_auditor
    ):
        case = make_case()  # police-led, not shared
        for _ in range(2):  # their own refused attempt is no reason to let them in
            response = self.log(api, school_auditor, case)
            assert response.status_code == 404
            assert response.json()["error"]["message"] == "Case not found."

    def test_the_search_shows_a_partner_auditor_only_their_share(
        self, client, school_auditor, auditor, worked_case, officer, teacher
    ):
        client.force_login(school_auditor)
        page = client.get("/audit/access-log/", {"user": officer.email})
        assert "0 records" in page.content.decode() and officer.email not in log_table(page)
        page = client.get("/audit/access-log/", {"user": teacher.email})
        assert teacher.email in log_table(page)
        page = client.get("/audit/access-log/", {"person": str(worked_case.subject_id)})
        assert teacher.email in log_table(page) and officer.email not in log_table(page)
        client.force_login(auditor)
        page = client.get("/audit/access-log/", {"user": officer.email})
        assert officer.email in log_table(page)

    def test_the_case_page_log_shows_a_partner_auditor_only_their_share(
        self, client, school_auditor, worked_case, officer, teacher
    ):
        client.force_login(school_auditor)
        page = log_table(client.get(f"/cases/{worked_case.pk}/access-log/"))
        assert teacher.email in page and officer.email not in page

    def test_break_glass_events_follow_the_same_scope(
        self, client, make_case, outsider, outsider_partner, police, school, vru, auditor,
        school_auditor,
    ):  # fmt: skip
        services.agreement_create(
            name="Emergency access", parties=[police, outsider_partner],
            review_date=timezone.localdate() + timedelta(days=365),
        )  # fmt: skip
        case = make_case()
        casework_services.break_glass_open(
            actor=actor(outsider), case_id=case.pk, reason="Found alone at the station at 2am"
        )
        client.force_login(school_auditor)
        assert "Found alone" not in client.get("/audit/break-glass/").content.decode()
        client.force_login(auditor)
        assert "Found alone" in client.get("/audit/break-glass/").content.decode()
