"""Printing settings, the printed document and where it goes: files, the printer, the audit log."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.visits import DEFAULT_SCALE, SATISFACTION_SCALES, PlanState
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import PermissionDenied, ServiceError
from huifang_desktop.services.outputs import check_suffix
from huifang_desktop.services.outputs import os_reason as _os_reason
from huifang_desktop.services.policy import SCALE_KEY
from huifang_desktop.services.settings import (
    SETTINGS_KEY,
    OfficeSettings,
    set_value,
    settings_from,
    value_in,
    values_in,
)

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

PRINT_ACTION = "打印"
OUTPUT_PRINTER = "打印机"
OUTPUT_FILE = "PDF 文件"
OPTIONS_KEY = "print_options"

VISIT_RECORD_FORM = "visit_record"
VISIT_REPORT_FORM = "visit_report"

_CHUNK = 500  # ids per IN (…) look-up
_CANCELLED = PlanState.CANCELLED.value
_CANCEL_EVERY = 1000  # ledger rows read between two looks at the cancel button


@dataclass(frozen=True, slots=True)
class PrintOptions:
    """Office settings of printing (key ``print_options``); every value is a default.

    ``watermark_unsigned``: forms not signed off print the 草稿 watermark. ``signoff_role``: the word of the
    sign-off stamp (已审阅). ``ledger_max_rows``: a ledger longer than this is refused (narrow the dates).
    """

    watermark_unsigned: bool = True
    signoff_role: str = "审阅"
    ledger_max_rows: int = 20000

    def __post_init__(self) -> None:
        if self.ledger_max_rows < 1:
            raise ValidationError(FieldError("ledger_max_rows", "台账打印上限", "至少为 1 行"))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrintOptions:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def load_print_options(ctx: ServiceContext) -> PrintOptions:
    with ctx.sessions() as s:
        return print_options_in(s)


def print_options_in(s: Session) -> PrintOptions:
    return _print_options_from(value_in(s, OPTIONS_KEY))


def _print_options_from(data: Any) -> PrintOptions:
    return PrintOptions.from_dict(data) if isinstance(data, dict) else PrintOptions()


def _print_settings_in(s: Session) -> tuple[PrintOptions, OfficeSettings, tuple[str, ...]]:
    """The printing options, the office settings (its name, the visibility rule) and the levels of its
    satisfaction scale (满意度, best first), in one query."""
    stored = values_in(s, (OPTIONS_KEY, SETTINGS_KEY, SCALE_KEY))
    scale = SATISFACTION_SCALES.get(str(stored.get(SCALE_KEY, DEFAULT_SCALE.key)), DEFAULT_SCALE)
    return _print_options_from(stored.get(OPTIONS_KEY)), settings_from(stored.get(SETTINGS_KEY)), scale.levels


def _scale_levels(ctx: ServiceContext) -> tuple[str, ...]:
    with ctx.sessions() as s:
        return _print_settings_in(s)[2]


def save_print_options(ctx: ServiceContext, options: PrintOptions) -> None:
    """Store the office's printing settings (supervisor and up; audited by ``set_value``)."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改打印设置")
    set_value(ctx, OPTIONS_KEY, options.to_dict(), what="打印设置")


class PrintError(ServiceError):
    """A document that cannot be made or written; the message names the form or the file."""


class PrintCancelled(ServiceError):
    """The user cancelled a batch; nothing was written or logged."""


@dataclass(frozen=True, slots=True)
class PrintedDocument:
    """One PDF ready for the preview, the printer or a file, with what the audit row says about it."""

    pdf: bytes
    pages: int
    form: str  # 回访记录表 / 回访报告表 / 回访台账
    title: str  # window title of the preview
    file_name: str  # suggested file name
    entity: str  # audit: table
    entity_id: int | None  # audit: row (None for a batch)
    label: str  # audit: what was printed, e.g. "HF20261124-001 KH000001 甲公司"
    detail: Mapping[str, Any] = field(default_factory=dict)  # audit: extra (ids of a batch, period …)
    top_secret: bool = False  # a 绝密 ledger: printed or saved only with Permission.EXPORT_TOP_SECRET


# --- files and the audit log ---------------------------------------------------------------------------


def write_pdf(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (a temp file renamed when complete); no audit.

    Raises :class:`PrintError` in Chinese naming the file (disk full, no permission, missing folder …).
    """
    target = Path(path)
    try:
        folder = target.is_dir()
    except OSError as exc:  # a name too long for the file system …
        raise PrintError(f"无法保存文件 {target}：{_os_reason(exc)}。请换一个位置或文件名后重试。") from exc
    if folder:
        raise PrintError(f"无法保存 {target}：这是一个文件夹，请给出文件名。")
    check_suffix(target, ".pdf", PrintError)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise PrintError(f"无法保存文件 {target}：{_os_reason(exc)}。请换一个位置或文件名后重试。") from exc
    return target


def may_output(ctx: ServiceContext, doc: PrintedDocument) -> bool:
    """The acting user may print or save ``doc`` (a 绝密 document needs Permission.EXPORT_TOP_SECRET)."""
    return not doc.top_secret or ctx.may(Permission.EXPORT_TOP_SECRET)


def check_output(ctx: ServiceContext, doc: PrintedDocument) -> None:
    """PermissionDenied unless :func:`may_output`."""
    if not may_output(ctx, doc):
        raise PermissionDenied(f"{doc.form}属于绝密资料，打印或另存为 PDF 需要主管或经理。")


def log_output(ctx: ServiceContext, doc: PrintedDocument, output: str, target: str = "") -> None:
    """Log a document that left the program: ``output`` is 打印机 or PDF 文件, ``target`` the printer or path."""
    check_output(ctx, doc)
    with ctx.sessions() as s, s.begin():
        audit(
            s,
            ctx,
            PRINT_ACTION,
            doc.entity,
            doc.entity_id,
            doc.label,
            new={"form": doc.form, "pages": doc.pages, "output": output, "target": target, **doc.detail},
        )


def save_pdf(ctx: ServiceContext, doc: PrintedDocument, path: str | Path) -> Path:
    """Write the document to ``path`` and log it (the command line's and the tests' way to print)."""
    check_output(ctx, doc)
    target = write_pdf(path, doc.pdf)
    log_output(ctx, doc, OUTPUT_FILE, str(target))
    return target


def font_file() -> Path:
    """The CJK font the PDFs embed (the preview draws their text with it)."""
    from huifang_desktop.printing.fonts import font_path

    return font_path()
