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


def solve(system: System, truth: dict, extra=(), limit=50_000) -> dict | None:
    """A solution of the system plus `extra` constraints, as near `truth` as the search finds:
    at each node propagate, then try every open unknown at its value nearest the truth; if that
    breaks a constraint, branch on an unknown of that constraint."""
    constraints = system.constraints + list(extra)
    watch: dict = {v: [] for v in system.domains}
    for n, (terms, _, _) in enumerate(constraints):
        for v, _ in terms:
            watch[v].append(n)
    nodes = [0]

    def broken(values):
        for terms, lo, hi in constraints:
            if not lo <= sum(c * values[v] for v, c in terms) <= hi:
                return terms
        return None

    def search(domains):
        nodes[0] += 1
        if nodes[0] > limit:
            raise SearchLimit
        if not _propagate(domains, constraints, watch):
            return None
        probe = {v: min(max(truth[v], lo), hi) for v, (lo, hi) in domains.items()}
        terms = broken(probe)
        if terms is None:
            return probe
        open_ = [v for v, _ in terms if domains[v][0] < domains[v][1]]
        if not open_:
            return None
        v = min(open_, key=lambda u: domains[u][1] - domains[u][0])
        lo, hi = domains[v]
        pick = probe[v]
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
    for period, text in texts.items():
        rules = rules_of(text)
        found = sections(text)
        for title, rows in found.items():
            if title in (WAITS, PREVALENCE) or len(rows) < 3 or len(rows[0]) < 3:
                continue
            a.tables[(title, period)] = add_table(a.system, title, rows, rules, a.entries)
        if WAITS in found:
            grid, _, _ = a.tables[(PLACES, period)]
            for programme, enrolled, _median, waiting in found[WAITS][1:]:
                terms = [(v, 1) for (_, column), v in grid.items() if column == programme]
                _publish(a, terms, enrolled, rules, f"{WAITS} / {period} / {programme} / enrolled")
                _publish(a, [(("waiting", programme), 1)], waiting, rules,
                         f"{WAITS} / {programme} / waiting now")  # fmt: skip
        if PREVALENCE in found:
            grid, labels, _ = a.tables[(ADVERSITIES, period)]
            *rows, (_, cases, _) = found[PREVALENCE][1:]
            distinct = ("distinct", period)
            _publish(a, [(distinct, 1)], cases, rules, f"{PREVALENCE} / {period} / cases")
            everything = [(v, 1) for v in grid.values()]
            for label, count, share in rows:
                row = [(v, 1) for (r, _), v in grid.items() if r == label]
                _publish(a, row, count, rules, f"{PREVALENCE} / {period} / {label}")
                a.shares.append((period, label, count, share, cases))
                # Cases with an adversity are among the cases with any.
                a.system.sum_in([*row, (distinct, -1)], -CAP, 0)
            # Every case counted has at least one adversity counted.
            a.system.sum_in([*everything, (distinct, -1)], 0, CAP * len(everything))
    _tie_distinct_counts(a, sorted(texts))
    return a


def _publish(a: Attack, terms, text, rules, where) -> None:
    low, high = published_range(text, rules)
    a.system.sum_in(terms, low, high)
    if is_hidden(text, rules):
        a.entries.append(Entry(where, text, tuple(terms)))


def _tie_distinct_counts(a: Attack, periods) -> None:
    """A longer period has at least the cases of a shorter one, and no more new cases than new
    adversity counts in the months it adds."""
    for short, long in zip(periods, periods[1:], strict=False):
        if (ADVERSITIES, short) not in a.tables or (ADVERSITIES, long) not in a.tables:
            continue
        ds, dl = ("distinct", short), ("distinct", long)
        a.system.sum_in([(ds, 1), (dl, -1)], -CAP, 0)
        added = set(a.tables[(ADVERSITIES, long)][0].values()) - set(
            a.tables[(ADVERSITIES, short)][0].values()
        )
        a.system.sum_in([(dl, 1), (ds, -1), *((v, -1) for v in added)], -CAP, 0)


def recovered_figures(a: Attack, truth: dict, limit=50_000) -> list:
    """Hidden figures whose value is recovered (no second filling-in exists). A witness found
    for one figure also clears every other figure it changes."""
    assert a.system.satisfied_by(truth), "the truth must fit what is published"
    pending = {e.terms: e for e in a.entries}
    recovered = []

    def value(terms, values):
        return sum(c * values[v] for v, c in terms)

    while pending:
        terms, entry = pending.popitem()
        witness = other_value(a.system, terms, truth, limit)
        if witness is None:
            recovered.append(entry)
            continue
        for other in [t for t in pending if value(t, witness) != value(t, truth)]:
            del pending[other]
    return recovered
