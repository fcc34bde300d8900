"""Scan-back (issue 22 item 7) and attachments of visit records by hand (item 8), at the service layer.

A filled 回访记录表 is printed (services.printing), rasterised at 150 dpi with poppler's pdftoppm (as a scanner
would give it) and imported: its QR code files it to its record, an on-site record gets 签字单 已回收."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.services import ledgers, printing, scans
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.services.settings import load_settings, save_settings
from huifang_desktop.services.visits import VisitRecordDraft, record_visit
from huifang_desktop.storage.models import Attachment, AuditLog, ScanPage, VisitRecord, VisitRecordAttachment
from tests.conftest import BACKEND

pytest.importorskip("zxingcpp")
_PHONES = itertools.count(13812340001)


def _record(
    ctx: ServiceContext, name: str, method: str = "上门", when: str = "2026-11-24 09:30"
) -> VisitRecord:
    c = register_customer(
        ctx, CustomerDraft(name=name, contacts=(ContactDraft(name="张经理", mobile=str(next(_PHONES))),))
    )
    row = record_visit(
        ctx,
        VisitRecordDraft(
            customer_id=c.id,
            result="成功",
            method=method,
            visited_at=when,
            customer_signed=method == "上门",
            content="设备运行正常",
            satisfaction="满意",
        ),
    )
    with ctx.sessions() as s:
        rec = s.get(VisitRecord, row.id)
        assert rec is not None
        s.expunge(rec)
        return rec


def page_png(pdf: bytes, tmp_path: Path, name: str = "page", dpi: int = 150) -> bytes:
    """Page 1 of ``pdf`` rendered at ``dpi`` by pdftoppm (a scanned page)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(src),
            str(tmp_path / name),
        ],
        check=True,
    )
    return (tmp_path / f"{name}.png").read_bytes()


def _blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buffer, "PNG")
    return buffer.getvalue()


def _signed_form(ctx: ServiceContext, number: str) -> str:
    for row in ledgers.stream(ctx, ledgers.Ledger.VISITS):
        cells = ledgers.named(ledgers.Ledger.VISITS, row)
        if cells["number"] == number:
            return str(cells["signed_form"])
    raise AssertionError(f"{number} not in the ledger")


def test_a_printed_and_scanned_form_is_filed_to_its_record(cctx: ServiceContext, tmp_path: Path) -> None:
    rec = _record(cctx, "杭州明达贸易")
    assert _signed_form(cctx, rec.number) == "未回收"
    png = page_png(printing.visit_record_pdf(cctx, rec.id).pdf, tmp_path)

    result = scans.import_pages(cctx, [scans.ScanPageImage("scan.png", 1, png, "scan.png")])

    assert [(p.outcome, p.number) for p in result.pages] == [("已归档", rec.number)]
    assert _signed_form(cctx, rec.number) == "已回收"
    (row,) = scans.record_attachments(cctx, rec.id)
    assert (row.name, row.kind, row.size) == ("scan.png", "签字单", len(png))
    assert scans.record_attachment_data(cctx, rec.id, row.id) == ("scan.png", png)
    with cctx.sessions() as s:
        stored = s.get(VisitRecord, rec.id)
        assert stored is not None and stored.signed_form_received_at == cctx.now()
        (entry,) = s.execute(select(AuditLog).where(AuditLog.action == "归档签字单扫描件")).scalars()
        assert entry.entity_id == rec.id and "signed_form_received_at" in entry.new


def test_the_same_page_imported_twice_is_stored_once(cctx: ServiceContext, tmp_path: Path) -> None:
    rec = _record(cctx, "杭州明达贸易")
    png = page_png(printing.visit_record_pdf(cctx, rec.id).pdf, tmp_path)
    page = scans.ScanPageImage("scan.png", 1, png, "scan.png")
    scans.import_pages(cctx, [page])

    again = scans.import_pages(cctx, [page, page])

    assert [(p.outcome, p.number) for p in again.pages] == [("重复", rec.number), ("重复", rec.number)]
    with cctx.sessions() as s:
        assert s.execute(select(func.count()).select_from(Attachment)).scalar() == 1
    assert len(scans.record_attachments(cctx, rec.id)) == 1


def test_a_page_without_a_code_goes_to_unrecognized_and_is_filed_by_hand(cctx: ServiceContext) -> None:
    rec = _record(cctx, "杭州明达贸易")
    blank = _blank_png()

    result = scans.import_pages(cctx, [scans.ScanPageImage("photo.png", 1, blank, "photo.png")])

    assert [(p.outcome, p.detail) for p in result.pages] == [("未识别", "没有找到可读的二维码")]
    (waiting,) = scans.list_unfiled(cctx)
    assert (waiting.source, waiting.page, waiting.reason) == ("photo.png", 1, "没有找到可读的二维码")
    assert scans.unfiled_page_data(cctx, waiting.id) == ("photo.png", blank)
    assert _signed_form(cctx, rec.number) == "未回收"
    with pytest.raises(ValidationError, match="没有编号为 HF20990101-001 的回访记录"):
        scans.file_page(cctx, waiting.id, "HF20990101-001")

    assert scans.file_page(cctx, waiting.id, rec.number.lower()) == rec.number

    assert scans.list_unfiled(cctx) == []
    assert [a.name for a in scans.record_attachments(cctx, rec.id)] == ["photo.png"]
    assert _signed_form(cctx, rec.number) == "已回收"


def test_a_page_that_is_not_an_image_refuses_the_import_and_saves_nothing(cctx: ServiceContext) -> None:
    rec = _record(cctx, "杭州明达贸易")
    with pytest.raises(ValidationError, match="“bad.png”第 1 页不是可读的图片"):
        scans.import_pages(
            cctx,
            [
                scans.ScanPageImage("ok.png", 1, _blank_png(), "ok.png"),
                scans.ScanPageImage("bad.png", 1, b"not an image", "bad.png"),
            ],
        )
    assert scans.list_unfiled(cctx) == [] and scans.record_attachments(cctx, rec.id) == []


def test_phone_visits_need_no_signed_form(cctx: ServiceContext) -> None:
    rec = _record(cctx, "杭州明达贸易", method="电话")
    assert _signed_form(cctx, rec.number) == "无需"


def test_the_reminder_counts_on_site_visits_whose_form_has_not_come_back(
    cctx: ServiceContext, ctx: ServiceContext, tmp_path: Path
) -> None:
    today = cctx.today()
    old = _record(cctx, "甲公司", when=f"{today - timedelta(days=8):%Y-%m-%d} 09:00")
    _record(cctx, "乙公司", when=f"{today - timedelta(days=2):%Y-%m-%d} 09:00")  # not late yet
    _record(cctx, "丙公司", method="电话", when=f"{today - timedelta(days=30):%Y-%m-%d} 09:00")
    assert scans.unreturned_forms(cctx) == 1
    save_settings(ctx, replace(load_settings(ctx), signed_form_days=1))
    assert scans.unreturned_forms(cctx) == 2

    png = page_png(printing.visit_record_pdf(cctx, old.id).pdf, tmp_path)
    scans.import_pages(cctx, [scans.ScanPageImage("old.png", 1, png, "old.png")])
    assert scans.unreturned_forms(cctx) == 1


def test_a_document_attached_by_hand_is_read_back_and_audited(cctx: ServiceContext, tmp_path: Path) -> None:
    rec = _record(cctx, "杭州明达贸易", method="电话")
    doc = tmp_path / "现场照片.jpg"
    doc.write_bytes(b"\xff\xd8\xff\xe0 a photo")

    aid = scans.attach_file_to_record(cctx, rec.id, doc, "照片")

    assert scans.attach_file_to_record(cctx, rec.id, doc, "照片") == aid  # the same file once
    (row,) = scans.record_attachments(cctx, rec.id)
    assert (row.id, row.name, row.kind) == (aid, "现场照片.jpg", "照片")
    assert scans.record_attachment_data(cctx, rec.id, aid) == ("现场照片.jpg", doc.read_bytes())
    assert _signed_form(cctx, rec.number) == "无需"  # a photo is not the signed form
    with pytest.raises(ValidationError, match="附件类型"):
        scans.attach_to_record(cctx, rec.id, "a.txt", b"x", "答复函")
    scans.detach_from_record(cctx, rec.id, aid)
    assert scans.record_attachments(cctx, rec.id) == []
    with cctx.sessions() as s:
        actions = (
            s.execute(
                select(AuditLog.action).where(AuditLog.entity == "visit_record", AuditLog.entity_id == rec.id)
            )
            .scalars()
            .all()
        )
        assert s.execute(select(func.count()).select_from(Attachment)).scalar() == 0
    assert "添加附件" in actions and "删除附件" in actions


def test_a_clerk_of_another_department_cannot_see_the_attachments(
    cctx: ServiceContext, c2ctx: ServiceContext, ctx: ServiceContext
) -> None:
    rec = _record(cctx, "杭州明达贸易", method="电话")
    aid = scans.attach_to_record(cctx, rec.id, "a.txt", b"x", "文档")
    save_settings(ctx, replace(load_settings(ctx), visibility="department"))
    with pytest.raises(PermissionDenied):
        scans.record_attachment_data(c2ctx, rec.id, aid)


def test_scan_and_attachment_functions_stamp_the_clock(cctx: ServiceContext) -> None:
    rec = _record(cctx, "杭州明达贸易")
    aid = scans.attach_to_record(cctx, rec.id, "签字单.pdf", b"%PDF-1.4 scan", "签字单")
    (row,) = scans.record_attachments(cctx, rec.id)
    assert row.id == aid and row.created_at == cctx.now() == datetime(*cctx.now().timetuple()[:6])
    assert _signed_form(cctx, rec.number) == "已回收"  # a signed form attached by hand counts too


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite backup copies the file; PostgreSQL uses pg_dump")
def test_attachments_travel_with_the_backup(
    cctx: ServiceContext, admin: Any, ctx: ServiceContext, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine

    from huifang_desktop.services import backups

    rec = _record(cctx, "杭州明达贸易")
    scans.attach_to_record(cctx, rec.id, "现场照片.jpg", b"\xff\xd8 photo", "照片")
    scans.import_pages(cctx, [scans.ScanPageImage("photo.png", 1, _blank_png(), "photo.png")])  # 未识别

    info = backups.make_backup(ctx.as_user(admin), tmp_path / "bk")

    copy = create_engine(f"sqlite:///{info.path}")
    try:
        with copy.connect() as conn:
            linked = conn.execute(
                select(Attachment.name, Attachment.data)
                .join(VisitRecordAttachment, VisitRecordAttachment.attachment_id == Attachment.id)
                .where(VisitRecordAttachment.record_id == rec.id)
            ).all()
            waiting = conn.execute(select(func.count()).select_from(ScanPage)).scalar()
    finally:
        copy.dispose()
    assert [(n, bytes(d)) for n, d in linked] == [("现场照片.jpg", b"\xff\xd8 photo")]
    assert waiting == 1


def test_the_printed_ledger_has_the_signed_form_column(cctx: ServiceContext, tmp_path: Path) -> None:
    import re

    from pypdf import PdfReader

    rec = _record(cctx, "杭州明达贸易")
    phone = _record(cctx, "济南恒通机械", method="电话")
    png = page_png(printing.visit_record_pdf(cctx, rec.id).pdf, tmp_path)
    scans.import_pages(cctx, [scans.ScanPageImage("scan.png", 1, png, "scan.png")])

    pdf = ledgers.visit_ledger_pdf(cctx).pdf

    text = "".join(re.sub(r"\s+", "", p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "签字单" in text and "已回收" in text and "无需" in text and phone.number in text
