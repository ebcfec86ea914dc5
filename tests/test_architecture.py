"""The apps' import contracts ([tool.importlinter] in pyproject.toml, docs/architecture.md): each app
imports only the apps below it, core and audit import no other app, and no domain app imports the
web interface, the demo or the project package. `uv run lint-imports` prints the same, in detail.

No database and no files written: the import graph is built without import-linter's cache."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from importlinter import configuration
from importlinter.application.use_cases import create_report, read_user_options

configuration.configure()  # as the lint-imports command does

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@pytest.fixture(scope="module")
def options():
    options = read_user_options(str(PYPROJECT))
    # The built-in types by name, as the lint-imports command registers them before reading.
    options.session_options["contract_types"] = [
        "layers: importlinter.contracts.layers.LayersContract",
        "forbidden: importlinter.contracts.forbidden.ForbiddenContract",
        "independence: importlinter.contracts.independence.IndependenceContract",
    ]
    return options


def broken(options, *contracts: str) -> dict[str, dict]:
    """The broken contracts (by name) and what broke them."""
    report = create_report(options, limit_to_contracts=contracts, cache_dir=None)
    return {
        c.name: check.metadata for c, check in report.get_contracts_and_checks() if not check.kept
    }


def contract(options, contract_id: str) -> dict:
    return next(c for c in options.contracts_options if c["id"] == contract_id)


def test_every_import_contract_is_kept(options):
    report = create_report(options, cache_dir=None)
    checks = list(report.get_contracts_and_checks())
    assert {c.name for c, _ in checks} >= {
        "Each app imports only the apps below it",
        "core imports no app: every app builds on it",
    }
    failed = [c.name for c, check in checks if not check.kept]
    assert not failed, f"broken import contracts (uv run lint-imports says why): {failed}"


def test_an_upward_import_breaks_the_layers(options):
    """Without its listed exception, the sign-in page's (lazy or not) import of sso is caught."""
    changed = copy.deepcopy(options)
    layers = contract(changed, "layers")
    layers["ignore_imports"] = [
        i for i in layers["ignore_imports"] if not i.startswith("partners.views ->")
    ]
    assert list(broken(changed, "layers")) == ["Each app imports only the apps below it"]


def test_a_forbidden_import_is_caught(options):
    """A contract the code does not keep (the web interface reads cases) is reported broken."""
    changed = copy.deepcopy(options)
    changed.contracts_options.append(
        {
            "id": "probe",
            "name": "web imports no cases",
            "type": "forbidden",
            "source_modules": ["web"],
            "forbidden_modules": ["cases"],
        }
    )
    assert list(broken(changed, "probe")) == ["web imports no cases"]
