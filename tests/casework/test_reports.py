"""Report-ready figures: share of referrals by screening outcome, NFA rate by partner and month."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from casework import reports, services
from core.errors import Forbidden
from tests.factories import actor


def when(year, month, day):
    return timezone.make_aware(datetime(year, month, day, 12))


@pytest.fixture
def referrals(officer, teacher, agreement):
    """Police: Jan 2026 three screened (2 NFA, 1 early help) + one unscreened; Feb one (programme).
    School: Jan one (NFA)."""
    plan = [
        (officer, when(2026, 1, 5), "no_further_action"),
        (officer, when(2026, 1, 9), "no_further_action"),
        (officer, when(2026, 1, 20), "early_help"),
        (officer, when(2026, 1, 21), None),
        (officer, when(2026, 2, 2), "programme_referral"),
        (teacher, when(2026, 1, 15), "no_further_action"),
    ]
    for n, (user, received, outcome) in enumerate(plan):
        intake = services.referral_create(
            actor=actor(user), concerns=["neglect"], description="d", received_at=received,
            person={"given_name": f"Child{n}", "family_name": "Test"},
        )  # fmt: skip
        if outcome:
            services.referral_screen(
                actor=actor(user), referral=intake.referral, outcome=outcome, reasons="r"
            )


@pytest.mark.django_db
class TestReports:
    def test_share_by_screening_outcome(self, referrals, coordinator):
        figures = reports.screening_outcome_shares(actor=actor(coordinator))
        assert figures["referrals"] == 6 and figures["screened"] == 5 and figures["unscreened"] == 1
        by = {row["outcome"]: row for row in figures["outcomes"]}
        assert by["no_further_action"]["count"] == 3 and by["no_further_action"]["share"] == 0.6
        assert (
            by["statutory_social_care"]["count"] == 0 and by["statutory_social_care"]["share"] == 0
        )
        assert figures["nfa_rate"] == 0.6 and figures["support_rate"] == 0.4

    def test_filters_by_period_and_partner(self, referrals, coordinator):
        jan = reports.screening_outcome_shares(
            actor=actor(coordinator),
            since=date(2026, 1, 1),
            until=date(2026, 2, 1),
            partner_slug="police",
        )
        assert jan["referrals"] == 4 and jan["screened"] == 3
        assert jan["nfa_rate"] == round(2 / 3, 4)

    def test_nfa_rate_by_partner_and_month(self, referrals, auditor):
        rows = reports.nfa_rate_by_partner_month(actor=actor(auditor))
        assert [
            (r["partner"], r["month"], r["screened"], r["nfa"], r["nfa_rate"]) for r in rows
        ] == [
            ("police", date(2026, 1, 1), 3, 2, round(2 / 3, 4)),
            ("school", date(2026, 1, 1), 1, 1, 1.0),
            ("police", date(2026, 2, 1), 1, 0, 0.0),
        ]
        assert rows[2]["support"] == 1 and rows[2]["support_rate"] == 1.0

    def test_it_is_one_query(self, referrals, coordinator, django_assert_num_queries):
        with django_assert_num_queries(1):
            reports.nfa_rate_by_partner_month(actor=actor(coordinator))

    def test_practitioners_do_not_read_partnership_figures(self, officer):
        with pytest.raises(Forbidden):
            reports.screening_outcome_shares(actor=actor(officer))


@pytest.mark.django_db
class TestFiguresByMonth:
    """The month-by-month queries behind the partnership figures (reports/selectors.py)."""

    def test_screening_by_month(self, referrals, coordinator):
        counts = reports.screening_by_month(
            actor=actor(coordinator), since=date(2026, 1, 1), until=date(2026, 3, 1)
        )
        # January: 3 NFA (police 2, school 1), 1 early help; the unscreened one is not counted.
        assert counts == {date(2026, 1, 1): [3, 1, 0], date(2026, 2, 1): [0, 1, 0]}
        assert reports.screening_by_month(
            actor=actor(coordinator), since=date(2026, 2, 1), until=date(2026, 3, 1)
        ) == {date(2026, 2, 1): [0, 1, 0]}

    def test_screening_by_month_is_one_query(
        self, referrals, coordinator, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            reports.screening_by_month(
                actor=actor(coordinator), since=date(2025, 1, 1), until=date(2027, 1, 1)
            )

    def test_adversities_count_a_case_once_in_the_month_first_recorded(
        self, case, officer, teacher, coordinator, make_case, django_assert_num_queries
    ):
        other = make_case(given="Sam")
        plan = [
            (officer, case, "poverty", when(2026, 1, 5)),
            (teacher, case, "poverty", when(2026, 2, 5)),  # the same case again: not counted
            (officer, case, "bereavement", when(2026, 2, 9)),
            (officer, other, "poverty", when(2026, 2, 20)),
            (officer, other, "bullying", when(2025, 6, 1)),  # before the window
        ]
        for user, c, code, at in plan:
            services.adversity_create(
                actor=actor(user), case=c, code=code, source="observed", recorded_at=at
            )
        with django_assert_num_queries(1):
            counts, cases = reports.adversities_first_recorded(
                actor=actor(coordinator), codes=["poverty", "bereavement", "bullying"],
                since=date(2026, 1, 1), until=date(2026, 3, 1),
                period_starts=[date(2026, 1, 1), date(2026, 2, 1)],
            )  # fmt: skip
        assert counts == {
            ("poverty", date(2026, 1, 1)): 1,
            ("bereavement", date(2026, 2, 1)): 1,
            ("poverty", date(2026, 2, 1)): 1,
        }
        assert cases == {date(2026, 1, 1): 2, date(2026, 2, 1): 2}

    def test_practitioners_do_not_read_figures_by_month(self, officer):
        with pytest.raises(Forbidden):
            reports.screening_by_month(
                actor=actor(officer), since=date(2026, 1, 1), until=date(2026, 2, 1)
            )
        with pytest.raises(Forbidden):
            reports.adversities_first_recorded(
                actor=actor(officer), codes=["poverty"], since=date(2026, 1, 1),
                until=date(2026, 2, 1), period_starts=[date(2026, 1, 1)],
            )  # fmt: skip
