"""Empty forms to fill in by hand (回访记录表, 投诉处理表, 投诉查办单)."""

from __future__ import annotations

from pathlib import Path

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.printing.documents import PrintedDocument, _scale_levels
from huifang_desktop.services.printing.rendering import _form_document

# --- empty forms (written by hand) -----------------------------------------------------------------------

EMPTY_FORMS: dict[str, tuple[str, str]] = {  # kind -> (template, what the menu and messages call it)
    "record": ("visit_record", "回访记录表"),
    "complaint": ("complaint", "投诉处理表"),
    "inquiry": ("inquiry", "投诉查办单"),
}


def empty_form_pdf(
    ctx: ServiceContext, kind: str, out: str | Path | None = None, *, forms_dir: Path | None = None
) -> PrintedDocument:
    """An empty 回访记录表 (``record``), 投诉处理表 (``complaint``) or 投诉查办单 (``inquiry``) to fill in by
    hand — a visit or a walk-in complaint taken on paper, a 查办 written at a meeting: nothing pre-printed, the 编号 left to write in, no watermark; its QR code
    names the form kind only (domain/formcode.py ``encode_kind``)."""
    from huifang_desktop.printing import FormJob

    if kind not in EMPTY_FORMS:
        choices = "、".join(EMPTY_FORMS)
        raise ValidationError(FieldError("kind", "表单", f"“{kind}”不是可打印的空白表单（可选：{choices}）"))
    template, form = EMPTY_FORMS[kind]
    day = ctx.today()
    values = {"satisfaction_levels": list(_scale_levels(ctx))}  # the office's scale; nothing else printed
    return _form_document(
        ctx,
        template,
        [FormJob(values)],
        entity="form",
        entity_id=None,
        label=f"空白{form}",
        title=f"{form}（空白）",
        file_name=f"{form}_空白_{day:%Y%m%d}.pdf",
        detail={"empty": kind},
        forms_dir=forms_dir,
        out=out,
    )
