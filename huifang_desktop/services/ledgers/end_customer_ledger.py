"""终端客户信息台帐: the end customers (the categories the visit options name) with their purchases, one row per
purchase (a customer without purchases keeps one empty row), and the warranty of each. Archived customers are
left out (the title says so)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, or_, select
from sqlalchemy.orm import aliased

from huifang_desktop.domain.validation import clean_text, format_phone
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.base import (
    _NO_DAY,
    _keyset_after,
    _money,
    _owner,
    _read_at,
    _scope,
    _Source,
    _Spec,
    _text,
    _text_ids,
)
from huifang_desktop.services.ledgers.model import (
    IN_WARRANTY,
    NO_WARRANTY,
    OUT_OF_WARRANTY,
    ColumnType,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    LedgerRow,
    LedgerTotals,
    ReadAt,
    month_filter,
)
from huifang_desktop.storage.models import Customer, Purchase, User
from huifang_desktop.storage.queries import customer_text_condition

_T, _D, _I, _M = ColumnType.TEXT, ColumnType.DATE, ColumnType.INT, ColumnType.MONEY


def _warranty(row: Any, at: ReadAt) -> str:
    """在保 / 已过保 / 无质保 for a purchase, '' for a customer's empty row."""
    if row.day is None:
        return ""
    if row.warranty_end is None:
        return NO_WARRANTY
    return IN_WARRANTY if row.warranty_end >= at.today else OUT_OF_WARRANTY


def _phone(row: Any, at: ReadAt) -> str:
    return format_phone(row.phone)


def _units(row: Any, at: ReadAt) -> int:
    return int(row.units or 0)


class EndCustomerLedger(_Spec):
    ledger = Ledger.END_CUSTOMERS
    entity = "purchase"
    date_label = "购买日期"
    state_label = "质保状态"
    kind_label = "客户类别"
    grade_label = "等级"
    default_sort = "code"
    columns = (
        LedgerColumn("customer_code", "客户编号", _T, 11, sort="code"),
        LedgerColumn("customer_name", "客户名称", _T, 24, sort="name"),
        LedgerColumn("contact", "联系人", _T, 10),
        LedgerColumn("phone", "电话", _T, 16, get=_phone),
        LedgerColumn("address", "地址", _T, 28, visible=False),
        LedgerColumn("region", "区域", _T, 9),
        LedgerColumn("owner", "负责人", _T, 9, get=_text("owner")),
        LedgerColumn("grade", "等级", _T, 6, visible=False),
        LedgerColumn("day", "购买日期", _D, 12),
        LedgerColumn("purchase_kind", "购货/交货", _T, 8, visible=False, get=_text("purchase_kind")),
        LedgerColumn("product", "产品", _T, 18, get=_text("product")),
        LedgerColumn("spec", "规格型号", _T, 14, get=_text("spec")),
        LedgerColumn("quantity", "数量", _I, 7, total=True),
        LedgerColumn("amount", "金额", _M, 15, total=True),
        LedgerColumn("warranty_end", "质保到期", _D, 12),
        LedgerColumn("warranty", "质保状态", _T, 8, get=_warranty),
        LedgerColumn("units", "客户总台数", _I, 9, get=_units),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return (IN_WARRANTY, OUT_OF_WARRANTY, NO_WARRANTY)

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        from huifang_desktop.services.visits import load_options as visit_options

        return tuple(visit_options(ctx).end_customer_categories)

    def _conditions(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[Any]:
        today = ctx.today()
        cats = [f.kind] if f.kind else list(self.kinds(ctx))
        conds: list[Any] = [Customer.category.in_(cats), Customer.archived.is_not(True)]
        scope = _scope(ctx)
        if scope is not None:
            conds.append(scope)
        owner = _owner(ctx, f)
        if owner is not None:
            conds.append(Customer.owner_id == owner)
        if f.grade:
            conds.append(Customer.grade == f.grade)
        if f.start is not None:
            conds.append(Purchase.day >= f.start)
        if f.end is not None:
            conds.append(Purchase.day <= f.end)
        if f.state == IN_WARRANTY:
            conds.append(Purchase.warranty_end >= today)
        elif f.state == OUT_OF_WARRANTY:
            conds.append(Purchase.warranty_end < today)
        elif f.state == NO_WARRANTY:
            conds.append(Purchase.warranty_end.is_(None))
        text = clean_text(f.text)
        if text:
            ids = _text_ids(conn, text)
            cust = customer_text_condition(text) if ids is None else Customer.id.in_(ids)
            options = [Purchase.product.icontains(text, autoescape=True)]
            if cust is not None:
                options.append(cust)
            conds.append(or_(*options))
        return conds

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        at = _read_at(ctx)
        key, _desc = self.sort_of(f)
        # A customer's purchases by day (then as entered); a customer without purchases keeps one empty row.
        day, pid = func.coalesce(Purchase.day, _NO_DAY), func.coalesce(Purchase.id, 0)
        order: tuple[Any, ...] = (
            (Customer.initials, Customer.id, day, pid) if key == "name" else (Customer.code, day, pid)
        )
        keys = tuple(f"key{i}" for i in range(len(order)))
        other = aliased(Purchase)
        units = (
            select(func.coalesce(func.sum(other.quantity), 0))
            .where(other.customer_id == Customer.id)
            .scalar_subquery()
        )
        q = (
            select(
                Customer.id,
                Customer.code.label("customer_code"),
                Customer.name.label("customer_name"),
                Customer.primary_contact.label("contact"),
                Customer.primary_phone.label("phone"),
                Customer.address,
                Customer.region,
                User.display_name.label("owner"),
                Customer.grade,
                Purchase.day,
                Purchase.kind.label("purchase_kind"),
                Purchase.product,
                Purchase.spec,
                Purchase.quantity,
                Purchase.amount,
                Purchase.warranty_end,
                units.label("units"),
                *(column.label(name) for column, name in zip(order, keys, strict=True)),
            )
            .select_from(Customer)
            .outerjoin(Purchase, Purchase.customer_id == Customer.id)
            .outerjoin(User, User.id == Customer.owner_id)
            .where(*self._conditions(ctx, f, conn))
        )

        read = self.reader(q)

        def convert(r: Any) -> LedgerRow:
            muted = _warranty(r, at) == OUT_OF_WARRANTY
            return LedgerRow(
                r.id,
                read(r, at),
                tuple(getattr(r, name) for name in keys),
                "muted" if muted else "",
                "customer",
            )

        return [_Source(q, order, convert, _keyset_after(order))]

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        today = ctx.today()
        q = (
            select(
                func.count(),
                func.count(func.distinct(Customer.id)),
                func.coalesce(func.sum(Purchase.quantity), 0),
                func.sum(Purchase.amount),
                func.sum(case((Purchase.warranty_end >= today, 1), else_=0)),
            )
            .select_from(Customer)
            .outerjoin(Purchase, Purchase.customer_id == Customer.id)
            .where(*self._conditions(ctx, f, conn))
        )
        n, customers, qty, amount, warranty = conn.execute(q).one()
        amount = _money(amount)
        return LedgerTotals(
            int(n or 0),
            {"quantity": int(qty or 0), "amount": amount},
            f"共 {int(n or 0):,} 行，终端客户 {int(customers or 0):,} 位，合计 {int(qty or 0):,} 台，"
            f"金额 {amount:,.2f} 元，在保 {int(warranty or 0):,} 行",
        )

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [
            ("我的客户", LedgerFilter(mine=True)),
            ("在保", LedgerFilter(state=IN_WARRANTY)),
            ("本月购买", month_filter(ctx.today())),
        ]
