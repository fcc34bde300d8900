"""Main window: tabs 客户档案, 回访日历, 投诉登记, 台账, 统计, 审阅; menu; status bar with user and database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget

from huifang_desktop import APP_TITLE, __version__
from huifang_desktop.config import AppPaths
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.ui.calendar.tab import CalendarTab
from huifang_desktop.ui.complaints.tab import ComplaintsTab
from huifang_desktop.ui.customers.tab import CustomersTab
from huifang_desktop.ui.ledgers import LedgersTab
from huifang_desktop.ui.review.tab import ReviewTab
from huifang_desktop.ui.stats import StatsTab

if TYPE_CHECKING:
    from huifang_desktop.ui.settings import SettingsDialog


class MainWindow(QMainWindow):
    def __init__(self, ctx: ServiceContext, paths: AppPaths, *, demo: bool = False) -> None:
        super().__init__()
        self.ctx = ctx
        self.paths = paths
        title = APP_TITLE + (self.tr("（示例办公室）") if demo else "")
        self.setWindowTitle(title)
        self.resize(1280, 800)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.customers_tab = CustomersTab(ctx)
        self.calendar_tab = CalendarTab(ctx)
        self.complaints_tab = ComplaintsTab(ctx)
        self.review_tab = ReviewTab(ctx)
        self.stats_tab = StatsTab(ctx)
        self.ledgers_tab = LedgersTab(ctx)
        self._tabs = [
            ("customers", self.tr("客户档案"), self.customers_tab),
            ("calendar", self.tr("回访日历"), self.calendar_tab),
            ("complaints", self.tr("投诉登记"), self.complaints_tab),
            ("ledgers", self.tr("台账"), self.ledgers_tab),
            ("stats", self.tr("统计"), self.stats_tab),
            ("review", self.tr("审阅"), self.review_tab),
        ]
        for _slug, label, widget in self._tabs:
            self.tabs.addTab(widget, label)
        self.setCentralWidget(self.tabs)
        self.settings_dialog: SettingsDialog | None = None
        self._build_menu()
        self._build_status()

    def tab_slugs(self) -> list[str]:
        return [slug for slug, _label, _w in self._tabs]

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("文件(&F)"))
        new_customer = QAction(self.tr("新建客户档案(&N)"), self)
        new_customer.setShortcut(QKeySequence.StandardKey.New)
        new_customer.triggered.connect(self._new_customer)
        file_menu.addAction(new_customer)
        from huifang_desktop.ui.importing.actions import add_import_action  # 导入 Excel… (Ctrl+I)

        add_import_action(self, file_menu)
        file_menu.addSeparator()
        quit_action = QAction(self.tr("退出(&Q)"), self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu(self.tr("视图(&V)"))
        for index, (_slug, label, _w) in enumerate(self._tabs):
            action = QAction(label, self)
            action.setShortcut(QKeySequence(f"Alt+{index + 1}"))
            action.triggered.connect(lambda _=False, i=index: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)

        tools_menu = self.menuBar().addMenu(self.tr("工具(&T)"))
        self.settings_action = QAction(self.tr("设置…"), self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self.open_settings)
        tools_menu.addAction(self.settings_action)
        self.backup_action = QAction(self.tr("备份与恢复…"), self)
        self.backup_action.triggered.connect(self.open_backups)
        tools_menu.addAction(self.backup_action)

        help_menu = self.menuBar().addMenu(self.tr("帮助(&H)"))
        about = QAction(self.tr("关于(&A)"), self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _build_status(self) -> None:
        user = self.ctx.user
        dep = f" · {user.department}" if user.department else ""
        self.user_label = QLabel(self.tr("当前用户：{0}（{1}{2}）").format(user.display_name, user.role.label, dep))
        url = self.ctx.engine.url
        where = url.database if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)
        self.db_label = QLabel(self.tr("数据库：{0}").format(where))
        self.statusBar().addWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.db_label)

    def _new_customer(self) -> None:
        if self.tabs.currentWidget() is self.complaints_tab:  # Ctrl+N on the 投诉登记 tab: 新建登记
            self.complaints_tab.new_complaint()
            return
        if self.tabs.currentWidget() is self.ledgers_tab and self.ledgers_tab.can_add():  # 新增服务记录
            self.ledgers_tab.new_record()
            return
        self.tabs.setCurrentWidget(self.customers_tab)
        self.customers_tab.new_customer()

    def open_settings(self) -> None:
        """设置: ``open()``ed (window-modal, never a blocking ``exec()``), kept as ``settings_dialog``."""
        from huifang_desktop.ui.settings import SettingsDialog

        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
        self.settings_dialog = SettingsDialog(self.ctx, self)
        self.settings_dialog.open()

    def open_backups(self) -> None:
        """备份与恢复 (administrator; others see it read-only). After a restore every screen reloads."""
        from huifang_desktop.ui.admin.backup_dialog import BackupDialog

        self.backup_dialog = BackupDialog(self.ctx, self.paths, self)
        self.backup_dialog.restored.connect(self.reload_all)
        self.backup_dialog.open()

    def reload_all(self) -> None:
        """The database was replaced (restore): every tab reads it again."""
        for _slug, _label, widget in self._tabs:
            refresh = (getattr(widget, "refresh", None) or getattr(widget, "reload", None)
                       or getattr(widget, "apply_filter", None))
            if callable(refresh):
                refresh()
        self.statusBar().showMessage(self.tr("数据库已从备份恢复，所有页面已重新载入。"), 30_000)

    def start_daily_backup(self) -> None:
        """One verified backup a day, in the background (at start, then checked every hour)."""
        from huifang_desktop.services import backups
        from huifang_desktop.ui.common.worker import start_worker

        if getattr(self, "_backup_thread", None) is not None and self._backup_thread.isRunning():
            return
        folder = backups.backup_folder(self.ctx, self.paths.backups)
        self._backup_thread = start_worker(self, lambda: backups.ensure_daily_backup(self.ctx, folder),
                                           self._backed_up, self._backup_failed)

    def _backed_up(self, info: object) -> None:
        if info is not None:  # quietly: the day's reminder stays in the status bar
            self.db_label.setToolTip(self.tr("最近一次自动备份：{0}").format(getattr(info, "path", "")))

    def _backup_failed(self, exc: Exception) -> None:
        self.statusBar().showMessage(self.tr("自动备份失败：{0}").format(exc), 120_000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802  (Qt's name)
        """Closing stops long work first: running exports/prints are cancelled, and the window waits for every
        background thread (planning, backup, totals) to end, so that nothing is cut off half-written."""
        from huifang_desktop.ui.common.progress import ProgressTask
        from huifang_desktop.ui.common.worker import wait_for_threads

        for task in self.findChildren(ProgressTask):
            task.cancel()
        self.statusBar().showMessage(self.tr("正在结束后台任务…"))
        if not wait_for_threads(self, 60_000):
            self.statusBar().showMessage(self.tr("后台任务仍在进行（例如生成回访计划或备份），请稍候再退出。"), 30_000)
            event.ignore()
            return
        super().closeEvent(event)

    def _about(self) -> None:
        QMessageBox.about(self, self.tr("关于"), self.tr("{0} {1}\n客户回访与投诉管理").format(APP_TITLE, __version__))

    def on_started(self) -> None:
        """Called once the window is shown: today's catch-up planning (in the background), then the reminder."""
        self.customers_tab.search.setFocus()
        from huifang_desktop.ui.common.worker import start_worker

        self.statusBar().showMessage(self.tr("正在生成今日回访计划…"))
        self._catch_up = start_worker(self, self._daily_work, self._caught_up, self._catch_up_failed)

    def _daily_work(self) -> object:
        """In the worker: the visits' daily catch-up, then overdue complaints escalate one level (audited)."""
        from huifang_desktop.services import complaints, visits

        result = visits.daily_catch_up(self.ctx)
        try:
            complaints.escalate_overdue(self.ctx)
        except Exception as exc:  # the visit planning is done; say so with the reminder instead
            self._escalation_error = self.tr("投诉逾期升级失败：{0}").format(exc)
        return result

    def _catch_up_failed(self, exc: Exception) -> None:
        self.statusBar().showMessage(self.tr("生成回访计划失败：{0}").format(exc), 60_000)

    def _caught_up(self, result: object) -> None:
        self.calendar_tab.refresh()
        self.start_daily_backup()
        if not hasattr(self, "_backup_timer"):
            from PySide6.QtCore import QTimer

            self._backup_timer = QTimer(self)
            self._backup_timer.setInterval(60 * 60 * 1000)
            self._backup_timer.timeout.connect(self.start_daily_backup)
            self._backup_timer.start()
        self.remind()

    def remind(self) -> None:
        self.complaints_tab.reload()  # escalation may have moved complaints
        text = "；".join(t for t in (self.calendar_tab.reminder_text(), self.complaints_tab.reminder_text(),
                                     self.review_tab.reminder_text(),
                                     getattr(self, "_escalation_error", "")) if t)
        self.statusBar().showMessage(text, 60_000)
        from PySide6.QtWidgets import QSystemTrayIcon

        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip(text)
            self.tray.show()
            self.tray.showMessage(self.windowTitle(), text)
