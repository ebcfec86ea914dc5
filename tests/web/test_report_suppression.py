"""Small-number suppression (web/reports.py): nothing under the threshold is shown, and nothing
hidden can be worked out from what is shown."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from web.reports import PRIMARY, SECONDARY, build_table, rate, suppress, to_csv

T = 10


def _grid(values):
    grid = [[*r, sum(r)] for r in values]
    grid.append([sum(r[j] for r in grid) for j in range(len(grid[0]))])
    return grid


def _constraints(n_rows, n_cols):
    """Each row and column of the table-with-totals: inner entries sum to the total entry."""
    lines = []
    for i in range(n_rows):
        lines.append({(i, j): (-1 if j == n_cols - 1 else 1) for j in range(n_cols)})
    for j in range(n_cols):
        lines.append({(i, j): (-1 if i == n_rows - 1 else 1) for i in range(n_rows)})
    return lines


def _rank(matrix) -> int:
    m = [[Fraction(x) for x in row] for row in matrix]
    rank, cols = 0, len(m[0]) if m else 0
    for c in range(cols):
        pivot = next((r for r in range(rank, len(m)) if m[r][c] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for r in range(len(m)):
            if r != rank and m[r][c] != 0:
                f = m[r][c] / m[rank][c]
                m[r] = [a - f * b for a, b in zip(m[r], m[rank], strict=True)]
        rank += 1
    return rank


def recoverable(marks) -> list:
    """Hidden entries that the published sums determine exactly (linear algebra, independent of
    the graph argument the module uses): x_e is determined iff its column of the constraint
    matrix over the unknowns is not in the span of the other unknowns' columns."""
    n_rows, n_cols = len(marks), len(marks[0])
    unknown = [(i, j) for i in range(n_rows) for j in range(n_cols) if marks[i][j]]
    if not unknown:
        return []
    lines = _constraints(n_rows, n_cols)
    matrix = [[line.get(e, 0) for e in unknown] for line in lines]
    full = _rank(matrix)
    found = []
    for k, e in enumerate(unknown):
        without = [row[:k] + row[k + 1 :] for row in matrix]
        if not without[0] or _rank(without) < full:
            found.append(e)
    return found


def pinned_by_a_line(grid, marks) -> list:
    """Hidden entries one line's sum and the shown ranges ("<10" is 0–9, "[c]" is 10 or more)
    pin to a single value."""
    found = []
    for line in _constraints(len(grid), len(grid[0])):
        ranges = {}
        for (i, j), sign in line.items():
            m = marks[i][j]
            lo, hi = (
                (0, T - 1)
                if m == PRIMARY
                else (T, float("inf"))
                if m == SECONDARY
                else (grid[i][j], grid[i][j])
            )
            ranges[(i, j)] = (sign, lo, hi)
        for e, (sign, lo, hi) in ranges.items():
            if not marks[e[0]][e[1]]:
                continue
            rest = [(s, a, b) for o, (s, a, b) in ranges.items() if o != e]
            rest_lo = sum(min(s * a, s * b) for s, a, b in rest)
            rest_hi = sum(max(s * a, s * b) for s, a, b in rest)
            low, high = sorted((-rest_hi / sign, -rest_lo / sign))
            if max(low, lo) == min(high, hi):
                found.append(e)
    return found


tables = st.integers(1, 5).flatmap(
    lambda cols: st.lists(
        st.lists(st.one_of(st.integers(0, 12), st.integers(0, 200)), min_size=cols, max_size=cols),
        min_size=1,
        max_size=6,
    )
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_published_count_is_under_the_threshold(values):
    grid, marks = _grid(values), suppress(values, T)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value < T:
                assert marks[i][j] == PRIMARY
            if not marks[i][j]:
                assert value >= T


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_hidden_count_can_be_worked_out_from_the_totals(values):
    marks = suppress(values, T)
    assert recoverable(marks) == []


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_row_or_column_has_exactly_one_hidden_entry(values):
    marks = suppress(values, T)
    for line in _constraints(len(marks), len(marks[0])):
        assert sum(1 for i, j in line if marks[i][j]) != 1


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_hidden_count_is_pinned_by_a_line_and_the_shown_ranges(values):
    assert pinned_by_a_line(_grid(values), suppress(values, T)) == []


@settings(max_examples=100, deadline=None)
@given(tables)
def test_secondary_suppression_only_hides_counts_at_or_over_the_threshold(values):
    grid, marks = _grid(values), suppress(values, T)
    for i, row in enumerate(marks):
        for j, m in enumerate(row):
            if m == SECONDARY:
                assert grid[i][j] >= T


class TestExamples:
    def test_it_publishes_a_table_with_no_small_numbers_as_it_is(self):
        marks = suppress([[20, 30], [40, 50]], T)
        assert all(m == "" for row in marks for m in row)

    def test_one_small_cell_takes_the_next_smallest_in_its_row_and_column_with_it(self):
        #      a    b    c  | total
        # x    3   40   50  |  93
        # y   25   60   70  | 155
        marks = suppress([[3, 40, 50], [25, 60, 70]], T)
        assert marks[0][0] == PRIMARY
        assert marks[0][1] == SECONDARY  # next smallest in row x
        assert marks[1][0] == SECONDARY  # next smallest in column a
        assert marks[1][1] == SECONDARY  # closes the rectangle: none of the four is recoverable
        assert marks[0][3] == marks[1][3] == marks[2][0] == ""  # totals still shown
        assert recoverable(marks) == []

    def test_a_small_row_total_hides_the_row(self):
        marks = suppress([[2, 3], [40, 50]], T)
        assert marks[0] == [PRIMARY, PRIMARY, PRIMARY]
        assert recoverable(marks) == []

    def test_display_and_csv(self):
        table = build_table(
            title="Screening", row_labels=["Jan", "Feb"], column_labels=["NFA", "Support"],
            values=[[3, 40], [25, 60]], threshold=T, row_heading="Month",
        )  # fmt: skip
        shown = [[c.display(T) for c in row["cells"]] for row in table.rows]
        assert shown[0][0] == "<10" and "[c]" in shown[0] + shown[1]
        text = to_csv([table])
        assert text.splitlines()[0] == "Screening"
        assert "Month,NFA,Support,Total" in text and "<10" in text
        assert ",3," not in text

    def test_rates_come_only_from_shown_counts(self):
        table = build_table(
            title="x", row_labels=["a", "b"], column_labels=["p", "q"],
            values=[[3, 40], [25, 60]], threshold=T,
        )  # fmt: skip
        assert rate(table.cells[0][0], table.row_totals[0]) is None
        assert rate(table.column_totals[1], table.total) == 100 / 128
