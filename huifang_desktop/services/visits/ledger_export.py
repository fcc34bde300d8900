"""The 回访台账 export for the command line and printing: plans and unplanned visits, streamed."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import date, datetime, timedelta
from heapq import merge
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import aliased

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.visits import display_state, signed_form_state
from huifang_desktop.exports.visits_xlsx import write_visit_ledger
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.outputs import checked_target, period_text, write_failed
from huifang_desktop.services.policy import customer_scope
from huifang_desktop.services.settings import load_settings
from huifang_desktop.services.visits.options import _CANCELLED, RECORD_HISTORY
from huifang_desktop.services.visits.rows import ExportError
from huifang_desktop.storage.models import Customer, User, VisitPlan, VisitRecord

# --- the ledger export (回访台账) ----------------------------------------------------------------------

def ledger_rows(ctx: ServiceContext, start: date | None = None, end: date | None = None
                ) -> Iterator[tuple[Any, ...]]:
    """One row per plan (joined with its record when done) plus the visits made without a plan, by day,
    in the order of :data:`huifang_desktop.exports.visits_xlsx.LEDGER_HEADERS`. Streams from the database.

    The 台账 tab reads the same facts through :mod:`huifang_desktop.services.ledgers` (filters, paging,
    its own column set); this is the fixed file layout of ``export visits`` and the printed ledger."""
    today = ctx.today()
    scope = customer_scope(ctx)
    rec = aliased(VisitRecord)
    visitor = aliased(User)
    owner = aliased(User)
    plans = (select(VisitPlan.due, VisitPlan.id, rec.number, Customer.code, Customer.name, Customer.grade,
                    func.coalesce(rec.visit_type, VisitPlan.visit_type),
                    func.coalesce(rec.method, VisitPlan.method),
                    rec.visited_at, visitor.display_name, rec.result, rec.satisfaction, VisitPlan.state,
                    VisitPlan.cancel_reason, owner.display_name, rec.problems, rec.transfer_department,
                    rec.method, rec.signed_form_received_at)
             .join(Customer, Customer.id == VisitPlan.customer_id)
             .outerjoin(rec, rec.id == VisitPlan.record_id)
             .outerjoin(visitor, visitor.id == rec.visitor_id)
             .outerjoin(owner, owner.id == VisitPlan.owner_id))
    loose = (select(VisitRecord.visited_at, VisitRecord.id, VisitRecord.number, Customer.code, Customer.name,
                    Customer.grade, VisitRecord.visit_type, VisitRecord.method, visitor.display_name,
                    VisitRecord.result, VisitRecord.satisfaction, owner.display_name, VisitRecord.problems,
                    VisitRecord.transfer_department, VisitRecord.status, VisitRecord.signed_form_received_at)
             .join(Customer, Customer.id == VisitRecord.customer_id)
             .outerjoin(visitor, visitor.id == VisitRecord.visitor_id)
             .outerjoin(owner, owner.id == Customer.owner_id)
             .where(VisitRecord.plan_id.is_(None)))
    if start is not None:
        plans = plans.where(VisitPlan.due >= start)
        loose = loose.where(VisitRecord.visited_at >= datetime.combine(start, datetime.min.time()))
    if end is not None:
        plans = plans.where(VisitPlan.due <= end)
        next_day = datetime.combine(end + timedelta(days=1), datetime.min.time())
        loose = loose.where(VisitRecord.visited_at < next_day)
    plans, loose = scope.where(plans), scope.where(loose)
    plans = plans.order_by(VisitPlan.due, VisitPlan.id)
    loose = loose.order_by(VisitRecord.visited_at, VisitRecord.id)

    def plan_rows(conn: Connection) -> Generator[tuple[tuple[date, int, int], tuple[Any, ...]], None, None]:
        result = conn.execution_options(yield_per=2000).execute(plans)
        try:
            for (due, plan_id, number, code, name, grade, visit_type, method, visited_at, visitor_name,
                 result_, satisfaction, state, cancel_reason, owner_name, problems, transfer, record_method,
                 form_back) in result:
                shown = display_state(state, due, today)
                if state == _CANCELLED and cancel_reason:
                    shown = f"{shown}（{cancel_reason}）"
                yield (due, 0, plan_id), (number, code, name, grade, visit_type, method, due, visited_at,
                                          visitor_name, result_, satisfaction or None, shown, owner_name,
                                          problems or None, transfer or None,
                                          signed_form_state(record_method, form_back is not None) or None)
        finally:
            result.close()  # also when the reader stops early (a server cursor on PostgreSQL)

    def loose_rows(conn: Connection) -> Generator[tuple[tuple[date, int, int], tuple[Any, ...]], None, None]:
        result = conn.execution_options(yield_per=2000).execute(loose)
        try:
            for (visited_at, record_id, number, code, name, grade, visit_type, method, visitor_name, result_,
                 satisfaction, owner_name, problems, transfer, status, form_back) in result:
                shown = RECORD_HISTORY if status == RECORD_HISTORY else "计划外"
                yield (visited_at.date(), 1, record_id), (
                    number, code, name, grade, visit_type, method, None, visited_at, visitor_name, result_,
                    satisfaction or None, shown, owner_name, problems or None, transfer or None,
                    signed_form_state(method, form_back is not None) or None)
        finally:
            result.close()

    with ctx.engine.connect() as plan_conn, ctx.engine.connect() as loose_conn:
        first, second = plan_rows(plan_conn), loose_rows(loose_conn)
        try:
            for _key, row in merge(first, second, key=lambda item: item[0]):
                yield row
        finally:
            first.close()
            second.close()


def export_ledger(ctx: ServiceContext, out_path: Path | str, *, start: date | None = None,
                  end: date | None = None) -> int:
    """Write the 回访台账 to an .xlsx file (streamed, write-only) and log the export; returns the rows."""
    ctx.require(Permission.EDIT_CUSTOMERS, "导出回访台账")
    if start is not None and end is not None and end < start:
        raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))
    out = checked_target(out_path, ExportError, suffix=".xlsx")
    period = period_text(start, end)
    company = load_settings(ctx).company
    try:
        count = write_visit_ledger(ledger_rows(ctx, start, end), out, company=company, period_text=period)
    except OSError as exc:
        raise write_failed(out, exc, ExportError) from exc
    with ctx.sessions() as s, s.begin():
        audit(s, ctx, "导出回访台账", "visit_plan", None, out.name,
              new={"rows": count, "period": period, "file": str(out)})
    return count
