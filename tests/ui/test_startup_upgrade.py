"""Started from the desktop, a file an older version's cut upgrade left half-way is refused with the restore
command in the start-up error window (the same message as on the command line)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from huifang_desktop import app
from huifang_desktop.storage.db import backup_sqlite, make_engine, sqlite_url
from tests.storage.test_upgrade_atomic import _contents, _half_applied_0009, _office_at

pytestmark = pytest.mark.sqlite_only


def test_the_gui_start_shows_the_restore_command_for_a_half_upgraded_file(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "office"
    path = _office_at(data, "0008")
    engine = make_engine(sqlite_url(path))
    intact = backup_sqlite(engine, data / "backups", reason="pre-migrate-0008")
    engine.dispose()
    _half_applied_0009(path)
    rows = _contents(path)
    shown: list[str] = []
    monkeypatch.setattr(app, "_show_startup_error", shown.append)
    qapp.setQuitOnLastWindowClosed(False)
    try:
        code = app.main(["--data-dir", str(data)])
    finally:
        qapp.setQuitOnLastWindowClosed(True)

    assert code == app.EXIT_ERROR
    assert len(shown) == 1
    assert "中途被打断" in shown[0] and f'restore "{intact}"' in shown[0]
    assert _contents(path) == rows
