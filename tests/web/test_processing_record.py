"""The record of processing (UK GDPR Art. 30): for the partnership's auditors only, as a page and a
CSV; agreements with their parties, basis, status, review date and document link; live share
counts under the small-number rules in both; the reading access-logged by the report's id."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from cases import services as case_services
from cases.models import AgreementStatus, DataSharingAgreement, LawfulBasis
from partners.models import Role
from tests import factories
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db

PAGE, CSV = "/governance/processing/", "/governance/processing.csv"


def share_cases(lead_user, partner, n: int) -> None:
    actor = ui_actor(lead_user)
    for k in range(n):
        person = case_services.person_create(
            actor=actor,
            data={"given_name": "Sam", "family_name": f"Zedwards{k}", "date_of_birth": date(2010, 1, 1)},
        )  # fmt: skip
        case = case_services.case_create(actor=actor, subject=person, data={"summary": f"Case {k}"})
        case_services.case_share(
            actor=actor, case=case, partner=partner, lawful_basis=LawfulBasis.PUBLIC_TASK,
            reason="Joint safeguarding work",
        )  # fmt: skip


@pytest.fixture
def agreements(police, school, vru, outsider_partner, officer, teacher):
    """Police and school share 12 cases under one agreement; the school shares 3 with the VRU
    under another (a number under the threshold); a third has ended with nothing under it."""
    main = case_services.agreement_create(
        name="Northshire schools ISA", parties=[police, school], lawful_basis="public_task",
        condition="DPA 2018 Sch. 1 para 18 (safeguarding of children)",
        review_date=timezone.localdate() + timedelta(days=200), retention_months=84,
    )  # fmt: skip
    DataSharingAgreement.objects.filter(pk=main.pk).update(
        document_url="https://intranet.example/isa/schools.pdf"
    )
    small = case_services.agreement_create(
        name="VRU mentoring ISA", parties=[school, vru], review_date=timezone.localdate()
    )
    ended = case_services.agreement_create(
        name="Old housing ISA", parties=[police, outsider_partner], review_date=date(2025, 1, 1)
    )
    ended.status = AgreementStatus.ENDED
    ended.save()
    share_cases(officer, school, 12)
    share_cases(teacher, vru, 3)
    return main, small, ended


def body(response) -> str:
    return response.content.decode()


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


class TestWhoMayRead:
    def test_the_partnership_auditor_reads_it_and_the_download(self, login, auditor, agreements):
        client = login(auditor)
        page = client.get(PAGE)
        assert page.status_code == 200
        text = body(page)
        for expected in (
            "Northshire schools ISA", "Northshire Police", "Riverside", "Public task",
            "DPA 2018 Sch. 1 para 18", "84 months", "https://intranet.example/isa/schools.pdf",
            "Old housing ISA", "Ended", "VRU mentoring ISA",
        ):  # fmt: skip
            assert expected in text, expected
        assert 'href="/governance/processing/"' in text  # in the auditor's navigation
        download = client.get(CSV)
        assert download.status_code == 200
        assert download["Content-Type"].startswith("text/csv")
        assert "Northshire schools ISA" in download.content.decode()

    @pytest.mark.parametrize(
        "who", ["officer", "sergeant", "coordinator", "teacher", "police_auditor", "admin"]
    )
    def test_everyone_else_is_refused_and_sees_nothing(
        self, request, login, police, agreements, who
    ):
        if who == "police_auditor":
            user = factories.make_user(police, Role.AUDITOR, email="audit@police.example")
        elif who == "admin":
            user = factories.make_user(police, Role.ADMIN, email="admin@police.example")
        else:
            user = request.getfixturevalue(who)
        client = login(user)
        for url in (PAGE, CSV):
            response = client.get(url)
            assert response.status_code == 403, url
            assert b"Northshire schools ISA" not in response.content
        refused = AccessLog.objects.filter(user=user, allowed=False, object_id="processing_record")
        assert refused.count() == 2
        home = client.get("/", follow=True)
        assert b"/governance/processing/" not in home.content

    def test_partner_systems_have_no_such_page(self, client, agreements):
        assert client.get(PAGE).status_code == 302  # sign in first; there is no API for it


class TestSmallNumbers:
    def test_a_count_under_the_threshold_is_suppressed_on_the_page_and_in_the_csv(
        self, login, auditor, agreements, settings
    ):
        settings.SUPPRESSION_THRESHOLD = 10
        client = login(auditor)
        text = body(client.get(PAGE))
        page_counts = dict(
            (name, text.split(name, 1)[1].split("Live case shares", 1)[1][:120])
            for name in ("Northshire schools ISA", "VRU mentoring ISA", "Old housing ISA")
        )
        assert "&lt;10" in page_counts["VRU mentoring ISA"]  # 3 shares
        assert "&lt;10" in page_counts["Old housing ISA"]  # none
        assert ">10<" in page_counts["Northshire schools ISA"]  # 12, rounded to 10
        assert ">3<" not in text and ">12<" not in text

        rows = csv_rows(client.get(CSV).content.decode())
        by_agreement = {row[0]: row[-1] for row in rows if len(row) == 14}
        assert by_agreement["VRU mentoring ISA"] == "<10"
        assert by_agreement["Old housing ISA"] == "<10"
        assert by_agreement["Northshire schools ISA"] == "10"
        pairs = {(row[0], row[1]): row[2] for row in rows if len(row) == 3 and row[0] != "Partner"}
        assert pairs[("Police", "Education")] == "10"
        assert pairs[("Education", "Violence Reduction Unit")] == "<10"
        assert pairs[("Housing", "Police")] == "<10"  # none: listed because an agreement allows it
        assert "3" not in {cell for row in rows for cell in row}
        assert "12" not in {cell for row in rows for cell in row}

    def test_a_count_at_or_over_the_threshold_is_shown_rounded(
        self, login, auditor, agreements, settings
    ):
        settings.SUPPRESSION_THRESHOLD = 3
        rows = csv_rows(login(auditor).get(CSV).content.decode())
        by_agreement = {row[0]: row[-1] for row in rows if len(row) == 14}
        assert by_agreement["VRU mentoring ISA"] == "5"  # 3, rounded to the nearest 5
        assert by_agreement["Northshire schools ISA"] == "10"


class TestAccessLog:
    def test_reading_and_exporting_are_logged_by_the_reports_id_only(
        self, login, auditor, agreements
    ):
        client = login(auditor)
        client.get(PAGE)
        client.get(CSV)
        rows = AccessLog.objects.filter(user=auditor, object_id="processing_record", allowed=True)
        assert sorted(rows.values_list("action", flat=True)) == ["export", "view_report"]
        for row in rows:
            assert row.object_type == "report"
            assert row.case_id is None and row.person_id is None
            assert set(row.detail) <= {"format"}
