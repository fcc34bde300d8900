"""投诉台账: the complaint register as a ledger, 26 named columns (首问责任人 and 查办 among them).

This is the one definition of the 投诉台账: the 台账 tab reads it with a :class:`LedgerFilter`, the 投诉登记
tab's 导出台账 and ``export complaints`` with the register's own :class:`ComplaintFilter` (several states, the
message kind, 仅逾期 …) — :meth:`ComplaintLedger.register_sources`; the rows are filtered by the register's own
conditions (visibility included), so the ledger and the 投诉登记 tab always agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.orm import aliased

from huifang_desktop.domain.complaint_follow import inquiry_cutoff, inquiry_state, lateness
from huifang_desktop.domain.complaints import OPEN_STATES, ComplaintState, Severity, is_overdue
from huifang_desktop.domain.validation import format_phone
from huifang_desktop.services.complaints import ComplaintFilter, load_follow_policy, load_policy
from huifang_desktop.services.complaints.inquiry import late_condition
from huifang_desktop.services.complaints.reading import _filtered
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.base import _keyset_after, _read_at, _Source, _Spec, _text
from huifang_desktop.services.ledgers.model import (
    OVERDUE_STATE,
    ColumnType,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    LedgerRow,
    LedgerTotals,
    ReadAt,
)
from huifang_desktop.services.policy import work_calendar
from huifang_desktop.storage.models import Complaint, ComplaintInquiry, Customer, Department, User

_T, _DT, _I = ColumnType.TEXT, ColumnType.DATETIME, ColumnType.INT


def _late(row: Any, at: ReadAt) -> bool:
    return is_overdue(ComplaintState(row.state), row.deadline, at.now)


def _complainant(row: Any, at: ReadAt) -> str:
    return "匿名" if row.anonymous else (row.complainant or "")


def _phone(row: Any, at: ReadAt) -> str:
    return format_phone(row.phone)


def _overdue(row: Any, at: ReadAt) -> str:
    """是否逾期: 否 / 逾期办结 (closed after its 处理期限) / 逾期未办 (open past its deadline)."""
    return lateness(row.kind, row.state, row.deadline, row.handling_due, row.closed_at, at.now).value


def _inquiry(row: Any, at: ReadAt) -> str:
    """查办: 无需 / 待查办 / 已查办 (002 制度3 第十三条)."""
    return inquiry_state(bool(row.inquiry_needed), row.inquiry_id is not None).value


def _reply(row: Any, at: ReadAt) -> str:
    """满意答复 (002 制度9 五, within ``reply_due``): 按时 / 逾期答复 / 逾期未答 / 待答复; '' when not asked."""
    if row.reply_due is None:
        return ""
    if row.replied_at is not None:
        return "按时" if row.replied_at <= row.reply_due else "逾期答复"
    if row.state not in OPEN_STATES:
        return ""
    return "逾期未答" if at.now > row.reply_due else "待答复"


def _urgent(row: Any, at: ReadAt) -> str:
    """紧急 (002 制度5, property offices): 是 / ''."""
    return "是" if row.urgent else ""


def _visit(row: Any, at: ReadAt) -> str:
    """The closing visit's outcome: 满意 / 不满意, '' before it."""
    return "" if row.visit_satisfied is None else ("满意" if row.visit_satisfied else "不满意")


def register_filter(f: LedgerFilter) -> ComplaintFilter:
    """The 台账 tab's filter as the complaint register's (state 逾期: the overdue open ones)."""
    state = f.state if f.state and f.state != OVERDUE_STATE else ""
    return ComplaintFilter(
        text=f.text,
        states=frozenset({state} if state else ()),
        overdue_only=f.state == OVERDUE_STATE,
        categories=frozenset({f.kind} if f.kind else ()),
        severities=frozenset({f.grade} if f.grade else ()),
        handler_id=f.owner_id,
        mine=f.mine,
        start=f.start,
        end=f.end,
    )


class ComplaintLedger(_Spec):
    ledger = Ledger.COMPLAINTS
    entity = "complaint"
    date_label = "投诉日期"
    state_label = "处理状态"
    kind_label = "类别"
    grade_label = "严重程度"
    default_descending = True
    columns = (
        LedgerColumn("number", "投诉编号", _T, 16, sort="number"),
        LedgerColumn("kind", "类型", _T, 6, visible=False),
        LedgerColumn("received_at", "投诉日期", _DT, 17, sort="date"),
        LedgerColumn("channel", "渠道", _T, 8, visible=False),
        LedgerColumn("subject", "投诉主题", _T, 28),
        LedgerColumn("content", "投诉内容", _T, 40, get=_text("content")),
        LedgerColumn("complainant", "投诉人", _T, 10, get=_complainant),
        LedgerColumn("phone", "联系方式", _T, 15, get=_phone),
        LedgerColumn("customer", "客户名称", _T, 24, visible=False, get=_text("customer")),
        LedgerColumn("category", "类别", _T, 10, get=_text("category")),
        LedgerColumn("severity", "严重程度", _T, 8),
        LedgerColumn("handler", "负责人", _T, 9, get=_text("handler")),
        LedgerColumn("first_responder", "首问责任人", _T, 9, get=_text("first_responder")),
        LedgerColumn("department", "责任部门", _T, 10, visible=False, get=_text("department")),
        LedgerColumn("handling_due", "处理期限", _DT, 17, visible=False),
        LedgerColumn("reply_due", "满意答复期限", _DT, 17, visible=False),
        LedgerColumn("reply", "满意答复", _T, 8, get=_reply),
        LedgerColumn("urgent", "紧急", _T, 6, get=_urgent),
        LedgerColumn("dispatch_due", "派工期限", _DT, 17, visible=False),
        LedgerColumn("report_back_due", "反馈期限", _DT, 17, visible=False),
        LedgerColumn("state", "处理状态", _T, 8),
        LedgerColumn("overdue", "是否逾期", _T, 8, get=_overdue),
        LedgerColumn("inquiry", "查办", _T, 8, get=_inquiry),
        LedgerColumn("result", "处理结果", _T, 30, visible=False, get=_text("result")),
        LedgerColumn("replied_at", "答复时间", _DT, 17, visible=False),
        LedgerColumn("visit", "回访结果", _T, 10, visible=False, get=_visit),
        LedgerColumn("satisfaction", "满意度", _T, 8, visible=False, get=_text("satisfaction")),
        LedgerColumn("closed_at", "关闭时间", _DT, 17, visible=False),
        LedgerColumn("occurrences", "重复次数", _I, 8, total=True, visible=False),
        LedgerColumn("escalations", "升级次数", _I, 8, total=True, visible=False),
        LedgerColumn("chases", "催办次数", _I, 8, total=True, visible=False),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return tuple(s.value for s in ComplaintState) + (OVERDUE_STATE,)

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        return tuple(load_policy(ctx).categories)

    def grades(self, ctx: ServiceContext) -> tuple[str, ...]:
        return tuple(s.value for s in Severity)

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        key, _desc = self.sort_of(f)
        return self.register_sources(ctx, register_filter(f), by_number=key == "number")

    def register_sources(
        self, ctx: ServiceContext, cf: ComplaintFilter, *, by_number: bool = False
    ) -> list[_Source]:
        """The ledger's rows under the register's filter, by 投诉日期 (or by 投诉编号)."""
        at = _read_at(ctx)
        sort_col = Complaint.number if by_number else Complaint.received_at
        handler, first = aliased(User), aliased(User)
        late = late_condition(at.now, inquiry_cutoff(at.now, load_follow_policy(ctx), work_calendar(ctx)))
        q = (
            select(
                Complaint.id,
                Complaint.number,
                Complaint.kind,
                Complaint.received_at,
                Complaint.channel,
                Complaint.subject,
                Complaint.content,
                Complaint.complainant,
                Complaint.anonymous,
                Complaint.phone,
                Customer.name.label("customer"),
                Complaint.category,
                Complaint.severity,
                handler.display_name.label("handler"),
                Department.name.label("department"),
                Complaint.handling_due,
                Complaint.reply_due,
                Complaint.urgent,
                Complaint.dispatch_due,
                Complaint.report_back_due,
                Complaint.state,
                Complaint.deadline,
                Complaint.result,
                Complaint.replied_at,
                Complaint.visit_satisfied,
                Complaint.satisfaction,
                Complaint.closed_at,
                Complaint.occurrences,
                Complaint.escalation_level.label("escalations"),
                Complaint.chase_count.label("chases"),
                first.display_name.label("first_responder"),
                case((late, 1), else_=0).label("inquiry_needed"),
                ComplaintInquiry.id.label("inquiry_id"),
                sort_col.label("sort_key"),
            )
            .outerjoin(Customer, Customer.id == Complaint.customer_id)
            .outerjoin(handler, handler.id == Complaint.handler_id)
            .outerjoin(first, first.id == Complaint.first_responder_id)
            .outerjoin(ComplaintInquiry, ComplaintInquiry.complaint_id == Complaint.id)
            .outerjoin(Department, Department.id == Complaint.department_id)
        )
        q = _filtered(ctx, q, cf, at.now)
        order = (sort_col, Complaint.id)

        read = self.reader(q)

        def convert(r: Any) -> LedgerRow:
            flag = "overdue" if _late(r, at) else "muted" if r.state == ComplaintState.WITHDRAWN.value else ""
            return LedgerRow(r.id, read(r, at), (r.sort_key, r.id), flag, "complaint")

        return [_Source(q, order, convert, _keyset_after(order))]

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        return self.register_totals(ctx, register_filter(f), conn)

    def register_totals(self, ctx: ServiceContext, cf: ComplaintFilter, conn: Connection) -> LedgerTotals:
        now: datetime = ctx.now()
        is_open = Complaint.state.in_(sorted(s.value for s in OPEN_STATES))
        q = select(
            func.count(Complaint.id),
            func.sum(case((Complaint.state == ComplaintState.CLOSED.value, 1), else_=0)),
            func.sum(case((and_(is_open, Complaint.deadline < now), 1), else_=0)),
            func.coalesce(func.sum(Complaint.occurrences), 0),
            func.coalesce(func.sum(Complaint.escalation_level), 0),
            func.coalesce(func.sum(Complaint.chase_count), 0),
        ).select_from(Complaint)
        n, closed, late, occ, esc, chase = conn.execute(_filtered(ctx, q, cf, now)).one()
        n, closed, late = int(n or 0), int(closed or 0), int(late or 0)
        rate = f"，处理率 {closed / n:.0%}" if n else ""
        return LedgerTotals(
            n,
            {"occurrences": int(occ), "escalations": int(esc), "chases": int(chase)},
            f"共 {n:,} 件：已关闭 {closed:,}，逾期 {late:,}{rate}",
        )

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [
            ("我负责的", LedgerFilter(mine=True)),
            ("逾期", LedgerFilter(state=OVERDUE_STATE)),
            ("处理中", LedgerFilter(state=ComplaintState.IN_PROGRESS.value)),
        ]
