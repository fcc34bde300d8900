"""工具 → 导入扫描件…: a two-page PDF of printed forms chosen in the dialog is filed to both records (read in a
worker thread), a photo without a code is listed under 未识别 and filed by hand by its 编号."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import printing, scans
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.visits import VisitRecordDraft, record_visit
from huifang_desktop.ui.scans.dialog import ScanImportDialog

pytest.importorskip("zxingcpp")


def _records(ctx: ServiceContext) -> list[Any]:
    out = []
    for name, mobile in (("甲公司", "13900000001"), ("乙公司", "13900000002")):
        c = register_customer(
            ctx, CustomerDraft(name=name, contacts=(ContactDraft(name="张经理", mobile=mobile),))
        )
        out.append(
            record_visit(
                ctx,
                VisitRecordDraft(
                    customer_id=c.id,
                    result="成功",
                    method="上门",
                    visited_at="2026-11-24 09:30",
                    customer_signed=True,
                    satisfaction="满意",
                ),
            )
        )
    return out


def test_scan_dialog_files_a_pdf_and_a_page_by_hand(qtbot: Any, cctx: ServiceContext, tmp_path: Path) -> None:
    first, second = _records(cctx)
    pdf = tmp_path / "扫描.pdf"
    pdf.write_bytes(printing.visit_records_pdf(cctx, [first.id, second.id]).pdf)
    photo = tmp_path / "photo.png"
    Image.new("RGB", (500, 700), "white").save(photo)
    dialog = ScanImportDialog(cctx)
    qtbot.addWidget(dialog)

    with qtbot.waitSignal(dialog.imported, timeout=60_000) as got:
        dialog.import_paths([str(pdf), str(photo)])

    result = got.args[0]
    assert [(p.outcome, p.number) for p in result.pages] == [
        ("已归档", first.number),
        ("已归档", second.number),
        ("未识别", ""),
    ]
    assert "共 3 页：已归档 2 页，重复 0 页，未识别 1 页" in dialog.log.toPlainText()
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 1).text() == "photo.png"
    dialog.table.selectRow(0)
    dialog.number_edit.setText(second.number)
    dialog.file_selected()
    assert dialog.table.rowCount() == 0
    assert [a.name for a in scans.record_attachments(cctx, second.id)] == ["扫描-第2页.png", "photo.png"]


def test_scan_dialog_reports_a_damaged_file(qtbot: Any, cctx: ServiceContext, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    dialog = ScanImportDialog(cctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.failed, timeout=60_000) as got:
        dialog.import_paths([str(bad)])
    assert "bad.pdf" in got.args[0] and "没有导入" in dialog.log.toPlainText()
    assert dialog.choose_button.isEnabled()


def test_record_attachments_dialog_adds_opens_and_removes_a_file(
    qtbot: Any, cctx: ServiceContext, tmp_path: Path
) -> None:
    from huifang_desktop.ui.scans.attachments import RecordAttachmentsDialog

    first, _second = _records(cctx)
    recording = tmp_path / "回访录音.m4a"
    recording.write_bytes(b"\x00\x00\x00\x18ftypM4A recording")
    dialog = RecordAttachmentsDialog(cctx, first.id, first.number)
    qtbot.addWidget(dialog)
    opened: list[str] = []
    dialog.open_url = lambda url: opened.append(url.toLocalFile()) is None

    dialog.kind.setCurrentText("录音")
    dialog.add_files([str(recording)])
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 1).text() == "录音"
    dialog.table.selectRow(0)
    dialog.open_selected()

    assert dialog.last_opened is not None and opened == [str(dialog.last_opened)]
    assert dialog.last_opened.read_bytes() == recording.read_bytes()
    dialog.remove_selected()
    assert dialog.table.rowCount() == 0 and scans.record_attachments(cctx, first.id) == []


def test_files_dropped_on_the_scan_and_attachment_dialogs_reach_them(
    qtbot: Any, cctx: ServiceContext, tmp_path: Path
) -> None:
    """Both dialogs take files dropped from the file manager (ui/common/drops.FileDrops); other drops are
    ignored."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from huifang_desktop.ui.scans.attachments import RecordAttachmentsDialog

    record = _records(cctx)[0]
    scan_dialog = ScanImportDialog(cctx)
    attachments = RecordAttachmentsDialog(cctx, record.id, record.number)
    for dialog in (scan_dialog, attachments):
        qtbot.addWidget(dialog)
        taken: list[list[str]] = []
        dialog.take_files = taken.append  # type: ignore[method-assign]
        files = QMimeData()
        files.setUrls([QUrl.fromLocalFile(str(tmp_path / "第1页.png"))])
        text = QMimeData()
        text.setText("不是文件")
        for mime in (files, text):
            enter = QDragEnterEvent(
                QPointF(5, 5).toPoint(),
                Qt.DropAction.CopyAction,
                mime,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
            QApplication.sendEvent(dialog, enter)
            assert enter.isAccepted() == (mime is files)
            drop = QDropEvent(
                QPointF(5, 5),
                Qt.DropAction.CopyAction,
                mime,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
            QApplication.sendEvent(dialog, drop)
        assert taken == [[str(tmp_path / "第1页.png")]]
