"""Proof by example that no hidden figure can be recovered from everything the reports offer.

For random true counts (many of them small), every table is published for every period the
product offers and downloaded as CSV, exactly as a viewer would get them (web/reports.py renders
the download from reports/figures.py). The attacker (tests/reports/attack.py) reads only the
downloads and the documented rule, turns every figure into a range on a sum of unknown true
counts (months shared across periods, totals, the waiting-times and prevalence sections), and
for every hidden figure finds a second set of true counts that fits all of it and gives the
figure another value. So no hidden figure is recovered, by differencing periods or otherwise.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reports.figures import PERIODS, SCREENING_COLUMNS, Raw, publish_figures
from tests.reports.attack import (
    ADVERSITIES,
    PLACES,
    SCREENING,
    attack_downloads,
    is_hidden,
    published_range,
    recovered_figures,
    rules_of,
    sections,
)
from web import reports as web_reports

REFERRALS = "Referrals to programmes, by month"
MONTHS = [date(2024 + (6 + n) // 12, (6 + n) % 12 + 1, 1) for n in range(max(PERIODS))]
LABELS = [m.strftime("%b %Y") for m in MONTHS]

counts = st.one_of(st.just(0), st.integers(0, 12), st.integers(0, 60))


def by_month(width: int):
    """Mostly empty months, some busy: small numbers everywhere."""
    return st.dictionaries(
        st.integers(0, len(MONTHS) - 1),
        st.lists(counts, min_size=width, max_size=width),
        max_size=len(MONTHS),
    ).map(lambda rows: [rows.get(m, [0] * width) for m in range(len(MONTHS))])


@st.composite
def raw_figures(draw) -> Raw:
    codes = draw(st.integers(1, 3))
    # Cases, each with the month each of its adversities was first recorded (or none).
    cases = draw(
        st.lists(
            st.lists(st.one_of(st.none(), st.integers(0, len(MONTHS) - 1)), min_size=codes,
                     max_size=codes),
            max_size=60,
        )
    )  # fmt: skip
    adversities = [[0] * codes for _ in MONTHS]
    for case in cases:
        for code, month in enumerate(case):
            if month is not None:
                adversities[month][code] += 1
    distinct = {
        p: sum(1 for case in cases if any(m is not None and m >= len(MONTHS) - p for m in case))
        for p in PERIODS
    }
    n_programmes = draw(st.integers(0, 2))
    programmes = [(n, f"Programme {'AB'[n]}") for n in range(n_programmes)]
    return Raw(
        months=MONTHS,
        screening=draw(by_month(3)),
        adversity_labels=[f"Adversity {n}" for n in range(codes)],
        adversities=adversities,
        adversity_cases=distinct,
        programmes=programmes,
        referrals=draw(by_month(n_programmes)) if programmes else [],
        places=draw(by_month(n_programmes)) if programmes else [],
        medians={(p, pid): 12.5 for p in PERIODS for pid, _ in programmes},
        waiting=[draw(counts) for _ in programmes],
    )


def truth_of(raw: Raw) -> dict:
    truth: dict = {}
    tables = [(SCREENING, raw.screening, SCREENING_COLUMNS),
              (ADVERSITIES, raw.adversities, raw.adversity_labels)]  # fmt: skip
    if raw.programmes:
        names = [name for _, name in raw.programmes]
        tables += [(REFERRALS, raw.referrals, names), (PLACES, raw.places, names)]
    for title, values, columns in tables:
        for m, label in enumerate(LABELS):
            for j, column in enumerate(columns):
                truth[(title, label, column)] = values[m][j]
    for (_, name), n in zip(raw.programmes, raw.waiting, strict=True):
        truth[("waiting", name)] = n
    for p, n in raw.adversity_cases.items():
        truth[("distinct", p)] = n
    return truth


def downloads(raw: Raw, threshold: int = 10) -> dict[int, str]:
    figures = publish_figures(raw, threshold=threshold)
    return {p: web_reports.csv_text(web_reports.page(figures, p)) for p in PERIODS}


def quiet(**changes) -> Raw:
    """Nothing anywhere, but for `changes`."""
    raw = Raw(
        months=MONTHS, screening=[[0, 0, 0] for _ in MONTHS], adversity_labels=["Adversity 0"],
        adversities=[[0] for _ in MONTHS], adversity_cases={p: 0 for p in PERIODS},
        programmes=[(0, "Programme A")], referrals=[[0] for _ in MONTHS],
        places=[[0] for _ in MONTHS], medians={}, waiting=[0],
    )  # fmt: skip
    for name, value in changes.items():
        setattr(raw, name, value)
    return raw


def one_month(width: int, month: int, values: list[int]) -> list[list[int]]:
    return [values if m == month else [0] * width for m in range(len(MONTHS))]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_figures())
# The differencing: exact 6- and 12-month totals of 12 gave the added months away.
@example(quiet(screening=one_month(3, 21, [0, 12, 0])))
# Each table alone was safe, the periods together were not (today's code, before the fix).
@example(
    quiet(
        screening=[
            [5, 12, 5]
            if m == 15
            else [30, 30, 22]
            if m == 20
            else [22, 0, 2]
            if m == 22
            else [0, 0, 0]
            for m in range(len(MONTHS))
        ]
    )
)
# One adversity: the cases with any adversity are the cases with it.
@example(quiet(adversities=one_month(1, 23, [3]), adversity_cases={6: 3, 12: 3, 24: 3}))
# Everything at the edge of its rounding interval.
@example(quiet(screening=[[12, 12, 13] for _ in MONTHS], places=[[12] for _ in MONTHS]))
def test_no_hidden_figure_is_recovered_from_every_period_and_download_together(raw):
    attack = attack_downloads(downloads(raw))
    assert recovered_figures(attack, truth_of(raw)) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_figures())
def test_what_is_shown_is_rounded_never_small_and_the_same_in_every_period(raw):
    texts = downloads(raw)
    rules = rules_of(texts[6])
    assert rules.base == 5 and rules.threshold == 10
    seen: dict = {}
    for period, text in texts.items():
        for title, rows in sections(text).items():
            for row in rows[1:]:
                for column, figure in zip(rows[0][1:], row[1:], strict=False):
                    if figure and not is_hidden(figure, rules) and figure.isdigit():
                        assert int(figure) % 5 == 0 and int(figure) >= 10
                    # A month's figure is the same whichever period it is read from.
                    if row[0] in LABELS or column in LABELS:
                        key = (title, row[0], column)
                        assert seen.setdefault(key, figure) == figure, (key, period)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_figures())
def test_percentages_are_worked_out_from_what_is_shown(raw):
    figures = publish_figures(raw, threshold=10)
    for p in PERIODS:
        page = web_reports.page(figures, p)
        cases = page["adversity_cases"]
        for row, share in zip(page["adversities"].rows, page["adversity_prevalence"], strict=True):
            if row["total"].shown and cases.shown and cases.count:
                assert share == f"{row['total'].count / cases.count * 100:.0f}%"
            else:
                assert share == "[c]"
        for row, rates in zip(page["screening"].rows, page["screening_rates"], strict=True):
            if row["cells"][0].shown and row["total"].shown:
                assert rates["nfa"] == row["cells"][0].count / row["total"].count
            else:
                assert rates["nfa"] is None


def test_the_attacker_reads_a_figure_as_exactly_the_values_that_publish_as_it():
    # Otherwise the attack above could be too weak (a range too wide) or wrong (too narrow).
    from reports.disclosure import publish_count
    from tests.reports.attack import Rules

    for threshold in (1, 2, 3, 7, 10, 11):
        for base in (1, 2, 3, 5, 10):
            rules = Rules(threshold, base)
            texts: dict[str, list[int]] = {}
            for value in range(300):
                text = publish_count(value, threshold, base).display(threshold).replace(",", "")
                texts.setdefault(text, []).append(value)
            for text, values in texts.items():
                low, high = published_range(text, rules)
                if is_hidden(text, rules):
                    assert low <= min(values) and max(values) <= high
                elif max(values) < 290:
                    assert (low, high) == (min(values), max(values))
