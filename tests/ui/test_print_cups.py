"""Printing the preview to a real CUPS queue: a cups-pdf printer writes what it receives to a PDF file.

Runs where ``lpstat`` exists and a cups-pdf printer is configured (``.ci/run`` installs and sets one up when
it can, and exports ``HUIFANG_TEST_PRINTER`` / ``HUIFANG_TEST_PRINTER_OUT``); skipped with the reason
otherwise. The printer is found by ``HUIFANG_TEST_PRINTER`` or as the queue whose device is ``cups-pdf:/``;
its output folder is ``HUIFANG_TEST_PRINTER_OUT``, else cups-pdf's default ``~/PDF`` (POSIX only).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from huifang_desktop.ui.common.print_preview import PrintPreviewDialog
from tests.ui.test_print_preview import _pdf

JOB_TIMEOUT_MS = 120_000  # a hang guard only: cups-pdf writes a two-page job in about a second


def _cups_pdf_printer() -> str:
    """The name of a cups-pdf queue, or pytest.skip with the reason there is none."""
    if shutil.which("lpstat") is None:
        pytest.skip("没有 lpstat（未安装 CUPS）：跳过真实打印队列测试")
    wanted = os.environ.get("HUIFANG_TEST_PRINTER", "")
    try:
        devices = subprocess.run(
            ["lpstat", "-v"],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "LC_ALL": "C"},
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"lpstat 无法运行（{exc}）：跳过真实打印队列测试")
    queues = {}
    for line in devices.splitlines():  # "device for PDF: cups-pdf:/"
        if line.startswith("device for ") and ": " in line:
            name, uri = line[len("device for ") :].split(": ", 1)
            queues[name] = uri.strip()
    if wanted:
        if wanted not in queues:
            pytest.skip(f"CUPS 中没有打印机 {wanted}（HUIFANG_TEST_PRINTER）：跳过真实打印队列测试")
        return wanted
    for name, uri in queues.items():
        if uri.startswith("cups-pdf:"):
            return name
    pytest.skip("CUPS 中没有 cups-pdf 打印机（PDF）：跳过真实打印队列测试")


def test_preview_prints_a_two_page_form_to_a_cups_pdf_queue(qtbot) -> None:
    name = _cups_pdf_printer()
    if name not in QPrinterInfo.availablePrinterNames():
        pytest.skip(f"Qt 看不到打印机 {name}（CUPS 打印支持插件未加载）：跳过真实打印队列测试")
    import pwd  # POSIX only, like CUPS here

    # cups-pdf writes to ${HOME}/PDF of the job's owner: the account's home, not $HOME (the tests change it)
    out_dir = Path(
        os.environ.get("HUIFANG_TEST_PRINTER_OUT") or Path(pwd.getpwuid(os.getuid()).pw_dir) / "PDF"
    )
    tag = uuid.uuid4().hex[:12]  # cups-pdf names the file after the job's title
    told: list[tuple[str, str]] = []
    dialog = PrintPreviewDialog(_pdf(2), f"huifang-{tag}", "t.pdf", on_output=lambda *a: told.append(a))
    qtbot.addWidget(dialog)
    printer = QPrinter(QPrinterInfo.printerInfo(name), QPrinter.PrinterMode.HighResolution)
    assert printer.outputFormat() == QPrinter.OutputFormat.NativeFormat and printer.printerName() == name
    assert dialog.print_to(printer)
    assert told == [("打印机", name)] and f"已发送 2 页到 {name}" in dialog.message.text()

    def printed() -> list[Path]:
        return sorted(out_dir.glob(f"*{tag}*.pdf")) if out_dir.is_dir() else []

    def complete() -> bool:  # the file appears while cups-pdf still writes it: done when it reads whole
        files = printed()
        if not files:
            return False
        try:
            return len(PdfReader(files[0]).pages) == 2
        except Exception:  # noqa: BLE001  (half written)
            return False

    qtbot.waitUntil(complete, timeout=JOB_TIMEOUT_MS)
    (result,) = printed()
    reader = PdfReader(result)
    box = reader.pages[0].mediabox
    assert len(reader.pages) == 2
    assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3  # A4, as rendered
    result.unlink()
