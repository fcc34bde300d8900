"""Attachments: files kept inside the database, linked to one or more complaints (a 公开信 answers many)."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.validation import (
    clean_text,
)
from huifang_desktop.services.complaints.common import (
    _check_can_work,
    _check_unlocked,
    _choice,
    _event,
    _label,
    _load,
)
from huifang_desktop.services.complaints.model import ATTACHMENT_KINDS, MAX_ATTACHMENT_BYTES, ComplaintDetail
from huifang_desktop.services.complaints.reading import _detail
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import (
    NotFound,
    ServiceError,
)
from huifang_desktop.storage.models import (
    Attachment,
    ComplaintAttachment,
)

# --- attachments -------------------------------------------------------------------------------------


def attach(
    ctx: ServiceContext, complaint_ids: Sequence[int], name: str, data: bytes, kind: str = "其他"
) -> int:
    """Store a file inside the database and link it to one or more complaints (a 公开信 answers many).
    Returns the attachment id. Closed/withdrawn complaints cannot get new attachments."""
    ctx.require(Permission.EDIT_CUSTOMERS, "添加附件")
    errors: list[FieldError] = []
    kind = _choice(kind, ATTACHMENT_KINDS, "附件类型", "kind", errors)
    clean_name = Path(clean_text(name)).name[:200]
    if not clean_name:
        errors.append(FieldError("name", "文件名", "文件名不能为空"))
    if not data:
        errors.append(FieldError("file", "附件", f"文件“{clean_name}”是空的"))
    elif len(data) > MAX_ATTACHMENT_BYTES:
        errors.append(
            FieldError(
                "file",
                "附件",
                f"文件“{clean_name}”有 {len(data) / 1048576:.1f} MB，"
                f"超过 {MAX_ATTACHMENT_BYTES // 1048576} MB 的上限；请压缩或扫描成较小的 PDF",
            )
        )
    if not complaint_ids:
        errors.append(FieldError("complaints", "投诉", "请选择要附加到的投诉"))
    if errors:
        raise ValidationError(errors)
    mime = mimetypes.guess_type(clean_name)[0] or "application/octet-stream"
    with ctx.sessions() as s, s.begin():
        targets = [_load(s, ctx, cid) for cid in dict.fromkeys(complaint_ids)]
        for c in targets:
            _check_can_work(ctx, c, "添加附件")
            _check_unlocked(c, "不能再添加附件")
        a = Attachment(
            name=clean_name,
            kind=kind,
            mime=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            created_by_id=ctx.user.id or None,
            created_at=ctx.now(),
        )
        s.add(a)
        s.flush()
        for c in targets:
            s.add(ComplaintAttachment(complaint_id=c.id, attachment_id=a.id))
            c.updated_at = ctx.now()
            _event(
                s,
                ctx,
                c,
                "添加附件",
                note=f"{kind}：{clean_name}"
                + (f"（同时附于 {len(targets)} 件投诉）" if len(targets) > 1 else ""),
            )
            audit(
                s,
                ctx,
                "添加附件",
                "complaint",
                c.id,
                _label(c),
                new={"file": clean_name, "kind": kind, "size": len(data), "sha256": a.sha256},
            )
        return a.id


def attach_file(
    ctx: ServiceContext, complaint_ids: Sequence[int], path: Path | str, kind: str = "其他"
) -> int:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_ATTACHMENT_BYTES:
            raise ValidationError(
                FieldError(
                    "file",
                    "附件",
                    f"文件“{p.name}”有 {size / 1048576:.1f} MB，超过 "
                    f"{MAX_ATTACHMENT_BYTES // 1048576} MB 的上限",
                )
            )
        data = p.read_bytes()
    except OSError as exc:
        raise ServiceError(f"无法读取文件 {p}：{exc.strerror or exc}") from exc
    return attach(ctx, complaint_ids, p.name, data, kind)


def attachment_data(ctx: ServiceContext, attachment_id: int) -> tuple[str, bytes]:
    with ctx.sessions() as s:
        a = s.get(Attachment, attachment_id)
        if a is None:
            raise NotFound(f"附件 {attachment_id} 不存在。")
        linked = (
            s.execute(
                select(ComplaintAttachment.complaint_id).where(ComplaintAttachment.attachment_id == a.id)
            )
            .scalars()
            .first()
        )
        if linked is not None:
            _load(s, ctx, linked, reading=True)  # visibility
        if hashlib.sha256(a.data).hexdigest() != a.sha256:
            raise ServiceError(f"附件“{a.name}”已损坏（校验值不符），请从备份恢复。")
        return a.name, bytes(a.data)


def detach(ctx: ServiceContext, complaint_id: int, attachment_id: int) -> ComplaintDetail:
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_can_work(ctx, c, "删除附件")
        _check_unlocked(c, "附件不能删除")
        link = s.get(ComplaintAttachment, (c.id, attachment_id))
        if link is None:
            raise NotFound("该附件不在这件投诉上。")
        a = s.get(Attachment, attachment_id)
        assert a is not None
        s.delete(link)
        s.flush()
        still = s.execute(
            select(ComplaintAttachment.complaint_id).where(ComplaintAttachment.attachment_id == attachment_id)
        ).first()
        _event(s, ctx, c, "删除附件", note=f"{a.kind}：{a.name}")
        audit(s, ctx, "删除附件", "complaint", c.id, _label(c), old={"file": a.name, "kind": a.kind})
        if still is None:
            s.delete(a)
        s.flush()
        return _detail(s, ctx, c)
