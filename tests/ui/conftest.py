"""GUI tests never touch the tester's own Qt settings (remembered export folder …): a folder per test."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def _own_qt_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("qt-settings"))
    )
