"""The queries behind the partnership figures: programme intake by month (programmes/reports.py)
and the whole set for an actor (reports/selectors.py): counts only, only for those who may read
partnership figures, in a bounded number of queries."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from core.errors import Forbidden
from programmes import reports as programme_reports
from programmes.models import Enrolment
from reports import selectors
from reports.disclosure import PRIMARY
from tests.factories import actor

pytestmark = pytest.mark.django_db


def at(year, month, day):
    return timezone.make_aware(datetime(year, month, day, 12))


@pytest.fixture
def intake(divert, make_case, refer, move):
    """Three DIVERT referrals: Jan 2026 (enrolled Feb, 20 days later), Jan 2026 (enrolled Mar,
    45 days later), Feb 2026 (waiting)."""
    made = []
    for n, (referred, enrolled) in enumerate(
        [(at(2026, 1, 10), at(2026, 1, 30)), (at(2026, 1, 20), at(2026, 3, 6)),
         (at(2026, 2, 3), None)]
    ):  # fmt: skip
        enrolment = move(refer(divert, make_case(given_name=f"P{n}")), "eligibility_checked")
        enrolment = move(enrolment, "enrolled" if enrolled else "waitlisted")
        Enrolment.objects.filter(pk=enrolment.pk).update(referred_at=referred, enrolled_at=enrolled)
        made.append(enrolment)
    return made


class TestProgrammeQueries:
    def test_referrals_places_waits_and_the_waiting_list(self, intake, divert, coordinator):
        who = actor(coordinator)
        window = {"since": date(2026, 1, 1), "until": date(2026, 4, 1)}
        assert programme_reports.referrals_by_month(actor=who, **window) == {
            (divert.pk, date(2026, 1, 1)): 2, (divert.pk, date(2026, 2, 1)): 1,
        }  # fmt: skip
        assert programme_reports.places_by_month(actor=who, **window) == {
            (divert.pk, date(2026, 1, 1)): 1, (divert.pk, date(2026, 3, 1)): 1,
        }  # fmt: skip
        medians = programme_reports.median_waits(
            actor=who, starts=[date(2026, 1, 1), date(2026, 3, 1)], until=date(2026, 4, 1)
        )
        assert medians == {(date(2026, 1, 1), divert.pk): 32.5, (date(2026, 3, 1), divert.pk): 45}
        assert programme_reports.waiting_now(actor=who) == {divert.pk: 1}
        assert (divert.pk, divert.name) in programme_reports.programmes_reported(actor=who)

    def test_practitioners_do_not_read_them(self, officer):
        for query in (
            lambda who: programme_reports.programmes_reported(actor=who),
            lambda who: programme_reports.waiting_now(actor=who),
            lambda who: programme_reports.referrals_by_month(
                actor=who, since=date(2026, 1, 1), until=date(2026, 2, 1)
            ),
            lambda who: selectors.partnership_figures(actor=who),
        ):
            with pytest.raises(Forbidden):
                query(actor(officer))


class TestPartnershipFigures:
    def test_every_table_for_every_period_in_a_few_queries(
        self, intake, coordinator, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(10):
            figures = selectors.partnership_figures(
                actor=actor(coordinator), today=date(2026, 3, 15)
            )
        assert figures.months[0] == date(2024, 4, 1) and figures.months[-1] == date(2026, 3, 1)
        assert figures.threshold == 10 and figures.base == 5
        k = [pid for pid, _ in figures.programmes].index(intake[0].programme_id)
        # Two referrals in January: fewer than 10, so hidden; the same month in every period.
        assert figures.referrals.cells[-3][k].kind == PRIMARY
        assert all(p in figures.referrals.totals for p in (6, 12, 24))
