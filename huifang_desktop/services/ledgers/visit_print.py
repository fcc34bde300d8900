"""The printed 回访台账: a landscape table of the plans and visits of a period."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.model import Ledger, LedgerFilter, LedgerRow
from huifang_desktop.services.ledgers.reading import columns as ledger_columns_of
from huifang_desktop.services.ledgers.reading import stream as ledger_stream
from huifang_desktop.services.outputs import check_suffix, period_text
from huifang_desktop.services.printing.documents import (
    _CANCEL_EVERY,
    CancelCheck,
    PrintCancelled,
    PrintedDocument,
    PrintError,
    ProgressCallback,
    load_print_options,
    save_pdf,
)
from huifang_desktop.services.printing.rendering import _progress_adapter, _safe_name
from huifang_desktop.services.settings import load_settings

# --- 回访台账 (landscape table) -----------------------------------------------------------------------------

# The columns and rows are the 回访台账's own (services/ledgers/visit_ledger.py), as the 台账 tab shows them.
LEDGER_TITLE = Ledger.VISITS.value
DONE_COLUMN = next(
    c.label for c in ledger_columns_of(Ledger.VISITS) if c.key == "done"
)  # 已回访: 1 for a visit
# made, else 0: the 本页合计 / 总计 rows count the visits of a page
# Widths (mm on landscape A4, 273 mm between the margins) sized for the printed values at 8.5 pt: a number
# HF20261124-001 on one line, a date on one line, a visit time on two (date / time).
LEDGER_PRINT_WIDTHS: dict[str, float] = {
    "编号": 26,
    "客户编号": 19,
    "客户名称": 36,
    "等级": 8,
    "回访类型": 13,
    "回访方式": 11,
    "计划日期": 19,
    "回访时间": 19,
    "回访人": 11,
    "结果": 13,
    "满意度": 11,
    "状态": 14,
    "负责人": 11,
    "问题点": 23,
    "转交部门": 18,
    "签字单": 11,
    DONE_COLUMN: 10,
}
_CENTERED = frozenset({"等级", "回访类型", "回访方式", "结果", "满意度", "计划日期", "回访时间", "签字单"})


def ledger_columns() -> list[tuple[str, float, str]]:
    """The printed 回访台账: every column of the 回访台账, the counted 已回访 last."""
    return [
        (
            c.label,
            float(LEDGER_PRINT_WIDTHS.get(c.label, c.width)),
            "right" if c.label == DONE_COLUMN else "center" if c.label in _CENTERED else "left",
        )
        for c in ledger_columns_of(Ledger.VISITS)
    ]


def _ledger_print_rows(
    rows: Iterator[LedgerRow], limit: int, cancelled: CancelCheck | None
) -> Iterator[tuple[Any, ...]]:
    try:
        for n, row in enumerate(rows, start=1):
            if n > limit:
                raise ValidationError(
                    FieldError("period", "打印期间", f"台账超过 {limit} 行，请缩小日期范围后分批打印")
                )
            if cancelled is not None and n % _CANCEL_EVERY == 0 and cancelled():
                raise PrintCancelled("已取消打印，没有生成文件。")
            yield row.values
    finally:
        close = getattr(rows, "close", None)
        if close is not None:  # stopping early: the streamed query (a server cursor on PostgreSQL) is closed
            close()


# The printed 回访台账 (issue 22): 7.5 pt, tight rows — at least 20 rows a landscape page. Names (up to four
# characters and more), codes, dates, times and the short choices never wrap (their columns are as wide as
# their longest value); 客户名称, 状态, 问题点 and 转交部门 share the rest by their usual length and wrap to two
# lines at most, a longer text is cut (“…[n]”) and printed whole in the appendix after the table.
LEDGER_NOWRAP = frozenset(
    {
        "编号",
        "客户编号",
        "等级",
        "回访类型",
        "回访方式",
        "计划日期",
        "回访时间",
        "回访人",
        "结果",
        "满意度",
        "负责人",
        DONE_COLUMN,
    }
)


def _ledger_fit(appendix: bool) -> tuple[Any, Any]:
    from huifang_desktop.printing.render import TableFit, TableStyle

    style = TableStyle(
        font_size=7.5, header_font_size=8.0, title_size=14.0, leading=1.25, padding=0.6, min_row_height=4.6
    )
    return style, TableFit(
        nowrap=LEDGER_NOWRAP, max_lines=2, appendix=appendix, key_column="编号", alt_key=("客户编号",)
    )


def visit_ledger_pdf(
    ctx: ServiceContext,
    start: date | None = None,
    end: date | None = None,
    out: str | Path | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
    appendix: bool = True,
) -> PrintedDocument:
    """The 回访台账 of plans due (and unplanned visits made) in [start, end] as a landscape A4 table: the
    column header on every page, 本页合计 of visits made on each page and 总计 on the last. Column widths
    follow the content; texts longer than two lines are cut, their whole text in an appendix
    (``appendix=False``: left out)."""
    from huifang_desktop.printing import RenderCancelled, render_table

    ctx.require(Permission.EDIT_CUSTOMERS, "打印回访台账")
    if start is not None and end is not None and end < start:
        raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))
    if out is not None:
        check_suffix(Path(out), ".pdf", PrintError)  # before the work
    options = load_print_options(ctx)
    visits = ledger_stream(ctx, Ledger.VISITS, LedgerFilter(start=start, end=end))
    rows = list(_ledger_print_rows(visits, options.ledger_max_rows, cancelled))
    period = period_text(start, end)
    counted = [c.label for c in ledger_columns_of(Ledger.VISITS)].index(DONE_COLUMN)
    done = sum(r[counted] for r in rows)
    buffer = io.BytesIO()
    try:
        style, fit = _ledger_fit(appendix)
        pages = render_table(
            LEDGER_TITLE,
            ledger_columns(),
            rows,
            buffer,
            subtitle=f"计划日期：{period}　共 {len(rows)} 条，已回访 {done} 条",
            totals_columns=[DONE_COLUMN],
            company=load_settings(ctx).company,
            printed_at=ctx.now(),
            progress=_progress_adapter(progress, cancelled),
            style=style,
            fit=fit,
        )
    except RenderCancelled:
        raise PrintCancelled("已取消打印，没有生成文件。") from None
    tag = "全部" if period == "全部" else f"{start:%Y%m%d}" if start else "最早"
    tag += f"_{end:%Y%m%d}" if end else ""
    doc = PrintedDocument(
        buffer.getvalue(),
        pages,
        LEDGER_TITLE,
        f"回访台账（{period}）",
        _safe_name(f"回访台账_{tag}.pdf"),
        "visit_plan",
        None,
        f"回访台账 {period}",
        {"period": period, "rows": len(rows), "appendix": appendix},
    )
    if out is not None:
        save_pdf(ctx, doc, out)
    return doc
