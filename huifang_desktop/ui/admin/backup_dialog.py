"""备份与恢复 (administrator): the list of verified backups, 立即备份, 恢复所选, and the backup folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize, Qt, QThread, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.services import backups
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.ui.common.fit import fit_to_screen
from huifang_desktop.ui.common.worker import start_worker

_REASONS = {"manual": "手动", "daily": "每日自动", "pre-restore": "恢复前", "start": "启动"}


def reason_label(reason: str) -> str:
    if reason.startswith("pre-migrate"):
        return "升级前"
    return _REASONS.get(reason, reason)


class BackupDialog(QDialog):
    """Lists the backups in the office's backup folder. Restoring asks for a second click on 确认恢复
    (no blocking message box) and emits ``restored`` so the main window reloads every screen."""

    restored = Signal()

    def __init__(
        self,
        ctx: ServiceContext,
        paths: AppPaths,
        parent: QWidget | None = None,
        choose_folder: Callable[[QWidget], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.paths = ctx, paths
        self._choose_folder = choose_folder or (
            lambda w: QFileDialog.getExistingDirectory(
                w, QCoreApplication.translate("BackupDialog", "选择备份文件夹")
            )
        )
        self.setWindowTitle(self.tr("备份与恢复"))
        fit_to_screen(self, QSize(760, 460))
        allowed = ctx.user.id == 0 or can(ctx.user.role, Permission.BACKUP_RESTORE)

        self._build_ui()
        self._connect()
        for w in (self.change_folder, self.backup_now, self.restore_button):
            w.setEnabled(allowed)
        if not allowed:
            self.message.setText(self.tr("只有系统管理员可以备份和恢复数据库。"))
        self._thread: QThread | None = None
        self.reload()

    def _build_ui(self) -> None:
        """The folder line, the list of backups, the details and message, the buttons; nothing connected."""
        self.folder_label = QLabel()
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.change_folder = QPushButton(self.tr("更改文件夹…"))
        top = QHBoxLayout()
        top.addWidget(self.folder_label, 1)
        top.addWidget(self.change_folder)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("备份时间"), self.tr("类型"), self.tr("大小"), self.tr("文件")]
        )
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a8071a;")

        self.backup_now = QPushButton(self.tr("立即备份(&B)"))
        self.restore_button = QPushButton(self.tr("恢复所选…"))
        self.confirm_button = QPushButton(self.tr("确认恢复"))
        self.confirm_button.setStyleSheet("color: #a8071a; font-weight: bold;")
        self.confirm_button.hide()
        self.close_button = close = QPushButton(self.tr("关闭"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.backup_now)
        buttons.addStretch(1)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        QShortcut(QKeySequence("F5"), self, self.reload)
        self.change_folder.clicked.connect(self._change_folder)
        self.table.itemSelectionChanged.connect(self._selected)
        self.backup_now.clicked.connect(self.start_backup)
        self.restore_button.clicked.connect(self.ask_restore)
        self.confirm_button.clicked.connect(self.confirm_restore)
        self.close_button.clicked.connect(self.reject)

    # --- list ------------------------------------------------------------------------------------
    def folder(self) -> Path:
        return backups.backup_folder(self.ctx, self.paths.backups)

    def reload(self) -> None:
        folder = self.folder()
        self.folder_label.setText(self.tr("备份文件夹：{0}").format(folder))
        self.items = backups.list_backups(folder)
        self.table.setRowCount(len(self.items))
        for row, info in enumerate(self.items):
            values = (
                f"{info.at:%Y-%m-%d %H:%M:%S}",
                reason_label(info.reason),
                info.size_text,
                info.path.name,
            )
            for col, text in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.confirm_button.hide()
        self.details.setText(
            self.tr(
                "共 {0} 份备份；自动保留最近 7 天、4 周、12 个月各一份，升级前和恢复前的备份不会自动删除。"
            ).format(len(self.items))
        )
        if self.items:
            self.table.selectRow(0)

    def selected(self) -> backups.BackupInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows else None

    def _selected(self) -> None:
        self.confirm_button.hide()
        info = self.selected()
        if info is None:
            return
        check = backups.check_backup(info.path)
        counts = "，".join(f"{label} {n}" for label, n in check.counts)
        state = self.tr("校验通过") if check.ok else check.message
        self.details.setText(self.tr("{0}  {1}：{2}").format(info.path.name, state, counts))

    # --- actions ---------------------------------------------------------------------------------
    def _change_folder(self) -> None:
        chosen = self._choose_folder(self)
        if not chosen:
            return
        try:
            backups.set_backup_folder(self.ctx, chosen)
        except Exception as exc:  # noqa: BLE001  (service errors and validation: shown in the dialog)
            self.message.setText(str(exc))
            return
        self.message.setText("")
        self.reload()

    def start_backup(self) -> None:
        self.backup_now.setEnabled(False)
        self.message.setStyleSheet("color: #555;")
        self.message.setText(self.tr("正在备份并校验…"))
        folder = self.folder()
        self._thread = start_worker(
            self, lambda: backups.make_backup(self.ctx, folder), self._backed_up, self._failed
        )

    def _backed_up(self, info: object) -> None:
        assert isinstance(info, backups.BackupInfo)
        self.backup_now.setEnabled(True)
        self.reload()
        self.message.setStyleSheet("color: #135200;")
        self.message.setText(self.tr("已备份到 {0}（{1}，已校验）。").format(info.path, info.size_text))

    def _failed(self, exc: Exception) -> None:
        self.backup_now.setEnabled(True)
        self.message.setStyleSheet("color: #a8071a;")
        self.message.setText(str(exc))

    def ask_restore(self) -> None:
        info = self.selected()
        if info is None:
            self.message.setText(self.tr("请先选择一份备份。"))
            return
        check = backups.check_backup(info.path)
        if not check.ok:
            self.message.setStyleSheet("color: #a8071a;")
            self.message.setText(self.tr("不能恢复：{0}").format(check.message))
            return
        counts = "，".join(f"{label} {n}" for label, n in check.counts)
        self.message.setStyleSheet("color: #a8071a;")
        self.message.setText(
            self.tr(
                "将用 {0:%Y-%m-%d %H:%M} 的备份（{1}）替换当前数据库；当前数据库会先另存一份。"
                "确定请点“确认恢复”。"
            ).format(info.at, counts)
        )
        self.confirm_button.show()
        self.confirm_button.setFocus()

    def confirm_restore(self) -> None:
        info = self.selected()
        self.confirm_button.hide()
        if info is None:
            return
        try:
            _check, aside = backups.restore(self.ctx, info.path, self.folder())
        except Exception as exc:  # noqa: BLE001  (shown in the dialog; the current database is untouched)
            self.message.setStyleSheet("color: #a8071a;")
            self.message.setText(str(exc))
            return
        self.reload()
        self.message.setStyleSheet("color: #135200;")
        self.message.setText(
            self.tr("已恢复 {0:%Y-%m-%d %H:%M} 的备份。恢复前的数据库另存为 {1}。").format(
                info.at, aside.name if aside else "-"
            )
        )
        self.restored.emit()
