"""Issue 18: exports start in the folder used last and offer 打开所在文件夹 when done."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from huifang_desktop.services import complaints as cs
from huifang_desktop.ui.common import export_target
from huifang_desktop.ui.complaints.tab import ComplaintsTab


def test_the_save_dialog_opens_where_the_last_export_went(qtbot, tmp_path, monkeypatch):
    parent = QWidget()
    qtbot.addWidget(parent)
    offered: list[str] = []
    answers = [str(tmp_path / "台账" / "十一月"), ""]

    def fake_dialog(_parent, _title, suggested, _filter):
        offered.append(suggested)
        return answers.pop(0), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_dialog)
    (tmp_path / "台账").mkdir()
    first = export_target.ask_export_path(parent, "导出", "投诉台账.xlsx", ".xlsx", "Excel (*.xlsx)")
    assert first == str(tmp_path / "台账" / "十一月.xlsx")  # the suffix added
    assert Path(offered[0]).name == "投诉台账.xlsx" and Path(offered[0]).parent != tmp_path / "台账"
    assert export_target.ask_export_path(parent, "导出", "操作日志.xlsx", ".xlsx", "Excel (*.xlsx)") == ""
    assert offered[1] == str(tmp_path / "台账" / "操作日志.xlsx")  # remembered across tabs and calls


def test_a_finished_export_offers_to_open_its_folder(qtbot, tmp_path, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    label = QLabel()
    qtbot.addWidget(label)
    target = tmp_path / "a <b> & c" / "x.xlsx"
    export_target.say_exported(label, "已导出 3 行到 x.xlsx", target)
    export_target.say_exported(label, "已导出 4 行到 x.xlsx", target)  # connected once
    assert "打开所在文件夹" in label.text() and "已导出 4 行" in label.text()
    link = label.text().split('href="')[1].split('"')[0]
    import html

    label.linkActivated.emit(html.unescape(link))
    assert [u.toLocalFile() for u in opened] == [str(target.parent)]


def test_complaint_register_export_says_where_and_offers_the_folder(qtbot, cctx, tmp_path):
    cs.register(
        cctx,
        cs.IntakeDraft(
            complainant="王先生",
            phone="13912345678",
            subject="空调漏水",
            content="安装后第二天漏水",
            severity="一般",
            category="产品质量",
            channel="电话",
        ),
    )
    tab = ComplaintsTab(cctx)
    qtbot.addWidget(tab)
    target = tmp_path / "投诉台账.xlsx"
    tab.ask_export_path = lambda: str(target)
    tab.export_ledger()
    qtbot.waitUntil(lambda: tab.export_button.isEnabled(), timeout=60_000)
    assert target.exists()
    assert "已导出投诉台账 1 条" in tab.notice.text() and "打开所在文件夹" in tab.notice.text()
