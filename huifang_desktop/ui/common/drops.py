"""Files dropped on a dialog from the file manager (scans, attachments): one place reads the drop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QDragEnterEvent, QDropEvent


class FileDrops:
    """Mixin for a QDialog that takes local files dropped on it (list it before QDialog; call
    ``setAcceptDrops(True)``): their paths go to the dialog's ``take_files(paths)``."""

    take_files: Callable[[list[str]], None]  # the dialog's method (declared only: the mixin defines none)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.take_files(paths)


__all__ = ["FileDrops"]
