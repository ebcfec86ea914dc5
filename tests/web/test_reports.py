"""Partnership figures: who may read and export them, suppression on the page and in the CSV,
and the access log."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from casework.services import adversity_create, referral_create, referral_screen
from tests.web.conftest import ui_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def screened(officer, case, school):
    """This month: 12 referrals screened "no further action", 3 leading to early help."""
    actor = ui_actor(officer)
    for n in range(15):
        intake = referral_create(
            actor=actor, concerns=["neglect"], description=f"Referral {n}", subject=case.subject
        )
        referral_screen(
            actor=actor, referral=intake.referral,
            outcome="no_further_action" if n < 12 else "early_help",
            reasons="Agreed",
        )  # fmt: skip
    adversity_create(actor=actor, case=case, code="poverty", source="observed")
    return case


class TestReportsPage:
    @pytest.mark.parametrize("who", ["coordinator", "sergeant", "auditor"])
    def test_coordinators_managers_and_auditors_read_the_figures(
        self, login, screened, who, request
    ):
        user = request.getfixturevalue(who)
        response = login(user).get("/reports/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "Partnership figures" in body and "Referral and screening outcomes" in body
        assert "Adversity prevalence" in body and "Programme intake" in body
        row = AccessLog.objects.get(user=user, action="view_report")
        assert row.object_type == "report" and row.detail == {"months": 12, "format": "html"}

    def test_small_numbers_are_hidden_and_cannot_be_worked_out(self, login, coordinator, screened):
        body = login(coordinator).get("/reports/").content.decode()
        # 12 NFA of 15 screened, all this month; 3 early help. The 3 is under 10, and so is every
        # other month's 0. Showing this month's 12 and 15 beside the totals (12 and 15) would
        # reveal those zeros, so they are hidden too ([c]); the totals and the overall NFA rate
        # (12 of 15) are shown.
        assert "<strong>12</strong>" in body and "<strong>15</strong>" in body
        assert "<strong>80%</strong> led to no further action" in body
        assert "&lt;10" in body and "[c]" in body and ">3<" not in body
        assert "Referral 1" not in body and "Jay" not in body  # aggregates only

    def test_practitioners_are_refused_and_the_attempt_logged(self, login, officer, teacher):
        for user in (officer, teacher):
            assert login(user).get("/reports/").status_code == 403
            assert login(user).get("/reports/partnership.csv").status_code == 403
        assert AccessLog.objects.filter(user=officer, action="view_report", allowed=False)
        assert AccessLog.objects.filter(user=teacher, action="export", allowed=False)

    def test_the_period_can_be_chosen(self, login, sergeant, screened):
        body = login(sergeant).get("/reports/", {"months": "6"}).content.decode()
        assert 'value="6" selected' in body
        assert login(sergeant).get("/reports/", {"months": "x"}).status_code == 200


class TestReportsExport:
    def test_the_csv_is_suppressed_and_logged_as_an_export(self, login, auditor, screened):
        response = login(auditor).get("/reports/partnership.csv", {"months": "6"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        text = response.content.decode()
        assert "Referrals screened, by outcome and month received" in text
        assert "Month received,No further action,Led to support,Other outcome,Screened" in text
        assert ",[c],<10,<10,[c]" in text and "All months,12,<10,<10,15" in text
        assert "Cases with each adversity" in text and "Waiting times" in text
        row = AccessLog.objects.get(user=auditor, action="export")
        assert row.object_type == "report" and row.detail == {"months": 6, "format": "csv"}
