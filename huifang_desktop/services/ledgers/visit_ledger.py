"""回访台账: one row per visit plan (with its record once made) plus the visits made without a plan (计划外, and
imported history), by day.

The two kinds of rows are two index-ordered queries merged by date; both name their fields alike (a plan's
fields a loose visit lacks are NULL), so one set of columns reads either. This is the one definition of the
回访台账: the 台账 tab, ``export visits``, and the printed 回访台账 (:func:`huifang_desktop.services.printing
.visit_ledger_pdf`) all read it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, null, or_, select, tuple_
from sqlalchemy.orm import aliased

from huifang_desktop.domain.validation import clean_text
from huifang_desktop.domain.visits import OVERDUE, PlanState, VisitType, display_state, signed_form_state
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.base import (
    _NO_TIME,
    _day_start,
    _ordered,
    _owner,
    _read_at,
    _scope,
    _Source,
    _Spec,
    _text,
    _text_ids,
)
from huifang_desktop.services.ledgers.model import (
    HISTORY,
    UNPLANNED,
    ColumnType,
    Cursor,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    LedgerRow,
    LedgerTotals,
    ReadAt,
    month_filter,
)
from huifang_desktop.storage.models import Customer, User, VisitPlan, VisitRecord
from huifang_desktop.storage.queries import customer_text_condition

_T, _D, _DT, _I = ColumnType.TEXT, ColumnType.DATE, ColumnType.DATETIME, ColumnType.INT
_PENDING, _DONE, _CANCELLED = PlanState.PENDING.value, PlanState.DONE.value, PlanState.CANCELLED.value


def _state(row: Any, at: ReadAt) -> str:
    """A plan's state as shown (逾期 when pending past its day, the cancel reason after 已取消); a visit
    without a plan: 计划外, or 历史导入 for one imported from an old ledger."""
    if row.plan_state is None:
        return HISTORY if row.record_status == HISTORY else UNPLANNED
    state = display_state(row.plan_state, row.due, at.today)
    if row.plan_state == _CANCELLED and row.cancel_reason:
        state = f"{state}（{row.cancel_reason}）"
    return state


def _signed_form(row: Any, at: ReadAt) -> str:
    return signed_form_state(row.record_method, row.signed_at is not None)


def _done(row: Any, at: ReadAt) -> int:
    """1 for a visit made (a plan done, or a visit without a plan), else 0: the 合计 counts the visits."""
    return 1 if row.plan_state is None or row.plan_state == _DONE else 0


class VisitLedger(_Spec):
    ledger = Ledger.VISITS
    entity = "visit_plan"
    date_label = "计划日期"
    kind_label = "回访类型"
    columns = (
        LedgerColumn("number", "编号", _T, 17, get=_text("number")),
        LedgerColumn("customer_code", "客户编号", _T, 11),
        LedgerColumn("customer_name", "客户名称", _T, 28),
        LedgerColumn("grade", "等级", _T, 6),
        LedgerColumn("visit_type", "回访类型", _T, 9),
        LedgerColumn("method", "回访方式", _T, 9),
        LedgerColumn("due", "计划日期", _D, 12, sort="date"),
        LedgerColumn("visited_at", "回访时间", _DT, 18),
        LedgerColumn("visitor", "回访人", _T, 9, get=_text("visitor")),
        LedgerColumn("result", "结果", _T, 11, get=_text("result")),
        LedgerColumn("satisfaction", "满意度", _T, 9, get=_text("satisfaction")),
        LedgerColumn("state", "状态", _T, 14, get=_state),
        LedgerColumn("owner", "负责人", _T, 9, get=_text("owner")),
        LedgerColumn("problems", "问题点", _T, 36, visible=False, get=_text("problems")),
        LedgerColumn("transfer", "转交部门", _T, 12, visible=False, get=_text("transfer")),
        LedgerColumn("signed_form", "签字单", _T, 8, get=_signed_form),
        LedgerColumn("done", "已回访", _I, 8, total=True, visible=False, get=_done),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return (PlanState.PENDING.value, OVERDUE, PlanState.DONE.value, PlanState.CANCELLED.value, UNPLANNED)

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        return tuple(t.value for t in VisitType)

    def _plan_conditions(
        self, ctx: ServiceContext, f: LedgerFilter, today: date, customer_ids: list[int] | None
    ) -> tuple[list[Any], bool]:
        """The plan conditions, and whether they need ``Customer`` joined."""
        conds: list[Any] = []
        scope = _scope(ctx)
        joined = scope is not None or bool(f.grade)
        if scope is not None:
            conds.append(scope)
        if f.start is not None:
            conds.append(VisitPlan.due >= f.start)
        if f.end is not None:
            conds.append(VisitPlan.due <= f.end)
        owner = _owner(ctx, f)
        if owner is not None:
            conds.append(VisitPlan.owner_id == owner)
        if f.state == OVERDUE:
            conds += [VisitPlan.state == PlanState.PENDING.value, VisitPlan.due < today]
        elif f.state == PlanState.PENDING.value:
            conds += [VisitPlan.state == PlanState.PENDING.value, VisitPlan.due >= today]
        elif f.state:
            conds.append(VisitPlan.state == f.state)
        if f.kind:
            conds.append(VisitPlan.visit_type == f.kind)
        if f.grade:
            conds.append(Customer.grade == f.grade)
        text = clean_text(f.text)
        if text:
            # by the record's number through its unique index (an OR of indexed terms stays indexed)
            numbered = select(VisitRecord.plan_id).where(VisitRecord.number == text.upper())
            options = [VisitPlan.id.in_(numbered)]
            if customer_ids is not None:
                options.append(VisitPlan.customer_id.in_(customer_ids))
            else:
                cust = customer_text_condition(text)
                if cust is not None:
                    options.append(cust)
                    joined = True
            conds.append(or_(*options))
        return conds, joined

    def _loose_conditions(
        self, ctx: ServiceContext, f: LedgerFilter, customer_ids: list[int] | None
    ) -> list[Any]:
        conds: list[Any] = [VisitRecord.plan_id.is_(None)]
        scope = _scope(ctx)
        if scope is not None:
            conds.append(scope)
        if f.start is not None:
            conds.append(VisitRecord.visited_at >= _day_start(f.start))
        if f.end is not None:
            conds.append(VisitRecord.visited_at < _day_start(f.end + timedelta(days=1)))
        owner = _owner(ctx, f)
        if owner is not None:
            conds.append(Customer.owner_id == owner)
        if f.kind:
            conds.append(VisitRecord.visit_type == f.kind)
        if f.grade:
            conds.append(Customer.grade == f.grade)
        text = clean_text(f.text)
        if text:
            options = [VisitRecord.number == text.upper()]
            cust = (
                customer_text_condition(text)
                if customer_ids is None
                else VisitRecord.customer_id.in_(customer_ids)
            )
            if cust is not None:
                options.append(cust)
            conds.append(or_(*options))
        return conds

    def _parts(self, f: LedgerFilter) -> tuple[bool, bool]:
        """(read plans, read visits without a plan)."""
        if f.state == UNPLANNED:
            return False, True
        if f.state:
            return True, False
        return True, True

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        at = _read_at(ctx)
        with_plans, with_loose = self._parts(f)
        ids = _text_ids(conn, f.text) if clean_text(f.text) else None
        out: list[_Source] = []
        rec, visitor, owner = aliased(VisitRecord), aliased(User), aliased(User)
        if with_plans:
            conds, joined = self._plan_conditions(ctx, f, at.today, ids)
            base = (
                select(
                    VisitPlan.id,
                    rec.number,
                    Customer.code.label("customer_code"),
                    Customer.name.label("customer_name"),
                    Customer.grade,
                    func.coalesce(rec.visit_type, VisitPlan.visit_type).label("visit_type"),
                    func.coalesce(rec.method, VisitPlan.method).label("method"),
                    VisitPlan.due,
                    rec.visited_at,
                    visitor.display_name.label("visitor"),
                    rec.result,
                    rec.satisfaction,
                    VisitPlan.state.label("plan_state"),
                    VisitPlan.cancel_reason,
                    owner.display_name.label("owner"),
                    rec.problems,
                    rec.transfer_department.label("transfer"),
                    rec.method.label("record_method"),
                    rec.signed_form_received_at.label("signed_at"),
                    null().label("record_status"),
                )
                .join(Customer, Customer.id == VisitPlan.customer_id)
                .outerjoin(rec, rec.id == VisitPlan.record_id)
                .outerjoin(visitor, visitor.id == rec.visitor_id)
                .outerjoin(owner, owner.id == VisitPlan.owner_id)
            )
            order = (VisitPlan.due, VisitPlan.id)

            def plan_page(after: list[Any], descending: bool, limit: int) -> Any:
                # The page's plan ids first, from the narrow due index (many plans share a due day: sorting
                # them by id with every join done would cost ~90 ms at 1,000,000 plans), then their rows.
                inner = select(VisitPlan.id)
                if joined:
                    inner = inner.join(Customer, Customer.id == VisitPlan.customer_id)
                inner = _ordered(inner.where(*conds, *after), order, descending).limit(limit)
                return _ordered(base.where(VisitPlan.id.in_(inner)), order, descending)

            read_plan = self.reader(base)

            def plan_row(r: Any) -> LedgerRow:
                late = r.plan_state == _PENDING and r.due < at.today  # 逾期, as display_state says
                flag = "overdue" if late else "muted" if r.plan_state == _CANCELLED else ""
                return LedgerRow(r.id, read_plan(r, at), (r.due, 0, _NO_TIME, r.id), flag, "visit_plan")

            def plan_after(cursor: Cursor, descending: bool) -> list[Any]:
                day, tag, _moment, pid = cursor
                key = tuple_(VisitPlan.due, VisitPlan.id)
                if tag == 0:
                    return [key < tuple_(day, pid) if descending else key > tuple_(day, pid)]
                return [VisitPlan.due <= day if descending else VisitPlan.due > day]

            out.append(_Source(base.where(*conds), order, plan_row, plan_after, plan_page))
        if with_loose:
            q2 = (
                select(
                    VisitRecord.id,
                    VisitRecord.number,
                    Customer.code.label("customer_code"),
                    Customer.name.label("customer_name"),
                    Customer.grade,
                    VisitRecord.visit_type,
                    VisitRecord.method,
                    null().label("due"),
                    VisitRecord.visited_at,
                    visitor.display_name.label("visitor"),
                    VisitRecord.result,
                    VisitRecord.satisfaction,
                    null().label("plan_state"),
                    null().label("cancel_reason"),
                    owner.display_name.label("owner"),
                    VisitRecord.problems,
                    VisitRecord.transfer_department.label("transfer"),
                    VisitRecord.method.label("record_method"),
                    VisitRecord.signed_form_received_at.label("signed_at"),
                    VisitRecord.status.label("record_status"),
                )
                .join(Customer, Customer.id == VisitRecord.customer_id)
                .outerjoin(visitor, visitor.id == VisitRecord.visitor_id)
                .outerjoin(owner, owner.id == Customer.owner_id)
                .where(*self._loose_conditions(ctx, f, ids))
            )

            read_loose = self.reader(q2)

            def loose_row(r: Any) -> LedgerRow:
                moment = r.visited_at
                return LedgerRow(
                    r.id, read_loose(r, at), (moment.date(), 1, moment, r.id), "", "visit_record"
                )

            def loose_after(cursor: Cursor, descending: bool) -> list[Any]:
                day, tag, moment, rid = cursor
                if tag == 1:
                    key = tuple_(VisitRecord.visited_at, VisitRecord.id)
                    return [key < tuple_(moment, rid) if descending else key > tuple_(moment, rid)]
                start = _day_start(day)
                return [VisitRecord.visited_at < start if descending else VisitRecord.visited_at >= start]

            out.append(_Source(q2, (VisitRecord.visited_at, VisitRecord.id), loose_row, loose_after))
        return out

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        today = ctx.today()
        with_plans, with_loose = self._parts(f)
        ids = _text_ids(conn, f.text) if clean_text(f.text) else None
        n = done = late = loose = 0
        if with_plans:
            conds, joined = self._plan_conditions(ctx, f, today, ids)
            q = select(
                func.count(VisitPlan.id),
                func.sum(case((VisitPlan.state == PlanState.DONE.value, 1), else_=0)),
                func.sum(
                    case(
                        (and_(VisitPlan.state == PlanState.PENDING.value, VisitPlan.due < today), 1), else_=0
                    )
                ),
            ).select_from(VisitPlan)
            if joined:
                q = q.join(Customer, Customer.id == VisitPlan.customer_id)
            planned, made, overdue = conn.execute(q.where(*conds)).one()
            n, done, late = int(planned or 0), int(made or 0), int(overdue or 0)
        if with_loose:
            q2 = (
                select(func.count(VisitRecord.id))
                .select_from(VisitRecord)
                .join(Customer, Customer.id == VisitRecord.customer_id)
                .where(*self._loose_conditions(ctx, f, ids))
            )
            loose = int(conn.execute(q2).scalar() or 0)
        summary = f"共 {n + loose:,} 条：已回访 {done + loose:,}（其中计划外 {loose:,}），逾期 {late:,}"
        return LedgerTotals(n + loose, {"done": done + loose}, summary)

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [
            ("我的回访", LedgerFilter(mine=True)),
            ("逾期", LedgerFilter(state=OVERDUE)),
            ("本月待回访", replace(month_filter(ctx.today()), state=PlanState.PENDING.value)),
        ]
