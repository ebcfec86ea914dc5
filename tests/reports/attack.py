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
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime

CAP = 100_000


class SearchLimit(Exception):
    pass


@dataclass
class System:
    """Unknowns with ranges, and linear constraints on them. Every sum that is published gets an
    unknown of its own (its total), tied to its parts by an equality, so that a range on a total
    is a range on one unknown and propagation sees it wherever the total is used."""

    domains: dict = field(default_factory=dict)  # unknown → [low, high]
    constraints: list = field(default_factory=list)  # (((unknown, coefficient), ...), low, high)
    totals: dict = field(default_factory=dict)  # parts (sorted) → the total's unknown

    def unknown(self, name, low=0, high=CAP) -> None:
        current = self.domains.setdefault(name, [0, CAP])
        current[0], current[1] = max(current[0], low), min(current[1], high)

    def total(self, parts) -> object:
        """The unknown that is the sum of `parts` (unknowns, each counted once)."""
        parts = tuple(sorted(set(parts), key=repr))
        if len(parts) == 1:
            return parts[0]
        if parts not in self.totals:
            name = ("total", len(self.totals))
            self.totals[parts] = name
            for v in parts:
                self.unknown(v)
            self.unknown(name, 0, CAP * len(parts))
            self.constraints.append(((*((v, 1) for v in parts), (name, -1)), 0, 0))
        return self.totals[parts]

    def within(self, terms, low, high) -> None:
        """low ≤ Σ coefficient × unknown ≤ high."""
        terms = tuple(terms)
        for v, _ in terms:
            self.unknown(v)
        if len(terms) == 1 and terms[0][1] == 1:
            self.unknown(terms[0][0], low, high)
        else:
            self.constraints.append((terms, low, high))

    def complete(self, values: dict) -> dict:
        """`values` for the counts, with every total worked out."""
        done = dict(values)
        for parts, name in self.totals.items():
            done[name] = sum(done[v] for v in parts)
        return done

    def satisfied_by(self, values: dict) -> bool:
        if any(not lo <= values[v] <= hi for v, (lo, hi) in self.domains.items()):
            return False
        return all(
            lo <= sum(c * values[v] for v, c in terms) <= hi for terms, lo, hi in self.constraints
        )

    def components(self) -> list[System]:
        """The system split into parts that share no unknown."""
        parent = {v: v for v in self.domains}

        def root(v):
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for terms, _, _ in self.constraints:
            first = root(terms[0][0])
            for v, _ in terms[1:]:
                parent[root(v)] = first
        parts: dict = {}
        for v, d in self.domains.items():
            parts.setdefault(root(v), System()).domains[v] = list(d)
        for terms, lo, hi in self.constraints:
            parts[root(terms[0][0])].constraints.append((terms, lo, hi))
        return list(parts.values())


class Compiled:
    """A system as arrays, for searching: unknowns numbered, each constraint as (indices,
    coefficients, low, high), and for each unknown the constraints it is in."""

    def __init__(self, system: System) -> None:
        self.names = list(system.domains)
        index = {v: n for n, v in enumerate(self.names)}
        self.low = [system.domains[v][0] for v in self.names]
        self.high = [system.domains[v][1] for v in self.names]
        self.constraints = [
            ([index[v] for v, _ in terms], [c for _, c in terms], lo, hi)
            for terms, lo, hi in system.constraints
        ]
        self.watch: list[list[int]] = [[] for _ in self.names]
        for n, (ids, _, _, _) in enumerate(self.constraints):
            for i in ids:
                self.watch[i].append(n)
        self.index = index

    def propagate(self, low: list, high: list, queue) -> bool:
        """Bounds consistency, from the constraints in `queue` outwards. False if nothing fits."""
        constraints, watch = self.constraints, self.watch
        queue = list(queue)
        queued = set(queue)
        while queue:
            n = queue.pop()
            queued.discard(n)
            ids, coefs, lo_sum, hi_sum = constraints[n]
            mins = [c * (low[i] if c > 0 else high[i]) for i, c in zip(ids, coefs, strict=True)]
            maxs = [c * (high[i] if c > 0 else low[i]) for i, c in zip(ids, coefs, strict=True)]
            smin, smax = sum(mins), sum(maxs)
            if smin > hi_sum or smax < lo_sum:
                return False
            for i, c, mn, mx in zip(ids, coefs, mins, maxs, strict=True):
                # c·x ∈ [lo_sum - (smax - mx), hi_sum - (smin - mn)]
                lo_cx, hi_cx = lo_sum - (smax - mx), hi_sum - (smin - mn)
                if c > 0:
                    new_lo, new_hi = -(-lo_cx // c), hi_cx // c
                else:
                    new_lo, new_hi = -(-hi_cx // c), lo_cx // c
                if new_lo > low[i] or new_hi < high[i]:
                    low[i], high[i] = max(low[i], new_lo), min(high[i], new_hi)
                    if low[i] > high[i]:
                        return False
                    for m in watch[i]:
                        if m not in queued:
                            queued.add(m)
                            queue.append(m)
        return True

    def solve(
        self, low: list, high: list, truth: list, limit: int, moved: int | None = None
    ) -> list | None:
        """A solution within [low, high], as near `truth` as the search finds: at each node
        propagate, then try every open unknown at its value nearest the truth; if that breaks a
        constraint, branch on an unknown of that constraint. Complete: None means there is no
        solution; SearchLimit means the search gave up. With `moved`, only solutions that move
        at most that many unknowns from the truth are looked for (a second filling-in is usually
        a small cycle of changes, and wrong turns move many)."""
        constraints = self.constraints
        nodes = 0

        def search(low, high, queue):
            nonlocal nodes
            nodes += 1
            if nodes > limit:
                raise SearchLimit
            if not self.propagate(low, high, queue):
                return None
            if moved is not None and moved < sum(
                1 for t, lo, hi in zip(truth, low, high, strict=True) if t < lo or t > hi
            ):
                return None
            probe = [min(max(t, lo), hi) for t, lo, hi in zip(truth, low, high, strict=True)]
            for ids, coefs, lo_sum, hi_sum in constraints:
                total = sum(c * probe[i] for i, c in zip(ids, coefs, strict=True))
                if not lo_sum <= total <= hi_sum:
                    break
            else:
                return probe
            # Repair the broken constraint: move one of its unknowns the way that helps, the
            # narrowest first; keeping it where it is comes last.
            up = total < lo_sum
            movable = [
                (i, c)
                for i, c in zip(ids, coefs, strict=True)
                if ((probe[i] < high[i]) if (c > 0) == up else (probe[i] > low[i]))
            ]
            if not movable:
                return None
            i, c = min(movable, key=lambda ic: high[ic[0]] - low[ic[0]])
            pick = probe[i]
            helps = (pick + 1, high[i]) if (c > 0) == up else (low[i], pick - 1)
            other = (low[i], pick - 1) if (c > 0) == up else (pick + 1, high[i])
            for part in (helps, (pick, pick), other):
                if part[0] > part[1]:
                    continue
                lo2, hi2 = low[:], high[:]
                lo2[i], hi2[i] = part
                found = search(lo2, hi2, self.watch[i])
                if found is not None:
                    return found
            return None

        return search(low[:], high[:], range(len(constraints)))


def other_value(system: System, target, truth: dict, limit=20_000, compiled=None) -> dict | None:
    """A filling-in that fits everything published in which the unknown `target` differs from
    the truth, or None if there is none (the figure is recovered). Looks near the truth first
    (every unknown within 1, then 3, of it), where a second filling-in usually is, then
    everywhere; each direction (higher, lower) on its own, with a growing budget of nodes.
    SearchLimit if the last search gave up."""
    c = compiled or Compiled(system)
    t = [truth[v] for v in c.names]
    k = c.index[target]
    value, gave_up = t[k], False
    # Near the truth and few changes first, with small budgets, so that proving one direction
    # impossible cannot hold up the other; the last search is everywhere and complete.
    for reach, moved, budget in (
        (1, 4, 300), (1, 6, 1_000), (1, 8, 5_000), (1, 12, 20_000), (1, None, 5_000),
        (3, None, 5_000), (None, None, limit),
    ):  # fmt: skip
        for below, above in ((value + 1, CAP), (-CAP, value - 1)):
            if reach is None:
                low, high = c.low[:], c.high[:]
            else:
                low = [max(lo, x - reach) for lo, x in zip(c.low, t, strict=True)]
                high = [min(hi, x + reach) for hi, x in zip(c.high, t, strict=True)]
            low[k], high[k] = max(low[k], below), min(high[k], above)
            if low[k] > high[k]:
                continue
            try:
                found = c.solve(low, high, t, budget, moved)
            except SearchLimit:
                gave_up = gave_up or reach is None  # only the last, unbounded search decides
                continue
            if found is not None:
                witness = dict(zip(c.names, found, strict=True))
                assert system.satisfied_by(witness), "the witness must fit everything published"
                assert witness[target] != value
                return witness
    if gave_up:
        raise SearchLimit
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
        datetime.strptime(label, "%b %Y")
    except ValueError:
        return False
    return True


@dataclass
class Entry:
    """A hidden published figure and the unknown it is (a count or a total)."""

    where: str
    text: str
    unknown: object


def publish(system: System, parts, text: str, rules: Rules, where: str, entries: list) -> object:
    """A figure published for the sum of `parts`: its range becomes the range of that total."""
    name = system.total(parts)
    low, high = published_range(text, rules)
    system.within([(name, 1)], low, high)
    if is_hidden(text, rules):
        entries.append(Entry(where, text, name))
    return name


def add_table(system: System, title: str, rows: list[list[str]], rules: Rules, entries: list):
    """Constraints from one table with totals. Unknowns are (title, month, category), so the same
    month in another period's download is the same unknown."""
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    columns = header[1:-1]
    months_across = all(is_month(c) for c in columns)

    def unknown(row_label, column_label):
        month, category = (column_label, row_label) if months_across else (row_label, column_label)
        return (title, month, category)

    grid = {}
    for row in body:
        label = row[0]
        for column, text in zip(columns, row[1:-1], strict=True):
            v = grid[(label, column)] = unknown(label, column)
            publish(system, [v], text, rules, f"{title} / {label} / {column}", entries)
        parts = [grid[(label, c)] for c in columns]
        publish(system, parts, row[-1], rules, f"{title} / {label} / total", entries)
    for column, text in zip(columns, totals[1:-1], strict=True):
        parts = [grid[(r[0], column)] for r in body]
        publish(system, parts, text, rules, f"{title} / {totals[0]} / {column}", entries)
    publish(system, list(grid.values()), totals[-1], rules, f"{title} / {totals[0]} / total",
            entries)  # fmt: skip
    return grid, [r[0] for r in body], columns


SCREENING = "Referrals screened, by outcome and month received"
ADVERSITIES = "Cases with each adversity, by month first recorded"
PLACES = "Places taken (people enrolled), by month"
WAITS = "Waiting times"
PREVALENCE = "Prevalence: share of cases with any adversity recorded in the period"


@dataclass
class Attack:
    """Everything the downloads for every period say, as one system of constraints."""

    system: System = field(default_factory=System)
    entries: list = field(default_factory=list)
    tables: dict = field(default_factory=dict)  # (title, period) → (grid, row labels, columns)
    shares: list = field(default_factory=list)  # (period, adversity, cases, share, all cases)


def attack_downloads(texts: dict[int, str]) -> Attack:
    """Read the CSV downloaded for each period (months → text) into one system. Unknowns are the
    true counts per table, month and category; the waiting list per programme; the cases with
    any adversity per period."""
    a = Attack()
    s = a.system
    for period, text in texts.items():
        rules = rules_of(text)
        found = sections(text)
        for title, rows in found.items():
            if title in (WAITS, PREVALENCE) or len(rows) < 3 or len(rows[0]) < 3:
                continue
            a.tables[(title, period)] = add_table(s, title, rows, rules, a.entries)
        if WAITS in found:
            grid, _, _ = a.tables[(PLACES, period)]
            for programme, enrolled, _median, waiting in found[WAITS][1:]:
                parts = [v for (_, column), v in grid.items() if column == programme]
                publish(s, parts, enrolled, rules, f"{WAITS} / {period} / {programme} / enrolled",
                        a.entries)  # fmt: skip
                publish(s, [("waiting", programme)], waiting, rules,
                        f"{WAITS} / {programme} / waiting now", a.entries)  # fmt: skip
        if PREVALENCE in found:
            grid, _, _ = a.tables[(ADVERSITIES, period)]
            *rows, (_, cases, _) = found[PREVALENCE][1:]
            distinct = ("distinct", period)
            publish(s, [distinct], cases, rules, f"{PREVALENCE} / {period} / cases", a.entries)
            for label, count, share in rows:
                row = [v for (r, _), v in grid.items() if r == label]
                name = publish(s, row, count, rules, f"{PREVALENCE} / {period} / {label}",
                               a.entries)  # fmt: skip
                a.shares.append((period, label, count, share, cases))
                # Cases with an adversity are among the cases with any.
                s.within([(name, 1), (distinct, -1)], -CAP, 0)
            # Every case counted has at least one adversity counted.
            s.within([(s.total(grid.values()), 1), (distinct, -1)], 0, CAP)
    _tie_distinct_counts(a, sorted(texts))
    return a


def _tie_distinct_counts(a: Attack, periods) -> None:
    """A longer period has at least the cases of a shorter one, and no more new cases than new
    adversity counts in the months it adds."""
    s = a.system
    for short, long in itertools.pairwise(periods):
        if (ADVERSITIES, short) not in a.tables or (ADVERSITIES, long) not in a.tables:
            continue
        ds, dl = ("distinct", short), ("distinct", long)
        s.within([(ds, 1), (dl, -1)], -CAP, 0)
        added = set(a.tables[(ADVERSITIES, long)][0].values()) - set(
            a.tables[(ADVERSITIES, short)][0].values()
        )
        s.within([(dl, 1), (ds, -1), (s.total(added), -1)], -CAP, 0)


def recovered(system: System, truth: dict, hidden, limit=20_000) -> list:
    """Which of the unknowns `hidden` every filling-in that fits the system gives their true
    value (recovered). A witness found for one also clears every other it changes."""
    truth = system.complete(truth)
    assert system.satisfied_by(truth), "the truth must fit what is published"
    parts = system.components()
    compiled = {}
    for part in parts:  # propagate each part once; every search starts from there
        c = Compiled(part)
        assert c.propagate(c.low, c.high, range(len(c.constraints)))
        for v in part.domains:
            compiled[v] = (part, c)
    pending = dict.fromkeys(hidden)
    found = []
    while pending:
        name, _ = pending.popitem()
        part, c = compiled[name]
        witness = other_value(part, name, truth, limit, c)
        if witness is None:
            found.append(name)
            continue
        for other in [n for n in pending if n in witness and witness[n] != truth[n]]:
            del pending[other]
    return found


def recovered_figures(a: Attack, truth: dict, limit=20_000) -> list:
    """The hidden published figures whose value is recovered."""
    where = {e.unknown: e for e in a.entries}
    return [where[n] for n in recovered(a.system, truth, list(where), limit)]
