"""``--screenshot DIR [--screen-size WxH]``: one PNG per main tab and per main dialog, as they open on a screen.

Each window is drawn at the size it would open on a ``W``×``H`` screen at the current scale factor
(``QT_SCALE_FACTOR``, e.g. 1.5 for 150 %): the logical area ``W/scale × H/scale`` less a task bar is set as
the screen (``fit.use_screen``) and the windows fit themselves to it with the same rule as on a real screen.
Without ``--screen-size`` the real (or offscreen) screen's available area is used.

The dialogs are a registry, :data:`DIALOGS`: a file name, and a function that builds the dialog for the main
window (logged in, attached); add one with :func:`register_dialog`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QApplication, QWidget

from huifang_desktop.ui.common import fit

if TYPE_CHECKING:
    from huifang_desktop.services.context import ServiceContext
    from huifang_desktop.ui.main_window import MainWindow

_SIZE = re.compile(r"^\s*(\d{3,5})\s*[xX×*]\s*(\d{3,5})\s*$")


def parse_screen_size(text: str) -> tuple[int, int]:
    """``1366x768`` → (1366, 768); a clear message for anything else."""
    match = _SIZE.match(text or "")
    if not match:
        raise ValueError(f"屏幕尺寸“{text}”无效：请写成 宽x高，例如 1366x768")
    width, height = int(match.group(1)), int(match.group(2))
    if not (640 <= width <= 10_000 and 480 <= height <= 10_000):
        raise ValueError(f"屏幕尺寸“{text}”无效：宽应在 640–10000、高应在 480–10000 像素之间")
    return width, height


def scale_factor() -> float:
    """The scale the program runs at: the primary screen's device pixel ratio (``QT_SCALE_FACTOR=1.5`` or the
    system's 150 %), else ``QT_SCALE_FACTOR``, else 1."""
    from PySide6.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen() if QGuiApplication.instance() is not None else None
    if screen is not None and screen.devicePixelRatio() > 0:
        return float(screen.devicePixelRatio())
    try:
        value = float(os.environ.get("QT_SCALE_FACTOR") or 1)
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


@dataclass(frozen=True, slots=True)
class DialogShot:
    name: str  # the PNG's name without the number and extension, e.g. "settings"
    title: str  # what it shows (for the README and messages)
    build: Callable[[MainWindow], QWidget | None]  # None: nothing to show on this office


DIALOGS: list[DialogShot] = []


def register_dialog(
    name: str, title: str
) -> Callable[[Callable[[MainWindow], QWidget | None]], Callable[[MainWindow], QWidget | None]]:
    """Decorator: add a dialog to the screenshots (in order of registration)."""

    def add(build: Callable[[MainWindow], QWidget | None]) -> Callable[[MainWindow], QWidget | None]:
        DIALOGS.append(DialogShot(name, title, build))
        return build

    return add


@register_dialog("settings", "设置")
def _settings(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.settings import SettingsDialog

    return SettingsDialog(window.ctx, window)


@register_dialog("customer", "客户档案")
def _customer(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.customers.dialog import CustomerDialog

    tab = window.show_tab("customers")
    customer_id = tab.model.customer_id(0) if tab.model.rowCount() else None
    return CustomerDialog(window.ctx, customer_id, window)


@register_dialog("complaint-intake", "新建投诉登记")
def _intake(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.complaints.intake import IntakeDialog

    return IntakeDialog(window.ctx, window)


@register_dialog("visit-record", "回访记录表")
def _visit_record(window: MainWindow) -> QWidget | None:
    from huifang_desktop.services import visits
    from huifang_desktop.ui.calendar.record_dialog import VisitRecordDialog

    today = window.ctx.today()
    plans = visits.list_plans(
        window.ctx,
        start=today - timedelta(days=60),
        end=today + timedelta(days=30),
        states={"待回访"},
        limit=1,
    )
    if not plans:
        return None
    return VisitRecordDialog(window.ctx, plans[0].id, parent=window)


@register_dialog("visit-report", "回访报告表")
def _visit_report(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.calendar.report_dialog import VisitReportDialog

    return VisitReportDialog(window.ctx, window)


@register_dialog("service-record", "新增服务记录")
def _service_record(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.ledgers.service_dialog import ServiceRecordDialog

    return ServiceRecordDialog(window.ctx, None, window)


@register_dialog("import-wizard", "导入向导")
def _import_wizard(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.importing.wizard import ImportWizard

    return ImportWizard(window.ctx, window, choose_file=lambda _parent: None)


@register_dialog("import-runs", "导入记录")
def _import_runs(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.importing.runs_dialog import ImportRunsDialog

    return ImportRunsDialog(window.ctx, window)


@register_dialog("backups", "备份与恢复")
def _backups(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.admin.backup_dialog import BackupDialog

    return BackupDialog(window.ctx, window.paths, window)


@register_dialog("login", "登录（示例办公室列出示例账户）")
def _login(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.login import LoginDialog

    return LoginDialog(window.ctx, parent=window)


def _as_administrator(window: MainWindow) -> ServiceContext:
    """The screens only an administrator sees in full, drawn as the example office's administrator."""
    from huifang_desktop.domain.roles import Permission, can
    from huifang_desktop.services import users

    admin = next((u for u in users.list_users(window.ctx) if can(u.role, Permission.MANAGE_USERS)), None)
    # as_user takes the full UserInfo (department_id for the visibility scope), not the list's UserRow
    return window.ctx.as_user(users.get_user(window.ctx, admin.id)) if admin is not None else window.ctx


@register_dialog("users", "用户与部门")
def _users(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.admin.users_dialog import UsersDialog

    return UsersDialog(_as_administrator(window), window)


@register_dialog("setup-guide", "初始设置向导")
def _setup_guide(window: MainWindow) -> QWidget:
    from huifang_desktop.ui.admin.setup_guide import SetupGuide

    return SetupGuide(_as_administrator(window), window)


def use_screen_size(size: tuple[int, int] | None) -> QRect | None:
    """Fit every window to a ``W``×``H`` screen at the current scale (None: to the real screen)."""
    area = fit.screen_area(size[0], size[1], scale_factor()) if size is not None else None
    fit.use_screen(area)
    return area


def _settle(app: QApplication, widget: QWidget) -> None:
    """Let the widget finish what it started (the 统计 tab's figures, the 台账 totals …), then paint."""
    from huifang_desktop.ui.common.worker import wait_for_threads

    for _ in range(5):
        app.processEvents()
    wait_for_threads(widget)
    for _ in range(5):
        app.processEvents()


def _save(widget: QWidget, target: Path) -> bool:
    if not widget.grab().save(str(target)):
        print(f"无法保存截图 {target}", file=sys.stderr)
        return False
    print(target)
    return True


def take_screenshots(
    app: QApplication, window: MainWindow, out_dir: Path, screen_size: tuple[int, int] | None = None
) -> int:
    """Save the main tabs (``01-customers.png`` …) and the dialogs (``07-settings.png`` …) into ``out_dir``;
    returns the exit code."""
    out_dir.mkdir(parents=True, exist_ok=True)
    use_screen_size(screen_size)
    try:
        area = fit.available_area(window)
        window.showNormal()
        if fit.maximize_on_small_screen(window, QSize(1280, 800)):
            window.resize(fit.maximized_size(area))  # as maximized there (offscreen has no window manager)
        slugs = window.tab_slugs()
        for index, slug in enumerate(slugs):
            window.tabs.setCurrentIndex(index)
            _settle(app, window)
            if not _save(window, out_dir / f"{index + 1:02d}-{slug}.png"):
                return 1
        for number, shot in enumerate(DIALOGS, start=len(slugs) + 1):  # fixed names, whatever is skipped
            dialog = shot.build(window)
            if dialog is None:
                print(f"跳过 {shot.title}：示例办公室里没有可显示的内容", file=sys.stderr)
                continue
            try:
                dialog.show()
                _settle(app, dialog)
                if not _save(dialog, out_dir / f"{number:02d}-{shot.name}.png"):
                    return 1
            finally:
                _close(dialog)
        window.close()
        return 0
    finally:
        fit.use_screen(None)


def _close(dialog: Any) -> None:
    from huifang_desktop.ui.common.worker import wait_for_threads

    dialog.hide()
    wait_for_threads(dialog)
    dialog.deleteLater()


__all__ = [
    "DIALOGS",
    "DialogShot",
    "parse_screen_size",
    "register_dialog",
    "scale_factor",
    "take_screenshots",
    "use_screen_size",
]
