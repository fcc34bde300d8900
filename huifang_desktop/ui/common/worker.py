"""Run a service call off the GUI thread and deliver its result (or error) back on the GUI thread.

``start_worker(parent, fn, on_done, on_error)`` runs ``fn()`` in a new ``QThread`` owned by ``parent``. The
callbacks always run on the GUI thread, whatever they are (a bound method, a closure, a lambda): they are
called by a relay ``QObject`` that lives on the GUI thread, so the worker's signals reach it queued. The
thread quits through a direct call (``QThread.quit`` is thread-safe), so a GUI thread blocked in
``QThread.wait()`` (a window closing, a test) does not have to process events for the wait to end.
``wait_for_threads(widget)`` is that wait, for every worker thread under a widget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

log = logging.getLogger("huifang.ui.worker")


def hand_back_to_gui_thread(obj: QObject) -> None:
    """Called by a job at the end of its run, on its worker thread: move it to the GUI thread, where it is
    later destroyed. A Python-made QObject must never be destroyed on the worker thread: its destructor
    holds Qt's signal-slot lock while asking Python for method overrides (it needs the GIL), and a GUI
    thread that holds the GIL while connecting, disconnecting or emitting waits for that same lock — both
    threads wait for ever (seen with PySide6 6.11: ``QObject::~QObject`` → ``Sbk_GetPyOverride`` on the
    worker, ``QMetaObject::disconnect`` on the GUI thread). So no ``finished → deleteLater`` on a worker."""
    app = QCoreApplication.instance()
    if app is not None:
        obj.moveToThread(app.thread())


class Worker(QObject):
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # delivered to the GUI, which shows it
            log.exception("background work failed")
            hand_back_to_gui_thread(self)
            self.failed.emit(exc)
        else:
            hand_back_to_gui_thread(self)
            self.finished.emit(result)


class _Relay(QObject):
    """Lives on the GUI thread: the worker's signals are queued to it, and it calls the callbacks there."""

    def __init__(
        self, parent: QObject, on_done: Callable[[Any], None], on_error: Callable[[Exception], None]
    ) -> None:
        super().__init__(parent)
        self._on_done, self._on_error = on_done, on_error

    @Slot(object)
    def done(self, result: Any) -> None:
        self.deleteLater()
        self._on_done(result)

    @Slot(object)
    def failed(self, exc: Exception) -> None:
        self.deleteLater()
        self._on_error(exc)


def start_worker(
    parent: QObject,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception], None],
) -> QThread:
    """Start ``fn`` in a new thread owned by ``parent``; the callbacks run on the GUI thread."""
    thread = QThread(parent)
    worker = Worker(fn)
    worker.moveToThread(thread)
    relay = _Relay(parent, on_done, on_error)
    thread.started.connect(worker.run)
    worker.finished.connect(relay.done, Qt.ConnectionType.QueuedConnection)
    worker.failed.connect(relay.failed, Qt.ConnectionType.QueuedConnection)
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread._worker = worker  # type: ignore[attr-defined]  # alive as long as the thread; freed on the GUI thread
    thread.start()
    return thread


def wait_for_threads(root: QObject, msecs: int = 60_000) -> bool:
    """Wait until every ``QThread`` under ``root`` has ended, processing events meanwhile (a finished job's
    result is still delivered). False when some thread still runs after ``msecs``."""
    deadline = time.monotonic() + msecs / 1000
    while True:
        running = [t for t in root.findChildren(QThread) if t.isRunning()]
        if not running:
            return True
        if time.monotonic() > deadline:
            return False
        running[0].wait(20)
        QCoreApplication.processEvents()
