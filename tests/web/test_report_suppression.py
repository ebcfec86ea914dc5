"""Small-number suppression (reports/disclosure.py): nothing under the threshold is shown, every
shown count is rounded, a month reads the same in every period, and nothing hidden can be worked
out. tests/reports/test_no_recovery.py attacks whole downloads; these check the rule's parts."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.disclosure import (
    PRIMARY,
    SECONDARY,
    WITHHELD,
    Cell,
    interval,
    publish_count,
    publish_release,
    publish_row,
    round_count,
)
from tests.reports.attack import System, recovered
from web.reports import csv_value, rate

T, B = 10, 5
PERIODS = (6, 12, 24)

counts = st.one_of(st.just(0), st.integers(0, 14), st.integers(0, 80))
rows = st.integers(1, 4).flatmap(lambda k: st.lists(counts, min_size=k, max_size=k))


def months(k: int):
    return st.lists(st.lists(counts, min_size=k, max_size=k), min_size=24, max_size=24)


tables = st.integers(1, 4).flatmap(months)


def row_recovered(values, cells, total, threshold, base) -> list[int]:
    """Entries of one published row that the row alone pins (brute force over small values)."""
    entries = [*cells, total]
    true = [*values, sum(values)]
    ranges = [interval(c, threshold, base) for c in entries]
    top = max(true) + 2 * base + threshold
    found = []
    for i, c in enumerate(entries):
        if c.shown or (c.kind == PRIMARY and threshold == 1):
            continue
        seen = set()
        for guess in itertools.product(
            *(range(max(0, v - 3), min(top, v + 3) + 1) for v in values)
        ):
            whole = sum(guess)
            if all(lo <= g <= hi for g, (lo, hi) in zip(guess, ranges, strict=False)) and (
                ranges[-1][0] <= whole <= ranges[-1][1]
            ):
                seen.add([*guess, whole][i])
        if len(seen) < 2:
            found.append(i)
    return found


class TestCounts:
    def test_under_the_threshold_is_hidden_and_the_rest_rounded(self):
        assert [publish_count(v, T, B) for v in (0, 9)] == [Cell(kind=PRIMARY)] * 2
        assert [publish_count(v, T, B).count for v in (10, 12, 13, 17, 18, 1234)] == [
            10, 10, 15, 15, 20, 1235,
        ]  # fmt: skip

    def test_a_shown_count_means_exactly_the_values_that_round_to_it(self):
        for threshold, base in itertools.product((1, 2, 3, 7, 10, 11), (1, 2, 3, 5, 10)):
            for value in range(150):
                cell = publish_count(value, threshold, base)
                low, high = interval(cell, threshold, base)
                assert low <= value <= high
                if cell.shown:
                    same = [v for v in range(300) if publish_count(v, threshold, base) == cell]
                    assert (low, high) == (min(same), max(same))
                    assert cell.count % base == 0 and cell.count >= threshold

    def test_display(self):
        assert Cell(kind=PRIMARY).display(T) == "<10"
        assert Cell(kind=SECONDARY).display(T) == "[c]"
        assert Cell(kind=WITHHELD).display(T) == "[x]"
        assert Cell(1235).display(T) == "1,235" and csv_value(Cell(1235), T) == 1235
        assert round_count(12, T, B) == 10

    def test_rates_come_only_from_shown_rounded_counts(self):
        assert rate(Cell(10), Cell(15)) == 10 / 15
        assert rate(Cell(kind=PRIMARY), Cell(15)) is None
        assert rate(Cell(10), Cell(kind=SECONDARY)) is None


class TestOneMonth:
    @settings(max_examples=300, deadline=None)
    @given(rows, st.sampled_from([(10, 5), (10, 1), (3, 2), (2, 1), (5, 10)]))
    def test_nothing_hidden_in_a_month_is_pinned_by_the_month_alone(self, values, rule):
        threshold, base = rule
        cells, total = publish_row(values, threshold, base)
        for value, cell in zip([*values, sum(values)], [*cells, total], strict=True):
            if value < threshold:
                assert cell.kind == PRIMARY
            if cell.shown:
                assert value >= threshold
            if cell.kind == SECONDARY:
                assert value >= threshold
        assert row_recovered(values, cells, total, threshold, base) == []

    def test_a_lone_small_count_beside_its_total_takes_a_partner_when_rounding_cannot_hide_it(
        self,
    ):
        # Without rounding, 40 + 3 = 43 would give the 3 away: the 40 is hidden too.
        cells, total = publish_row([3, 40], 10, 1)
        assert cells == [Cell(kind=PRIMARY), Cell(kind=SECONDARY)] and total == Cell(43)
        # Rounded, 40 means 38 to 42 and 45 means 43 to 47: the small one is 1 to 9.
        cells, total = publish_row([3, 40], 10, 5)
        assert cells == [Cell(kind=PRIMARY), Cell(40)] and total == Cell(45)

    def test_rounding_edges_that_would_pin_a_small_count_are_hidden(self):
        # 9 + 9 = 18, shown as 20, means 18 to 22: both 9s would be pinned. The total goes.
        cells, total = publish_row([9, 9], 10, 5)
        assert cells == [Cell(kind=PRIMARY)] * 2 and total.kind == SECONDARY


class TestPeriods:
    @settings(max_examples=150, deadline=None)
    @given(tables)
    def test_a_month_is_published_the_same_whatever_the_period(self, values):
        release = publish_release(values, periods=PERIODS, threshold=T)
        # ... and from that month alone: another history changes no month's figures.
        other = publish_release([*values[:-1], [0] * len(values[0])], periods=PERIODS, threshold=T)
        assert release.cells[:-1] == other.cells[:-1]
        assert release.month_totals[:-1] == other.month_totals[:-1]
        for m, row in enumerate(values):
            assert (release.cells[m], release.month_totals[m]) == publish_row(row, T, B)

    @settings(max_examples=30, deadline=None)
    @given(tables, st.sampled_from([(10, 5), (10, 5), (3, 2), (5, 5), (10, 1)]))
    def test_no_hidden_entry_is_pinned_by_all_periods_together(self, values, rule):
        """Independent check of the release: every figure of every period as a range on sums of
        the unknown counts, and a second filling-in found for every hidden one (a total not
        published at all, "[x]", only if it is under the threshold)."""
        threshold, base = rule
        release = publish_release(values, periods=PERIODS, threshold=threshold, base=base)
        system, truth, hidden = System(), {}, []
        n, k = len(values), len(values[0])

        def published(cell, parts):
            name = system.total(parts)
            system.within([(name, 1)], *interval(cell, threshold, base))
            true = sum(values[m][j] for m, j in parts)
            if cell.kind in (PRIMARY, SECONDARY) or (cell.kind == WITHHELD and true < threshold):
                hidden.append(name)

        for m in range(n):
            for j in range(k):
                truth[(m, j)] = values[m][j]
                published(release.cells[m][j], [(m, j)])
            published(release.month_totals[m], [(m, j) for j in range(k)])
        for p in PERIODS:
            span = range(n - p, n)
            for j in range(k):
                published(release.category_totals[p][j], [(m, j) for m in span])
            published(release.totals[p], [(m, j) for m in span for j in range(k)])
        assert recovered(system, truth, hidden) == []

    def test_the_differencing_of_the_issue_recovers_nothing(self):
        # 12 referrals two months ago and none otherwise. Published exactly, the 6- and 12-month
        # totals would both be 12, so the six months only the 12-month view adds would all be 0.
        values = [[0, 0, 0] for _ in range(24)]
        values[21] = [0, 12, 0]
        release = publish_release(values, periods=PERIODS, threshold=T)
        six, twelve = release.totals[6], release.totals[12]
        low6, high6 = interval(six, T, B)
        low12, high12 = interval(twelve, T, B)
        added = range(max(0, low12 - high6), high12 - low6 + 1)
        assert len(added) > 1  # 0, 1 or 2: the added months are not pinned at 0

    def test_period_totals_are_hidden_when_rounding_cannot_protect(self):
        # No rounding and every count 10: totals minus shown cells would give everything away.
        values = [[10, 10] for _ in range(24)]
        release = publish_release(values, periods=PERIODS, threshold=T, base=1)
        assert all(c.shown for row in release.cells for c in row)  # nothing small to protect
        values[23] = [3, 10]
        release = publish_release(values, periods=PERIODS, threshold=T, base=1)
        hidden = [c for p in PERIODS for c in [*release.category_totals[p], release.totals[p]]]
        assert any(not c.shown for c in hidden)

    def test_distinct_counts_move_with_their_totals(self):
        # One adversity: the cases with any adversity are the cases with it, so the distinct
        # count equals the grand total. Both small: still published, neither pinned.
        values = [[0] for _ in range(24)]
        values[23] = [3]
        release = publish_release(
            values, periods=PERIODS, threshold=T, distinct={6: 3, 12: 3, 24: 3}
        )
        assert release.distinct == {p: Cell(kind=PRIMARY) for p in PERIODS}
