"""Long work (a batch of forms, a long ledger) off the GUI thread, with a progress dialog and 取消.

``run_with_progress(parent, title, label, fn, on_done, on_error, on_cancelled)`` calls
``fn(progress, cancelled)`` in a worker thread. ``progress(done, total)`` may be called from that thread as
often as it likes: it is sent to the GUI thread by a queued signal. ``cancelled()`` is True once the user
pressed 取消 (a thread-safe flag); ``fn`` then stops early, typically by raising (the printing services raise
``PrintCancelled``). Exactly one of the callbacks runs, on the GUI thread: ``on_done(result)``,
``on_error(exc)`` or ``on_cancelled()``. Nothing blocks in a modal loop: the dialog is shown with ``show()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressBar, QProgressDialog, QWidget

from huifang_desktop.services.errors import ServiceError, ValidationError
from huifang_desktop.ui.common.worker import hand_back_to_gui_thread

log = logging.getLogger("huifang.ui.progress")

ProgressFn = Callable[[int, int], None]
CancelledFn = Callable[[], bool]
Work = Callable[[ProgressFn, CancelledFn], Any]

SHOW_AFTER_MS = 300  # quick work finishes before the dialog would flash up


class _Job(QObject):
    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, fn: Work, stop: threading.Event) -> None:
        super().__init__()
        self._fn = fn
        self._stop = stop

    def run(self) -> None:
        try:
            result = self._fn(self.progressed.emit, self._stop.is_set)
        except Exception as exc:  # delivered to the GUI thread, which shows it
            if not self._stop.is_set() and not isinstance(exc, ServiceError | ValidationError):
                log.exception("background work failed")
            hand_back_to_gui_thread(self)  # never destroyed on the worker thread (see there)
            self.failed.emit(exc)
        else:
            hand_back_to_gui_thread(self)
            self.finished.emit(result)


class ProgressTask(QObject):
    """One run of ``fn`` in its own thread; the signals fire on the GUI thread, one of them once."""

    done = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(
        self, parent: QWidget, title: str, label: str, fn: Work, *, show_after_ms: int = SHOW_AFTER_MS
    ) -> None:
        super().__init__(parent)
        self._stop = threading.Event()
        self._finished = False
        self.done_count = 0
        self.total = 0
        self.dialog = QProgressDialog(label, self.tr("取消"), 0, 0, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(show_after_ms)
        # Progress goes to the bar itself: QProgressDialog.setValue() would run a nested event loop.
        self.bar = QProgressBar(self.dialog)
        self.bar.setRange(0, 0)
        self.dialog.setBar(self.bar)
        self.dialog.canceled.connect(self.cancel)
        self.worker_thread = QThread(self)
        self.job = _Job(fn, self._stop)
        self.job.moveToThread(self.worker_thread)
        self.worker_thread.started.connect(self.job.run)
        self.job.progressed.connect(self._progressed)
        self.job.finished.connect(self._finished_ok)
        self.job.failed.connect(self._finished_error)
        # Direct: quit() is thread-safe, and a GUI thread waiting in wait() must not be needed to deliver it.
        self.job.finished.connect(self.worker_thread.quit, Qt.ConnectionType.DirectConnection)
        self.job.failed.connect(self.worker_thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> ProgressTask:
        self.worker_thread.start()
        return self

    def cancel(self) -> None:
        """Ask the work to stop (it notices at its next look at ``cancelled()``)."""
        if not self._finished:
            self._stop.set()
            self.dialog.setLabelText(self.tr("正在取消…"))

    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def is_running(self) -> bool:
        return not self._finished

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the thread ended (tests, and a window closing under a running task)."""
        return self.worker_thread.wait(msecs)

    def _progressed(self, done: int, total: int) -> None:
        if self._finished:
            return
        self.done_count, self.total = done, total
        if total > 0:
            if self.bar.maximum() != total:
                self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.bar.setFormat(self.tr("{0} / {1}").format(done, total))

    def _close(self) -> None:
        self._finished = (
            True  # cancel() does nothing from now on (no disconnect: see hand_back_to_gui_thread)
        )
        self.dialog.reset()
        self.dialog.hide()

    def _finished_ok(self, result: Any) -> None:
        self._close()
        if self._stop.is_set():
            self.cancelled.emit()
        else:
            self.done.emit(result)

    def _finished_error(self, exc: Exception) -> None:
        self._close()
        if self._stop.is_set():
            self.cancelled.emit()
        else:
            self.failed.emit(exc)


def run_with_progress(
    parent: QWidget,
    title: str,
    label: str,
    fn: Work,
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    *,
    show_after_ms: int = SHOW_AFTER_MS,
) -> ProgressTask:
    """Start ``fn(progress, cancelled)`` in a worker thread with a progress dialog; see the module doc."""
    task = ProgressTask(parent, title, label, fn, show_after_ms=show_after_ms)
    task.done.connect(on_done)
    if on_error is not None:
        task.failed.connect(on_error)
    if on_cancelled is not None:
        task.cancelled.connect(on_cancelled)
    return task.start()


__all__ = ["ProgressTask", "run_with_progress"]
