"""客户台账: the customer files, by 客户编号 (or name, category, grade, region, status, 建档日期).

全部 holds every file the acting user sees, the archived ones too (状态 已归档, greyed); a status (正常, 流失…)
or 未归档 holds the files in use only, 已归档 the archived ones only. The title and the 说明 sheet say which
(:func:`huifang_desktop.services.ledgers.describe.archived_note`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from huifang_desktop.domain.customers import CUSTOMER_STATUSES
from huifang_desktop.domain.validation import format_phone
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.base import (
    _customer_scope,
    _keyset_after,
    _owner,
    _read_at,
    _Source,
    _Spec,
    _text,
    _text_ids,
)
from huifang_desktop.services.ledgers.model import (
    ARCHIVED,
    UNARCHIVED,
    ColumnType,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    LedgerRow,
    LedgerTotals,
    ReadAt,
    month_filter,
)
from huifang_desktop.services.settings import load_settings
from huifang_desktop.storage.models import Customer, User
from huifang_desktop.storage.queries import CUSTOMER_SORTS, CustomerFilter, customer_conditions

_T, _D, _I = ColumnType.TEXT, ColumnType.DATE, ColumnType.INT
MUTED_STATUSES = ("流失", "注销")


def _phone(row: Any, at: ReadAt) -> str:
    return format_phone(row.phone)


def _status(row: Any, at: ReadAt) -> str:
    return ARCHIVED if row.archived else row.status


class CustomerLedger(_Spec):
    ledger = Ledger.CUSTOMERS
    entity = "customer"
    date_label = "建档日期"
    kind_label = "类别"
    grade_label = "等级"
    default_sort = "code"
    columns = (
        LedgerColumn("code", "客户编号", _T, 11, sort="code"),
        LedgerColumn("name", "客户名称", _T, 28, sort="name"),
        LedgerColumn("kind", "类型", _T, 6, visible=False),
        LedgerColumn("category", "类别", _T, 9, sort="category"),
        LedgerColumn("grade", "等级", _T, 6, sort="grade"),
        LedgerColumn("contact", "联系人", _T, 10),
        LedgerColumn("phone", "电话", _T, 16, get=_phone),
        LedgerColumn("address", "地址", _T, 30, visible=False),
        LedgerColumn("region", "区域", _T, 9, sort="region"),
        LedgerColumn("source", "来源", _T, 9, visible=False),
        LedgerColumn("industry", "行业", _T, 10, visible=False),
        LedgerColumn("owner", "负责人", _T, 9, get=_text("owner")),
        LedgerColumn("status", "状态", _T, 7, sort="status", get=_status),
        LedgerColumn("created_on", "建档日期", _D, 12, sort="created_on"),
        LedgerColumn("annual_volume", "年采购量", _I, 10, total=True),
        LedgerColumn("notes", "备注", _T, 30, visible=False),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return (*CUSTOMER_STATUSES, UNARCHIVED, ARCHIVED)

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        return tuple(load_settings(ctx).categories)

    def _filter(self, ctx: ServiceContext, f: LedgerFilter) -> tuple[CustomerFilter, list[Any]]:
        """No state: every file, archived ones too; a status (正常, 流失…) or 未归档: the files not archived;
        已归档: only the archived ones (the title and the 说明 sheet say so: ``describe.archived_note``)."""
        limited, dep = _customer_scope(ctx)
        key, desc = self.sort_of(f)
        status = "" if f.state in (ARCHIVED, UNARCHIVED) else f.state
        cf = CustomerFilter(
            text=f.text,
            grade=f.grade,
            category=f.kind,
            owner_id=_owner(ctx, f),
            status=status,
            department_id=dep,
            department_scoped=limited,
            include_archived=f.state in ("", ARCHIVED),
            sort=key,
            descending=desc,
        )
        extra: list[Any] = []
        if f.state == ARCHIVED:
            extra.append(Customer.archived.is_(True))
        if f.start is not None:
            extra.append(Customer.created_on >= f.start)
        if f.end is not None:
            extra.append(Customer.created_on <= f.end)
        return cf, extra

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        cf, extra = self._filter(ctx, f)
        sort_col = CUSTOMER_SORTS.get(cf.sort, Customer.code)
        order = (sort_col, Customer.id)
        q = (
            select(
                Customer.id,
                Customer.code,
                Customer.name,
                Customer.kind,
                Customer.category,
                Customer.grade,
                Customer.primary_contact.label("contact"),
                Customer.primary_phone.label("phone"),
                Customer.address,
                Customer.region,
                Customer.source,
                Customer.industry,
                User.display_name.label("owner"),
                Customer.status,
                Customer.created_on,
                Customer.annual_volume,
                Customer.notes,
                Customer.archived,
                sort_col.label("sort_key"),
            )
            .outerjoin(User, User.id == Customer.owner_id)
            .where(*customer_conditions(cf, _text_ids(conn, cf.text)), *extra)
        )
        at = _read_at(ctx)

        read = self.reader(q)

        def convert(r: Any) -> LedgerRow:
            muted = r.archived or r.status in MUTED_STATUSES
            return LedgerRow(r.id, read(r, at), (r.sort_key, r.id), "muted" if muted else "", "customer")

        return [_Source(q, order, convert, _keyset_after(order))]

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        cf, extra = self._filter(ctx, f)
        q = select(
            func.count(Customer.id),
            func.coalesce(func.sum(Customer.annual_volume), 0),
            func.sum(case((Customer.archived.is_(True), 1), else_=0)),
        ).where(*customer_conditions(cf, _text_ids(conn, cf.text)), *extra)
        n, volume, archived = conn.execute(q).one()
        archived = int(archived or 0)
        among = f"（其中{ARCHIVED} {archived:,} 位）" if archived and f.state != ARCHIVED else ""
        return LedgerTotals(
            int(n),
            {"annual_volume": int(volume or 0)},
            f"共 {n:,} 位客户{among}，年采购量合计 {int(volume or 0):,}",
        )

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [("我的客户", LedgerFilter(mine=True)), ("本月新建档", month_filter(ctx.today()))]
