"""A ledger printed: a landscape A4 table (header on every page, 本页合计 and 总计 of the summed columns) with
column widths fitted to what is printed."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers import model
from huifang_desktop.services.ledgers.describe import period_text
from huifang_desktop.services.ledgers.export import _chosen, suggested_file_name
from huifang_desktop.services.ledgers.model import (
    CancelledFn,
    ColumnType,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    ProgressFn,
)
from huifang_desktop.services.ledgers.reading import (
    _check_export,
    columns,
    is_top_secret,
    spec_of,
    stream,
    totals,
)
from huifang_desktop.services.settings import load_settings

_EVERY = LedgerFilter()  # no filter: the whole ledger

PRINT_PAGE_WIDTH_MM = 297.0  # landscape A4
PRINT_SAMPLE_ROWS = 3000  # rows looked at to fit the columns
_PT_MM = 0.3528
_WRAP_FROM_MM = 45.0  # a text column wider than this may wrap (long text: problems, content, address)
_WRAP_MIN_MM = 24.0
_WRAP_MAX_MM = 80.0


def _text_mm(text: str, size_pt: float) -> float:
    """Printed width of ``text`` in the program's CJK font: full-width characters one em, others ~0.56 em."""
    em = size_pt * _PT_MM
    return sum(em if unicodedata.east_asian_width(ch) in "WF" else em * 0.56 for ch in text)


def _print_widths(
    columns_: Sequence[LedgerColumn], rows: Sequence[Sequence[Any]], totals_: Sequence[Any], style: Any = None
) -> list[float]:
    """Column widths (mm) for ``render_table``: every short column as wide as its widest value (dates,
    numbers, names on one line; the header may take two lines), long text columns share what is left and
    wrap. ``totals_``: the 总计 values, which must fit too."""
    from huifang_desktop.printing import TableStyle, format_value

    style = style or TableStyle()
    available = PRINT_PAGE_WIDTH_MM - 2 * style.margin
    pad = 2 * style.padding + 0.6
    needs: list[float] = []
    wraps: list[bool] = []
    sample = rows[:PRINT_SAMPLE_ROWS]
    for j, column in enumerate(columns_):
        widest = max((_text_mm(format_value(r[j]), style.font_size) for r in sample), default=0.0)
        if totals_[j] is not None:
            widest = max(widest, _text_mm(format_value(totals_[j]), style.font_size) * 1.08)  # bold
        half = column.label[: (len(column.label) + 1) // 2]  # the header may take two lines
        head = _text_mm(half, style.header_font_size) * 1.1
        wrap = column.type is ColumnType.TEXT and widest > _WRAP_FROM_MM
        width = min(widest, _WRAP_MAX_MM) if wrap else widest
        needs.append(max(width, head, _text_mm("四个", style.font_size)) + pad)
        wraps.append(wrap)
    fixed = sum(w for w, wrap in zip(needs, wraps, strict=True) if not wrap)
    wrapped = sum(w for w, wrap in zip(needs, wraps, strict=True) if wrap)
    if fixed + wrapped <= available or not wrapped:
        return needs  # render_table spreads the spare width (or squeezes, when nothing can wrap)
    room = available - fixed
    if room < _WRAP_MIN_MM * wraps.count(True):
        return [_WRAP_MIN_MM if wrap else w for w, wrap in zip(needs, wraps, strict=True)]
    return [
        max(_WRAP_MIN_MM, room * w / wrapped) if wrap else w for w, wrap in zip(needs, wraps, strict=True)
    ]


def print_document(
    ctx: ServiceContext,
    ledger: Ledger,
    f: LedgerFilter = _EVERY,
    *,
    columns_: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
    out: Path | str | None = None,
) -> Any:
    """The filtered ledger as a landscape A4 table (header on every page, 本页合计 / 总计 of the summed
    columns), for the print preview; a ``PrintedDocument`` of :mod:`huifang_desktop.services.printing`.
    Longer than the office's ``ledger_max_rows`` is refused before anything is read."""
    from huifang_desktop.printing import RenderCancelled, render_table
    from huifang_desktop.services.printing import (
        PrintCancelled,
        PrintedDocument,
        load_print_options,
        save_pdf,
    )

    _check_export(ctx, ledger, "打印")
    spec = spec_of(ledger)
    spec.check(ctx, f)
    shown = _chosen(ledger, columns_)
    where = {c.key: i for i, c in enumerate(columns(ledger))}
    index = [where[c.key] for c in shown]
    summary = totals(ctx, ledger, f)
    limit = load_print_options(ctx).ledger_max_rows
    if summary.count > limit:
        raise ValidationError(
            FieldError(
                "period",
                "打印范围",
                f"台账共 {summary.count} 行，超过打印上限 {limit} 行，请缩小筛选范围后分批打印",
            )
        )
    rows: list[tuple[Any, ...]] = []
    source = stream(ctx, ledger, f)
    try:
        for n, row in enumerate(source, start=1):
            if n % model._CANCEL_EVERY == 0 and cancelled is not None and cancelled():
                raise PrintCancelled("已取消打印，没有生成文件。")
            rows.append(tuple(row.values[i] for i in index))
    finally:
        source.close()

    def step(done: int, pages: int) -> bool:
        if progress is not None:
            progress(done, pages)
        return not (cancelled is not None and cancelled())

    widths = _print_widths(shown, rows, [summary.values.get(c.key) for c in shown])
    dated = (ColumnType.DATE, ColumnType.DATETIME)
    table_cols = [
        (c.label, w, "right" if c.numeric else "center" if c.type in dated else "left")
        for c, w in zip(shown, widths, strict=True)
    ]
    period = period_text(f)
    buffer = io.BytesIO()
    try:
        pages = render_table(
            ledger.value,
            table_cols,
            rows,
            buffer,
            subtitle=f"{spec.date_label}：{period}　{summary.summary}",
            totals_columns=[c.label for c in shown if c.total],
            company=load_settings(ctx).company,
            printed_at=ctx.now(),
            progress=step,
        )
    except RenderCancelled:
        raise PrintCancelled("已取消打印，没有生成文件。") from None
    doc = PrintedDocument(
        buffer.getvalue(),
        pages,
        ledger.value,
        f"{ledger.value}（{period}）",
        suggested_file_name(ledger, f, ".pdf"),
        spec.entity,
        None,
        f"{ledger.value} {period}",
        {"filter": f.to_dict(), "rows": len(rows)},
        top_secret=is_top_secret(ctx, ledger),
    )
    if out is not None:
        save_pdf(ctx, doc, out)
    return doc
