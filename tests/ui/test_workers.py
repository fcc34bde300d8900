"""The background-work plumbing every tab uses (``ui.common.worker``, ``ui.common.progress``): callbacks on
the GUI thread, a wait that ends without an event loop, jobs never destroyed on their worker thread (the
PySide6 GIL / signal-slot-lock deadlock), and the main window waiting for its threads when it closes."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QCoreApplication, QThread
from PySide6.QtWidgets import QWidget

from huifang_desktop.ui.common.progress import run_with_progress
from huifang_desktop.ui.common.worker import start_worker, wait_for_threads
from tests.conftest import HANG_GUARD_MS, HANG_GUARD_S


def _parent(qtbot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


def test_callbacks_run_on_the_gui_thread_even_when_they_are_closures(qtbot) -> None:
    parent = _parent(qtbot)
    gui = threading.get_ident()
    seen: list[tuple[str, int]] = []

    def boom() -> None:
        raise ValueError("坏了")

    start_worker(
        parent,
        lambda: 42,
        lambda r: seen.append((f"done {r}", threading.get_ident())),
        lambda e: seen.append((f"error {e}", threading.get_ident())),
    )
    start_worker(
        parent,
        boom,
        lambda r: seen.append(("done", threading.get_ident())),
        lambda e: seen.append((f"error {e}", threading.get_ident())),
    )
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert sorted(seen) == [("done 42", gui), ("error 坏了", gui)]


def test_a_finished_worker_thread_ends_while_the_gui_thread_only_waits(qtbot) -> None:
    """quit() is a direct call: a GUI thread blocked in wait() (closing a window) needs no event loop."""
    parent = _parent(qtbot)
    release = threading.Event()
    thread = start_worker(parent, lambda: release.wait(HANG_GUARD_S), lambda _r: None, lambda _e: None)
    release.set()
    assert thread.wait(HANG_GUARD_MS)  # returns once the thread ends: no event loop ran meanwhile
    qtbot.waitUntil(lambda: not thread.isRunning())


def test_jobs_are_handed_back_to_the_gui_thread_before_they_finish(qtbot) -> None:
    """A Python-made QObject destroyed on a worker thread can deadlock the program (see worker.py)."""
    parent = _parent(qtbot)
    app_thread = QCoreApplication.instance().thread()
    thread = start_worker(parent, lambda: "ok", lambda _r: None, lambda _e: None)
    assert wait_for_threads(parent, HANG_GUARD_MS)
    assert thread._worker.thread() == app_thread  # type: ignore[attr-defined]

    outcome: list[str] = []
    task = run_with_progress(
        parent, "导出", "正在导出…", lambda progress, cancelled: "done", lambda r: outcome.append(r)
    )
    qtbot.waitUntil(lambda: outcome == ["done"])
    assert task.wait(HANG_GUARD_MS) and task.job.thread() == app_thread


def test_many_cancelled_tasks_in_a_row_never_hang(qtbot) -> None:
    """The scenario that deadlocked one run in a few hundred before jobs were handed back: a task cancelled
    while the worker ends. (The run's watchdog in conftest.py turns a hang into a failure with stacks.)"""
    parent = _parent(qtbot)
    for _ in range(60):
        started = threading.Event()

        def work(progress, cancelled, started=started):
            started.set()
            while not cancelled():
                progress(1, 2)
                time.sleep(0.001)
            raise RuntimeError("cancelled")

        task = run_with_progress(parent, "打印", "正在生成…", work, lambda _r: None, lambda _e: None)
        assert started.wait(HANG_GUARD_S)
        with qtbot.waitSignal(task.cancelled):
            task.cancel()
        assert task.wait(HANG_GUARD_MS)
    assert wait_for_threads(parent, HANG_GUARD_MS)


def test_wait_for_threads_reports_a_thread_still_running(qtbot) -> None:
    parent = _parent(qtbot)
    release = threading.Event()
    start_worker(parent, lambda: release.wait(HANG_GUARD_S), lambda _r: None, lambda _e: None)
    assert not wait_for_threads(parent, 50)
    release.set()
    assert wait_for_threads(parent, HANG_GUARD_MS)
    assert not [t for t in parent.findChildren(QThread) if t.isRunning()]
