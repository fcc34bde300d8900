"""The layer arrows of architecture.md hold: checked with import-linter's contracts in pyproject.toml; CI runs
the linters and the type checker too."""

from __future__ import annotations

import re
from pathlib import Path

from importlinter import cli

ROOT = Path(__file__).resolve().parent.parent


def test_layers_contracts_are_kept(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Contracts: 3 kept, 0 broken" in out


def test_ci_runs_ruff_mypy_and_the_layer_contracts_and_fails_on_each():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme_line = ci.index('pip install ".[test]" && pytest\n')
    for command in (
        "ruff check huifang_desktop tests bench",
        "ruff format --check huifang_desktop tests bench",
        "mypy huifang_desktop",
        "lint-imports",
    ):
        at = ci.index(command + " || {")  # each one's failure is caught ...
        assert at < readme_line, f"{command}: before the README's test line"
        assert re.match(r'[^\n]*echo "ci: [^"]* failed[^"]*"; lint_status=1; }\n', ci[at:]), (
            command
        )  # ... and said
    assert "lint_status != 0" in ci[readme_line:]  # and fails CI after the tests
