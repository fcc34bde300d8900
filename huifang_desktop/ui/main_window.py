"""Main window: tabs 客户档案, 回访日历, 投诉登记, 台账, 统计, 审阅; menu; status bar with user and database.

The window is built in two steps so that it shows at once (see ``ui/application.py``): the frame — title,
tab bar, menus, status bar — needs neither the database nor the data layer, and appears while the database
opens in the background; ``attach(ctx)`` then gives it the logged-in user's services. Each tab's page is
built the first time it is shown (or asked for: ``window.calendar_tab``), so the start builds only 客户档案.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QSize, QThread, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from huifang_desktop import APP_TITLE, __version__
from huifang_desktop.config import AppPaths
from huifang_desktop.ui.common.fit import fit_to_screen, maximize_on_small_screen

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from huifang_desktop.services.context import ServiceContext
    from huifang_desktop.ui.calendar.tab import CalendarTab
    from huifang_desktop.ui.complaints.tab import ComplaintsTab
    from huifang_desktop.ui.customers.tab import CustomersTab
    from huifang_desktop.ui.ledgers import LedgersTab
    from huifang_desktop.ui.review.tab import ReviewTab
    from huifang_desktop.ui.settings import SettingsDialog
    from huifang_desktop.ui.stats import StatsTab

# slug, module, class: the tab pages in their order (labels in MainWindow._labels, for tr())
PAGES = (
    ("customers", "huifang_desktop.ui.customers.tab", "CustomersTab"),
    ("calendar", "huifang_desktop.ui.calendar.tab", "CalendarTab"),
    ("complaints", "huifang_desktop.ui.complaints.tab", "ComplaintsTab"),
    ("ledgers", "huifang_desktop.ui.ledgers", "LedgersTab"),
    ("stats", "huifang_desktop.ui.stats", "StatsTab"),
    ("review", "huifang_desktop.ui.review.tab", "ReviewTab"),
)


PREFERRED_SIZE = QSize(1280, 800)  # on screens wider than fit.MAXIMIZE_UP_TO, where it fits


TABS_WITH_CTRL_I = frozenset({"complaints"})  # the tab's 查办 list (ui/complaints/tab.py)


def _key_sequence(keys: str) -> QKeySequence:
    return QKeySequence(QKeySequence.StandardKey.New) if keys == "New" else QKeySequence(keys)


class TabPage(QWidget):
    """One tab's page: empty (with a line saying the data is being opened) until ``content(ctx)`` builds
    the tab itself, once, from its module and class. (No callback to the window is kept: a reference cycle
    through Qt objects could be collected by Python on a worker thread, and a widget freed there crashes.)"""

    def __init__(self, slug: str, module: str, cls: str, waiting: str) -> None:
        super().__init__()
        self.slug = slug
        self._module, self._cls = module, cls
        self._content: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        # The waiting line, centred by stretches: the frame is shown before anything touches the ``Qt``
        # namespace, whose ~100 enums PySide6 builds on first use (17 ms, a tenth of the whole start).
        self._waiting = QWidget()
        row = QHBoxLayout()
        row.addStretch()
        label = QLabel(waiting)
        label.setStyleSheet("color: #888;")
        self.waiting_label = label
        row.addWidget(label)
        row.addStretch()
        column = QVBoxLayout(self._waiting)
        column.addStretch()
        column.addLayout(row)
        column.addStretch()
        self._layout.addWidget(self._waiting)

    @property
    def built(self) -> QWidget | None:
        return self._content

    def content(self, ctx: ServiceContext) -> QWidget:
        if self._content is None:
            content: QWidget = getattr(import_module(self._module), self._cls)(ctx)
            self._waiting.hide()
            self._layout.addWidget(content)
            self._content = content
            if self.isVisible():  # now, as a tab page is shown: a layout would show it only later
                content.show()
        return self._content


class MainWindow(QMainWindow):
    import_action: QAction  # 导入 Excel…, set by ui.importing.actions.add_import_action (the 文件 menu)
    import_runs_action: QAction  # 导入记录…, the same
    _backup_thread: QThread | None = None  # the daily backup while it runs

    def __init__(self, ctx: ServiceContext | None, paths: AppPaths, *, demo: bool = False) -> None:
        """The frame; with ``ctx`` (tests, the smoke test) it is attached at once."""
        super().__init__()
        self.ctx: ServiceContext = None  # type: ignore[assignment]  # set by attach()
        self.paths = paths
        title = APP_TITLE + (self.tr("（示例办公室）") if demo else "")
        self.setWindowTitle(title)
        fit_to_screen(self, PREFERRED_SIZE)  # inside the screen's free area (show_fitted maximizes)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        labels = {
            "customers": self.tr("客户档案"),
            "calendar": self.tr("回访日历"),
            "complaints": self.tr("投诉登记"),
            "ledgers": self.tr("台账"),
            "stats": self.tr("统计"),
            "review": self.tr("审阅"),
        }
        waiting = self.tr("正在打开数据库…")
        self._pages: dict[str, TabPage] = {}
        self._tabs: list[tuple[str, str, TabPage]] = []
        for slug, module, cls in PAGES:
            page = TabPage(slug, module, cls, waiting)
            self._pages[slug] = page
            self._tabs.append((slug, labels[slug], page))
            self.tabs.addTab(page, labels[slug])
        self.tabs.currentChanged.connect(self._show_page)
        self.setCentralWidget(self.tabs)
        self.settings_dialog: SettingsDialog | None = None
        self.empty_form_preview: Any = None  # 文件 → 打印空白表单's preview
        self.closing = False
        self._data_actions: list[QAction] = []  # need the database: enabled by attach()
        self._build_menu()
        self.user_label = QLabel()
        self.db_label = QLabel()
        self.statusBar().addWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.db_label)
        self.statusBar().showMessage(waiting)
        if ctx is not None:
            self.attach(ctx)

    def show_fitted(self) -> None:
        """Show the window inside the screen's available area: maximized on a screen up to 1440 wide (a
        1366×768 PC, 1920×1080 at 150 %), else at its preferred size, centred."""
        if maximize_on_small_screen(self, PREFERRED_SIZE):
            self.showMaximized()
        else:
            self.show()

    def show_waiting(self, text: str) -> None:
        """What the start is doing while the database opens (the example office being made …): on the empty
        pages and in the status bar."""
        for page in self._pages.values():
            page.waiting_label.setText(text)
        self.statusBar().showMessage(text)

    # --- pages -----------------------------------------------------------------------------------------

    def attach(self, ctx: ServiceContext) -> None:
        """The database is open and the user logged in: enable the menus, fill the status bar, build the
        current tab's page."""
        from huifang_desktop.domain.roles import Permission, can

        self.ctx = ctx
        if not self._shortcuts_installed:
            self.install_shortcuts()
        for action in self._data_actions:
            action.setEnabled(True)
        self.audit_action.setVisible(can(ctx.user.role, Permission.VIEW_AUDIT))
        from huifang_desktop.ui.admin.users_dialog import may_open_users_dialog

        self.users_action.setVisible(may_open_users_dialog(ctx.user.role))
        self.guide_action.setVisible(can(ctx.user.role, Permission.MANAGE_USERS))
        may_import = can(ctx.user.role, Permission.EDIT_CUSTOMERS)
        for action in (self.import_action, self.import_runs_action, self.scan_action):
            action.setVisible(may_import)
            action.setEnabled(may_import)
        user = ctx.user
        dep = f" · {user.department}" if user.department else ""
        self.user_label.setText(
            self.tr("当前用户：{0}（{1}{2}）").format(user.display_name, user.role.label, dep)
        )
        url = ctx.engine.url
        where = (
            url.database if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)
        )
        self.db_label.setText(self.tr("数据库：{0}").format(where))
        self.statusBar().clearMessage()
        self._show_page(self.tabs.currentIndex())

    def _show_page(self, index: int) -> None:
        page = self.tabs.widget(index)
        self._lend_keys(page.slug if isinstance(page, TabPage) else "")
        if self.ctx is not None and isinstance(page, TabPage):
            page.content(self.ctx)

    def _lend_keys(self, slug: str) -> None:
        """A tab's own key wins over a window action's while the tab shows: Ctrl+I is 导入 Excel…, but 查办 in
        the 投诉登记 tab (Qt fires neither of two shortcuts on one key)."""
        action: QAction | None = getattr(self, "import_action", None)
        if action is None or not self._shortcuts_installed:
            return
        keys = QKeySequence() if slug in TABS_WITH_CTRL_I else _key_sequence("Ctrl+I")
        if action.shortcut() != keys:
            action.setShortcut(keys)

    def page(self, slug: str) -> Any:
        """The tab's widget, built now if it was not yet (the window must be attached)."""
        if self.ctx is None:
            raise RuntimeError("the main window has no database yet")
        return self._pages[slug].content(self.ctx)

    def built_tabs(self, slugs: Iterable[str] | None = None) -> list[QWidget]:
        """The tabs already built (all, or those of ``slugs``): what a change elsewhere must refresh."""
        wanted = set(slugs) if slugs is not None else set(self._pages)
        return [w for slug, page in self._pages.items() if slug in wanted and (w := page.built) is not None]

    def refresh_tabs(self, slugs: Iterable[str] | None = None) -> None:
        """Built tabs read the database again; the others will when they are first shown."""
        for widget in self.built_tabs(slugs):
            refresh = (
                getattr(widget, "refresh", None)
                or getattr(widget, "reload", None)
                or getattr(widget, "apply_filter", None)
            )
            if callable(refresh):
                refresh()

    @property
    def customers_tab(self) -> CustomersTab:
        return cast("CustomersTab", self.page("customers"))

    @property
    def calendar_tab(self) -> CalendarTab:
        return cast("CalendarTab", self.page("calendar"))

    @property
    def complaints_tab(self) -> ComplaintsTab:
        return cast("ComplaintsTab", self.page("complaints"))

    @property
    def ledgers_tab(self) -> LedgersTab:
        return cast("LedgersTab", self.page("ledgers"))

    @property
    def stats_tab(self) -> StatsTab:
        return cast("StatsTab", self.page("stats"))

    @property
    def review_tab(self) -> ReviewTab:
        return cast("ReviewTab", self.page("review"))

    def show_tab(self, slug: str) -> Any:
        """Make the tab current (building it if needed) and return its widget."""
        self.tabs.setCurrentWidget(self._pages[slug])
        return self.page(slug)

    def current_slug(self) -> str:
        page = self.tabs.currentWidget()
        return page.slug if isinstance(page, TabPage) else ""

    def tab_slugs(self) -> list[str]:
        return [slug for slug, _label, _w in self._tabs]

    def _data_action(self, text: str, slot: Callable[[], object], shortcut: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            self.defer_shortcut(action, shortcut)
        action.triggered.connect(slot)
        action.setEnabled(False)
        self._data_actions.append(action)
        return action

    def defer_shortcut(self, action: QAction, keys: str) -> None:
        """Give ``action`` its shortcut in ``install_shortcuts``, just after the frame is first shown: the
        first ``setShortcut`` makes PySide6 build the ``Qt`` namespace's ~100 enums (17 ms, a tenth of the
        start). ``keys``: portable text such as "Ctrl+Q", or "New" for the platform's standard key."""
        if self._shortcuts_installed:
            action.setShortcut(_key_sequence(keys))
        else:
            self._pending_shortcuts.append((action, keys))

    def install_shortcuts(self) -> None:
        self._shortcuts_installed = True
        for action, keys in self._pending_shortcuts:
            action.setShortcut(_key_sequence(keys))
        self._pending_shortcuts.clear()
        self._lend_keys(self.current_slug())

    def _build_menu(self) -> None:
        self._pending_shortcuts: list[tuple[QAction, str]] = []
        self._shortcuts_installed = False
        file_menu = self.menuBar().addMenu(self.tr("文件(&F)"))
        file_menu.addAction(self._data_action(self.tr("新建客户档案(&N)"), self._new_customer, "New"))
        from huifang_desktop.ui.importing.actions import add_import_action  # 导入 Excel… (Ctrl+I)

        add_import_action(self, file_menu)
        self.empty_forms_menu = file_menu.addMenu(self.tr("打印空白表单"))
        self.empty_forms_menu.setStatusTip(self.tr("手写用的空白表单：现场回访、来访投诉，编号留空手填"))
        self.empty_form_actions: dict[str, QAction] = {}
        for kind, label in (
            ("record", self.tr("回访记录表…")),
            ("complaint", self.tr("投诉处理表…")),
            ("inquiry", self.tr("投诉查办单…")),
        ):
            action = self._data_action(label, functools.partial(self.print_empty_form, kind))
            self.empty_forms_menu.addAction(action)
            self.empty_form_actions[kind] = action
        file_menu.addSeparator()
        quit_action = QAction(self.tr("退出(&Q)"), self)
        self.defer_shortcut(quit_action, "Ctrl+Q")
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu(self.tr("视图(&V)"))
        for index, (_slug, label, _w) in enumerate(self._tabs):
            action = QAction(label, self)
            self.defer_shortcut(action, f"Alt+{index + 1}")
            action.triggered.connect(lambda _=False, i=index: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)

        tools_menu = self.menuBar().addMenu(self.tr("工具(&T)"))
        self.settings_action = self._data_action(self.tr("设置…"), self.open_settings, "Ctrl+,")
        tools_menu.addAction(self.settings_action)
        self.backup_action = self._data_action(self.tr("备份与恢复…"), self.open_backups)
        tools_menu.addAction(self.backup_action)
        self.audit_action = self._data_action(self.tr("操作日志…"), self.open_audit_log)
        self.audit_action.setStatusTip(self.tr("谁在何时改了什么：按用户、操作和日期查找，导出 Excel"))
        self.audit_action.setVisible(False)  # supervisors, managers and administrators (attach)
        tools_menu.addAction(self.audit_action)
        self.scan_action = self._data_action(self.tr("导入扫描件…"), self.open_scan_import)
        self.scan_action.setStatusTip(
            self.tr("已签字的表单扫描或拍照后导入：按二维码归档到回访记录，签字单记为已回收")
        )
        self.scan_action.setVisible(False)  # EDIT_CUSTOMERS (attach)
        tools_menu.addAction(self.scan_action)
        self.password_action = self._data_action(self.tr("修改密码…"), self.change_password)
        tools_menu.addAction(self.password_action)
        tools_menu.addSeparator()
        self.users_action = self._data_action(self.tr("用户与部门…"), self.open_users, "Ctrl+Shift+U")
        self.users_action.setStatusTip(
            self.tr("新增用户、修改角色和部门、停用、重置密码、解锁；部门及其负责主管")
        )
        self.users_action.setVisible(False)  # administrators; supervisors and managers read-only (attach)
        tools_menu.addAction(self.users_action)
        self.guide_action = self._data_action(self.tr("初始设置向导…"), self.open_setup_guide)
        self.guide_action.setStatusTip(
            self.tr("办公室名称、类型预设、部门、首批用户、列表值、节假日、导入现有台账")
        )
        self.guide_action.setVisible(False)  # administrators (attach)
        tools_menu.addAction(self.guide_action)

        help_menu = self.menuBar().addMenu(self.tr("帮助(&H)"))
        about = QAction(self.tr("关于(&A)"), self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _new_customer(self) -> None:
        if self.current_slug() == "complaints":  # Ctrl+N on the 投诉登记 tab: 新建登记
            self.complaints_tab.new_complaint()
            return
        if self.current_slug() == "ledgers" and self.ledgers_tab.can_add():  # 新增服务记录
            self.ledgers_tab.new_record()
            return
        self.show_tab("customers").new_customer()

    def print_empty_form(self, kind: str) -> None:
        """文件 → 打印空白表单: the print preview of an empty 回访记录表 (``record``), 投诉处理表
        (``complaint``) or 投诉查办单 (``inquiry``) to fill in by hand; kept as ``empty_form_preview``."""
        from huifang_desktop.domain.errors import ValidationError
        from huifang_desktop.services import printing as printing_service
        from huifang_desktop.services.errors import ServiceError
        from huifang_desktop.ui.common.feedback import show_error
        from huifang_desktop.ui.common.print_preview import preview_document

        try:
            doc = printing_service.empty_form_pdf(self.ctx, kind)
        except (ServiceError, ValidationError) as exc:
            show_error(self, exc, self.tr("打印空白表单"))
            return
        self.empty_form_preview = preview_document(self, self.ctx, doc)

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

    def change_password(self) -> None:
        """工具 → 修改密码…: everyone changes their own password (old, new, repeat)."""
        from huifang_desktop.ui.login import ChangePasswordDialog

        self.password_dialog = ChangePasswordDialog(self.ctx, parent=self)
        self.password_dialog.accepted.connect(
            lambda: self.statusBar().showMessage(self.tr("密码已修改。"), 10_000)
        )
        self.password_dialog.open()

    def open_scan_import(self) -> None:
        """工具 → 导入扫描件…: scanned signed forms filed to their visit records (scan-back)."""
        from huifang_desktop.ui.scans.dialog import ScanImportDialog

        self.scan_dialog = ScanImportDialog(self.ctx, self)
        self.scan_dialog.imported.connect(lambda _result: self.refresh_tabs())
        self.scan_dialog.open()

    def open_users(self) -> None:
        """工具 → 用户与部门… (Ctrl+Shift+U)."""
        from huifang_desktop.ui.admin.users_dialog import UsersDialog, may_open_users_dialog

        if not may_open_users_dialog(self.ctx.user.role):
            return
        self.users_dialog = UsersDialog(self.ctx, self)
        self.users_dialog.open()

    def open_setup_guide(self) -> None:
        """工具 → 初始设置向导… (also opened once after the first administrator is created). Its last page
        may ask for the import wizard, opened when the guide closes."""
        from huifang_desktop.ui.admin.setup_guide import SetupGuide

        self.setup_guide = SetupGuide(self.ctx, self)
        self.setup_guide.finished.connect(self._setup_guide_closed)
        self.setup_guide.open()

    def _setup_guide_closed(self, _result: int) -> None:
        guide = self.setup_guide
        self.refresh_tabs()
        import_action: QAction | None = getattr(self, "import_action", None)  # set by add_import_action
        if guide.open_import and import_action is not None and import_action.isVisible():
            import_action.trigger()

    def open_audit_log(self) -> None:
        """工具 → 操作日志…: the 审阅 tab's 操作日志 page."""
        self.show_tab("review").show_audit()

    def open_backups(self) -> None:
        """备份与恢复 (administrator; others see it read-only). After a restore every screen reloads."""
        from huifang_desktop.ui.admin.backup_dialog import BackupDialog

        self.backup_dialog = BackupDialog(self.ctx, self.paths, self)
        self.backup_dialog.restored.connect(self.reload_all)
        self.backup_dialog.open()

    def reload_all(self) -> None:
        """The database was replaced (restore): every tab reads it again."""
        self.refresh_tabs()
        self.statusBar().showMessage(self.tr("数据库已从备份恢复，所有页面已重新载入。"), 30_000)

    def start_daily_backup(self) -> None:
        """One verified backup a day, in the background (at start, then checked every hour)."""
        from huifang_desktop.services import backups
        from huifang_desktop.ui.common.worker import start_worker

        if self._backup_thread is not None and self._backup_thread.isRunning():
            return
        folder = backups.backup_folder(self.ctx, self.paths.backups)
        self._backup_thread = start_worker(
            self, lambda: backups.ensure_daily_backup(self.ctx, folder), self._backed_up, self._backup_failed
        )

    def _backed_up(self, info: object) -> None:
        if info is not None:  # quietly: the day's reminder stays in the status bar
            self.db_label.setToolTip(self.tr("最近一次自动备份：{0}").format(getattr(info, "path", "")))

    def _backup_failed(self, exc: Exception) -> None:
        self.statusBar().showMessage(self.tr("自动备份失败：{0}").format(exc), 120_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing stops long work first: running exports/prints are cancelled, and the window waits for every
        background thread (planning, backup, totals) to end, so that nothing is cut off half-written."""
        from huifang_desktop.ui.common.progress import ProgressTask
        from huifang_desktop.ui.common.worker import wait_for_threads

        self.closing = True  # what finishes meanwhile (the database opening at start) must not go on
        for task in self.findChildren(ProgressTask):
            task.cancel()
        self.statusBar().showMessage(self.tr("正在结束后台任务…"))
        if not wait_for_threads(self, 60_000):
            self.statusBar().showMessage(
                self.tr("后台任务仍在进行（例如生成回访计划或备份），请稍候再退出。"), 30_000
            )
            self.closing = False
            event.ignore()
            return
        super().closeEvent(event)

    def _about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.about(
            self, self.tr("关于"), self.tr("{0} {1}\n客户回访与投诉管理").format(APP_TITLE, __version__)
        )

    def on_started(self) -> None:
        """Called once the window is attached: today's catch-up planning (in the background), then the reminder."""
        if self.current_slug() == "customers":
            self.customers_tab.search.setFocus()
        from huifang_desktop.ui.common.worker import start_worker

        self.statusBar().showMessage(self.tr("正在生成今日回访计划…"))
        self._catch_up = start_worker(self, self._daily_work, self._caught_up, self._catch_up_failed)

    def _daily_work(self) -> object:
        """In the worker: the visits' daily catch-up, then overdue complaints escalate one level (audited),
        then the reminder's counts."""
        from huifang_desktop.services import complaints, visits
        from huifang_desktop.ui import reminders

        visits.daily_catch_up(self.ctx)
        try:
            complaints.escalate_overdue(self.ctx)
        except Exception as exc:  # noqa: BLE001  (the visit planning is done; say so with the reminder instead)
            self._escalation_error = self.tr("投诉逾期升级失败：{0}").format(exc)
        return reminders.collect(self.ctx)

    def _catch_up_failed(self, exc: Exception) -> None:
        self.statusBar().showMessage(self.tr("生成回访计划失败：{0}").format(exc), 60_000)

    def _caught_up(self, reminder: object) -> None:
        self.refresh_tabs(("calendar", "complaints"))  # new plans; escalation may have moved complaints
        self.start_daily_backup()
        if not hasattr(self, "_backup_timer"):
            from PySide6.QtCore import QTimer

            self._backup_timer = QTimer(self)
            self._backup_timer.setInterval(60 * 60 * 1000)
            self._backup_timer.timeout.connect(self.start_daily_backup)
            self._backup_timer.start()
        self.remind(reminder)

    def show_chain_break(self, text: str) -> None:
        """A break found by the tamper check stays in the status bar, in red, until the program is closed."""
        from PySide6.QtWidgets import QLabel

        label = getattr(self, "chain_alert", None)
        if not text:
            if label is not None:
                label.hide()
            return
        if label is None:
            label = self.chain_alert = QLabel()
            label.setObjectName("chainAlert")
            label.setStyleSheet("color: #d9363e; font-weight: bold;")
            label.setWordWrap(False)
            self.statusBar().addPermanentWidget(label)
        label.setText(text)
        label.setToolTip(text)
        label.show()

    def remind(self, reminder: object | None = None) -> None:
        """The reminder in the status bar and the tray (counted now when not given)."""
        from huifang_desktop.ui import reminders

        if not isinstance(reminder, reminders.Reminder):
            reminder = reminders.collect(self.ctx)
        extra = getattr(self, "_escalation_error", "")
        text = reminders.reminder_text(reminder, extra)
        self.show_chain_break(reminders.chain_text(reminder.chain))
        reminders.show_unregistered(self, self.ctx, reminder.unregistered)
        # the message after the bar's new layout has shown its widgets (a widget added to the bar re-shows the
        # user's name, hidden by a message, from the event loop: it was drawn over the reminder)
        short = reminders.status_text(reminder, extra)
        QTimer.singleShot(0, self, lambda: self.statusBar().showMessage(short, 60_000))
        self.statusBar().setToolTip("\n".join(reminders.reminder_parts(reminder, extra)))
        from PySide6.QtWidgets import QSystemTrayIcon

        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip(text)
            self.tray.show()
            self.tray.showMessage(self.windowTitle(), text)
