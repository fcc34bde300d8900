"""A ledger as an .xlsx workbook (:mod:`huifang_desktop.exports.ledger_xlsx`): title with company and what is
included, frozen header, widths, real dates and numbers, auto-filter, 合计 row and a 说明 sheet with the filter
and who exported when; progress and cancel for the GUI's worker thread; audited.

:func:`export` reads a ledger under the 台账 tab's :class:`LedgerFilter`; :func:`export_complaints` reads the
投诉台账 under the complaint register's own filter (the 投诉登记 tab's 导出台账 and ``export complaints``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.exports.ledger_xlsx import INTEGER_FORMAT, MONEY_FORMAT, XlsxColumn, write_ledger
from huifang_desktop.services.complaints import ComplaintFilter
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.ledgers import model
from huifang_desktop.services.ledgers.base import _ordered
from huifang_desktop.services.ledgers.complaint_ledger import ComplaintLedger
from huifang_desktop.services.ledgers.describe import (
    _register_narrowing,
    _title_text,
    archived_note,
    describe_filter,
    period_text,
)
from huifang_desktop.services.ledgers.model import (
    CancelledFn,
    ColumnType,
    ExportCancelled,
    ExportResult,
    Ledger,
    LedgerColumn,
    LedgerError,
    LedgerFilter,
    LedgerRow,
    ProgressFn,
)
from huifang_desktop.services.ledgers.reading import _check_export, columns, spec_of, stream, totals
from huifang_desktop.services.outputs import checked_target, write_failed
from huifang_desktop.services.settings import load_settings

_EVERY_COMPLAINT = ComplaintFilter()  # no filter: every complaint the acting user may see


def _chosen(ledger: Ledger, keys: Sequence[str] | None, *, default_all: bool = False) -> list[LedgerColumn]:
    """The columns named by ``keys`` in the ledger's order; None: the default columns (or every one)."""
    cols = columns(ledger)
    if keys is None:
        return [c for c in cols if default_all or c.visible]
    wanted = set(keys)
    picked = [c for c in cols if c.key in wanted]
    if not picked:
        raise ValidationError(FieldError("columns", "导出列", "至少选择一列"))
    return picked


def _xlsx_format(c: LedgerColumn) -> str:
    return MONEY_FORMAT if c.type is ColumnType.MONEY else INTEGER_FORMAT if c.type is ColumnType.INT else ""


def _user_label(ctx: ServiceContext) -> str:
    if ctx.user.id == 0:
        return "系统（命令行）"
    return f"{ctx.user.display_name}（{ctx.user.username}，{ctx.user.role.label}）"


def suggested_file_name(ledger: Ledger, f: LedgerFilter, suffix: str = ".xlsx") -> str:
    tag = period_text(f).replace(" 至 ", "_").replace(" ", "").replace("-", "")
    return f"{ledger.value}_{tag}{suffix}"


def _cells(
    rows: Iterator[LedgerRow],
    picked: Sequence[LedgerColumn],
    ledger: Ledger,
    total: int,
    progress: ProgressFn | None,
    cancelled: CancelledFn | None,
) -> Iterator[tuple[Any, ...]]:
    """The picked columns' cells of each row, by column key; progress and cancel every few hundred rows."""
    where = {c.key: i for i, c in enumerate(columns(ledger))}
    index = [where[c.key] for c in picked]
    every = index == list(range(len(where)))  # all columns in order: the row's own cells
    pick = itemgetter(*index) if len(index) > 1 else (lambda values: (values[index[0]],))
    try:
        for n, row in enumerate(rows, start=1):
            if n % model._CANCEL_EVERY == 0:
                if cancelled is not None and cancelled():
                    raise ExportCancelled("已取消导出，没有生成文件。")
                if progress is not None:
                    progress(n, total)
            yield row.values if every else pick(row.values)
    finally:
        close = getattr(rows, "close", None)
        if close is not None:  # stopping early: the streamed query (a server cursor) is closed
            close()


def _write(
    ctx: ServiceContext,
    ledger: Ledger,
    out: Path,
    rows: Iterator[LedgerRow],
    picked: Sequence[LedgerColumn],
    *,
    title_text: str,
    filter_notes: Sequence[tuple[str, str]],
    audit_filter: Any,
    total: int,
    progress: ProgressFn | None,
    cancelled: CancelledFn | None,
) -> ExportResult:
    if progress is not None:
        progress(0, total)
    company = load_settings(ctx).company
    notes = [
        ("台账", ledger.value),
        ("单位", company),
        *filter_notes,
        ("列", "、".join(c.label for c in picked)),
        ("导出人", _user_label(ctx)),
        ("导出时间", ctx.now()),
    ]
    xlsx_columns = [XlsxColumn(c.label, c.width, _xlsx_format(c), c.total) for c in picked]
    try:
        written = write_ledger(
            _cells(rows, picked, ledger, total, progress, cancelled),
            out,
            title=ledger.value,
            company=company,
            period_text=title_text,
            notes=notes,
            columns=xlsx_columns,
        )
    except OSError as exc:
        raise write_failed(out, exc, LedgerError) from exc
    if progress is not None:
        progress(written.rows, max(total, written.rows))
    with ctx.sessions() as s, s.begin():
        audit(
            s,
            ctx,
            f"导出{ledger.value}",
            spec_of(ledger).entity,
            None,
            out.name,
            new={"rows": written.rows, "filter": audit_filter, "file": str(out)},
        )
    return ExportResult(out, written.rows)


def export(
    ctx: ServiceContext,
    ledger: Ledger,
    f: LedgerFilter,
    path: Path | str,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
    *,
    columns_: Sequence[str] | None = None,
) -> ExportResult:
    """Write the filtered ledger (``columns_``: the keys to include; default the ledger's default columns) as
    an .xlsx workbook; ``progress(done, total)`` every few hundred rows; ``cancelled()`` True stops it with
    :class:`ExportCancelled` and no file. The export is logged (who, which ledger, filter, rows, file)."""
    _check_export(ctx, ledger)
    spec_of(ledger).check(ctx, f)
    out = checked_target(path, LedgerError, suffix=".xlsx")  # before the work
    # the 售后服务台账 export carries every field of the record (服务地点, 客户反馈, 跟进…, the phone: #20)
    picked = _chosen(ledger, columns_, default_all=ledger is Ledger.SERVICES)
    total = totals(ctx, ledger, f).count if progress is not None else 0
    note = archived_note(ledger, f)
    filter_notes = [
        *((f"筛选：{item}", value) for item, value in describe_filter(ctx, ledger, f)),
        *([("已归档客户", note)] if note else []),
    ]
    return _write(
        ctx,
        ledger,
        out,
        stream(ctx, ledger, f),
        picked,
        title_text=_title_text(ctx, ledger, f),
        filter_notes=filter_notes,
        audit_filter=f.to_dict(),
        total=total,
        progress=progress,
        cancelled=cancelled,
    )


def _register_rows(ctx: ServiceContext, spec: ComplaintLedger, f: ComplaintFilter) -> Iterator[LedgerRow]:
    """The 投诉台账 under the register's filter, oldest first, read with a server cursor."""
    with ctx.engine.connect() as conn:
        (src,) = spec.register_sources(ctx, f)
        result = conn.execution_options(yield_per=model._STREAM_BATCH).execute(
            _ordered(src.query, src.order, False)
        )
        try:
            yield from map(src.convert, result)
        finally:
            result.close()


def export_complaints(
    ctx: ServiceContext,
    path: Path | str,
    f: ComplaintFilter = _EVERY_COMPLAINT,
    *,
    columns_: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
) -> ExportResult:
    """The 投诉台账 under the complaint register's filter (several states, the message kind, 仅逾期 …), oldest
    first, as the 投诉登记 tab's 导出台账 and ``export complaints`` write it: the same columns as the 台账 tab's
    投诉台账 (``columns_``: the keys to include; default every column). Logged like :func:`export`."""
    ledger = Ledger.COMPLAINTS
    _check_export(ctx, ledger)
    if f.start is not None and f.end is not None and f.end < f.start:
        raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))
    out = checked_target(path, LedgerError, suffix=".xlsx")  # before the work
    spec = spec_of(ledger)
    assert isinstance(spec, ComplaintLedger)
    picked = _chosen(ledger, columns_, default_all=True)
    total = 0
    if progress is not None:
        with ctx.sessions() as s:
            total = spec.register_totals(ctx, f, s.connection()).count
    period = period_text(LedgerFilter(start=f.start, end=f.end))
    narrowed = _register_narrowing(ctx, f)
    filter_notes = [(f"筛选：{spec.date_label}", period), *(("筛选", item) for item in narrowed)]
    audit_filter = {"period": period, **({"filter": "；".join(narrowed)} if narrowed else {})}
    return _write(
        ctx,
        ledger,
        out,
        _register_rows(ctx, spec, f),
        picked,
        title_text="；".join([period, *narrowed]),
        filter_notes=filter_notes,
        audit_filter=audit_filter,
        total=total,
        progress=progress,
        cancelled=cancelled,
    )
