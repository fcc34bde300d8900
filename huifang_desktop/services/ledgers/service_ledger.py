"""售后服务台账: the after-sales service records (:mod:`huifang_desktop.services.service_records`) as a ledger,
with the repair's follow-up visit (维修回访) next to each."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.orm import aliased

from huifang_desktop.domain.validation import format_phone
from huifang_desktop.domain.visits import PlanState, display_state
from huifang_desktop.services import service_records
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.base import (
    _keyset_after,
    _money,
    _read_at,
    _Source,
    _Spec,
    _text,
    _uses,
)
from huifang_desktop.services.ledgers.model import (
    ColumnType,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    LedgerRow,
    LedgerTotals,
    ReadAt,
    month_filter,
)
from huifang_desktop.storage.models import Customer, ServiceRecord, User, VisitPlan

_T, _D, _DT, _I, _M = ColumnType.TEXT, ColumnType.DATE, ColumnType.DATETIME, ColumnType.INT, ColumnType.MONEY


def _phone(row: Any, at: ReadAt) -> str:
    """The customer's phone as the office writes it (the ledger carries every field of the record, #20)."""
    return format_phone(row.phone or "")


def _visit(row: Any, at: ReadAt) -> str:
    """The repair's follow-up visit: its state, with its day until it is made; '' without one."""
    if row.plan_state is None:
        return ""
    state = display_state(row.plan_state, row.plan_due, at.today)
    return state if state == PlanState.DONE.value else f"{state}（{row.plan_due:%Y-%m-%d}）"


class ServiceLedger(_Spec):
    ledger = Ledger.SERVICES
    entity = "service_record"
    date_label = "服务日期"
    kind_label = "服务类型"
    default_descending = True
    columns = (
        LedgerColumn("number", "服务单号", _T, 16, sort="number"),
        LedgerColumn("served_on", "服务日期", _D, 12, sort="date"),
        LedgerColumn("customer_code", "客户编号", _T, 11, visible=False),
        LedgerColumn("customer_name", "客户名称", _T, 24),
        LedgerColumn("phone", "联系电话", _T, 14, visible=False, get=_phone),
        LedgerColumn("kind", "服务类型", _T, 8),
        LedgerColumn("place", "服务地点/项目", _T, 20, visible=False),
        LedgerColumn("product", "产品", _T, 16),
        LedgerColumn("serial_no", "序列号", _T, 14),
        LedgerColumn("problem", "故障/问题", _T, 28),
        LedgerColumn("content", "服务内容", _T, 32),
        LedgerColumn("parts", "更换配件", _T, 18, visible=False),
        LedgerColumn("parts_quantity", "配件数量", _I, 8, total=True, visible=False),
        LedgerColumn("parts_amount", "配件金额", _M, 12, total=True),
        LedgerColumn("cost", "服务费用", _M, 12, total=True),
        LedgerColumn("technician", "服务人员", _T, 9),
        LedgerColumn("handler", "负责人", _T, 9, visible=False, get=_text("handler")),
        LedgerColumn("result", "服务结果", _T, 20),
        LedgerColumn("feedback", "客户反馈", _T, 20, visible=False),
        LedgerColumn("satisfaction", "满意度", _T, 8, visible=False),
        LedgerColumn("status", "状态", _T, 8),
        LedgerColumn("completed_on", "完成日期", _D, 12, visible=False),
        LedgerColumn("follow_up_at", "跟进时间", _DT, 17, visible=False),
        LedgerColumn("follow_up_by", "跟进人员", _T, 9, visible=False),
        LedgerColumn("follow_up_result", "跟进结果", _T, 9),
        LedgerColumn("visit", "维修回访", _T, 18, get=_visit),
        LedgerColumn("notes", "备注", _T, 24, visible=False),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return service_records.STATUSES

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        return service_records.load_options(ctx).kinds

    def _filter(self, ctx: ServiceContext, f: LedgerFilter) -> service_records.ServiceFilter:
        key, desc = self.sort_of(f)
        return service_records.ServiceFilter(
            text=f.text,
            start=f.start,
            end=f.end,
            kinds=frozenset({f.kind} if f.kind else ()),
            statuses=frozenset({f.state} if f.state else ()),
            handler_id=f.owner_id,
            mine=f.mine,
            grade=f.grade,
            sort="number" if key == "number" else "served_on",
            descending=desc,
        )

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        at = _read_at(ctx)
        sf = self._filter(ctx, f)
        sort_col = service_records.SERVICE_SORTS[sf.sort]
        handler = aliased(User)
        q = (
            select(
                ServiceRecord.id,
                ServiceRecord.number,
                ServiceRecord.served_on,
                Customer.code.label("customer_code"),
                Customer.name.label("customer_name"),
                Customer.primary_phone.label("phone"),
                ServiceRecord.kind,
                ServiceRecord.place,
                ServiceRecord.product,
                ServiceRecord.serial_no,
                ServiceRecord.problem,
                ServiceRecord.content,
                ServiceRecord.parts,
                ServiceRecord.parts_quantity,
                ServiceRecord.parts_amount,
                ServiceRecord.cost,
                ServiceRecord.technician,
                handler.display_name.label("handler"),
                ServiceRecord.result,
                ServiceRecord.feedback,
                ServiceRecord.satisfaction,
                ServiceRecord.status,
                ServiceRecord.completed_on,
                ServiceRecord.follow_up_at,
                ServiceRecord.follow_up_by,
                ServiceRecord.follow_up_result,
                VisitPlan.state.label("plan_state"),
                VisitPlan.due.label("plan_due"),
                ServiceRecord.notes,
                sort_col.label("sort_key"),
            )
            .join(Customer, Customer.id == ServiceRecord.customer_id)
            .outerjoin(handler, handler.id == ServiceRecord.handler_id)
            .outerjoin(VisitPlan, VisitPlan.id == ServiceRecord.visit_plan_id)
            .where(*service_records.service_conditions(ctx, sf, service_records.text_ids(conn, sf.text)))
        )
        order = (sort_col, ServiceRecord.id)

        read = self.reader(q)

        def convert(r: Any) -> LedgerRow:
            flag = "muted" if r.status == service_records.ServiceStatus.CANCELLED.value else ""
            return LedgerRow(r.id, read(r, at), (r.sort_key, r.id), flag, "service_record")

        return [_Source(q, order, convert, _keyset_after(order))]

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        sf = self._filter(ctx, f)
        conds = service_records.service_conditions(ctx, sf, service_records.text_ids(conn, sf.text))
        q = (
            select(
                func.count(ServiceRecord.id),
                func.sum(
                    case((ServiceRecord.status == service_records.ServiceStatus.DONE.value, 1), else_=0)
                ),
                func.coalesce(func.sum(ServiceRecord.parts_quantity), 0),
                func.sum(ServiceRecord.parts_amount),
                func.sum(ServiceRecord.cost),
            )
            .select_from(ServiceRecord)
            .where(*conds)
        )
        if _uses(conds, Customer):  # the join only for a condition on the customer (visibility, grade, text)
            q = q.join(Customer, Customer.id == ServiceRecord.customer_id)
        n, done, qty, parts, cost = conn.execute(q).one()
        parts = _money(parts)
        cost = _money(cost)
        sums = {"parts_quantity": int(qty or 0), "parts_amount": parts, "cost": cost}
        return LedgerTotals(
            int(n or 0),
            sums,
            f"共 {int(n or 0):,} 次服务：已完成 {int(done or 0):,}，配件金额 {parts:,.2f} 元，"
            f"服务费用 {cost:,.2f} 元",
        )

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        repair_kinds = service_records.load_options(ctx).repair_kinds
        return [
            ("我负责的", LedgerFilter(mine=True)),
            ("处理中", LedgerFilter(state=service_records.ServiceStatus.OPEN.value)),
            ("本月维修", replace(month_filter(ctx.today()), kind=repair_kinds[0] if repair_kinds else "")),
        ]
