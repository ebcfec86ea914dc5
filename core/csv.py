"""CSV for people to open in a spreadsheet, safe from formula injection. Every CSV the product
writes goes through `writer` (or `safe_cell`).

A spreadsheet runs a cell that starts with "=", "+", "-" or "@" as a formula (a programme named
`=HYPERLINK("http://x","y")` becomes a link that can leak data), and some treat a leading tab or
carriage return the same way. Following OWASP's rule, any text that starts with one of those gets
a single quote in front, which spreadsheets show as text and do not run.

Numbers are written as numbers: a Python int or float (never a bool) goes out unchanged and
unquoted, negative or not, because a spreadsheet reads "-3" as the number −3, never a formula,
and numeric columns should stay numeric. Everything else is text: escaped as above, and always
quoted (csv.QUOTE_NONNUMERIC), so that a spreadsheet set to split on ";" or a tab rather than ","
cannot cut a cell such as `x;=1+1` in two and start the second part with a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value ready for a spreadsheet: numbers as they are, text escaped."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_FIRST) else text


class SafeWriter:
    """csv.writer's writerow/writerows, with every cell made safe first."""

    def __init__(self, out) -> None:
        self._writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out) -> SafeWriter:
    return SafeWriter(out)
