"""Start the GUI: QApplication, bundled CJK font, error hook, first-start admin, log-in, main window."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, Qt, QTranslator, Signal
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication

from huifang_desktop import APP_NAME, APP_TITLE

if TYPE_CHECKING:
    import argparse
    from types import TracebackType

    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext, UserInfo
    from huifang_desktop.ui.main_window import MainWindow  # imported at call time by run_gui

log = logging.getLogger("huifang.ui")


def register_fonts() -> str | None:
    """Register the bundled CJK font so Chinese shows on a PC without Chinese fonts."""
    from huifang_desktop.printing.fonts import font_path

    font_id = QFontDatabase.addApplicationFont(str(font_path()))
    if font_id < 0:
        log.warning("bundled font could not be loaded")
        return None
    families = QFontDatabase.applicationFontFamilies(font_id)
    return families[0] if families else None


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    assert isinstance(app, QApplication)
    QCoreApplication.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_TITLE)
    family = register_fonts()
    if family:
        font = QFont(family)
        font.setPointSize(10)
        app.setFont(font)
    _install_translator(app)
    from huifang_desktop.ui.common.resources import icon_path

    app.setWindowIcon(QIcon(str(icon_path())))
    return app


# Qt's own strings that qtbase_zh_CN.qm (Qt 6.11) does not translate: the widget-based file dialog's "&Look in:"
# and "Files of &type:" (the .qm still has the older "Look in:" / "Files of type:") and the file types of its
# list (QAbstractFileIconProvider, with a disambiguation the .qm lacks). Context → source → Chinese.
QT_SUPPLEMENT_ZH: dict[str, dict[str, str]] = {
    "QFileDialog": {
        "&Look in:": "查找范围(&L)：",
        "Files of &type:": "文件类型(&T)：",
        "Look in:": "查找范围：",
        "Files of type:": "文件类型：",
    },
    "QAbstractFileIconProvider": {
        "Folder": "文件夹",
        "File": "文件",
        "%1 File": "%1 文件",
        "Drive": "驱动器",
        "File Folder": "文件夹",
        "Alias": "替身",
        "Shortcut": "快捷方式",
        "Unknown": "未知",
    },
}


class QtSupplement(QTranslator):
    """Chinese for the few Qt strings Qt's own translation misses (:data:`QT_SUPPLEMENT_ZH`). Installed before
    qtbase's translator, so it is asked only when that one has no answer."""

    def __init__(self, table: dict[str, dict[str, str]], parent: QApplication | None = None) -> None:
        super().__init__(parent)
        self.table = table

    def isEmpty(self) -> bool:  # Qt asks before translating
        return False

    def translate(
        self,
        context: str,
        source: str,
        disambiguation: str | None = None,
        n: int = -1,
    ) -> str | None:
        """The Chinese text, or None (a null QString: Qt asks the next translator, finally the source text;
        an empty string would count as a translation)."""
        found = self.table.get(context)
        return found.get(source) if found else None


def _install_translator(app: QApplication) -> None:
    """Source strings are Simplified Chinese; other languages load a .qm from resources/translations.

    Qt's own strings (standard buttons such as Cancel, context menus, the file dialog) follow the program's
    language: Chinese unless a translation of ours exists for the system language — also when the system
    locale is C or English (LANG=C): then the default QLocale is set to Chinese too, so dates and the file
    dialog's columns read as Chinese, and the few strings qtbase_zh_CN lacks come from :class:`QtSupplement`.
    """
    from huifang_desktop.ui.common.resources import translations_dir

    name = QLocale.system().name()
    ours = QTranslator(app)
    if not name.startswith("zh") and ours.load(f"huifang_{name}", str(translations_dir())):
        app.installTranslator(ours)
        qt_language = name
    else:
        qt_language = "zh_CN"
    if qt_language == "zh_CN":
        if not name.startswith("zh"):
            QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
        app.installTranslator(QtSupplement(QT_SUPPLEMENT_ZH, app))
    qt = QTranslator(app)
    if qt.load(f"qtbase_{qt_language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
    else:
        log.warning(
            "Qt translation qtbase_%s not found in %s",
            qt_language,
            QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath),
        )


def install_excepthook(log_file: Path) -> None:
    """Uncaught exceptions: write the log file and show an error dialog instead of vanishing."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("uncaught exception:\n%s", text)
        app = QApplication.instance()
        if app is None or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            sys.__excepthook__(exc_type, exc, tb)
            return
        from PySide6.QtWidgets import QMessageBox

        from huifang_desktop.storage.db import DatabaseError

        if isinstance(exc, DatabaseError):  # locked, disk full, read-only …: say what to do, no crash box
            QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, str(exc)).exec()
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            APP_TITLE,
            QCoreApplication.translate(
                "app", "程序出现意外错误，已记录到日志文件：\n{0}\n\n已保存的数据不受影响。"
            ).format(log_file),
        )
        box.setDetailedText(text)
        box.exec()

    sys.excepthook = hook


def show_startup_error(message: str) -> None:
    """The program cannot start (data folder not writable, database locked, damaged or from a newer
    version): one clear window with what to do, instead of a half-working main window."""
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return  # tests and unattended runs read the console message
    from PySide6.QtWidgets import QMessageBox

    app = QApplication.instance() or make_app()
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        APP_TITLE,
        QCoreApplication.translate("app", "回访管理无法启动：\n\n{0}").format(message),
    )
    box.exec()
    del app


class _StartupProgress(QObject):
    """Carries what the start is doing from the worker thread to the window (queued to the GUI thread)."""

    text = Signal(str)


_progress: _StartupProgress | None = None


def report_startup(text: str) -> None:
    """Show ``text`` in the window while it waits for the database (e.g. 正在生成示例办公室：客户 1200/2000…);
    callable from any thread, a no-op when no window is starting."""
    progress = _progress
    if progress is not None:
        progress.text.emit(text)


def _shell_shown(app: QApplication, window: object) -> None:
    """Called once the main window's frame is on screen (before the database is open). The start-up
    benchmark (``bench/gui_probe.py``) replaces it to time that moment."""


class _Startup:
    """The start in two steps, so that the window appears at once instead of after the data layer loads:

    1. On the GUI thread, with PySide6 only: the main window's frame is built and shown.
    2. In a worker thread: ``open_data()`` imports the data layer, opens (backs up, migrates) the database
       and prepares the example office when asked; the first tab's module is imported there too.
       Meanwhile the window answers (moves, resizes, menus, 退出).
    3. Back on the GUI thread: log-in (or the first administrator), ``window.attach``, the first tab.

    A failure in step 2 (database locked, damaged, from a newer version …) or 3 ends the event loop;
    ``run_gui`` raises it again so that ``app.main`` reports it exactly as before the window existed (and an
    unattended run — smoke test, screenshots — ends with an error instead of waiting for ever)."""

    def __init__(
        self,
        app: QApplication,
        window: MainWindow,
        args: argparse.Namespace,
        open_data: Callable[[], ServiceContext],
    ) -> None:
        self.app, self.window, self.args, self.open_data = app, window, args, open_data
        self.unattended = bool(args.smoke_test or args.screenshot)
        self.error: BaseException | None = None
        self.first_start = False  # the first administrator was created: the setup guide follows the log-in

    def start(self) -> None:
        from huifang_desktop.ui.common.worker import start_worker

        start_worker(self.window, self._load, self._loaded, self._failed)

    def _load(self) -> tuple[ServiceContext, UserInfo | None] | Exception:
        """In the worker. A failure is returned, not raised: the worker would log it with its traceback
        before the log file is set up (on the console), where the start reports one clear line."""
        try:
            ctx = self.open_data()
            from importlib import import_module

            for module in ("huifang_desktop.ui.customers.tab", "huifang_desktop.ui.login"):
                import_module(module)  # the first tab's and the log-in's code, loaded off the GUI thread
            user: UserInfo | None = None
            # Without a password only an example office opens (as its supervisor, or --user), audited;
            # anywhere else these starts are refused (see users.demo_login).
            if self.unattended or (self.args.demo and self.args.user is None):
                user = _unattended_user(ctx, self.args)
        except Exception as exc:  # noqa: BLE001  (reported by run_gui, see _failed)
            return exc
        return ctx, user

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        self.window.hide()
        self.app.exit(1)

    def _loaded(self, loaded: tuple[ServiceContext, UserInfo | None] | Exception) -> None:
        if isinstance(loaded, Exception):
            self._failed(loaded)
            return
        try:
            self._go_on(*loaded)
        except Exception as exc:  # noqa: BLE001  (a locked database at log-in, a tab that cannot load …)
            self._failed(exc)

    def _go_on(self, ctx: ServiceContext, user: UserInfo | None) -> None:
        if self.window.closing or not self.window.isVisible():  # closed while the database was opening
            self.app.exit(0)
            return
        from huifang_desktop.services import printing

        printing.use_forms_dir(self.window.paths.forms_override)  # an office's own form templates, if any
        if user is None:
            user = self._log_in(ctx)
            if user is None:
                self.window.close()
                self.app.exit(0)
                return
        from huifang_desktop.services.backups import note_instance

        note_instance(
            ctx, program="窗口", username=getattr(user, "username", None)
        )  # named when a restore elsewhere is refused
        self.window.attach(ctx.as_user(user))
        if self.args.smoke_test:
            self.app.exit(_smoke_test(self.app, self.window, ctx))
        elif self.args.screenshot:
            self.app.exit(
                _screenshots(
                    self.app, self.window, self.args.screenshot, getattr(self.args, "screen_size", None)
                )
            )
        else:
            self.window.on_started()
            if self.first_start:
                self.window.open_setup_guide()

    def _log_in(self, ctx: ServiceContext) -> UserInfo | None:
        from huifang_desktop.services import users
        from huifang_desktop.ui.login import ChangePasswordDialog, FirstAdminDialog, LoginDialog

        self.window.statusBar().showMessage(QCoreApplication.translate("app", "数据库已打开，请登录。"))
        if not users.has_users(ctx):
            first = FirstAdminDialog(ctx, self.window)
            if first.exec() != FirstAdminDialog.DialogCode.Accepted:
                return None
            self.first_start = True
        login = LoginDialog(ctx, username=self.args.user or "", parent=self.window)
        if login.exec() != LoginDialog.DialogCode.Accepted:
            return None
        user = login.user
        if user is not None and users.must_change_password(ctx, user.id):  # after a reset: own password first
            change = ChangePasswordDialog(ctx.as_user(user), forced=True, parent=self.window)
            if change.exec() != ChangePasswordDialog.DialogCode.Accepted:
                return None
        return user


def run_gui(paths: AppPaths, args: argparse.Namespace, open_data: Callable[[], ServiceContext]) -> int:
    """The window first, then the data (see ``_Startup``); returns the exit code."""
    if args.smoke_test:  # never on screen, whatever the environment says (it opens without a log-in)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_app()
    install_excepthook(paths.log_file)
    from huifang_desktop.ui.main_window import MainWindow

    window = MainWindow(None, paths, demo=bool(args.demo))
    window.show_fitted()
    app.processEvents()
    _shell_shown(app, window)
    global _progress
    _progress = _StartupProgress()  # after the frame is shown: Qt's enums are built on first use (17 ms)
    _progress.text.connect(window.show_waiting, Qt.ConnectionType.QueuedConnection)
    startup = _Startup(app, window, args, open_data)
    startup.start()
    window.install_shortcuts()
    quit_on_close = app.quitOnLastWindowClosed()
    if startup.unattended:  # the checks close the window and end the loop with their exit code themselves
        app.setQuitOnLastWindowClosed(False)
    try:
        code = app.exec()
    finally:
        app.setQuitOnLastWindowClosed(quit_on_close)
        _progress = None
        _dispose(window)
        startup.window = startup.app = None  # type: ignore[assignment]  # no cycle left (window → thread → job → startup → window)
    if startup.error is not None:
        raise startup.error
    return code


def _dispose(window: MainWindow) -> None:
    """After the event loop: wait for the window's worker threads, then delete it here, on the GUI thread
    (left to Python's garbage collector it could be freed on some later worker thread, and crash)."""
    from PySide6.QtCore import QEvent

    from huifang_desktop.ui.common.worker import wait_for_threads

    wait_for_threads(window)  # the window (owner of the worker threads) must outlive them
    window.hide()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _unattended_user(ctx: ServiceContext, args: argparse.Namespace) -> UserInfo:
    """The user of a start without the log-in dialog (``--demo``, ``--screenshot``, ``--user``): on an
    example office only (``users.demo_login`` refuses any other database, and audits the log-in). The
    smoke test of any other database (a fresh installation, an office) runs as the system: it is always
    offscreen and prints only its verdict, so nothing of the office is shown to anybody."""
    from huifang_desktop.services import users
    from huifang_desktop.services.context import SYSTEM_USER

    if args.smoke_test and not args.user and not users.is_demo_office(ctx):
        return SYSTEM_USER  # a check that shows nothing (always offscreen): nobody logs in
    return users.demo_login(ctx, args.user)


def _smoke_test(app: QApplication, window: MainWindow, ctx: ServiceContext) -> int:
    from sqlalchemy import text

    window.show_fitted()
    app.processEvents()
    for slug in window.tab_slugs():  # every tab is built on first use: the smoke test builds them all
        window.show_tab(slug)
        app.processEvents()
    window.show_tab(window.tab_slugs()[0])
    from huifang_desktop.ui.common.worker import wait_for_threads

    wait_for_threads(window)  # what the tabs started (the 台账 tab's 合计, the 统计 tab's figures)
    with ctx.engine.connect() as conn:
        if ctx.engine.dialect.name == "sqlite":
            result = conn.execute(text("PRAGMA integrity_check")).scalar()
            if result != "ok":
                print(f"数据库完整性检查失败：{result}", file=sys.stderr)
                return 1
        conn.execute(text("SELECT count(*) FROM customer")).scalar()
    error = _smoke_test_print(window.paths.data_dir / "tmp")
    window.close()
    if error is not None:
        print(error, file=sys.stderr)
        return 1
    print("smoke test ok")
    return 0


def _smoke_test_print(folder: Path) -> str | None:
    """Print a blank 回访记录表 to a PDF in ``folder`` and check the bundled CJK font is embedded in it.

    Returns an error message, or None when the PDF is fine (the file is then removed). No pypdf: a frozen
    build does not ship it, so the check reads the bytes (reportlab keeps font objects uncompressed).
    """
    import re
    from datetime import datetime

    from huifang_desktop.printing.fonts import FONT_NAME, font_path
    from huifang_desktop.printing.render import render_form
    from huifang_desktop.printing.templates import load_template

    out = folder / "smoke-test-visit_record.pdf"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        render_form(load_template("visit_record"), None, out, printed_at=datetime.now())
        data = out.read_bytes()
    except Exception as exc:  # any failure here means printing is broken in this build
        log.exception("smoke test: printing a blank form failed")
        return f"无法打印空白回访记录表（字体文件 {font_path()}）：{type(exc).__name__}: {exc}"
    subset_name = re.compile(rb"/FontName /[A-Z]{6}\+" + re.escape(FONT_NAME.encode("ascii")))
    if b"/FontFile2" not in data or subset_name.search(data) is None:
        return f"空白回访记录表 PDF 没有嵌入打印字体 {FONT_NAME}（{font_path()}）：{out}"
    error = _smoke_test_preview(data)
    if error is not None:
        return f"{error}：{out}"
    out.unlink()
    return None


def _smoke_test_preview(data: bytes) -> str | None:
    """Render page 1 of the PDF through QtPdf as the print preview does; an error message if that fails or
    the page comes out blank (QtPdf missing from the build, or unable to read our PDFs)."""
    from PySide6.QtCore import QObject, QSize
    from PySide6.QtGui import QColor

    from huifang_desktop.ui.common.print_preview import PdfError, load_pdf, render_page

    owner = QObject()
    try:
        image = render_page(load_pdf(data, owner), 0, QSize(298, 421))  # A4 at 36 dpi
    except PdfError as exc:
        return f"打印预览无法读取空白回访记录表（{exc}）"
    dark = sum(
        QColor(image.pixel(x, y)).lightness() < 128
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )
    if dark < 100:
        return f"打印预览显示的空白回访记录表是空白页（{dark} 个深色点）"
    return None


def _screenshots(app: QApplication, window: MainWindow, out_dir: Path, screen_size: str | None) -> int:
    from huifang_desktop.ui.screenshots import parse_screen_size, take_screenshots

    return take_screenshots(app, window, out_dir, parse_screen_size(screen_size) if screen_size else None)
