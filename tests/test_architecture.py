"""The layer arrows of architecture.md hold: checked with import-linter's contracts in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from importlinter import cli

ROOT = Path(__file__).resolve().parent.parent


def test_layers_contracts_are_kept(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Contracts: 3 kept, 0 broken" in out
