"""Scan-back and attachments of visit records (issue 22 items 7 and 8).

Every printed form carries a QR code of its 编号 with a check (:mod:`huifang_desktop.domain.formcode`). A
scanned page (an image: the caller renders PDF pages, see ``ui/scans.py``) is read with zxing-cpp; a page
whose code names a visit record is kept in the database as an attachment of that record (the ``attachment``
table complaints use, so it travels with backups and works on PostgreSQL), and an on-site visit's record is
marked 签字单 已回收. A page without a readable, valid code — or naming no record the user may see — goes to
the 未识别 list (``scan_page``) to be filed by hand by its 编号. The same page (the same SHA-256) is stored
once. Files attached by hand (photos, recordings, documents) use the same link table.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huifang_desktop.domain import formcode
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.domain.visits import VisitMethod
from huifang_desktop.services.complaints import MAX_ATTACHMENT_BYTES
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import NotFound, PermissionDenied, ServiceError
from huifang_desktop.services.policy import check_visible, customer_scope
from huifang_desktop.services.settings import load_settings
from huifang_desktop.storage.models import Attachment, Customer, ScanPage, VisitRecord, VisitRecordAttachment

SCAN_KIND = "签字单"  # the attachment kind of a scanned form
RECORD_ATTACHMENT_KINDS: tuple[str, ...] = ("照片", "录音", "文档", "签字单", "其他")
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
PDF_SUFFIX = ".pdf"
FILED, DUPLICATE, UNRECOGNIZED = "已归档", "重复", "未识别"


@dataclass(frozen=True, slots=True)
class ScanPageImage:
    """One page to import: an image (PNG/JPEG bytes) and where it came from."""

    source: str  # the scanned file's name
    page: int  # 1-based page of that file
    data: bytes
    name: str  # the stored file name (``扫描.pdf-第2页.png``)


@dataclass(frozen=True, slots=True)
class PageOutcome:
    source: str
    page: int
    outcome: str  # 已归档 / 重复 / 未识别
    number: str  # the record's 编号 when filed or already there
    detail: str

    def text(self) -> str:
        where = f"“{self.source}”第 {self.page} 页"
        return (
            f"{where}：{self.outcome}"
            + (f" {self.number}" if self.number else "")
            + (f"（{self.detail}）" if self.detail else "")
        )


@dataclass(frozen=True, slots=True)
class ScanImportResult:
    pages: tuple[PageOutcome, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for p in self.pages if p.outcome == outcome)

    def summary(self) -> str:
        return (
            f"共 {len(self.pages)} 页：已归档 {self.count(FILED)} 页，重复 {self.count(DUPLICATE)} 页，"
            f"未识别 {self.count(UNRECOGNIZED)} 页"
        )


@dataclass(frozen=True, slots=True)
class UnfiledPage:
    id: int
    source: str
    page: int
    reason: str
    created_at: datetime
    attachment_id: int
    size: int


@dataclass(frozen=True, slots=True)
class RecordAttachmentRow:
    id: int
    name: str
    kind: str
    size: int
    created_at: datetime


# --- reading pages ---------------------------------------------------------------------------------------


def read_image_file(path: Path | str) -> ScanPageImage:
    """A PNG/JPEG file as one page (PDFs are rendered by the caller: Qt is only in ui/)."""
    p = Path(path)
    if p.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValidationError(FieldError("file", "扫描件", f"“{p.name}”不是 PNG/JPEG 图片或 PDF 文件"))
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ServiceError(f"无法读取文件 {p}：{exc.strerror or exc}") from exc
    return ScanPageImage(p.name, 1, data, p.name)


def _read_code(page: ScanPageImage) -> tuple[str | None, str]:
    """(the 编号 on the page, "") or (None, why not)."""
    import zxingcpp
    from PIL import Image

    try:
        with Image.open(io.BytesIO(page.data)) as raw:
            raw.load()
            image: Image.Image = raw
            if image.mode in ("RGBA", "LA", "P"):  # transparent parts on white, as on paper
                rgba = image.convert("RGBA")
                image = Image.new("RGB", rgba.size, "white")
                image.paste(rgba, mask=rgba.getchannel("A"))
            image = image.convert("L")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            FieldError(
                "file", "扫描件", f"“{page.source}”第 {page.page} 页不是可读的图片（{exc}）；没有导入任何页"
            )
        ) from exc
    codes = [r.text for r in zxingcpp.read_barcodes(image)]
    for code in codes:
        number = formcode.parse(code)
        if number:
            return number.upper(), ""
    if any(formcode.parse_kind(c) for c in codes):
        return None, "空白表单的二维码（没有编号），请按表上手写的编号归档"
    if codes:
        return None, "二维码不是本程序表单的编号或校验不符"
    return None, "没有找到可读的二维码"


def _check_page(page: ScanPageImage) -> None:
    if not page.data:
        raise ValidationError(FieldError("file", "扫描件", f"“{page.source}”第 {page.page} 页是空的"))
    if len(page.data) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            FieldError(
                "file",
                "扫描件",
                f"“{page.source}”第 {page.page} 页超过 {MAX_ATTACHMENT_BYTES // 1048576} MB 的上限",
            )
        )


# --- storing -----------------------------------------------------------------------------------------------


def _existing(s: Session, sha: str) -> tuple[str, str] | None:
    """(outcome detail, number) when a page with this SHA-256 is already filed or waiting in 未识别."""
    number = s.execute(
        select(VisitRecord.number)
        .join(VisitRecordAttachment, VisitRecordAttachment.record_id == VisitRecord.id)
        .join(Attachment, Attachment.id == VisitRecordAttachment.attachment_id)
        .where(Attachment.sha256 == sha)
        .limit(1)
    ).scalar()
    if number is not None:
        return "已在该记录的附件中", number
    waiting = s.execute(
        select(ScanPage.id)
        .join(Attachment, Attachment.id == ScanPage.attachment_id)
        .where(Attachment.sha256 == sha)
        .limit(1)
    ).scalar()
    if waiting is not None:
        return f"已在未识别列表（第 {waiting} 号）", ""
    return None


def _new_attachment(ctx: ServiceContext, name: str, kind: str, data: bytes) -> Attachment:
    clean_name = Path(clean_text(name)).name[:200] or "附件"
    mime = mimetypes.guess_type(clean_name)[0] or "application/octet-stream"
    return Attachment(
        name=clean_name,
        kind=kind,
        mime=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        created_by_id=ctx.user.id or None,
        created_at=ctx.now(),
    )


def _record_by_number(s: Session, number: str) -> VisitRecord | None:
    return (
        s.execute(select(VisitRecord).where(VisitRecord.number == number.strip().upper())).scalars().first()
    )


def _visible(ctx: ServiceContext, s: Session, rec: VisitRecord) -> bool:
    c = s.get(Customer, rec.customer_id)
    assert c is not None
    try:
        check_visible(ctx, c)
    except PermissionDenied:
        return False
    return True


def _file(
    s: Session, ctx: ServiceContext, rec: VisitRecord, a: Attachment, action: str, page: int | None
) -> None:
    """Link ``a`` to ``rec``; a scanned form of an on-site visit marks its 签字单 已回收 (audited)."""
    s.add(VisitRecordAttachment(record_id=rec.id, attachment_id=a.id))
    received = None
    if (
        a.kind == SCAN_KIND
        and rec.method == VisitMethod.ON_SITE.value
        and rec.signed_form_received_at is None
    ):
        rec.signed_form_received_at = ctx.now()
        received = rec.signed_form_received_at.isoformat(timespec="seconds")
    # page: the scanned page (None for a file attached by hand); signed_form_received_at: set by this page
    audit(
        s,
        ctx,
        action,
        "visit_record",
        rec.id,
        rec.number,
        new={
            "file": a.name,
            "kind": a.kind,
            "size": a.size,
            "sha256": a.sha256,
            "page": page,
            "signed_form_received_at": received,
        },
    )


def import_pages(ctx: ServiceContext, pages: Sequence[ScanPageImage]) -> ScanImportResult:
    """Read each page's form code and file it to its visit record (or to 未识别); all pages in one
    transaction, a page already stored (same SHA-256) is not stored again. A page that is not a readable
    image refuses the whole import (nothing saved) with a message naming its file and page."""
    ctx.require(Permission.EDIT_CUSTOMERS, "导入扫描件")
    if not pages:
        raise ValidationError(FieldError("file", "扫描件", "没有选择要导入的扫描件"))
    for page in pages:
        _check_page(page)
    codes = [_read_code(page) for page in pages]  # before the transaction: a bad page saves nothing
    out: list[PageOutcome] = []
    with ctx.sessions() as s, s.begin():
        for page, (number, reason) in zip(pages, codes, strict=True):
            sha = hashlib.sha256(page.data).hexdigest()
            seen = _existing(s, sha)
            if seen is not None:
                out.append(PageOutcome(page.source, page.page, DUPLICATE, seen[1], seen[0]))
                continue
            rec = _record_by_number(s, number) if number else None
            if number and rec is None:
                reason = f"编号 {number} 没有对应的回访记录"
            elif rec is not None and not _visible(ctx, s, rec):
                rec, reason = None, f"编号 {number} 的回访记录不在您的可见范围内"
            a = _new_attachment(ctx, page.name, SCAN_KIND, page.data)
            s.add(a)
            s.flush()
            if rec is not None:
                _file(s, ctx, rec, a, "归档签字单扫描件", page.page)
                out.append(PageOutcome(page.source, page.page, FILED, rec.number, ""))
            else:
                sp = ScanPage(
                    attachment_id=a.id,
                    source=Path(page.source).name[:200],
                    page=page.page,
                    reason=reason[:200],
                    created_by_id=ctx.user.id or None,
                    created_at=ctx.now(),
                )
                s.add(sp)
                s.flush()
                audit(
                    s,
                    ctx,
                    "扫描件未识别",
                    "scan_page",
                    sp.id,
                    f"{sp.source} 第 {sp.page} 页",
                    new={"file": a.name, "page": page.page, "reason": reason, "sha256": sha},
                )
                out.append(PageOutcome(page.source, page.page, UNRECOGNIZED, "", reason))
    return ScanImportResult(tuple(out))


def list_unfiled(ctx: ServiceContext) -> list[UnfiledPage]:
    """The 未识别 pages, oldest first."""
    ctx.require(Permission.EDIT_CUSTOMERS, "查看未识别的扫描件")
    with ctx.sessions() as s:
        q = (
            select(
                ScanPage.id,
                ScanPage.source,
                ScanPage.page,
                ScanPage.reason,
                ScanPage.created_at,
                Attachment.id,
                Attachment.size,
            )
            .join(Attachment, Attachment.id == ScanPage.attachment_id)
            .order_by(ScanPage.id)
        )
        return [UnfiledPage(*r) for r in s.execute(q)]


def unfiled_page_data(ctx: ServiceContext, page_id: int) -> tuple[str, bytes]:
    """The stored image of a 未识别 page (to look at it before filing)."""
    ctx.require(Permission.EDIT_CUSTOMERS, "查看未识别的扫描件")
    with ctx.sessions() as s:
        sp = s.get(ScanPage, page_id)
        if sp is None:
            raise NotFound(f"未识别列表中没有第 {page_id} 号扫描页。")
        return _data_of(s, sp.attachment_id)


def file_page(ctx: ServiceContext, page_id: int, number: str) -> str:
    """File a 未识别 page to the visit record with 编号 ``number`` (by hand); returns the 编号."""
    ctx.require(Permission.EDIT_CUSTOMERS, "归档扫描件")
    clean = clean_text(number).upper()
    if not clean:
        raise ValidationError(FieldError("number", "编号", "请填写回访记录的编号，如 HF20261124-001"))
    with ctx.sessions() as s, s.begin():
        sp = s.get(ScanPage, page_id)
        if sp is None:
            raise NotFound(f"未识别列表中没有第 {page_id} 号扫描页。")
        rec = _record_by_number(s, clean)
        if rec is None:
            raise ValidationError(FieldError("number", "编号", f"没有编号为 {clean} 的回访记录"))
        c = s.get(Customer, rec.customer_id)
        assert c is not None
        check_visible(ctx, c)
        a = s.get(Attachment, sp.attachment_id)
        assert a is not None
        if s.get(VisitRecordAttachment, (rec.id, a.id)) is None:
            _file(s, ctx, rec, a, "手工归档签字单扫描件", sp.page)
        s.delete(sp)
        return rec.number


# --- attachments by hand -----------------------------------------------------------------------------------


def _load_record(s: Session, ctx: ServiceContext, record_id: int) -> VisitRecord:
    rec = s.get(VisitRecord, record_id)
    if rec is None:
        raise NotFound(f"回访记录 {record_id} 不存在。")
    c = s.get(Customer, rec.customer_id)
    assert c is not None
    check_visible(ctx, c)
    return rec


def attach_to_record(ctx: ServiceContext, record_id: int, name: str, data: bytes, kind: str = "其他") -> int:
    """Keep a file (photo, recording, document …) in the database as an attachment of a visit record;
    returns the attachment id (the same file twice on one record is kept once)."""
    ctx.require(Permission.EDIT_CUSTOMERS, "添加附件")
    errors: list[FieldError] = []
    kind = clean_text(kind)
    if kind not in RECORD_ATTACHMENT_KINDS:
        errors.append(FieldError("kind", "附件类型", f"应为：{'、'.join(RECORD_ATTACHMENT_KINDS)}"))
    shown = Path(clean_text(name)).name
    if not shown:
        errors.append(FieldError("name", "文件名", "文件名不能为空"))
    if not data:
        errors.append(FieldError("file", "附件", f"文件“{shown}”是空的"))
    elif len(data) > MAX_ATTACHMENT_BYTES:
        errors.append(
            FieldError(
                "file",
                "附件",
                f"文件“{shown}”有 {len(data) / 1048576:.1f} MB，超过 "
                f"{MAX_ATTACHMENT_BYTES // 1048576} MB 的上限",
            )
        )
    if errors:
        raise ValidationError(errors)
    sha = hashlib.sha256(data).hexdigest()
    with ctx.sessions() as s, s.begin():
        rec = _load_record(s, ctx, record_id)
        same = s.execute(
            select(Attachment.id)
            .join(VisitRecordAttachment, VisitRecordAttachment.attachment_id == Attachment.id)
            .where(VisitRecordAttachment.record_id == rec.id, Attachment.sha256 == sha)
            .limit(1)
        ).scalar()
        if same is not None:
            return int(same)
        a = _new_attachment(ctx, shown, kind, data)
        s.add(a)
        s.flush()
        _file(s, ctx, rec, a, "添加附件", None)
        return a.id


def attach_file_to_record(ctx: ServiceContext, record_id: int, path: Path | str, kind: str = "其他") -> int:
    ctx.require(Permission.EDIT_CUSTOMERS, "添加附件")
    p = Path(path)
    try:
        if p.stat().st_size > MAX_ATTACHMENT_BYTES:
            raise ValidationError(
                FieldError("file", "附件", f"文件“{p.name}”超过 {MAX_ATTACHMENT_BYTES // 1048576} MB 的上限")
            )
        data = p.read_bytes()
    except OSError as exc:
        raise ServiceError(f"无法读取文件 {p}：{exc.strerror or exc}") from exc
    return attach_to_record(ctx, record_id, p.name, data, kind)


def record_attachments(ctx: ServiceContext, record_id: int) -> list[RecordAttachmentRow]:
    with ctx.sessions() as s:
        rec = _load_record(s, ctx, record_id)
        q = (
            select(Attachment.id, Attachment.name, Attachment.kind, Attachment.size, Attachment.created_at)
            .join(VisitRecordAttachment, VisitRecordAttachment.attachment_id == Attachment.id)
            .where(VisitRecordAttachment.record_id == rec.id)
            .order_by(Attachment.id)
        )
        return [RecordAttachmentRow(*r) for r in s.execute(q)]


def _data_of(s: Session, attachment_id: int) -> tuple[str, bytes]:
    a = s.get(Attachment, attachment_id)
    if a is None:
        raise NotFound(f"附件 {attachment_id} 不存在。")
    if hashlib.sha256(a.data).hexdigest() != a.sha256:
        raise ServiceError(f"附件“{a.name}”已损坏（校验值不符），请从备份恢复。")
    return a.name, bytes(a.data)


def record_attachment_data(ctx: ServiceContext, record_id: int, attachment_id: int) -> tuple[str, bytes]:
    """(file name, bytes) of an attachment of a visit record the user may see."""
    with ctx.sessions() as s:
        rec = _load_record(s, ctx, record_id)
        if s.get(VisitRecordAttachment, (rec.id, attachment_id)) is None:
            raise NotFound("该附件不在这条回访记录上。")
        return _data_of(s, attachment_id)


def detach_from_record(ctx: ServiceContext, record_id: int, attachment_id: int) -> None:
    ctx.require(Permission.EDIT_CUSTOMERS, "删除附件")
    with ctx.sessions() as s, s.begin():
        rec = _load_record(s, ctx, record_id)
        link = s.get(VisitRecordAttachment, (rec.id, attachment_id))
        if link is None:
            raise NotFound("该附件不在这条回访记录上。")
        a = s.get(Attachment, attachment_id)
        assert a is not None
        s.delete(link)
        s.flush()
        audit(s, ctx, "删除附件", "visit_record", rec.id, rec.number, old={"file": a.name, "kind": a.kind})
        if _unused(s, attachment_id):
            s.delete(a)


def _unused(s: Session, attachment_id: int) -> bool:
    from huifang_desktop.storage.models import ComplaintAttachment

    for table, column in (
        (VisitRecordAttachment, VisitRecordAttachment.attachment_id),
        (ComplaintAttachment, ComplaintAttachment.attachment_id),
        (ScanPage, ScanPage.attachment_id),
    ):
        if s.execute(select(func.count()).select_from(table).where(column == attachment_id)).scalar():
            return False
    return True


# --- reminders ---------------------------------------------------------------------------------------------


def unreturned_forms(ctx: ServiceContext, today: date | None = None) -> int:
    """On-site visits (in the user's scope) whose signed form has not come back ``signed_form_days`` days
    after the visit (the start-up reminder)."""
    today = today or ctx.today()
    days = load_settings(ctx).signed_form_days
    cutoff = datetime.combine(today - timedelta(days=days), datetime.min.time()) + timedelta(days=1)
    q = (
        select(func.count(VisitRecord.id))
        .select_from(VisitRecord)
        .join(Customer, Customer.id == VisitRecord.customer_id)
        .where(
            VisitRecord.method == VisitMethod.ON_SITE.value,
            VisitRecord.signed_form_received_at.is_(None),
            VisitRecord.visited_at < cutoff,
        )
    )
    q = customer_scope(ctx).where(q)
    with ctx.sessions() as s:
        return int(s.execute(q).scalar() or 0)


def scan_candidates(paths: Iterable[Path | str]) -> list[Path]:
    """The PDF/PNG/JPEG files among ``paths`` (a folder: its files, sorted by name)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.iterdir()
                    if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES | {PDF_SUFFIX}
                )
            )
        elif p.exists():
            if p.suffix.lower() not in IMAGE_SUFFIXES | {PDF_SUFFIX}:
                raise ValidationError(FieldError("file", "扫描件", f"“{p.name}”不是 PDF、PNG 或 JPEG 文件"))
            out.append(p)
        else:
            raise ValidationError(FieldError("file", "扫描件", f"文件不存在：{p}"))
    return out


__all__ = [
    "DUPLICATE",
    "FILED",
    "RECORD_ATTACHMENT_KINDS",
    "SCAN_KIND",
    "UNRECOGNIZED",
    "PageOutcome",
    "RecordAttachmentRow",
    "ScanImportResult",
    "ScanPageImage",
    "UnfiledPage",
    "attach_file_to_record",
    "attach_to_record",
    "detach_from_record",
    "file_page",
    "import_pages",
    "list_unfiled",
    "read_image_file",
    "record_attachment_data",
    "record_attachments",
    "scan_candidates",
    "unfiled_page_data",
    "unreturned_forms",
]
