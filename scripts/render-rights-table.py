#!/usr/bin/env python3
"""Render the rights table (tests/rights/table.py) as the markdown block docs/security-model.md
shows between its markers.

    python scripts/render-rights-table.py           # print the block
    python scripts/render-rights-table.py --write   # replace the block in docs/security-model.md

tests/rights/test_security_doc.py fails when the document's block differs from this rendering:
change the table, run this with --write, and commit both. Standard library only (the table is
plain data), so it needs no database or settings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security-model.md"
sys.path.insert(0, str(ROOT))

from tests.rights.table import END, START, render_markdown  # noqa: E402


def replace_block(text: str, block: str) -> str:
    """`text` with everything from START to END (markers included) replaced by `block`."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise SystemExit(f"{DOC}: expected one {START} ... {END} block")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return before + block + after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help=f"replace the block in {DOC.relative_to(ROOT)}"
    )
    args = parser.parse_args()
    block = render_markdown()
    if not args.write:
        print(block)
        return 0
    text = DOC.read_text(encoding="utf-8")
    updated = replace_block(text, block)
    if updated != text:
        DOC.write_text(updated, encoding="utf-8")
        print(f"updated {DOC.relative_to(ROOT)}")
    else:
        print(f"{DOC.relative_to(ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
