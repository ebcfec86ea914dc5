"""Partnership figures: who may read and export them, suppression and rounding on the page and in
the CSV, that no combination of periods recovers a hidden figure, formula-safe CSV, and the
access log."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.utils import timezone

from audit.models import AccessLog
from casework.services import adversity_create, referral_create, referral_screen
from programmes.models import Programme
from tests.factories import ui_actor
from tests.reports.attack import (
    SCREENING,
    attack_downloads,
    published_range,
    recovered_figures,
    rules_of,
    sections,
)

pytestmark = pytest.mark.django_db

PERIODS = (6, 12, 24)  # the periods the page offers


def add_months(day, n: int):
    index = day.year * 12 + day.month - 1 + n
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def screen(actor, subject, outcome: str, received_at=None, n: int = 1) -> None:
    for k in range(n):
        intake = referral_create(
            actor=actor, concerns=["neglect"], description=f"Referral {k}", subject=subject,
            received_at=received_at,
        )  # fmt: skip
        referral_screen(actor=actor, referral=intake.referral, outcome=outcome, reasons="Agreed")


@pytest.fixture
def screened(officer, case, school):
    """This month: 12 referrals screened "no further action", 3 leading to early help."""
    actor = ui_actor(officer)
    screen(actor, case.subject, "no_further_action", n=12)
    screen(actor, case.subject, "early_help", n=3)
    adversity_create(actor=actor, case=case, code="poverty", source="observed")
    return case


def rows_of(text: str, title: str) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in sections(text)[title][1:]}


def downloads(client) -> dict[int, str]:
    found = {}
    for months in PERIODS:
        response = client.get("/reports/partnership.csv", {"months": str(months)})
        assert response.status_code == 200
        found[months] = response.content.decode()
    return found


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

    def test_small_numbers_are_hidden_and_the_rest_rounded(self, login, coordinator, screened):
        body = login(coordinator).get("/reports/").content.decode()
        # 12 NFA of 15 screened, all this month; 3 early help. The 3 is under 10, and so is every
        # other month's 0. 12 is published as 10 (10 to 12) and 15 as 15 (13 to 17), so the
        # totals give the small counts away only as a range (1 to 7 early help or other).
        assert "Of the referrals screened in the period (15)" in body
        assert "<strong>67%</strong> led to no further action" in body  # 10 of 15, as published
        assert "rounded to the nearest 5" in body
        assert "&lt;10" in body and ">12<" not in body and ">3<" not in body
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
    def test_the_csv_is_suppressed_rounded_and_logged_as_an_export(self, login, auditor, screened):
        response = login(auditor).get("/reports/partnership.csv", {"months": "6"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        text = response.content.decode()
        found = sections(text)
        assert found[SCREENING][0] == [
            "Month received", "No further action", "Led to support", "Other outcome", "Screened",
        ]  # fmt: skip
        this_month = timezone.localdate().strftime("%b %Y")
        assert rows_of(text, SCREENING)[this_month] == ["10", "<10", "<10", "15"]
        assert rows_of(text, SCREENING)["All months"] == ["10", "<10", "<10", "15"]
        assert "Cases with each adversity, by month first recorded" in found
        assert "Waiting times" in found
        # Shown counts are numbers; text is quoted.
        assert '"All months",10,"<10","<10",15' in text
        row = AccessLog.objects.get(user=auditor, action="export")
        assert row.object_type == "report" and row.detail == {"months": 6, "format": "csv"}

    def test_a_month_reads_the_same_in_every_period(self, login, auditor, screened):
        texts = downloads(login(auditor))
        this_month = timezone.localdate().strftime("%b %Y")
        assert {tuple(rows_of(t, SCREENING)[this_month]) for t in texts.values()} == {
            ("10", "<10", "<10", "15")
        }


def _truth(screening: dict) -> dict:
    """The true counts behind the downloads in these tests: the screening counts given, every
    other count 0."""

    def truth(name):
        if isinstance(name, tuple) and len(name) == 3 and name[0] == SCREENING:
            return screening.get((name[1], name[2]), 0)
        return 0

    return truth


class TestDifferencing:
    """The issue: the 6-, 12- and 24-month downloads, read together, gave hidden months away."""

    @pytest.fixture
    def two_months_ago(self, officer, case):
        """12 referrals two months ago that led to support; nothing else in 24 months."""
        month = add_months(timezone.localdate().replace(day=1), -2)
        received = timezone.make_aware(datetime(month.year, month.month, 15, 12))
        screen(ui_actor(officer), case.subject, "early_help", received_at=received, n=12)
        return month.strftime("%b %Y")

    def test_the_months_a_longer_period_adds_are_not_given_away(
        self, login, auditor, two_months_ago
    ):
        texts = downloads(login(auditor))
        rules = rules_of(texts[6])
        # Published exactly, the 6- and 12-month "screened" totals were both 12: so the six
        # months only the 12-month view adds screened 0 referrals, and every "<10" in them was
        # known to be 0. Their difference must leave more than one possibility.
        six = published_range(rows_of(texts[6], SCREENING)["All months"][-1], rules)
        twelve = published_range(rows_of(texts[12], SCREENING)["All months"][-1], rules)
        added = range(max(0, twelve[0] - six[1]), twelve[1] - six[0] + 1)
        assert len(added) > 1
        twelve_rows, six_rows = rows_of(texts[12], SCREENING), rows_of(texts[6], SCREENING)
        added_months = [m for m in twelve_rows if m not in six_rows]
        assert len(added_months) == 6
        assert all(twelve_rows[m] == ["<10"] * 4 for m in added_months)

    def test_no_hidden_figure_is_recovered_from_all_the_downloads(
        self, login, auditor, two_months_ago
    ):
        texts = downloads(login(auditor))
        attack = attack_downloads(texts)
        truth = _truth({(two_months_ago, "Led to support"): 12})
        assert recovered_figures(attack, {v: truth(v) for v in attack.system.domains}) == []


class TestFormulaSafeCsv:
    DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\tTab", "\rReturn"]

    @pytest.fixture
    def odd_programmes(self, db):
        for n, name in enumerate(self.DANGEROUS):
            Programme.objects.create(slug=f"odd-{n}", name=name)

    def test_no_cell_of_the_download_starts_a_formula(self, login, coordinator, odd_programmes):
        text = login(coordinator).get("/reports/partnership.csv").content.decode()
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        for name in self.DANGEROUS:
            assert "'" + name in cells  # shown as text, not run
        # Real numbers stay numbers: unquoted, so a spreadsheet reads them as numbers.
        assert ',"<10",' in text and not any(c.startswith("'") and c[1:].isdigit() for c in cells)
