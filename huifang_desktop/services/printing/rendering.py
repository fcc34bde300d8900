"""From a template and values to a PDF: the office's templates, progress and cancel, the stamp."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from huifang_desktop.services import signing
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.outputs import check_suffix
from huifang_desktop.services.printing.documents import (
    CancelCheck,
    PrintCancelled,
    PrintedDocument,
    PrintError,
    PrintOptions,
    ProgressCallback,
    save_pdf,
)
from huifang_desktop.services.settings import load_settings

# --- rendering -----------------------------------------------------------------------------------------

_office_forms_dir: Path | None = None


def use_forms_dir(folder: Path | None) -> None:
    """The office's own templates (``forms/`` in the data folder), set once at start by the program;
    a call that passes ``forms_dir`` itself still wins."""
    global _office_forms_dir
    _office_forms_dir = folder


def _template(name: str, forms_dir: Path | None) -> Any:
    from huifang_desktop.printing import TemplateError, load_template

    try:
        return load_template(name, forms_dir if forms_dir is not None else _office_forms_dir)
    except TemplateError as exc:
        raise PrintError(f"表单模板有误，无法打印：{exc}") from exc


def _progress_adapter(
    progress: ProgressCallback | None, cancelled: CancelCheck | None
) -> Callable[[int, int], bool] | None:
    if progress is None and cancelled is None:
        return None

    def step(done: int, total: int) -> bool:
        if progress is not None:
            progress(done, total)
        return not (cancelled is not None and cancelled())

    return step


def _form_document(
    ctx: ServiceContext,
    template_name: str,
    jobs: Sequence[Any],
    *,
    entity: str,
    entity_id: int | None,
    label: str,
    title: str,
    file_name: str,
    detail: Mapping[str, Any] | None = None,
    forms_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
    out: str | Path | None = None,
    company: str | None = None,
) -> PrintedDocument:
    """Render ``jobs`` (:class:`~huifang_desktop.printing.FormJob`) into one PDF; ``out``: also save it.
    ``company``: the office's name when the caller has read the settings already."""
    from huifang_desktop.printing import RenderCancelled, render_forms

    if out is not None:
        check_suffix(Path(out), ".pdf", PrintError)  # before the work
    template = _template(template_name, forms_dir)
    buffer = io.BytesIO()
    try:
        if company is None:
            company = load_settings(ctx).company
        pages = render_forms(
            template,
            jobs,
            buffer,
            company=company,
            printed_at=ctx.now(),
            progress=_progress_adapter(progress, cancelled),
        )
    except RenderCancelled:
        raise PrintCancelled("已取消打印，没有生成文件。") from None
    except ValueError as exc:  # a row of the office's template that no page can hold
        raise PrintError(f"无法打印{template.title}：{exc}") from exc
    doc = PrintedDocument(
        buffer.getvalue(),
        pages,
        template.title,
        title,
        _safe_name(file_name),
        entity,
        entity_id,
        label,
        dict(detail or {}),
    )
    if out is not None:
        save_pdf(ctx, doc, out)
    return doc


def _safe_name(name: str) -> str:
    """A file name any system accepts (no / \\ : * ? " < > |)."""
    return "".join("_" if ch in '/\\:*?"<>|' else ch for ch in name).strip() or "打印.pdf"


def _signature(options: PrintOptions, signer: str | None, signed_at: datetime | None, role: str = "") -> Any:
    """The stamp (已审阅) with signer and date; ``role`` (客服主管, 公司经理) is added to the signer's name."""
    from huifang_desktop.printing import SignatureInfo

    if not signer or signed_at is None:
        return None
    return SignatureInfo(signer, signed_at, options.signoff_role)


def _signer_keys(s: Session) -> signing.SignerKeys:
    """The signers' registered keys of this database, kept from one printout to the next (each form opens
    its own session; :class:`~huifang_desktop.services.signing.SignerKeys` says why that stays correct)."""
    bind = s.get_bind()
    return signing.shared_keys(bind.engine if isinstance(bind, Connection) else bind)


def _tampered(s: Session, kind: str, item_id: int) -> bool:
    """签字后被修改: the stored row no longer matches the hashes taken when it was signed."""
    from huifang_desktop.domain.signoff import Integrity
    from huifang_desktop.services.review import integrity_of

    return integrity_of(s, kind, item_id, _signer_keys(s)) is Integrity.TAMPERED
