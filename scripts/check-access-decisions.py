#!/usr/bin/env python3
"""Every right is decided in a domain app's access.py; the channels only ask.

Scans the channel code (web/, every app's api/, sync/) for role checks made on the spot: importing
or naming `Role`, comparing `.role`, `has_role(...)`, filtering on `membership__role`, or a page
limited by role names instead of an access predicate. Prints each finding and exits non-zero.

    python scripts/check-access-decisions.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ("web", "sync", "*/api")
RULES = [
    (re.compile(r"\bimport\b.*\bRole\b"), "imports Role"),
    (re.compile(r"\bRole\.[A-Z]"), "names a role constant"),
    (re.compile(r"\.role\s*(==|!=|\bin\b|\bnot\s+in\b)"), "compares a role"),
    (re.compile(r"\bhas_role\("), "asks for a role"),
    (re.compile(r"membership__role"), "filters on a role"),
    (re.compile(r"@page\(\s*[\"'*]"), "limits a page by role names"),
]


def channel_files(root: Path = ROOT) -> list[Path]:
    files: set[Path] = set()
    for pattern in CHANNELS:
        for folder in root.glob(pattern):
            if folder.is_dir() and ".venv" not in folder.parts:
                files.update(
                    p
                    for p in folder.rglob("*.py")
                    if "migrations" not in p.parts and p.name != "access.py"
                )
    return sorted(files)


def findings(root: Path = ROOT) -> list[str]:
    found = []
    for path in channel_files(root):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            for pattern, what in RULES:
                if pattern.search(code):
                    found.append(f"{path.relative_to(root)}:{number}: {what}: {line.strip()}")
    return found


def main() -> int:
    found = findings()
    for line in found:
        print(line)
    if found:
        print(
            f"{len(found)} right(s) decided outside access.py: ask the domain app's access "
            "module instead.",
            file=sys.stderr,
        )
        return 1
    print(f"access decisions: {len(channel_files())} channel modules ask access.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
