"""工具 → 导入扫描件…: scanned PDFs/images of printed forms filed to their visit records by the QR code, and
the 未识别 pages filed by hand by their 编号. Reading and rendering run off the GUI thread."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QThread, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
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
from huifang_desktop.ui.common.i18n import QT_TRANSLATE_NOOP, translated
from huifang_desktop.ui.common.tables import record_widget
from huifang_desktop.ui.common.worker import start_worker
from huifang_desktop.ui.scans.pages import file_pages

FILE_FILTER = QT_TRANSLATE_NOOP(
    "FileDialog", "扫描件 (*.pdf *.png *.jpg *.jpeg);;PDF (*.pdf);;图片 (*.png *.jpg *.jpeg)"
)


class ScanImportDialog(FileDrops, QDialog):
    """Choose scans (several at once, or drop them here), see what was filed, file the 未识别 pages."""

    imported = Signal(object)  # the ScanImportResult
    failed = Signal(str)

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("导入扫描件"))
        self.setAcceptDrops(True)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self._thread: QThread | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                self.tr(
                    "选择扫描仪或手机拍下的已签字表单（PDF、PNG、JPEG，可多选，也可拖到这里）。"
                    "程序读取每页右上角的二维码，归档到对应的回访记录；上门回访的签字单记为已回收。"
                )
            )
        )
        row = QHBoxLayout()
        self.choose_button = QPushButton(self.tr("选择文件…"))
        self.choose_button.clicked.connect(self.choose_files)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        layout.addWidget(self.log, 1)
        layout.addWidget(
            QLabel(self.tr("未识别的页（没有可读的二维码或找不到记录）：选中一页，填写表上的编号后归档"))
        )
        self.table = record_widget([self.tr("序号"), self.tr("文件"), self.tr("页码"), self.tr("原因")], 3)
        self.table.doubleClicked.connect(lambda _index: self.view_selected())
        layout.addWidget(self.table, 1)
        file_row = QHBoxLayout()
        self.view_button = QPushButton(self.tr("查看"))
        self.view_button.clicked.connect(self.view_selected)
        file_row.addWidget(self.view_button)
        file_row.addWidget(QLabel(self.tr("编号：")))
        self.number_edit = QLineEdit()
        self.number_edit.setPlaceholderText("HF20261124-001")
        self.number_edit.returnPressed.connect(self.file_selected)
        file_row.addWidget(self.number_edit, 1)
        self.file_button = QPushButton(self.tr("归档"))
        self.file_button.clicked.connect(self.file_selected)
        file_row.addWidget(self.file_button)
        layout.addLayout(file_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(760, 560)
        self.reload_unfiled()

    # --- import ------------------------------------------------------------------------------------------

    def choose_files(self) -> None:
        dialog = QFileDialog(self, self.tr("选择扫描件"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(translated("FileDialog", FILE_FILTER))
        dialog.filesSelected.connect(self.import_paths)
        dialog.open()

    def import_paths(self, paths: Sequence[str | Path]) -> None:
        """Render and read the pages in a worker thread, then store them (one transaction)."""
        if not paths or self._thread is not None:
            return
        self.choose_button.setEnabled(False)
        self.log.appendPlainText(self.tr("正在读取 {0} 个文件…").format(len(paths)))
        ctx, chosen = self.ctx, [Path(p) for p in paths]
        self._thread = start_worker(
            self, lambda: scans.import_pages(ctx, file_pages(chosen)), self._done, self._failed
        )

    def _done(self, result: scans.ScanImportResult) -> None:
        self._thread = None
        self.choose_button.setEnabled(True)
        for page in result.pages:
            self.log.appendPlainText(page.text())
        self.log.appendPlainText(result.summary())
        self.reload_unfiled()
        self.imported.emit(result)

    def _failed(self, exc: Exception) -> None:
        self._thread = None
        self.choose_button.setEnabled(True)
        message = (
            str(exc)
            if isinstance(exc, ValidationError | ServiceError)
            else self.tr("导入失败：{0}").format(exc)
        )
        self.log.appendPlainText(self.tr("没有导入：{0}").format(message))
        self.failed.emit(message)

    def take_files(self, paths: list[str]) -> None:
        """Files dropped on the dialog (FileDrops)."""
        self.import_paths(paths)

    # --- 未识别 --------------------------------------------------------------------------------------------

    def reload_unfiled(self) -> None:
        try:
            pages = scans.list_unfiled(self.ctx)
        except ServiceError as exc:
            self.log.appendPlainText(str(exc))
            pages = []
        self.table.setRowCount(len(pages))
        for r, p in enumerate(pages):
            for c, value in enumerate((str(p.id), p.source, str(p.page), p.reason)):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.file_button.setEnabled(bool(pages))
        self.view_button.setEnabled(bool(pages))

    def selected_page_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return int(item.text()) if item is not None else None

    def file_selected(self) -> None:
        page_id = self.selected_page_id()
        if page_id is None:
            self.log.appendPlainText(self.tr("请先在未识别列表中选中一页。"))
            return
        try:
            number = scans.file_page(self.ctx, page_id, self.number_edit.text())
        except (ValidationError, ServiceError) as exc:
            self.log.appendPlainText(self.tr("没有归档：{0}").format(exc))
            return
        self.log.appendPlainText(self.tr("已把第 {0} 页归档到回访记录 {1}。").format(page_id, number))
        self.number_edit.clear()
        self.reload_unfiled()

    def view_selected(self) -> None:
        """Open the selected page with the system's image viewer (a temporary copy)."""
        page_id = self.selected_page_id()
        if page_id is None:
            return
        try:
            name, data = scans.unfiled_page_data(self.ctx, page_id)
            folder = Path(tempfile.gettempdir()) / "huifang-attachments"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"scan-{page_id}-{Path(name).name}"
            target.write_bytes(data)
        except (ServiceError, OSError) as exc:
            self.log.appendPlainText(self.tr("无法打开：{0}").format(exc))
            return
        if not self.open_url(QUrl.fromLocalFile(str(target))):
            self.log.appendPlainText(self.tr("没有能打开“{0}”的程序。").format(name))
