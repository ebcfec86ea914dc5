"""Statistical disclosure control for published counts. Pure: no Django, no database.

The rule (docs/configuration.md, "Small numbers in reports"), after the ONS practice of
suppression plus rounding:

1. Primary suppression. A count under the threshold T (SUPPRESSION_THRESHOLD, default 10), zero
   included, is shown as "<10".
2. Rounding. Every other published count, totals included, is rounded to the nearest multiple of
   ROUNDING_BASE (5; halves round up), and never shown below the threshold: with T = 10, "10"
   means 10 to 12, "15" means 13 to 17. So no published total is exact and a total minus the
   cells beside it gives a range, not a number. Rates are worked out from the rounded counts.
3. A month is published from that month alone. Its cells and its total are suppressed and rounded
   looking at nothing but that month's counts, so the month reads the same in the 6-, 12- and
   24-month views and the longer periods add nothing about it.
4. Secondary suppression ("[c]"). Within a month, more cells are hidden until every hidden entry
   of the row could take at least two values given the row's published ranges. Then the period
   totals (all months, per column and overall) of all periods are published together and checked
   against everything else offered: if any hidden entry (a month's cell or total, or a hidden
   period total) could be worked out by combining the periods, the totals and the months, a
   period total is hidden too. If that is not enough, the period totals are not published at all
   ("[x]"); then the months are independent of one another and rule 3 protects them. (A month's
   own total is withheld only where hiding every entry of the month is not enough, which needs a
   threshold of 2: "<2" + "<2" = "[c]" means 1 + 1.)

"Could be worked out" is decided exactly for the linear model an attacker has: every published
figure is a range (shown count: its rounding interval; "<10": 0 to T − 1; "[c]": T or more;
"[x]": anything), every total is the sum of its cells. The months, periods and totals of one table
form a flow network (a month's total flows into its cells, a cell into its column's period totals,
nested periods into each other), so the possible values of any entry form an interval of integers,
and an entry is pinned exactly when no cycle of the residual network passes through it. See
`_Network`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PRIMARY = "primary"
SECONDARY = "secondary"
WITHHELD = "withheld"
ROUNDING_BASE = 5
INFINITY = float("inf")


@dataclass(frozen=True)
class Cell:
    """A published count: `count` is the rounded figure anyone may see, None when hidden. The true
    value is deliberately not kept here, so nothing that renders a Cell can show it."""

    count: int | None = None
    kind: str = ""  # "", PRIMARY, SECONDARY or WITHHELD

    @property
    def shown(self) -> bool:
        return not self.kind

    def display(self, threshold: int) -> str:
        if self.kind == PRIMARY:
            return f"<{threshold}"
        if self.kind == SECONDARY:
            return "[c]"
        if self.kind == WITHHELD:
            return "[x]"
        return f"{self.count:,}"


def lowest_shown(threshold: int, base: int) -> int:
    """The smallest figure ever shown: the first multiple of the base at or over the threshold."""
    return -(-threshold // base) * base


def round_count(value: int, threshold: int, base: int) -> int:
    """A count at or over the threshold, rounded to the nearest multiple of `base` (halves up)."""
    return max(base * ((value + base // 2) // base), lowest_shown(threshold, base))


def publish_count(value: int, threshold: int, base: int) -> Cell:
    if value < threshold:
        return Cell(kind=PRIMARY)
    return Cell(count=round_count(value, threshold, base))


def interval(cell: Cell, threshold: int, base: int) -> tuple[int, float]:
    """Every true value consistent with what `cell` shows."""
    if cell.kind == PRIMARY:
        return 0, threshold - 1
    if cell.kind == SECONDARY:
        return threshold, INFINITY
    if cell.kind == WITHHELD:
        return 0, INFINITY
    assert cell.count is not None
    low = threshold if cell.count == lowest_shown(threshold, base) else cell.count - base // 2
    return low, cell.count + (base - 1 - base // 2)


def _protected(cell: Cell, threshold: int) -> bool:
    """Hidden entries whose value must stay uncertain. With a threshold of 1, "<1" means 0 and
    hides nothing, so there is nothing to protect."""
    return bool(cell.kind) and not (cell.kind == PRIMARY and threshold == 1)


def _needs_protection(cell: Cell, value: int, threshold: int) -> bool:
    """A total not published ("[x]") need stay uncertain only if it is under the threshold: at or
    over it, it is no small number, merely the sum of what is shown."""
    if cell.kind == WITHHELD:
        return value < threshold
    return _protected(cell, threshold)


# One month (or any single line): cells and their total.


def publish_row(values: Sequence[int], threshold: int, base: int) -> tuple[list[Cell], Cell]:
    """Publish one line (a month's counts and its total) from its own values alone."""
    if threshold < 1 or base < 1:
        raise ValueError("threshold and base must be at least 1")
    true = [*map(int, values), sum(values)]
    if not values or any(v < 0 for v in true):
        raise ValueError("a row needs at least one count, none negative")
    entries = [publish_count(v, threshold, base) for v in true]
    while True:
        stuck = next(
            (
                i
                for i, c in enumerate(entries)
                if _needs_protection(c, true[i], threshold)
                and not _row_free(i, true, entries, threshold, base)
            ),
            None,
        )
        if stuck is None:
            return entries[:-1], entries[-1]
        # Hide a shown entry: cells before the total, then the smallest, so little is lost.
        last = len(entries) - 1
        candidates = sorted(
            (i for i, c in enumerate(entries) if c.shown), key=lambda i: (i == last, true[i], i)
        )
        if not candidates:
            # All hidden and still pinned (threshold 2: "<2" + "<2" = "[c]" means 1 + 1): the
            # total is not published at all, and the cells alone pin nothing.
            if entries[-1].kind == WITHHELD:
                raise AssertionError("cells alone pin nothing")
            entries[-1] = Cell(kind=WITHHELD)
            continue

        def frees(i: int, stuck: int = stuck) -> bool:
            trial = [Cell(kind=SECONDARY) if n == i else c for n, c in enumerate(entries)]
            return _row_free(stuck, true, trial, threshold, base)

        chosen = next((i for i in candidates if frees(i)), candidates[0])
        entries[chosen] = Cell(kind=SECONDARY)


def _row_free(i: int, true: list[int], entries: list[Cell], threshold: int, base: int) -> bool:
    """Whether entry i of a line (cells then total) could take another value: move it by one and
    make up the difference in the total (a cell) or in one other entry; within a single line
    that is every way (the possible values of an entry form an interval)."""
    ranges = [interval(c, threshold, base) for c in entries]
    last = len(entries) - 1

    def fits(j: int, delta: int) -> bool:
        return ranges[j][0] <= true[j] + delta <= ranges[j][1]

    for d in (1, -1):
        if not fits(i, d):
            continue
        if i == last:
            if any(fits(j, d) for j in range(last)):
                return True
        elif fits(last, d) or any(fits(j, -d) for j in range(last) if j != i):
            return True
    return False


# A whole table over several nested periods.


@dataclass
class Release:
    """One table published for every period at once. Months are oldest first; period `p` is the
    last `p` months. The cells of a month are the same whatever the period."""

    threshold: int
    base: int
    periods: tuple[int, ...]
    cells: list[list[Cell]]  # [month][category]
    month_totals: list[Cell]
    category_totals: dict[int, list[Cell]]  # period → [category]
    totals: dict[int, Cell]  # period → all months, all categories
    distinct: dict[int, Cell] | None = None  # period → distinct units counted (see publish_release)

    def months_of(self, period: int) -> slice:
        return slice(len(self.cells) - period, len(self.cells))


def publish_release(
    values: Sequence[Sequence[int]],
    *,
    periods: Sequence[int],
    threshold: int,
    base: int = ROUNDING_BASE,
    distinct: dict[int, int] | None = None,
) -> Release:
    """Publish a months × categories table for every period in `periods` (the last p months each;
    `values` has one row per month, oldest first, as many as the longest period).

    `distinct`, when given, is a count per period of the units behind the table (e.g. cases with
    any adversity) that is not a sum of cells: at least every category total, at most the grand
    total, and no more new units in a block of months than counts in it. It is published by the
    same rule and taken into account when checking that nothing hidden can be worked out.
    """
    periods = tuple(sorted(set(periods)))
    rows = [list(map(int, r)) for r in values]
    if not periods or periods[0] < 1 or len(rows) != periods[-1]:
        raise ValueError("one row per month of the longest period is needed")
    if not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("every month needs the same categories")
    published = [publish_row(r, threshold, base) for r in rows]
    n, k = len(rows), len(rows[0])
    category = {p: [sum(r[j] for r in rows[n - p :]) for j in range(k)] for p in periods}
    total = {p: sum(category[p]) for p in periods}
    release = Release(
        threshold=threshold,
        base=base,
        periods=periods,
        cells=[cells for cells, _ in published],
        month_totals=[t for _, t in published],
        category_totals={
            p: [publish_count(v, threshold, base) for v in category[p]] for p in periods
        },
        totals={p: publish_count(total[p], threshold, base) for p in periods},
        distinct=(
            {p: publish_count(distinct[p], threshold, base) for p in periods}
            if distinct is not None
            else None
        ),
    )
    _protect_release(release, rows, category, total, distinct)
    return release


def _protect_release(release: Release, rows, category, total, distinct) -> None:
    """Secondary suppression across periods (rule 4). Hiding only ever widens a range, so an entry
    found safe stays safe: each entry is checked once, and so is each entry hidden on the way."""
    t = release.threshold
    net = _Network(release, rows, category, total, distinct)
    todo: list[tuple] = [key for key in net.keys if net.needs_protection(key)]
    if release.distinct is not None:
        todo += [("distinct", p) for p in release.periods if _protected(release.distinct[p], t)]
    while todo:
        key = todo.pop(0)
        if key[0] == "distinct":
            assert release.distinct is not None
            if release.distinct[key[1]].kind != WITHHELD and not net.distinct_free(key[1]):
                release.distinct[key[1]] = Cell(kind=WITHHELD)
                net.rebuild()
            continue
        if net.free(key):
            continue
        candidates = net.shown_period_totals(near=key)
        chosen = next((c for c in candidates if net.frees(c, key)), None)
        if chosen is None and release.distinct is not None and not net.distinct_withheld():
            # The check holds the distinct counts within one of their true values, which is
            # cautious; not publishing them removes what ties the entry down.
            _withhold(release.distinct)
            net.rebuild()
            todo.append(key)
            continue
        if not candidates:
            # Nothing left to hide at the period level: publish no period totals (and no distinct
            # counts, which tie the periods together); every month then stands alone (rule 3).
            for p in release.periods:
                release.category_totals[p] = [Cell(kind=WITHHELD)] * len(rows[0])
                release.totals[p] = Cell(kind=WITHHELD)
            if release.distinct is not None:
                _withhold(release.distinct)
            net.rebuild()
            if not all(net.free(k) for k in net.keys if net.needs_protection(k)):
                raise AssertionError("months published alone are always protected")
            return
        net.set(chosen or candidates[0], Cell(kind=SECONDARY))
        todo += [chosen or candidates[0], key]


def _withhold(cells: dict[int, Cell]) -> None:
    for p in cells:
        cells[p] = Cell(kind=WITHHELD)


class _Network:
    """The table over all periods as a circulation. Nodes: a source chain A_p (one per period,
    longest first) whose edges carry the period grand totals, a block node N_p for the months in
    period p but in no shorter one, a node per month, a column chain K_p,j whose edges carry the
    period totals of column j, and a sink returning to the source. Edges: month total N -> month,
    cell month -> K, period totals along the chains. Flow conservation is exactly "a total is the
    sum of its parts"; each edge's published range bounds its flow. The true counts are one
    feasible flow, and an edge's value can change iff some cycle of the residual network uses it
    (the constraint matrix of a network is totally unimodular, so this is exact for integers)."""

    def __init__(self, release: Release, rows, category, total, distinct) -> None:
        self.release, self.rows = release, rows
        self.category, self.total, self.distinct = category, total, distinct
        self.rebuild()

    def rebuild(self) -> None:
        r = self.release
        periods, n, k = r.periods, len(self.rows), len(self.rows[0])
        self.edges: dict[tuple, list] = {}  # key -> [tail, head, flow, low, high]
        self.keys: list[tuple] = []  # the published entries
        for i, p in enumerate(periods):
            tail = ("A", periods[i + 1]) if i + 1 < len(periods) else "src"
            self._add(("all", p), tail, ("A", p), self.total[p])
            before = self.total[periods[i - 1]] if i else 0
            self._add(("block", p), ("A", p), ("N", p), self.total[p] - before)
            for j in range(k):
                head = ("K", periods[i + 1], j) if i + 1 < len(periods) else "sink"
                self._add(("cat", p, j), ("K", p, j), head, self.category[p][j])
        self._add(("return",), "sink", "src", self.total[periods[-1]])
        for m in range(n):
            block = next(p for p in periods if m >= n - p)
            self._add(("month", m), ("N", block), ("M", m), sum(self.rows[m]))
            for j in range(k):
                self._add(("cell", m, j), ("M", m), ("K", block, j), self.rows[m][j])
        self.base = {key: list(edge) for key, edge in self.edges.items()}
        # With every distinct count withheld they tie nothing down (each equal to its grand
        # total always fits), so there is nothing to fold in.
        if self.distinct is not None and not self.distinct_withheld():
            folded = self._folded(self.distinct)
            if folded is None:
                raise AssertionError("the true counts must fit what is published")
            self.edges = folded
        for _tail, _head, flow, low, high in self.edges.values():
            if not low <= flow <= high:
                raise AssertionError("the true counts must fit what is published")
        self._adjacency: dict | None = None

    def _folded(self, d: dict) -> dict | None:
        """The edges with the distinct counts held at `d`: "category total <= distinct <= grand
        total" and "new units <= new counts" become bounds. A flow that fits them is consistent
        with distinct counts `d`. None if the true counts do not fit."""
        periods, k = self.release.periods, len(self.rows[0])
        edges = {key: list(edge) for key, edge in self.base.items()}

        def tighten(key, low=0, high=INFINITY) -> bool:
            edge = edges[key]
            edge[3], edge[4] = max(edge[3], low), min(edge[4], high)
            return edge[3] <= edge[2] <= edge[4]

        ok = True
        for i, p in enumerate(periods):
            for j in range(k):
                ok = tighten(("cat", p, j), high=d[p]) and ok
            ok = tighten(("all", p), low=d[p]) and ok
            if i:
                ok = tighten(("block", p), low=d[p] - d[periods[i - 1]]) and ok
        return edges if ok else None

    def _distinct_choices(self):
        """Distinct counts a table publishing the same could have: each within one of the truth
        and its published range ("[x]": any), never fewer in a longer period."""
        r, periods = self.release, self.release.periods
        assert r.distinct is not None and self.distinct is not None
        ranges = [interval(r.distinct[p], r.threshold, r.base) for p in periods]
        choices = [[]]
        for p, (low, high) in zip(periods, ranges, strict=True):
            values = [v for v in (self.distinct[p] + s for s in (0, -1, 1)) if low <= v <= high]
            choices = [[*c, v] for c in choices for v in values if not c or c[-1] <= v]
        return [dict(zip(periods, c, strict=True)) for c in choices]

    def _add(self, key, tail, head, flow) -> None:
        low, high = 0, INFINITY
        if key[0] in ("all", "cat", "month", "cell"):
            low, high = interval(self.cell(key), self.release.threshold, self.release.base)
            self.keys.append(key)
        self.edges[key] = [tail, head, flow, low, high]

    def needs_protection(self, key) -> bool:
        return _needs_protection(self.cell(key), self.edges[key][2], self.release.threshold)

    def cell(self, key) -> Cell:
        r = self.release
        if key[0] == "cell":
            return r.cells[key[1]][key[2]]
        if key[0] == "month":
            return r.month_totals[key[1]]
        if key[0] == "cat":
            return r.category_totals[key[1]][key[2]]
        return r.totals[key[1]]

    def set(self, key, cell: Cell) -> None:
        if key[0] == "cat":
            self.release.category_totals[key[1]][key[2]] = cell
        else:
            self.release.totals[key[1]] = cell
        self.rebuild()

    def shown_period_totals(self, near) -> list:
        """Shown period totals to hide: those in the stuck entry's column first, then the grand
        totals, then the rest; the smallest first."""
        column = near[2] if near[0] in ("cell", "cat") else None

        def order(key):
            rank = 0 if key[0] == "cat" and key[2] == column else 1 if key[0] == "all" else 2
            return rank, self.edges[key][2], key

        return sorted(
            (k for k in self.keys if k[0] in ("cat", "all") and self.cell(k).shown), key=order
        )

    def frees(self, candidate, key) -> bool:
        """Whether hiding `candidate` would let `key` change."""
        before = self.cell(candidate)
        self.set(candidate, Cell(kind=SECONDARY))
        try:
            return self.free(key)
        finally:
            self.set(candidate, before)

    def _arcs(self) -> dict:
        if self._adjacency is None:
            self._adjacency = _arcs_of(self.edges)
        return self._adjacency

    def free(self, key) -> bool:
        """Whether the entry could be one more or one less in a table that publishes exactly the
        same: a residual cycle through its edge. With distinct counts, either with them held
        within one of their true values, or along any cycle after which distinct counts that fit
        the changed table can be found."""
        if self._free_in(self.edges, self._arcs(), key):
            return True
        if self.distinct is None or self.distinct_withheld():
            return False
        for d in self._distinct_choices()[1:]:
            edges = self._folded(d)
            if edges is not None and self._free_in(edges, _arcs_of(edges), key):
                return True
        return any(self._distinct_after(change) for change in self._cycles(key))

    def _cycles(self, key):
        """For each direction the edge can move in, one residual cycle through it (distinct
        counts left out), as {edge: +1 or -1}."""
        arcs = _arcs_of(self.base)
        tail, head, flow, low, high = self.base[key]
        for start, goal, sign in ((head, tail, 1), (tail, head, -1)):
            if (sign > 0 and flow >= high) or (sign < 0 and flow <= low):
                continue
            path = _path(arcs, start, goal, key)
            if path is not None:
                change = {key: sign}
                for edge, step in path:
                    change[edge] = change.get(edge, 0) + step
                yield change

    def _distinct_after(self, change: dict, moved: int | None = None) -> bool:
        """Whether distinct counts fit the table after `change` (moving the count of period
        `moved`, if given): within their published ranges, each between the largest category
        total and the grand total, never fewer in a longer period nor more new ones than new
        counts."""
        r, periods, k = self.release, self.release.periods, len(self.rows[0])
        assert r.distinct is not None and self.distinct is not None

        def after(key):
            return self.base[key][2] + change.get(key, 0)

        options = []
        for p in periods:
            low, high = interval(r.distinct[p], r.threshold, r.base)
            most = max(after(("cat", p, j)) for j in range(k))
            whole = after(("all", p))
            d = self.distinct[p]
            values = {d - 1, d, d + 1, most, whole}
            if moved == p:
                values.discard(d)
            options.append(sorted(v for v in values if max(low, most) <= v <= min(high, whole)))
        choices = [[]]
        for i, values in enumerate(options):
            grown = []
            for c in choices:
                for v in values:
                    if i and not (
                        c[-1] <= v
                        and v - c[-1] <= after(("all", periods[i])) - after(("all", periods[i - 1]))
                    ):
                        continue
                    grown.append([*c, v])
            choices = grown
        return bool(choices)

    @staticmethod
    def _free_in(edges, arcs, key) -> bool:
        tail, head, flow, low, high = edges[key]
        if flow < high and _reaches(arcs, head, tail, key):
            return True
        return flow > low and _reaches(arcs, tail, head, key)

    def distinct_withheld(self) -> bool:
        d = self.release.distinct
        return d is None or all(c.kind == WITHHELD for c in d.values())

    def distinct_free(self, p) -> bool:
        """Whether a hidden distinct count could be one more or one less: the counts as they are,
        or changed along a cycle through its period's totals."""
        assert self.distinct is not None
        if self._distinct_after({}, moved=p):
            return True
        keys = [("all", p), *(("cat", p, j) for j in range(len(self.rows[0])))]
        return any(self._distinct_after(c, moved=p) for key in keys for c in self._cycles(key))


def _arcs_of(edges: dict) -> dict:
    """The residual network: an arc along an edge that may carry more, against one that may
    carry less."""
    adjacency: dict = {}
    for key, (tail, head, flow, low, high) in edges.items():
        if flow < high:
            adjacency.setdefault(tail, []).append((head, key, 1))
        if flow > low:
            adjacency.setdefault(head, []).append((tail, key, -1))
    return adjacency


def _reaches(arcs: dict, start, goal, skip) -> bool:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for nxt, key, _ in arcs.get(node, ()):
            if key == skip or nxt in seen:
                continue
            if nxt == goal:
                return True
            seen.add(nxt)
            todo.append(nxt)
    return False


def _path(arcs: dict, start, goal, skip) -> list | None:
    """A residual path from start to goal avoiding edge `skip`, as [(edge, +1 or -1)]."""
    came: dict = {start: None}
    todo = [start]
    while todo:
        node = todo.pop()
        for nxt, key, sign in arcs.get(node, ()):
            if key == skip or nxt in came:
                continue
            came[nxt] = (node, key, sign)
            if nxt == goal:
                path = []
                while came[nxt] is not None:
                    prev, edge, step = came[nxt]
                    path.append((edge, step))
                    nxt = prev
                return path
            todo.append(nxt)
    return None
