"""Nothing in web/, */api/ or sync/ decides a right by itself: they ask the access modules."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check-access-decisions.py"


def _checker():
    spec = importlib.util.spec_from_file_location("check_access_decisions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_channels_ask_access_modules_for_every_right():
    assert _checker().findings() == []


def test_the_check_sees_a_role_decision(tmp_path):
    checker = _checker()
    views = tmp_path / "web" / "views.py"
    views.parent.mkdir()
    views.write_text(
        "from partners.models import Role\n"
        "if actor.role == Role.MANAGER:\n"
        "    pass\n"
        '@page("manager")\n'
        "def v(request, actor): ...\n"
    )
    found = checker.findings(tmp_path)
    assert len(found) >= 4
    assert any("compares a role" in f for f in found)
    assert any("limits a page by role names" in f for f in found)
