"""Where exports go: the save dialog opens in the folder used last (remembered per user on this PC), and the
message after an export offers 打开所在文件夹.

Every export of the program (ledgers, the complaint register, statistics, the audit log, PDFs saved from the
print preview) asks through :func:`ask_export_path` and reports through :func:`say_exported`, so the folder
chosen once is where the next export starts, whichever tab it comes from.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from huifang_desktop import APP_NAME

_KEY = "exports/last_folder"
OPEN_FOLDER_LINK = "open-folder:"


def _settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_NAME, APP_NAME)


def last_folder() -> Path:
    """The folder of the last export, if it still exists; else the user's documents folder (or home)."""
    saved = str(_settings().value(_KEY, "", str))
    if saved and Path(saved).is_dir():
        return Path(saved)
    documents = Path.home() / "Documents"
    return documents if documents.is_dir() else Path.home()


def remember_folder(path: str | Path) -> None:
    _settings().setValue(_KEY, str(Path(path).parent))


def ask_export_path(parent: QWidget, title: str, file_name: str, suffix: str, file_filter: str) -> str:
    """The save dialog in the last export folder with ``file_name`` suggested; the chosen path with
    ``suffix`` added when the user left it out ("" when cancelled). The folder is remembered."""
    path, _filter = QFileDialog.getSaveFileName(parent, title, str(last_folder() / file_name), file_filter)
    if not path:
        return ""
    if not path.lower().endswith(suffix):
        path += suffix
    remember_folder(path)
    return path


def say_exported(label: QLabel, text: str, path: str | Path) -> None:
    """``text`` in ``label`` followed by an 打开所在文件夹 link that opens the file's folder."""
    if label.textFormat() == Qt.TextFormat.PlainText:
        label.setTextFormat(Qt.TextFormat.AutoText)
    link = QCoreApplication.translate("ExportTarget", "打开所在文件夹")
    label.setText(
        f'{html.escape(text)}　<a href="{OPEN_FOLDER_LINK}{html.escape(str(path))}">{html.escape(link)}</a>'
    )
    if not label.property("opens_folders"):
        label.setProperty("opens_folders", True)
        label.linkActivated.connect(open_folder_link)


def open_folder_link(link: str) -> bool:
    """Open the folder of the file named by an 打开所在文件夹 link in the system's file manager."""
    if not link.startswith(OPEN_FOLDER_LINK):
        return False
    folder = Path(link[len(OPEN_FOLDER_LINK) :]).parent
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


__all__ = ["ask_export_path", "last_folder", "open_folder_link", "remember_folder", "say_exported"]
