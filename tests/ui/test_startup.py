"""The GUI's start: the window's frame shows first and answers; the database opens in a worker thread;
then log-in, and the window is attached with only the current tab built."""

from __future__ import annotations

import argparse
import gc
import threading
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel

from huifang_desktop.app import UserError
from huifang_desktop.config import AppPaths
from huifang_desktop.ui import application
from huifang_desktop.ui.login import LoginDialog
from tests.conftest import HANG_GUARD_S, PASSWORD


def _args(**given: Any) -> argparse.Namespace:
    values = {"smoke_test": False, "screenshot": None, "demo": False, "user": None, **given}
    return argparse.Namespace(**values)


class Script:
    """Steps run in turn from the event loop of ``run_gui`` (a step returns True when it is done); the
    first step gets the window as soon as its frame is shown."""

    def __init__(self, app: QApplication, steps: list[Callable[[Any], bool]]) -> None:
        self.app, self.steps, self.window, self.error = app, steps, None, None
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def shown(self, _app: Any, window: Any) -> None:
        self.window = window
        self.timer.start()

    def _tick(self) -> None:
        try:
            if self.steps and self.steps[0](self.window):
                self.steps.pop(0)
        except Exception as exc:  # noqa: BLE001  (re-raised by the test, not lost in the event loop)
            self.error = exc
            self.steps.clear()
        if not self.steps:
            self.timer.stop()
            self.app.exit(0)


def _run(
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
    args: argparse.Namespace,
    open_data: Callable[[], Any],
    steps: list[Callable[[Any], bool]],
) -> tuple[int, Script]:
    script = Script(qapp, steps)
    monkeypatch.setattr(application, "_shell_shown", script.shown)
    qapp.setQuitOnLastWindowClosed(False)
    try:
        code = application.run_gui(AppPaths(tmp_path), args, open_data)  # deletes its window at the end
    finally:
        qapp.setQuitOnLastWindowClosed(True)
        script.timer.stop()
        # This script and its steps refer to the window: collect them here, on the GUI thread. Left to a
        # later collection they could be freed by a worker thread of another test (Python collects on
        # whichever thread allocates), and a Qt object freed there crashes.
        del script.timer
        gc.collect()
    if script.error is not None:
        raise script.error
    return code, script


def test_the_frame_answers_while_the_database_opens_then_log_in_builds_only_the_current_tab(
    qapp, monkeypatch, tmp_path, ctx, supervisor
):
    gate = threading.Event()
    seen: dict[str, Any] = {}

    def open_data() -> Any:
        assert gate.wait(HANG_GUARD_S), "the test never let the database open"
        return ctx

    def while_loading(window: Any) -> bool:
        assert window.isVisible() and window.ctx is None
        assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
            "客户档案",
            "回访日历",
            "投诉登记",
            "台账",
            "统计",
            "审阅",
        ]
        assert "正在打开数据库" in window.statusBar().currentMessage()
        waiting = [label.text() for label in window.tabs.currentWidget().findChildren(QLabel)]
        assert waiting == ["正在打开数据库…"]
        assert not window.settings_action.isEnabled() and not window.backup_action.isEnabled()
        assert not window.import_action.isVisible()
        keys = {a.text(): a.shortcut().toString() for a in window.findChildren(type(window.settings_action))}
        assert keys["退出(&Q)"] == "Ctrl+Q" and keys["投诉登记"] == "Alt+3"  # shortcuts work while waiting
        window.tabs.setCurrentIndex(2)  # the user clicks 投诉登记 meanwhile: nothing is built yet
        assert window.built_tabs() == []
        gate.set()
        return True

    def log_in(_window: Any) -> bool:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LoginDialog):
            return False
        dialog.username.setText("zhuguan")
        dialog.password.setText("wrong")
        dialog.try_login()
        seen["refused"] = dialog.message.text()
        dialog.password.setText(PASSWORD)
        dialog.try_login()
        return True

    def attached(window: Any) -> bool:
        if window.ctx is None:
            return False
        seen["user"] = window.user_label.text()
        seen["built"] = [w.__class__.__name__ for w in window.built_tabs()]
        seen["settings"] = window.settings_action.isEnabled()
        return True

    code, _script = _run(
        qapp, monkeypatch, tmp_path, _args(user="zhuguan"), open_data, [while_loading, log_in, attached]
    )
    assert code == 0
    assert seen["refused"]  # a wrong password is refused in the dialog, which stays
    assert "李主管" in seen["user"]
    assert seen["built"] == ["ComplaintsTab"]  # the tab the user chose while waiting; the others on demand
    assert seen["settings"] is True


def test_a_database_that_cannot_open_is_reported_as_before_the_window_existed(qapp, monkeypatch, tmp_path):
    def open_data() -> Any:
        raise UserError("数据库已被另一个程序锁定")

    with pytest.raises(UserError, match="锁定"):
        _run(qapp, monkeypatch, tmp_path, _args(), open_data, [lambda _w: False])


def test_closing_the_frame_while_the_database_opens_ends_the_program_without_log_in(
    qapp, monkeypatch, tmp_path, ctx, supervisor
):
    gate = threading.Event()

    def open_data() -> Any:
        gate.wait(HANG_GUARD_S)
        return ctx

    def close_early(window: Any) -> bool:
        QTimer.singleShot(50, gate.set)  # the database opens while the window waits for it to close
        assert window.close()
        return True

    def never_logs_in(window: Any) -> bool:
        assert not isinstance(QApplication.activeModalWidget(), LoginDialog)
        assert window.ctx is None
        return gate.is_set()

    code, _script = _run(qapp, monkeypatch, tmp_path, _args(), open_data, [close_early, never_logs_in])
    assert code == 0


def test_a_failure_after_the_database_opened_ends_an_unattended_start_with_the_message(
    qapp, monkeypatch, tmp_path, capsys
):
    """Log-in, the first tab or the smoke test's checks failing must not leave the loop running for ever
    (a smoke test of a broken build would hang): the start ends with exit code 1 and one line."""
    from huifang_desktop.app import main
    from huifang_desktop.storage.db import DatabaseError
    from huifang_desktop.ui.main_window import MainWindow

    data = tmp_path / "office"
    assert main(["--data-dir", str(data), "demo", "--customers", "5"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data), "--smoke-test", "--user", "nobody"]) == 1
    err = capsys.readouterr().err
    assert "错误：" in err and "nobody" in err and "Traceback" not in err

    def locked(self: Any, ctx: Any) -> None:
        raise DatabaseError("数据库正被另一台电脑使用（已等待 5 秒）")

    monkeypatch.setattr(MainWindow, "attach", locked)
    assert main(["--data-dir", str(data), "--smoke-test"]) == 1
    assert "错误：数据库正被另一台电脑使用" in capsys.readouterr().err
