"""Small-number suppression for published tables. Pure: no Django, no database.

A table is rows × columns of counts, published with a total for each row, each column and the
whole table. Every count under the threshold (zero included) is hidden and shown as "<10"
(primary suppression). Then more entries are hidden (secondary suppression, shown as "[c]") until
no hidden entry can be worked out from what is shown:

- no row or column (totals row and column included) has exactly one hidden entry, so a total
  minus the shown cells never gives a hidden one;
- no hidden entry is pinned by a line's arithmetic and the known ranges of hidden entries
  (0 to threshold − 1 for "<10", at least the threshold for "[c]");
- no hidden entry can be solved from several rows and columns together. Treating every row and
  column of the table-with-totals as a node and every hidden entry as an edge between its row and
  its column, a hidden entry is determined by the sums exactly when its edge is a bridge (it lies
  on no cycle); so hiding continues until the hidden entries form no bridges.

The secondary entry chosen is always the smallest shown cell that closes the gap, preferring
inner cells to totals, so that as little as possible is hidden. Rates are computed only from
shown counts (see `rate`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from core import csv as safe_csv

PRIMARY = "primary"
SECONDARY = "secondary"
INFINITY = float("inf")


@dataclass(frozen=True)
class Cell:
    value: int
    suppressed: str = ""  # "", PRIMARY or SECONDARY

    @property
    def shown(self) -> bool:
        return not self.suppressed

    def display(self, threshold: int) -> str:
        if self.suppressed == PRIMARY:
            return f"<{threshold}"
        if self.suppressed == SECONDARY:
            return "[c]"
        return f"{self.value:,}"

    def published(self) -> int | None:
        """The value anyone may see, or None when hidden."""
        return None if self.suppressed else self.value


@dataclass
class Table:
    """A suppressed table. `cells[i][j]`, `row_totals[i]`, `column_totals[j]`, `total`."""

    title: str
    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell
    threshold: int
    row_heading: str = ""
    total_label: str = "Total"
    totals_row_label: str = "Total"

    @property
    def rows(self) -> list[dict]:
        return [
            {"label": label, "cells": cells, "total": total}
            for label, cells, total in zip(
                self.row_labels, self.cells, self.row_totals, strict=True
            )
        ]

    @property
    def any_suppressed(self) -> bool:
        return any(not c.shown for c in self.entries())

    def entries(self) -> list[Cell]:
        return [
            *(c for row in self.cells for c in row),
            *self.row_totals,
            *self.column_totals,
            self.total,
        ]

    def csv_rows(self) -> list[list[str]]:
        t = self.threshold
        rows = [[self.row_heading, *self.column_labels, self.total_label]]
        for label, cells, total in zip(self.row_labels, self.cells, self.row_totals, strict=True):
            rows.append([label, *(c.display(t) for c in cells), total.display(t)])
        rows.append(
            [
                self.totals_row_label,
                *(c.display(t) for c in self.column_totals),
                self.total.display(t),
            ]
        )
        return [[s.replace(",", "") if _numeric(s) else s for s in row] for row in rows]


def _numeric(text: str) -> bool:
    return text.replace(",", "").isdigit()


def suppress(values: Sequence[Sequence[int]], threshold: int) -> list[list[str]]:
    """The suppression marks for a table with totals: an (r + 1) × (c + 1) grid of "", PRIMARY
    or SECONDARY, where row r holds the column totals and column c the row totals."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    grid = _with_totals(values)
    n_rows, n_cols = len(grid), len(grid[0])
    marks = [
        [PRIMARY if grid[i][j] < threshold else "" for j in range(n_cols)] for i in range(n_rows)
    ]
    lines = [[(i, j) for j in range(n_cols)] for i in range(n_rows)] + [
        [(i, j) for i in range(n_rows)] for j in range(n_cols)
    ]
    last_row, last_col = n_rows - 1, n_cols - 1

    def hide_smallest(candidates) -> bool:
        shown = [e for e in candidates if not marks[e[0]][e[1]]]
        if not shown:
            return False
        # Inner cells before totals, the grand total last; then the smallest value.
        i, j = min(
            shown,
            key=lambda e: ((e[0] == last_row) + (e[1] == last_col), grid[e[0]][e[1]], e),
        )
        marks[i][j] = SECONDARY
        return True

    for _ in range(n_rows * n_cols + 1):
        changed = False
        for line in lines:
            hidden = [e for e in line if marks[e[0]][e[1]]]
            if hidden and (len(hidden) == 1 or _pinned(line, grid, marks, threshold)):
                changed |= hide_smallest(line)
        if changed:
            continue
        bridge = _first_bridge(marks)
        if bridge is None:
            break
        if not _close_cycle(bridge, grid, marks):
            break
    else:
        bridge = True
    if bridge is not None:
        # Nothing left to hide that helps: hide the whole table rather than publish a figure
        # that could be worked out.
        return [[m or SECONDARY for m in row] for row in marks]
    return marks


def _with_totals(values: Sequence[Sequence[int]]) -> list[list[int]]:
    rows = [list(map(int, r)) for r in values]
    if not rows or not rows[0]:
        raise ValueError("a table needs at least one row and one column")
    width = len(rows[0])
    if any(len(r) != width for r in rows) or any(v < 0 for r in rows for v in r):
        raise ValueError("rows must be the same length and counts non-negative")
    grid = [[*r, sum(r)] for r in rows]
    grid.append([sum(r[j] for r in grid) for j in range(width + 1)])
    return grid


def _bounds(mark: str, value: int, threshold: int) -> tuple[float, float]:
    if mark == PRIMARY:
        return 0, threshold - 1
    if mark == SECONDARY:
        return threshold, INFINITY
    return value, value


def _pinned(line, grid, marks, threshold) -> bool:
    """Whether the line's sum (inner entries − total = 0) and the known ranges of its hidden
    entries fix any hidden entry to one value."""
    total = line[-1]
    terms = []
    for e in line:
        lo, hi = _bounds(marks[e[0]][e[1]], grid[e[0]][e[1]], threshold)
        sign = -1 if e == total else 1
        terms.append((e, sign, lo, hi))
    for e, sign, lo, hi in terms:
        if not marks[e[0]][e[1]]:
            continue
        rest_lo = sum(min(s * a, s * b) for o, s, a, b in terms if o != e)
        rest_hi = sum(max(s * a, s * b) for o, s, a, b in terms if o != e)
        # sign * x + rest = 0  →  x = -rest / sign
        low, high = sorted((-rest_hi / sign, -rest_lo / sign))
        low, high = max(low, lo), min(high, hi)
        if low == high:
            return True
    return False


def _nodes(marks) -> dict:
    """The hidden entries as a graph: ('r', i) — ('c', j) for each hidden (i, j)."""
    graph: dict = {}
    for i, row in enumerate(marks):
        for j, mark in enumerate(row):
            if mark:
                graph.setdefault(("r", i), set()).add(("c", j))
                graph.setdefault(("c", j), set()).add(("r", i))
    return graph


def _reachable(graph, start, skip_edge) -> set:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for nxt in graph.get(node, ()):
            if {node, nxt} == skip_edge or nxt in seen:
                continue
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _first_bridge(marks):
    """The first hidden entry on no cycle, with the two sides its removal separates."""
    graph = _nodes(marks)
    for i, row in enumerate(marks):
        for j, mark in enumerate(row):
            if mark:
                a, b = ("r", i), ("c", j)
                side = _reachable(graph, a, {a, b})
                if b not in side:
                    return side, _reachable(graph, b, {a, b})
    return None


def _close_cycle(bridge, grid, marks) -> bool:
    """Hide the smallest shown entry joining the two sides of the bridge, putting it on a cycle."""
    side, other = bridge
    last_row, last_col = len(grid) - 1, len(grid[0]) - 1

    def joins(i, j) -> bool:
        r, c = ("r", i), ("c", j)
        return (r in side and c in other) or (r in other and c in side)

    candidates = [
        (i, j)
        for i in range(len(grid))
        for j in range(len(grid[0]))
        if not marks[i][j] and joins(i, j)
    ]
    if not candidates:
        return False
    i, j = min(
        candidates,
        key=lambda e: ((e[0] == last_row) + (e[1] == last_col), grid[e[0]][e[1]], e),
    )
    marks[i][j] = SECONDARY
    return True


def build_table(
    *,
    title: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[int]],
    threshold: int,
    row_heading: str = "",
    total_label: str = "Total",
    totals_row_label: str = "Total",
) -> Table:
    """Suppress `values` and wrap them for display and export."""
    grid = _with_totals(values)
    marks = suppress(values, threshold)
    cells = [[Cell(grid[i][j], marks[i][j]) for j in range(len(grid[0]))] for i in range(len(grid))]
    return Table(
        title=title,
        row_labels=list(row_labels),
        column_labels=list(column_labels),
        cells=[row[:-1] for row in cells[:-1]],
        row_totals=[row[-1] for row in cells[:-1]],
        column_totals=cells[-1][:-1],
        total=cells[-1][-1],
        threshold=threshold,
        row_heading=row_heading,
        total_label=total_label,
        totals_row_label=totals_row_label,
    )


def rate(part: Cell, whole: Cell) -> float | None:
    """A proportion from shown counts only; None when either is hidden or the whole is zero."""
    if part.suppressed or whole.suppressed or not whole.value:
        return None
    return part.value / whole.value


def percent(value: float | None) -> str:
    return "[c]" if value is None else f"{value * 100:.0f}%"


def to_csv(tables: Sequence[Table], extra: Sequence[tuple[str, list[list[str]]]] = ()) -> str:
    """The tables one after another, each under its title, as a spreadsheet would want them;
    then any `extra` (title, rows) sections, already suppressed by the caller."""
    out = io.StringIO()
    writer = safe_csv.writer(out)  # no cell can start a spreadsheet formula
    sections = [(t.title, t.csv_rows()) for t in tables] + list(extra)
    for n, (title, rows) in enumerate(sections):
        if n:
            writer.writerow([])
        writer.writerow([title])
        writer.writerows(rows)
    if tables:
        t = tables[0].threshold
        writer.writerow([])
        writer.writerow([f"<{t}: fewer than {t}."])
        writer.writerow([f"[c]: hidden so that a number under {t} cannot be worked out."])
    return out.getvalue()


# Charts: server-rendered SVG bars, drawn from the suppressed table only.

BAR_HEIGHT = 18
BAR_GAP = 10
LABEL_WIDTH = 110
CHART_WIDTH = 480
STUB = 6


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    width: float
    text: str
    hidden: bool
    series: int = 0


def bars(
    labels: Sequence[str], series: Sequence[Sequence[Cell | float | None]], threshold: int
) -> dict:
    """Horizontal bars, one group per label, one bar per series. A hidden count is drawn as a
    short hatched stub of fixed width (its length must not hint at the value) labelled "<10" or
    "[c]"; proportions (floats) are drawn on a 0–100% scale."""
    values = [v for s in series for v in s]
    is_rate = any(isinstance(v, float) for v in values) or all(v is None for v in values)
    top = (
        1.0 if is_rate else max([v.value for v in values if isinstance(v, Cell) and v.shown] + [1])
    )
    scale = CHART_WIDTH - LABEL_WIDTH - 60
    out, y = [], 0
    for index, label in enumerate(labels):
        for n, s in enumerate(series):
            v = s[index]
            if isinstance(v, Cell):
                hidden = not v.shown
                width = STUB if hidden else scale * v.value / top
                text = v.display(threshold)
            else:
                hidden = v is None
                width = STUB if hidden else scale * v / top
                text = percent(v)
            out.append(
                Bar(label=label if n == 0 else "", y=y, width=round(width, 1), text=text,
                    hidden=hidden, series=n)
            )  # fmt: skip
            y += BAR_HEIGHT + 2
        y += BAR_GAP
    return {"bars": out, "height": max(y, 1), "width": CHART_WIDTH, "label_width": LABEL_WIDTH}
