"""docs/security-model.md shows the rights table exactly as tests/rights/table.py renders it, so the
document cannot drift from the table the channels are tested against. It only reads the document:
to update it, run `python scripts/render-rights-table.py --write`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.rights.table import END, START, render_markdown

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security-model.md"
SECTION = "## Who may do what (the rights table)"


def _block(text: str) -> str:
    assert text.count(START) == 1 and text.count(END) == 1, "expected one rights-table block"
    start = text.index(START)
    return text[start : text.index(END) + len(END)]


def test_the_document_shows_the_table_as_rendered():
    block = _block(DOC.read_text(encoding="utf-8"))
    assert block == render_markdown(), (
        "docs/security-model.md's rights table differs from tests/rights/table.py: run "
        "`python scripts/render-rights-table.py --write`"
    )


def test_the_block_is_in_its_own_section_after_the_permission_matrix():
    text = DOC.read_text(encoding="utf-8")
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections[sections.index("## The permission matrix") + 1] == SECTION
    section_end = text.find("\n## ", text.index(SECTION) + len(SECTION))
    assert text.index(SECTION) < text.index(START) < text.index(END) < section_end


def test_the_script_replaces_only_the_block():
    spec = importlib.util.spec_from_file_location(
        "render_rights_table", ROOT / "scripts" / "render-rights-table.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = f"# Title\n\nBefore.\n\n{START}\nold\n{END}\n\nAfter.\n"
    updated = script.replace_block(text, render_markdown())
    assert updated == f"# Title\n\nBefore.\n\n{render_markdown()}\n\nAfter.\n"
    assert script.replace_block(updated, render_markdown()) == updated
