"""The main window: six tabs, status bar, daily catch-up planning off the GUI thread, CLI smoke test."""

from __future__ import annotations

from datetime import date

from huifang_desktop.app import main
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import customers as customer_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.ui.main_window import MainWindow


def test_main_window_has_the_six_tabs_and_shows_the_user(qtbot, ctx, supervisor, tmp_path):
    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    labels = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert labels == ["客户档案", "回访日历", "投诉登记", "台账", "统计", "审阅"]
    assert "李主管" in window.user_label.text()


def test_no_tab_shortcut_takes_a_menu_mnemonic(qtbot, ctx, supervisor, tmp_path):
    """Issue 18: 退回修改 (Alt+T) clashed with the 工具(&T) menu. No Alt+letter shortcut of any tab may use a
    letter that opens a menu of the main window."""
    import re

    from PySide6.QtGui import QAction, QKeySequence, QShortcut

    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    mnemonics = {
        m.group(1).upper() for a in window.menuBar().actions() if (m := re.search(r"&(\w)", a.text()))
    }
    assert {"F", "T", "H"} <= mnemonics
    taken = []
    for slug, _label, _page in window._tabs:
        page = window.page(slug)
        keys = [s.key() for s in page.findChildren(QShortcut)]
        keys += [k for a in page.findChildren(QAction) for k in a.shortcuts()]
        for key in keys:
            text = key.toString(QKeySequence.SequenceFormat.PortableText)
            if text.startswith("Alt+") and len(text) == 5 and text[-1] in mnemonics:
                taken.append((slug, text))
    assert taken == []


def test_tools_menu_opens_the_audit_log_for_those_who_may_see_it(qtbot, ctx, clerk, supervisor, tmp_path):
    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    assert window.audit_action.isVisible() and window.audit_action.isEnabled()
    assert window.built_tabs() == [window.customers_tab]  # only the first tab is built at start
    window.audit_action.trigger()
    assert window.current_slug() == "review"
    assert window.review_tab.pages.currentWidget() is window.review_tab.audit_page
    clerk_window = MainWindow(ctx.as_user(clerk), AppPaths(tmp_path))
    qtbot.addWidget(clerk_window)
    assert not clerk_window.audit_action.isVisible()


def test_start_runs_the_daily_catch_up_in_the_background_once(qtbot, ctx, clerk, supervisor, tmp_path):
    c = ctx.as_user(clerk)
    customer_service.register_customer(
        c,
        CustomerDraft(
            name="宁波甬达物流有限公司",
            created_on="2026-09-01",
            contacts=(ContactDraft(name="王磊", mobile="13605741234"),),
        ),
    )
    customer_service.pin_grade(ctx.as_user(supervisor), 1, "B", "年度重点客户")
    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    window.on_started()
    qtbot.waitUntil(lambda: "今日待回访" in window.statusBar().currentMessage())
    plans = visit_service.list_plans(ctx, start=date(2026, 1, 1), end=date(2027, 12, 31))
    assert [p.visit_type for p in plans] == ["例行"]
    assert visit_service.daily_catch_up(ctx) is None  # already ran today
    # then the day's verified backup is made in the background, once
    from huifang_desktop.services import backups

    qtbot.waitUntil(lambda: len(backups.list_backups(tmp_path / "backups")) == 1)
    qtbot.waitUntil(lambda: not window._backup_thread.isRunning())
    window.start_daily_backup()
    qtbot.waitUntil(lambda: not window._backup_thread.isRunning())
    assert [b.reason for b in backups.list_backups(tmp_path / "backups")] == ["daily"]


def test_closing_waits_for_background_work_and_cancels_long_tasks(qtbot, ctx, supervisor, tmp_path):
    """Closing under a running job does not cut it off (nor abort: "QThread destroyed while running")."""
    import threading

    from PySide6.QtCore import QThread

    from huifang_desktop.ui.common.progress import run_with_progress
    from huifang_desktop.ui.common.worker import start_worker

    window = MainWindow(ctx.as_user(supervisor), AppPaths(tmp_path))
    qtbot.addWidget(window)
    window.show()
    finished: list[str] = []

    def slow() -> str:
        threading.Event().wait(0.3)
        finished.append("catch-up")
        return "ok"

    def export(progress, cancelled):  # a long export: stops once the window asks it to
        while not cancelled():
            threading.Event().wait(0.01)
        finished.append("export cancelled")
        raise RuntimeError("cancelled")

    start_worker(window.calendar_tab, slow, lambda _r: None, lambda _e: None)
    run_with_progress(window.ledgers_tab, "导出", "正在导出…", export, lambda _r: None)
    assert window.close()
    assert sorted(finished) == ["catch-up", "export cancelled"]
    assert not [t for t in window.findChildren(QThread) if t.isRunning()]


def test_smoke_test_and_screenshots_from_the_command_line(tmp_path, qapp):
    data = tmp_path / "office"
    assert main(["--data-dir", str(data), "demo", "--customers", "40", "--seed", "3"]) == 0
    assert main(["--data-dir", str(data), "--smoke-test"]) == 0
    shots = tmp_path / "shots"
    assert main(["--data-dir", str(data), "--screenshot", str(shots)]) == 0
    pngs = sorted(p.name for p in shots.glob("*.png"))
    assert pngs[:6] == [
        "01-customers.png",
        "02-calendar.png",
        "03-complaints.png",
        "04-ledgers.png",
        "05-stats.png",
        "06-review.png",
    ]  # then the dialogs (no 回访记录表: no visits here)
    assert {"07-settings.png", "08-customer.png", "09-complaint-intake.png", "15-backups.png"} <= set(pngs)
    assert all((shots / p).stat().st_size > 10_000 for p in pngs)


def test_commands_refuse_bad_input_with_a_message_and_change_nothing(tmp_path, capsys):
    data = tmp_path / "office"
    assert (
        main(
            [
                "--data-dir",
                str(data),
                "users",
                "add",
                "bob",
                "--name",
                "鲍勃",
                "--role",
                "clerk",
                "--password",
                "123",
            ]
        )
        == 1
    )
    assert "密码" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "users", "reset-password", "nobody"]) == 1
    assert "不存在" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "plan", "--today", "2026-02-30"]) == 1
    assert "不是存在的日期" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "users", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_settings_command_sets_department_visibility_and_refuses_bad_values(tmp_path, capsys):
    data = tmp_path / "office"
    assert main(["--data-dir", str(data), "settings", "set", "visibility", "department"]) == 0
    assert main(["--data-dir", str(data), "settings", "set", "grade_a", "many"]) == 1
    assert "不是整数" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "settings", "set", "colour", "red"]) == 1
    assert "没有这项设置" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "settings", "show"]) == 0
    out = capsys.readouterr().out
    assert "visibility             department" in out
    assert "grade_a                100" in out


def test_start_shows_a_tamper_break_in_red_to_supervisors_but_not_to_clerks(
    qtbot, ctx, clerk, supervisor, tmp_path
):
    from sqlalchemy import update

    from huifang_desktop.storage.models import User

    with ctx.engine.begin() as conn:  # a clerk made an administrator with SQL
        conn.execute(update(User).where(User.id == clerk.id).values(role="admin"))
    for who, sees in ((supervisor, True), (clerk, False)):
        window = MainWindow(ctx.as_user(who), AppPaths(tmp_path))
        qtbot.addWidget(window)
        messages: list[str] = []
        window.statusBar().messageChanged.connect(messages.append)
        window.on_started()
        qtbot.waitUntil(lambda m=messages: any("今日待回访" in x for x in m))
        qtbot.waitUntil(lambda w=window: w._catch_up.isFinished())
        backup = getattr(window, "_backup_thread", None)
        qtbot.waitUntil(lambda b=backup: b is None or b.isFinished())
        alert = getattr(window, "chain_alert", None)
        if sees:
            assert alert is not None and not alert.isHidden()
            assert "用户 xiaowang（小王）的角色在程序之外被修改" in alert.text()
            assert "color: #d9363e" in alert.styleSheet()
        else:
            assert alert is None


def test_audit_page_full_check_button(qtbot, ctx, supervisor):
    from huifang_desktop.ui.review.audit_page import AuditLogPage

    page = AuditLogPage(ctx.as_user(supervisor))
    qtbot.addWidget(page)
    page.verify_button.click()
    qtbot.waitUntil(lambda: page.verify_button.isEnabled())
    assert page.status.text().startswith("已检查 ") and page.status.text().endswith("未发现问题。")


def test_smoke_test_renders_the_blank_form_through_qtpdf(qapp) -> None:
    import io
    from datetime import datetime

    from reportlab.pdfgen.canvas import Canvas

    from huifang_desktop.printing.render import render_form
    from huifang_desktop.printing.templates import load_template
    from huifang_desktop.ui.application import _smoke_test_preview

    form = io.BytesIO()
    render_form(load_template("visit_record"), None, form, printed_at=datetime(2026, 11, 24, 10, 0))
    assert _smoke_test_preview(form.getvalue()) is None
    empty = io.BytesIO()
    canvas = Canvas(empty)
    canvas.showPage()
    canvas.save()
    assert "空白页" in (_smoke_test_preview(empty.getvalue()) or "")
    assert "打印预览无法读取" in (_smoke_test_preview(form.getvalue()[:2000]) or "")


def test_file_menu_prints_empty_forms_through_the_preview(qtbot, ctx, clerk, tmp_path):
    from huifang_desktop.ui.common.print_preview import PrintPreviewDialog

    window = MainWindow(ctx.as_user(clerk), AppPaths(tmp_path))
    qtbot.addWidget(window)
    file_menu = window.menuBar().actions()[0].menu()
    (submenu,) = [
        a.menu() for a in file_menu.actions() if a.menu() is not None and a.text() == "打印空白表单"
    ]
    labels = {a.text(): a for a in submenu.actions()}
    assert list(labels) == ["回访记录表…", "投诉处理表…", "投诉查办单…"]
    for label, title in (
        ("回访记录表…", "回访记录表（空白）"),
        ("投诉处理表…", "投诉处理表（空白）"),
        ("投诉查办单…", "投诉查办单（空白）"),
    ):
        assert labels[label].isEnabled()
        labels[label].trigger()
        preview = window.empty_form_preview
        assert isinstance(preview, PrintPreviewDialog)
        qtbot.waitUntil(preview.isVisible)
        assert title in preview.windowTitle()
        preview.close()
