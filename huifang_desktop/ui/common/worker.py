"""Run a service call off the GUI thread and deliver its result (or error) back as a signal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

log = logging.getLogger("huifang.ui.worker")


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
            self.failed.emit(exc)
        else:
            self.finished.emit(result)


def start_worker(parent: QObject, fn: Callable[[], Any], on_done: Callable[[Any], None],
                 on_error: Callable[[Exception], None]) -> QThread:
    """Start ``fn`` in a new thread owned by ``parent``; callbacks run on the GUI thread."""
    thread = QThread(parent)
    worker = Worker(fn)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(on_done)
    worker.failed.connect(on_error)
    worker.finished.connect(thread.quit)
    worker.failed.connect(thread.quit)
    thread.finished.connect(worker.deleteLater)
    thread._worker = worker  # type: ignore[attr-defined]  # keep it alive as long as the thread
    thread.start()
    return thread
