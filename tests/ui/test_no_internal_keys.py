"""No internal keys on screen (issue 18 item 7b): every tab and the main dialogs of a sample office, built
offscreen, show no text that looks like a program key (``delivery_arrival``, role keys such as ``clerk``,
``owner``/``visitor``, ``True``/``False``/``None``) in a visible label, button, tab, list or table cell. The walk
is cheap: each view's first rows only."""

from __future__ import annotations

import re

from PySide6.QtCore import QAbstractItemModel, QAbstractListModel, QModelIndex, Qt, QThread
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QLabel,
    QTabBar,
    QTextEdit,
    QTreeView,
    QWidget,
)

from huifang_desktop.app import main, open_context
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import users as user_service

KEY = re.compile(r"^[a-z]+(?:_[a-z]+)+$")  # snake_case: a rule key, a field name, an enum value
WORDS = {r.value for r in Role} | {
    "owner",
    "visitor",
    "handler",
    "True",
    "False",
    "None",
    "null",
    "true",
    "false",
}
TOKEN = re.compile(r"[A-Za-z0-9_]+")
ROWS = 30


def _model_texts(
    model: QAbstractItemModel, tree: bool, parent: QModelIndex | None = None, depth: int = 0
) -> list[str]:
    parent = parent if parent is not None else QModelIndex()
    out = []
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(parent)
    for c in range(columns):
        out.append(str(model.headerData(c, Qt.Orientation.Horizontal) or ""))
    rows = model.rowCount() if not parent.isValid() else model.rowCount(parent)
    for r in range(min(ROWS, rows)):
        for c in range(columns):
            index = model.index(r, c, parent)
            out.append(str(index.data(Qt.ItemDataRole.DisplayRole) or ""))
            if tree and c == 0 and depth < 2 and model.rowCount(index):
                out += _model_texts(model, tree, index, depth + 1)
    return out


def visible_texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) of everything a person can read in ``root`` now."""
    found: list[tuple[str, str]] = []
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisible():
            continue
        where = f"{type(w).__name__}#{w.objectName()}"
        texts: list[str] = []
        if isinstance(w, QLabel | QAbstractButton):
            texts.append(w.text())
        elif isinstance(w, QGroupBox):
            texts.append(w.title())
        elif isinstance(w, QTabBar):
            texts += [w.tabText(i) for i in range(w.count())]
        elif isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(min(ROWS, w.count()))]
        elif isinstance(w, QTextEdit):
            texts.append(w.toPlainText()[:5000])
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            texts += _model_texts(w.model(), isinstance(w, QTreeView))
        found += [(where, t) for t in texts if t]
    return found


def internal_keys(root: QWidget, allowed: set[str]) -> list[tuple[str, str, str]]:
    bad = []
    for where, text in visible_texts(root):
        plain = re.sub(r"<[^>]+>", " ", text)  # rich text: the words, not the tags
        for token in TOKEN.findall(plain):
            if token in allowed:
                continue
            if KEY.match(token) or token in WORDS:
                bad.append((where, token, text[:120]))
    return bad


def _settled(qtbot, window: QWidget) -> None:
    qtbot.waitUntil(lambda: not [t for t in window.findChildren(QThread) if t.isRunning()], timeout=60_000)


def test_no_tab_or_main_dialog_of_a_sample_office_shows_an_internal_key(qtbot, tmp_path):
    from huifang_desktop.ui.admin.backup_dialog import BackupDialog
    from huifang_desktop.ui.customers.dialog import CustomerDialog
    from huifang_desktop.ui.main_window import MainWindow
    from huifang_desktop.ui.settings import SettingsDialog

    data = tmp_path / "office"
    assert main(["--data-dir", str(data), "demo", "--customers", "40", "--seed", "3"]) == 0
    paths = AppPaths(data)
    ctx = open_context(paths)
    try:
        people = user_service.list_users(ctx, include_inactive=True)
        usernames = {u.username for u in people}  # log-in names are data (the demo's are role-like)
        supervisor = user_service.get_user(ctx, next(u.id for u in people if u.role is Role.SUPERVISOR))
        admin = user_service.get_user(ctx, next(u.id for u in people if u.role is Role.ADMIN))
        sctx = ctx.as_user(supervisor)
        window = MainWindow(sctx, paths)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        bad = []
        for slug in window.tab_slugs():
            window.show_tab(slug)
            _settled(qtbot, window)
            bad += [(slug, *b) for b in internal_keys(window, usernames)]
        review = window.review_tab
        review.show_audit()
        _settled(qtbot, window)
        bad += [("操作日志", *b) for b in internal_keys(window, usernames)]

        settings = SettingsDialog(sctx, window)
        qtbot.addWidget(settings)
        settings.show()
        for i in range(settings.stack.count()):
            settings.page_list.setCurrentRow(i)
            bad += [
                (f"设置 {settings.page_list.item(i).text()}", *b) for b in internal_keys(settings, usernames)
            ]
        settings.close()

        first = window.customers_tab.model.index(0, 0)
        customer = CustomerDialog(sctx, window.customers_tab.model.row_at(first).id, window)
        qtbot.addWidget(customer)
        customer.show()
        tabs = customer.findChildren(QTabBar)
        for bar in tabs:
            for i in range(bar.count()):
                bar.setCurrentIndex(i)
                bad += [(f"客户档案 {bar.tabText(i)}", *b) for b in internal_keys(customer, usernames)]
        customer.close()

        admin_window = MainWindow(ctx.as_user(admin), paths)  # the administrator's tabs and 操作日志
        qtbot.addWidget(admin_window)
        admin_window.resize(1400, 900)
        admin_window.show()
        for slug in admin_window.tab_slugs():
            admin_window.show_tab(slug)
            _settled(qtbot, admin_window)
            bad += [(f"admin {slug}", *b) for b in internal_keys(admin_window, usernames)]
        admin_window.close()

        backups = BackupDialog(ctx.as_user(admin), paths, window)
        qtbot.addWidget(backups)
        backups.show()
        _settled(qtbot, backups)
        bad += [("备份与恢复", *b) for b in internal_keys(backups, usernames)]
        backups.close()
        window.close()
    finally:
        ctx.engine.dispose()
    assert not bad, "internal keys on screen:\n" + "\n".join(map(str, sorted(set(bad))))


def test_the_walk_finds_a_key_when_one_is_shown(qtbot):
    """The check itself: a label showing a rule key or a role key is reported."""
    w = QWidget()
    qtbot.addWidget(w)
    QLabel("规则编号 delivery_arrival", w).move(0, 0)
    QLabel("角色：clerk", w).move(0, 30)
    QLabel("用户 张敏（admin）", w).move(0, 60)
    w.show()
    assert sorted(t for _w, t, _x in internal_keys(w, {"admin"})) == ["clerk", "delivery_arrival"]
