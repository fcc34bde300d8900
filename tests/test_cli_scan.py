"""``scan import / list / file`` (issue 22 item 7), run in-process through ``huifang_desktop.app.main``: a filled
回访记录表 printed, rasterised at 150 dpi (pdftoppm) and imported is filed to its record, and ``export visits``
shows 签字单 已回收 for it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import ledgers, printing, scans, users
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.visits import VisitRecordDraft, VisitRecordRow, record_visit

pytest.importorskip("zxingcpp")
NOW = datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Path, ServiceContext, list[VisitRecordRow]]]:
    """A data folder with one clerk and two on-site visit records."""
    data = tmp_path / "data"
    base = app.open_context(AppPaths(data))
    ctx = ServiceContext(base.engine, base.sessions, clock=lambda: NOW)
    clerk = users.create_user(ctx, "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
    cctx = ctx.as_user(clerk)
    records = []
    for name, mobile in (("甲公司", "13900000001"), ("乙公司", "13900000002")):
        c = register_customer(
            cctx, CustomerDraft(name=name, contacts=(ContactDraft(name="张经理", mobile=mobile),))
        )
        records.append(
            record_visit(
                cctx,
                VisitRecordDraft(
                    customer_id=c.id,
                    result="成功",
                    method="上门",
                    visited_at="2026-11-24 09:30",
                    customer_signed=True,
                    satisfaction="满意",
                    content="设备运行正常",
                ),
            )
        )
    yield data, cctx, records
    base.engine.dispose()


def _pdftoppm(pdf: Path, prefix: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(prefix)],
        check=True,
    )


def _signed_form_column(xlsx: Path) -> dict[str, str]:
    ws = load_workbook(xlsx).active
    assert ws is not None
    col = [c.key for c in ledgers.columns(ledgers.Ledger.VISITS)].index("signed_form")
    return {row[0].value: row[col].value for row in ws.iter_rows(min_row=3) if row[0].value != "合计"}


def test_cli_scan_import_files_a_printed_page_and_the_ledger_shows_it_returned(
    run_main: Any, office: Any, tmp_path: Path
) -> None:
    data, cctx, (first, second) = office
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(printing.visit_record_pdf(cctx, first.id).pdf)
    _pdftoppm(pdf, tmp_path / "PAGE")

    code, out, err = run_main(["--data-dir", str(data), "scan", "import", str(tmp_path / "PAGE.png")])

    assert (code, err) == (0, ""), out + err
    assert f"“PAGE.png”第 1 页：已归档 {first.number}" in out
    assert "共 1 页：已归档 1 页，重复 0 页，未识别 0 页" in out
    code, out, err = run_main(["--data-dir", str(data), "export", "visits", str(tmp_path / "t.xlsx")])
    assert code == 0, err
    assert _signed_form_column(tmp_path / "t.xlsx") == {first.number: "已回收", second.number: "未回收"}

    code, out, _ = run_main(["--data-dir", str(data), "scan", "import", str(tmp_path / "PAGE.png")])
    assert code == 0 and "共 1 页：已归档 0 页，重复 1 页，未识别 0 页" in out
    assert len(scans.record_attachments(cctx, first.id)) == 1


def test_cli_scan_import_of_a_two_page_pdf_files_both_records(
    run_main: Any, office: Any, tmp_path: Path
) -> None:
    data, cctx, (first, second) = office
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "both.pdf").write_bytes(printing.visit_records_pdf(cctx, [first.id, second.id]).pdf)
    (folder / "notes.txt").write_text("not a scan", "utf-8")  # a folder's other files are left alone

    code, out, err = run_main(["--data-dir", str(data), "scan", "import", str(folder)])

    assert (code, err) == (0, ""), out + err
    assert f"“both.pdf”第 1 页：已归档 {first.number}" in out
    assert f"“both.pdf”第 2 页：已归档 {second.number}" in out
    assert [a.name for a in scans.record_attachments(cctx, first.id)] == ["both-第1页.png"]
    assert [a.name for a in scans.record_attachments(cctx, second.id)] == ["both-第2页.png"]
    assert scans.unreturned_forms(cctx, NOW.date().replace(month=12, day=31)) == 0  # both forms are back


def test_cli_scan_unrecognized_page_is_listed_and_filed_by_hand(
    run_main: Any, office: Any, tmp_path: Path
) -> None:
    data, cctx, (first, _second) = office
    Image.new("RGB", (800, 1100), "white").save(tmp_path / "photo.jpg", "JPEG")

    code, out, err = run_main(["--data-dir", str(data), "scan", "import", str(tmp_path / "photo.jpg")])
    assert (code, err) == (0, "")
    assert "“photo.jpg”第 1 页：未识别（没有找到可读的二维码）" in out and "scan list" in out
    code, out, _ = run_main(["--data-dir", str(data), "scan", "list"])
    assert code == 0
    (line,) = out.splitlines()
    page_id, source, page, _at, reason = line.split("\t")
    assert (source, page, reason) == ("photo.jpg", "第 1 页", "没有找到可读的二维码")

    code, out, err = run_main(["--data-dir", str(data), "scan", "file", page_id, "HF20990101-009"])
    assert code == 1 and "没有编号为 HF20990101-009 的回访记录" in err
    code, out, err = run_main(["--data-dir", str(data), "scan", "file", page_id, first.number])
    assert (code, err) == (0, "")
    assert f"已把第 {page_id} 页归档到回访记录 {first.number}。" in out
    code, out, _ = run_main(["--data-dir", str(data), "scan", "list"])
    assert out == "没有未识别的扫描页。\n"
    assert [a.name for a in scans.record_attachments(cctx, first.id)] == ["photo.jpg"]


def test_cli_scan_import_of_a_damaged_file_is_a_chinese_error_and_saves_nothing(
    run_main: Any, office: Any, tmp_path: Path
) -> None:
    data, cctx, (first, _second) = office
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    code, out, err = run_main(["--data-dir", str(data), "scan", "import", str(tmp_path / "bad.pdf")])
    assert (code, out) == (1, "")
    assert err.startswith("错误：") and "bad.pdf" in err
    code, out, err = run_main(["--data-dir", str(data), "scan", "import", str(tmp_path / "missing.png")])
    assert code == 1 and "文件不存在" in err
    assert scans.list_unfiled(cctx) == [] and scans.record_attachments(cctx, first.id) == []
