"""CSV exports never start a cell with a spreadsheet formula (OWASP's rule)."""

from __future__ import annotations

import csv
import io

import pytest

from core.csv import safe_cell, writer


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"]
)
def test_dangerous_text_is_written_as_text(text):
    out = io.StringIO()
    writer(out).writerow(["Programme", text])
    [row] = list(csv.reader(io.StringIO(out.getvalue())))
    assert row == ["Programme", "'" + text]


def test_numbers_stay_numbers_and_plain_text_is_unchanged():
    assert (
        safe_cell(-3) == -3
        and safe_cell(12) == 12
        and safe_cell("Street and Arrow") == ("Street and Arrow")
    )
