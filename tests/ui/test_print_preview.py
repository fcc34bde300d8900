"""pytest-qt tests of the print preview, the progress runner and the printing actions of the calendar tab."""

from __future__ import annotations

import io
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QKeySequence
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QWidget

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.printing import FormJob, load_template, render_forms
from huifang_desktop.services import customers as customer_service
from huifang_desktop.services import printing as printing_service
from huifang_desktop.services import visits as visit_service
from huifang_desktop.ui.calendar.record_dialog import VisitRecordDialog
from huifang_desktop.ui.calendar.tab import CalendarTab
from huifang_desktop.ui.common.print_preview import PdfError, PrintPreviewDialog, load_pdf, render_page
from huifang_desktop.ui.common.progress import run_with_progress
from tests.conftest import HANG_GUARD_S

DAY = date(2026, 11, 24)


def _pdf(pages: int = 2) -> bytes:
    """``pages`` 回访记录表 (one page each): blank ones, the last a filled draft with the watermark."""
    jobs = [FormJob({"customer_name": f"客户{i}", "contact_name": "张倩"}) for i in range(pages - 1)]
    jobs.append(
        FormJob(
            {"number": "HF20261124-001", "customer_name": "上海宏达机械制造有限公司", "result": "成功"},
            draft=True,
        )
    )
    out = io.BytesIO()
    render_forms(load_template("visit_record"), jobs, out, printed_at=datetime(2026, 11, 24, 10, 0))
    return out.getvalue()


def _dark_share(img: QImage) -> float:
    """Share of sampled pixels that are not (near) white."""
    dark = total = 0
    for y in range(0, img.height(), 4):
        for x in range(0, img.width(), 4):
            total += 1
            if QColor(img.pixel(x, y)).lightness() < 200:
                dark += 1
    return dark / total


@pytest.fixture
def planned(ctx, clerk):
    c = ctx.as_user(clerk)
    customer = customer_service.register_customer(
        c,
        CustomerDraft(
            name="杭州远纳运输有限公司",
            address="杭州市西湖区",
            contacts=(ContactDraft(name="张倩", mobile="15199743456"),),
        ),
    )
    plan = visit_service.add_manual_plan(c, customer.id, "例行", "电话", DAY, clerk.id)
    return c, customer, plan


# --- reading and drawing PDF pages (QtPdf) -------------------------------------------------------------


def test_load_pdf_reads_every_page_and_renders_what_the_pdf_holds(qapp) -> None:
    from PySide6.QtCore import QObject, QSize

    owner = QObject()
    document = load_pdf(_pdf(3), owner)
    assert document.pageCount() == 3 and document.parent() is owner
    size = document.pagePointSize(0)
    assert (round(size.width()), round(size.height())) == (595, 842)  # A4 portrait in points
    img = render_page(document, 0, QSize(595, 842))
    assert (img.width(), img.height()) == (595, 842)
    assert QColor(img.pixel(2, 2)).lightness() == 255  # on white paper, not QtPdf's transparent background
    assert 0.01 < _dark_share(img) < 0.5  # boxes and text, on white
    # the title 回访记录表 sits centred near the top: dark pixels there, none in the right margin
    top = img.copy(150, 40, 300, 60)
    assert _dark_share(top) > 0.02
    margin = img.copy(575, 200, 18, 600)
    assert _dark_share(margin) == 0.0
    assert render_page(document, 2, QSize(595, 842)) != img  # the filled draft is not the blank form


@pytest.mark.parametrize("data", [b"not a pdf", b"%PDF-1.4 garbage", b"", None])
def test_load_pdf_refuses_a_damaged_file_with_a_chinese_message(qapp, data: bytes | None) -> None:
    from PySide6.QtCore import QObject

    if data is None:  # a real PDF cut off half way (a copy interrupted, a full disk)
        whole = _pdf(2)
        data = whole[: len(whole) // 2]
    with pytest.raises(PdfError, match="不是有效的 PDF 文件或文件已损坏"):
        load_pdf(data, QObject())


# --- the dialog -------------------------------------------------------------------------------------------


def test_preview_shows_every_page_and_zooms(qtbot, tmp_path: Path) -> None:
    from PySide6.QtPdfWidgets import QPdfView

    dialog = PrintPreviewDialog(_pdf(3), "回访记录表 测试", "回访记录表_测试.pdf")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.page_count() == 3
    assert dialog.pages_label.text() == "第 1 页，共 3 页"
    assert dialog.windowTitle() == "打印预览 — 回访记录表 测试"
    assert dialog.view.document() is dialog.document
    assert dialog.view.pageMode() == QPdfView.PageMode.MultiPage
    assert dialog.view.zoomMode() == QPdfView.ZoomMode.FitToWidth  # opens fitted to the window's width
    fitted = dialog.zoom
    page_px = dialog.document.pagePointSize(0).width() * dialog.view.logicalDpiX() / 72 * fitted
    assert dialog.view.viewport().width() - 40 < page_px <= dialog.view.viewport().width()
    assert dialog.zoom_label.text() == f"{fitted * 100:.0f}%"
    dialog.zoom_in()
    assert dialog.view.zoomMode() == QPdfView.ZoomMode.Custom
    assert dialog.zoom == pytest.approx(fitted * 1.25)
    assert dialog.zoom_label.text() == f"{fitted * 125:.0f}%"
    dialog.zoom_out()
    dialog.zoom_out()
    assert dialog.zoom == pytest.approx(fitted / 1.25)
    dialog.fit_button.click()
    assert dialog.view.zoomMode() == QPdfView.ZoomMode.FitToWidth and dialog.zoom == pytest.approx(fitted)
    shot = dialog.view.viewport().grab().toImage()
    shot.save(str(tmp_path / "preview.png"))
    assert _dark_share(shot) > 0.01  # the page is drawn, not an empty grey view
    keys = {seq.toString() for action in dialog.actions() for seq in action.shortcuts()}
    assert {"Ctrl+P", "Ctrl+S", "Ctrl++", "Ctrl+-", "+", "-", "PgUp", "PgDown"} <= keys


def test_preview_keys_turn_pages_and_zoom(qtbot) -> None:
    dialog = PrintPreviewDialog(_pdf(3), "t", "t.pdf")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog.view, Qt.Key.Key_PageDown)  # the view would scroll a screenful: it turns a page
    assert dialog.current_page() == 1 and dialog.pages_label.text() == "第 2 页，共 3 页"
    assert dialog.view.verticalScrollBar().value() > 0
    qtbot.keyClick(dialog.view, Qt.Key.Key_PageDown)
    qtbot.keyClick(dialog.view, Qt.Key.Key_PageDown)  # no page 4: stays on the last
    assert dialog.current_page() == 2
    qtbot.keyClick(dialog.view, Qt.Key.Key_PageUp)
    assert dialog.current_page() == 1
    # the window's shortcuts (an offscreen test window is never the active one: trigger them by key)
    by_key = {seq.toString(): action for action in dialog.actions() for seq in action.shortcuts()}
    zoom = dialog.zoom
    by_key["+"].trigger()
    assert dialog.zoom == pytest.approx(zoom * 1.25)
    by_key["-"].trigger()
    by_key["Ctrl+-"].trigger()
    assert dialog.zoom == pytest.approx(zoom / 1.25)
    by_key["Ctrl+0"].trigger()
    assert dialog.zoom == pytest.approx(zoom)
    by_key["PgUp"].trigger()
    assert dialog.current_page() == 0


def test_preview_save_to_writes_the_pdf_and_reports_it(qtbot, tmp_path: Path) -> None:
    data = _pdf(2)
    told: list[tuple[str, str]] = []
    dialog = PrintPreviewDialog(data, "t", "t.pdf", on_output=lambda *a: told.append(a))
    qtbot.addWidget(dialog)
    target = tmp_path / "保存.pdf"
    assert dialog.save_to(target)
    assert target.read_bytes() == data
    assert len(PdfReader(target).pages) == 2
    assert told == [("PDF 文件", str(target))]
    assert "已保存到" in dialog.message.text() and str(target) in dialog.message.text()


def test_preview_save_to_an_unwritable_place_shows_why_and_carries_on(qtbot, tmp_path: Path) -> None:
    told: list[Any] = []
    dialog = PrintPreviewDialog(_pdf(1), "t", "t.pdf", on_output=lambda *a: told.append(a))
    qtbot.addWidget(dialog)
    dialog.show()
    missing = tmp_path / "没有这个文件夹" / "保存.pdf"
    assert not dialog.save_to(missing)
    text = dialog.message.text()
    assert "无法保存文件" in text and str(missing) in text and "文件夹不存在" in text
    assert told == [] and not missing.parent.exists()
    assert dialog.isVisible()
    assert dialog.save_to(tmp_path / "ok.pdf")  # still usable afterwards


def test_preview_save_button_asks_for_a_file_without_blocking(qtbot, tmp_path: Path) -> None:
    dialog = PrintPreviewDialog(_pdf(1), "t", "回访.pdf", save_dir=tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.save_button.click()  # returns at once: the file dialog is open, not exec'd
    assert dialog.file_dialog is not None and dialog.file_dialog.isVisible()
    dialog.file_dialog.fileSelected.emit(str(tmp_path / "回访.pdf"))
    dialog.file_dialog.reject()
    assert (tmp_path / "回访.pdf").read_bytes().startswith(b"%PDF")


def test_preview_prints_every_page_at_the_printers_resolution(qtbot, tmp_path: Path) -> None:
    told: list[tuple[str, str]] = []
    dialog = PrintPreviewDialog(_pdf(3), "回访记录表", "t.pdf", on_output=lambda *a: told.append(a))
    qtbot.addWidget(dialog)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert dialog.print_to(printer)
    reader = PdfReader(out)
    assert len(reader.pages) == 3
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert told == [("打印机", str(out))]
    assert "已发送 3 页" in dialog.message.text()


def _pdf_printer(out: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))
    return printer


def _ink(reader: PdfReader, index: int) -> int:
    """Bytes of image data drawn on a page: the rendered PDF page (blank pages of a dead renderer are tiny)."""
    images = reader.pages[index].images
    return sum(len(image.data) for image in images)


def test_preview_prints_the_pages_rendered_by_qtpdf(qtbot, tmp_path: Path) -> None:
    dialog = PrintPreviewDialog(_pdf(2), "回访记录表", "t.pdf")
    qtbot.addWidget(dialog)
    out = tmp_path / "printed.pdf"
    assert dialog.print_to(_pdf_printer(out))
    reader = PdfReader(out)
    assert len(reader.pages) == 2
    (image,) = reader.pages[0].images  # one image per sheet: the page QtPdf rendered
    pil = image.image.convert("L")
    assert pil.width >= 2400  # A4 at 300 dpi: 2480 pixels across
    assert pil.getextrema()[0] < 100 and pil.getextrema()[1] == 255  # black print on white paper


def test_preview_prints_the_chosen_page_range_and_copies(qtbot, tmp_path: Path) -> None:
    dialog = PrintPreviewDialog(_pdf(3), "回访记录表", "t.pdf")
    qtbot.addWidget(dialog)
    printer = _pdf_printer(tmp_path / "range.pdf")
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(2, 3)
    assert dialog.print_to(printer)
    assert len(PdfReader(tmp_path / "range.pdf").pages) == 2
    assert "已发送 2 页" in dialog.message.text()

    printer = _pdf_printer(tmp_path / "copies.pdf")
    assert not printer.supportsMultipleCopies()  # PDF output: the copies are ours to print
    printer.setCopyCount(2)
    printer.setCollateCopies(True)
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(1, 2)
    assert dialog.print_to(printer)
    reader = PdfReader(tmp_path / "copies.pdf")
    assert len(reader.pages) == 4
    sizes = [_ink(reader, i) for i in range(4)]
    assert sizes[0] == sizes[2] and sizes[1] == sizes[3]  # 1 2 1 2, collated

    printer = _pdf_printer(tmp_path / "current.pdf")
    printer.setPrintRange(QPrinter.PrintRange.CurrentPage)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.go_to_page(2)
    assert dialog.print_to(printer)
    current = PdfReader(tmp_path / "current.pdf")
    assert len(current.pages) == 1 and _ink(current, 0) == _ink(PdfReader(tmp_path / "range.pdf"), 1)


def test_preview_long_print_shows_progress_and_can_be_cancelled(qtbot, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QProgressDialog

    from huifang_desktop.ui.common import print_preview

    dialog = PrintPreviewDialog(_pdf(12), "台账", "t.pdf")
    qtbot.addWidget(dialog)
    seen: list[int] = []
    real_set_value = QProgressDialog.setValue

    def set_value(progress: QProgressDialog, value: int) -> None:
        real_set_value(progress, value)
        seen.append(value)
        if value == 3:
            progress.cancel()  # what 取消 does

    monkeypatch.setattr(print_preview.QProgressDialog, "setValue", set_value)
    told: list[Any] = []
    dialog.on_output = lambda *a: told.append(a)
    assert not dialog.print_to(_pdf_printer(tmp_path / "long.pdf"))
    assert seen == [1, 2, 3]
    assert dialog.message.text() == "已取消打印。" and told == []


def test_preview_print_button_opens_the_print_dialog_without_blocking(qtbot) -> None:
    dialog = PrintPreviewDialog(_pdf(1), "t", "t.pdf")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.print_button.click()
    assert dialog.print_dialog is not None and dialog.print_dialog.isVisible()
    dialog.print_dialog.reject()


def test_preview_of_a_broken_file_still_offers_to_save_it(qtbot, tmp_path: Path) -> None:
    dialog = PrintPreviewDialog(b"%PDF-1.4 garbage", "t", "t.pdf")
    qtbot.addWidget(dialog)
    assert dialog.page_count() == 0
    assert (
        "无法显示预览" in dialog.message.text() and "不是有效的 PDF 文件或文件已损坏" in dialog.message.text()
    )
    assert not dialog.print_button.isEnabled()
    assert dialog.save_to(tmp_path / "t.pdf")


def test_preview_escape_closes(qtbot) -> None:
    dialog = PrintPreviewDialog(_pdf(1), "t", "t.pdf")
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert QKeySequence("Ctrl+P").toString() == "Ctrl+P"


# --- the progress runner ----------------------------------------------------------------------------------


def test_progress_runner_reports_steps_and_delivers_the_result(qtbot, qapp) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    seen: list[Any] = []
    threads: set[int] = set()

    def work(progress, cancelled):
        for i in range(5):
            threads.add(threading.get_ident())
            progress(i + 1, 5)
        return "结果"

    task = run_with_progress(parent, "批量打印", "正在生成…", work, seen.append, show_after_ms=0)
    with qtbot.waitSignal(task.done):
        pass
    assert task.wait()
    assert seen == ["结果"]
    assert threads and threading.get_ident() not in threads  # the work ran off the GUI thread
    qtbot.waitUntil(lambda: task.done_count == 5)
    assert (task.done_count, task.total) == (5, 5)
    assert not task.dialog.isVisible() and not task.is_running()


def test_progress_runner_cancel_stops_the_work_early(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    steps: list[int] = []
    outcome: list[str] = []
    started = threading.Event()

    def work(progress, cancelled):
        for i in range(1000):
            if cancelled():
                raise printing_service.PrintCancelled("已取消打印，没有生成文件。")
            steps.append(i)
            progress(i, 1000)
            started.set()
            time.sleep(0.005)
        return "done"

    task = run_with_progress(
        parent,
        "批量打印",
        "正在生成…",
        work,
        lambda r: outcome.append("done"),
        lambda e: outcome.append(f"error {e}"),
        lambda: outcome.append("cancelled"),
    )
    assert started.wait(HANG_GUARD_S)
    task.cancel()
    with qtbot.waitSignal(task.cancelled):
        pass
    assert task.wait()
    assert outcome == ["cancelled"]
    assert len(steps) < 1000 and task.is_cancelled()


def test_progress_runner_reports_a_failure(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    errors: list[Exception] = []

    def work(progress, cancelled):
        raise printing_service.PrintError("无法打印")

    task = run_with_progress(parent, "t", "t", work, lambda r: None, errors.append)
    with qtbot.waitSignal(task.failed):
        pass
    assert task.wait()
    assert [str(e) for e in errors] == ["无法打印"]


# --- the calendar tab and the record dialog ---------------------------------------------------------------


def test_calendar_prints_a_blank_form_for_the_selected_plan(qtbot, planned) -> None:
    c, _customer, plan = planned
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    assert tab.current_plan().id == plan.id
    tab.print_blank_button.click()
    assert tab.preview is not None and tab.preview.isVisible()
    assert tab.preview.page_count() == 1
    assert "空白" in tab.preview.windowTitle() and "KH000001" in tab.preview.windowTitle()
    tab.preview.close()


def test_calendar_batch_prints_the_days_plans_into_one_preview(qtbot, planned, tmp_path: Path) -> None:
    c, customer, _plan = planned
    visit_service.add_manual_plan(c, customer.id, "满意度", "上门", DAY)
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    tab.print_day_button.click()
    assert tab.print_task is not None
    qtbot.waitUntil(lambda: tab.preview is not None)
    assert tab.print_task.wait()
    assert tab.preview.page_count() == 3  # the clerk's 回访任务单, then the two forms
    assert "2026-11-24" in tab.preview.windowTitle()
    assert tab.print_day_button.isEnabled()
    assert tab.preview.save_to(tmp_path / "day.pdf")
    with c.sessions() as s:
        from sqlalchemy import select

        from huifang_desktop.storage.models import AuditLog

        (row,) = s.execute(select(AuditLog).where(AuditLog.action == "打印")).scalars()
    assert row.entity == "visit_plan" and '"pages": 3' in (row.new or "")
    tab.preview.close()


def test_calendar_batch_of_an_empty_day_says_so(qtbot, planned) -> None:
    c, _customer, _plan = planned
    tab = CalendarTab(c)
    qtbot.addWidget(tab)
    tab.selected = date(2026, 11, 28)
    tab.print_day()
    qtbot.waitUntil(lambda: "没有要打印的回访计划" in tab.notice.text())
    assert tab.print_task is not None and tab.print_task.wait()
    assert tab.preview is None and tab.print_day_button.isEnabled()


def test_record_dialog_previews_the_blank_form_then_the_saved_record(qtbot, planned) -> None:
    c, _customer, plan = planned
    dialog = VisitRecordDialog(c, plan.id)
    qtbot.addWidget(dialog)
    dialog.print_button.click()
    assert dialog.preview is not None and dialog.preview.page_count() == 1
    assert "空白" in dialog.preview.windowTitle()
    dialog.preview.close()
    dialog.result.setCurrentText("成功")
    dialog.satisfaction.setCurrentText("满意")
    dialog.save()
    assert dialog.saved is not None
    dialog.print_preview()
    assert dialog.saved.number in dialog.preview.windowTitle()
    dialog.preview.close()


def test_report_dialog_previews_the_draft(qtbot, planned) -> None:
    from huifang_desktop.ui.calendar.report_dialog import VisitReportDialog

    c, _customer, _plan = planned
    dialog = VisitReportDialog(c)
    qtbot.addWidget(dialog)
    dialog.start.setDate(DAY)
    dialog.end.setDate(DAY)
    dialog.evaluation.setPlainText("按计划完成。")
    assert [a.shortcut().toString() for a in dialog.actions()] == ["Ctrl+P"]
    assert dialog.print_button.text() == "打印预览(&P)…"
    dialog.print_button.click()
    assert dialog.preview is not None and dialog.preview.page_count() == 1
    assert "草稿" in dialog.preview.windowTitle()
    dialog.preview.close()
