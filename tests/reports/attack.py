"""The attacker: what can be worked out from published figures, by exact integer reasoning.

Published figures become constraints on unknown true counts: every figure is a range (a shown
count: its rounding interval; "<10": 0 to 9; "[c]": 10 or more; "[x]": anything) on a sum of
unknowns, and figures from different tables, periods and downloads that describe the same month
and category share the same unknowns, which is how differencing works. A hidden figure is
recovered when every way of filling in the unknowns that fits everything published gives it the
same value.

`other_value` decides that without trusting the code under test: it searches (bounds propagation
plus depth-first search, values nearest the truth first) for a second filling-in in which the
figure differs, and checks the one it finds against every constraint. Finding one proves the
figure is not recovered; exhausting the search proves it is. Unbounded ranges are capped, which
only ever shrinks what the search may use, so a witness found is still a witness.

This is independent of reports/disclosure.py: it knows nothing about networks or the rule, only
the published text.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

CAP = 100_000


class SearchLimit(Exception):
    pass


@dataclass
class System:
    domains: dict = field(default_factory=dict)  # unknown → [low, high]
    constraints: list = field(default_factory=list)  # (((unknown, coefficient), ...), low, high)

    def unknown(self, name, low=0, high=CAP) -> None:
        current = self.domains.setdefault(name, [0, CAP])
        current[0], current[1] = max(current[0], low), min(current[1], high)

    def sum_in(self, terms, low, high, name=None) -> None:
        """low ≤ Σ coefficient × unknown ≤ high. A single unknown with coefficient 1 narrows its
        domain directly."""
        terms = tuple(terms)
        for v, _ in terms:
            self.unknown(v)
        if len(terms) == 1 and terms[0][1] == 1:
            self.unknown(terms[0][0], low, high)
        else:
            self.constraints.append((terms, low, min(high, CAP * len(terms))))

    def satisfied_by(self, values: dict) -> bool:
        if any(not lo <= values[v] <= hi for v, (lo, hi) in self.domains.items()):
            return False
        return all(
            lo <= sum(c * values[v] for v, c in terms) <= hi for terms, lo, hi in self.constraints
        )


def _propagate(domains: dict, constraints: list, watch: dict) -> bool:
    queue = list(range(len(constraints)))
    queued = set(queue)
    while queue:
        n = queue.pop()
        queued.discard(n)
        terms, low, high = constraints[n]
        mins = [c * (domains[v][0] if c > 0 else domains[v][1]) for v, c in terms]
        maxs = [c * (domains[v][1] if c > 0 else domains[v][0]) for v, c in terms]
        smin, smax = sum(mins), sum(maxs)
        if smin > high or smax < low:
            return False
        for (v, c), mn, mx in zip(terms, mins, maxs, strict=True):
            # c·x ∈ [low − (smax − mx), high − (smin − mn)]
            lo_cx, hi_cx = low - (smax - mx), high - (smin - mn)
            if c > 0:
                new_lo, new_hi = -(-lo_cx // c), hi_cx // c
            else:
                new_lo, new_hi = -(-hi_cx // c), lo_cx // c
            d = domains[v]
            if new_lo > d[0] or new_hi < d[1]:
                d[0], d[1] = max(d[0], new_lo), min(d[1], new_hi)
                if d[0] > d[1]:
                    return False
                for m in watch[v]:
                    if m not in queued:
                        queued.add(m)
                        queue.append(m)
    return True


def solve(system: System, truth: dict, extra=(), limit=200_000) -> dict | None:
    """A solution of the system plus `extra` constraints, preferring values near `truth`."""
    constraints = system.constraints + list(extra)
    watch: dict = {v: [] for v in system.domains}
    for n, (terms, _, _) in enumerate(constraints):
        for v, _ in terms:
            watch[v].append(n)
    nodes = [0]

    def search(domains):
        nodes[0] += 1
        if nodes[0] > limit:
            raise SearchLimit
        if not _propagate(domains, constraints, watch):
            return None
        open_ = [v for v, (lo, hi) in domains.items() if lo < hi]
        if not open_:
            return {v: lo for v, (lo, _) in domains.items()}
        # The unknown whose truth is furthest outside its domain first, then the narrowest.
        v = min(
            open_,
            key=lambda u: (
                -max(domains[u][0] - truth[u], truth[u] - domains[u][1], 0),
                domains[u][1] - domains[u][0],
            ),
        )
        lo, hi = domains[v]
        pick = min(max(truth[v], lo), hi)
        for part in ((pick, pick), (pick + 1, hi), (lo, pick - 1)):
            if part[0] > part[1]:
                continue
            trial = {u: list(d) for u, d in domains.items()}
            trial[v] = list(part)
            found = search(trial)
            if found is not None:
                return found
        return None

    return search({v: list(d) for v, d in system.domains.items()})


def other_value(system: System, terms, truth: dict, limit=200_000) -> dict | None:
    """A filling-in that fits everything published in which Σ terms differs from the truth, or
    None if there is none (the figure is recovered)."""
    value = sum(c * truth[v] for v, c in terms)
    for extra in ((tuple(terms), -CAP, value - 1), (tuple(terms), value + 1, CAP * len(terms))):
        found = solve(system, truth, [extra], limit)
        if found is not None:
            assert system.satisfied_by(found), "the witness must fit everything published"
            assert sum(c * found[v] for v, c in terms) != value
            return found
    return None


# Reading what the product publishes.


@dataclass
class Rules:
    threshold: int
    base: int  # 1 when nothing is rounded


def rules_of(text: str) -> Rules:
    threshold = int(re.search(r"<(\d+): fewer than", text).group(1))
    rounded = re.search(r"rounded to the nearest (\d+)", text)
    return Rules(threshold, int(rounded.group(1)) if rounded else 1)


def lowest_shown(rules: Rules) -> int:
    return -(-rules.threshold // rules.base) * rules.base


def published_range(text: str, rules: Rules) -> tuple[int, int]:
    """Every true value consistent with a published figure, from the documented rule alone."""
    t = rules.threshold
    if text == f"<{t}":
        return 0, t - 1
    if text == "[c]":
        return t, CAP
    if text == "[x]":
        return 0, CAP
    shown = int(text.replace(",", ""))
    b = rules.base
    low = t if shown == lowest_shown(rules) else shown - b // 2
    return max(low, t), shown + (b - 1 - b // 2)


def is_hidden(text: str, rules: Rules) -> bool:
    return text in (f"<{rules.threshold}", "[c]", "[x]")


def sections(text: str) -> dict[str, list[list[str]]]:
    """The titled sections of a partnership CSV: title → rows (header first)."""
    found: dict = {}
    title = None
    for row in csv.reader(io.StringIO(text)):
        if not row or not any(row):
            title = None
            continue
        if title is None:
            title = row[0]
            found[title] = []
        else:
            found[title].append(row)
    return found


def is_month(label: str) -> bool:
    try:
        datetime.strptime(label, "%b %Y")  # noqa: DTZ007 - a label, not a time
    except ValueError:
        return False
    return True


@dataclass
class Entry:
    """A hidden published figure and the unknowns it sums."""

    where: str
    text: str
    terms: tuple


def add_table(system: System, title: str, rows: list[list[str]], rules: Rules, entries: list):
    """Constraints from one table with totals. Unknowns are (title, month, category), so the same
    month in another period's download is the same unknown."""
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    columns = header[1:-1]
    months_across = all(is_month(c) for c in columns)

    def unknown(row_label, column_label):
        month, category = (column_label, row_label) if months_across else (row_label, column_label)
        return (title, month, category)

    def publish(terms, text, where):
        low, high = published_range(text, rules)
        system.sum_in([(v, 1) for v in terms], low, high)
        if is_hidden(text, rules):
            entries.append(Entry(where, text, tuple((v, 1) for v in terms)))

    grid = {}
    for row in body:
        label = row[0]
        for column, text in zip(columns, row[1:-1], strict=True):
            v = unknown(label, column)
            grid[(label, column)] = v
            publish([v], text, f"{title} / {label} / {column}")
        publish([grid[(label, c)] for c in columns], row[-1], f"{title} / {label} / total")
    for column, text in zip(columns, totals[1:-1], strict=True):
        publish([grid[(r[0], column)] for r in body], text, f"{title} / {totals[0]} / {column}")
    publish(list(grid.values()), totals[-1], f"{title} / {totals[0]} / total")
    return grid, [r[0] for r in body], columns
