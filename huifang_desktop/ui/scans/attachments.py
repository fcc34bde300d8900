"""附件 of a visit record (issue 22 item 8): photos, recordings, documents and scanned signed forms, kept in the
database; opened with the system's viewer (a temporary copy), added by hand (添加… or dropped here), removed."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services import scans
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.common.drops import FileDrops
from huifang_desktop.ui.common.tables import record_widget


def _size_text(size: int) -> str:
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(1, round(size / 1024))} KB"


class RecordAttachmentsDialog(FileDrops, QDialog):
    """The attachments of one visit record."""

    def __init__(
        self, ctx: ServiceContext, record_id: int, number: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.record_id = record_id
        self.setWindowTitle(self.tr("附件 — 回访记录 {0}").format(number))
        self.setAcceptDrops(True)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.last_opened: Path | None = None
        self.rows: list[scans.RecordAttachmentRow] = []
        layout = QVBoxLayout(self)
        self.table = record_widget(
            [self.tr("文件"), self.tr("类型"), self.tr("大小"), self.tr("添加时间")], 0
        )
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.kind = QComboBox()
        self.kind.addItems(list(scans.RECORD_ATTACHMENT_KINDS))
        row.addWidget(QLabel(self.tr("类型")))
        row.addWidget(self.kind)
        self.add_button = QPushButton(self.tr("添加…"))
        self.add_button.clicked.connect(self.choose_files)
        self.open_button = QPushButton(self.tr("打开"))
        self.open_button.clicked.connect(self.open_selected)
        self.remove_button = QPushButton(self.tr("删除"))
        self.remove_button.clicked.connect(self.remove_selected)
        for b in (self.add_button, self.open_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 380)
        self.reload()

    def reload(self) -> None:
        try:
            self.rows = scans.record_attachments(self.ctx, self.record_id)
        except ServiceError as exc:
            self.message.setText(str(exc))
            self.rows = []
        self.table.setRowCount(len(self.rows))
        for r, a in enumerate(self.rows):
            for c, value in enumerate((a.name, a.kind, _size_text(a.size), f"{a.created_at:%Y-%m-%d %H:%M}")):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.open_button.setEnabled(bool(self.rows))
        self.remove_button.setEnabled(bool(self.rows))

    def selected(self) -> scans.RecordAttachmentRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def choose_files(self) -> None:
        dialog = QFileDialog(self, self.tr("选择附件"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self.add_files)
        dialog.open()

    def add_files(self, paths: Sequence[str | Path]) -> None:
        added = []
        for path in paths:
            try:
                scans.attach_file_to_record(self.ctx, self.record_id, path, self.kind.currentText())
            except (ValidationError, ServiceError) as exc:
                self.message.setText(str(exc))
                self.reload()
                return
            added.append(Path(path).name)
        self.reload()
        self.message.setText(self.tr("已添加{0}：{1}").format(self.kind.currentText(), "、".join(added)))

    def open_selected(self) -> None:
        a = self.selected()
        if a is None:
            return
        try:
            name, data = scans.record_attachment_data(self.ctx, self.record_id, a.id)
            folder = Path(tempfile.gettempdir()) / "huifang-attachments"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"visit-{a.id}-{Path(name).name}"
            target.write_bytes(data)
        except (ServiceError, OSError) as exc:
            self.message.setText(self.tr("无法打开：{0}").format(exc))
            return
        self.last_opened = target
        if not self.open_url(QUrl.fromLocalFile(str(target))):
            self.message.setText(self.tr("没有能打开“{0}”的程序。").format(name))
            return
        self.message.setText(self.tr("已打开 {0}（临时副本，修改不会存回）。").format(name))

    def remove_selected(self) -> None:
        a = self.selected()
        if a is None:
            return
        try:
            scans.detach_from_record(self.ctx, self.record_id, a.id)
        except ServiceError as exc:
            self.message.setText(str(exc))
            return
        self.reload()
        self.message.setText(self.tr("已删除 {0}。").format(a.name))

    def take_files(self, paths: list[str]) -> None:
        """Files dropped on the dialog (FileDrops)."""
        self.add_files(paths)
