"""Reading a ledger: its columns, what its filter bar offers, one page after a keyset cursor, the 合计 row, and
every row as a stream (for the export and the print)."""

from __future__ import annotations

from collections.abc import Generator
from heapq import merge
from typing import Any

from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import PermissionDenied, ServiceError
from huifang_desktop.services.ledgers import model
from huifang_desktop.services.ledgers.base import _ordered, _people, _Spec
from huifang_desktop.services.ledgers.complaint_ledger import ComplaintLedger
from huifang_desktop.services.ledgers.customer_ledger import CustomerLedger
from huifang_desktop.services.ledgers.end_customer_ledger import EndCustomerLedger
from huifang_desktop.services.ledgers.model import (
    PAGE_SIZE,
    Cursor,
    FilterChoices,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    LedgerPage,
    LedgerRow,
    LedgerTotals,
    load_options,
)
from huifang_desktop.services.ledgers.service_ledger import ServiceLedger
from huifang_desktop.services.ledgers.visit_ledger import VisitLedger

_SPECS: dict[Ledger, _Spec] = {
    spec.ledger: spec
    for spec in (CustomerLedger(), VisitLedger(), ComplaintLedger(), ServiceLedger(), EndCustomerLedger())
}
_EVERY = LedgerFilter()  # no filter: the whole ledger


def spec_of(ledger: Ledger) -> _Spec:
    """How ``ledger`` is made: its columns, choices, queries and totals."""
    return _SPECS[ledger]


def is_top_secret(ctx: ServiceContext, ledger: Ledger) -> bool:
    """The office grades ``ledger`` 绝密 (``LedgerOptions.top_secret``)."""
    return ledger.slug in load_options(ctx).top_secret


def _check_export(ctx: ServiceContext, ledger: Ledger, verb: str = "导出") -> None:
    """Export, print and print preview alike: the ledger's readers, and for a 绝密 ledger
    ``Permission.EXPORT_TOP_SECRET`` (what leaves the program on paper leaves it as surely as a file)."""
    ctx.require(Permission.EDIT_CUSTOMERS, f"{verb}{ledger.value}")
    if is_top_secret(ctx, ledger) and not ctx.may(Permission.EXPORT_TOP_SECRET):
        raise PermissionDenied(f"{ledger.value}属于绝密资料，{verb}需要主管或经理。")


def columns(ledger: Ledger) -> tuple[LedgerColumn, ...]:
    return _SPECS[ledger].columns


def named(ledger: Ledger, row: LedgerRow) -> dict[str, Any]:
    """The cells of one row of ``ledger`` by column key (``number``, ``state``, ``signed_form`` …): how code
    that is not a table reads a ledger row, instead of counting positions."""
    return {c.key: value for c, value in zip(_SPECS[ledger].columns, row.values, strict=True)}


def _read_allowed(ctx: ServiceContext, ledger: Ledger) -> None:
    ctx.require(Permission.EDIT_CUSTOMERS, f"查看{ledger.value}")


def choices(ctx: ServiceContext, ledger: Ledger) -> FilterChoices:
    spec = _SPECS[ledger]
    export_note = ""
    try:
        _check_export(ctx, ledger)
    except ServiceError as exc:
        export_note = str(exc)
    return FilterChoices(
        spec.date_label,
        spec.owner_label,
        _people(ctx),
        spec.state_label,
        spec.states(ctx),
        spec.kind_label,
        spec.kinds(ctx),
        spec.grade_label,
        spec.grades(ctx),
        tuple((c.sort, c.label) for c in spec.columns if c.sort),
        spec.default_sort,
        spec.default_descending,
        can_add=ledger is Ledger.SERVICES and can(ctx.user.role, Permission.EDIT_CUSTOMERS),
        can_export=not export_note,
        export_note=export_note,
    )


def page(
    ctx: ServiceContext,
    ledger: Ledger,
    f: LedgerFilter = _EVERY,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> LedgerPage:
    """One page of rows after the cursor (``None``: the first page), filtered and sorted in SQL."""
    _read_allowed(ctx, ledger)
    spec = _SPECS[ledger]
    spec.check(ctx, f)
    _key, descending = spec.sort_of(f)
    with ctx.sessions() as s:
        conn = s.connection()
        lists = []
        for src in spec.sources(ctx, f, conn):
            conds = [] if after is None else src.after(after, descending)
            if src.page_query is not None:
                q = src.page_query(conds, descending, limit + 1)
            else:
                q = _ordered(src.query.where(*conds), src.order, descending).limit(limit + 1)
            result = conn.execute(q)
            lists.append([src.convert(r) for r in result])
    rows = lists[0] if len(lists) == 1 else list(merge(*lists, key=lambda r: r.key, reverse=descending))
    return LedgerPage(tuple(rows[:limit]), len(rows) > limit)


def totals(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter = _EVERY) -> LedgerTotals:
    """The 合计 row of the filtered ledger, computed in SQL."""
    _read_allowed(ctx, ledger)
    spec = _SPECS[ledger]
    spec.check(ctx, f)
    with ctx.sessions() as s:
        return spec.totals(ctx, f, s.connection())


def stream(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter = _EVERY) -> Generator[LedgerRow, None, None]:
    """Every row of the filtered ledger in its order, read with a server cursor (closed when the reader
    stops early)."""
    _read_allowed(ctx, ledger)
    spec = _SPECS[ledger]
    spec.check(ctx, f)
    _key, descending = spec.sort_of(f)
    with ctx.engine.connect() as conn:
        srcs = spec.sources(ctx, f, conn)
        streamed = conn.execution_options(yield_per=model._STREAM_BATCH)
        results = [streamed.execute(_ordered(src.query, src.order, descending)) for src in srcs]
        try:
            streams = [map(src.convert, res) for src, res in zip(srcs, results, strict=True)]
            if len(streams) == 1:
                yield from streams[0]
            else:
                yield from merge(*streams, key=lambda r: r.key, reverse=descending)
        finally:
            for res in results:
                res.close()
