"""Writers of history records: 回访台账 rows as 历史导入 visit records, 投诉台账 rows as complaints put straight
into their state, 售后服务台账 rows as service records (no follow-up planned for any of them).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaints import (
    ComplaintState,
    MessageKind,
    Severity,
    deadlines,
    format_complaint_number,
    handler_role,
    sequence_scope,
)
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.importing import (
    ComplaintCandidate,
    VisitCandidate,
)
from huifang_desktop.domain.visits import format_visit_number, parse_visit_number
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.importing.common import (
    VISIT_HISTORY_NOTE,
    VISIT_HISTORY_STATUS,
    _chunked_in,
    table_of,
)
from huifang_desktop.services.importing.validation import ValidationReport
from huifang_desktop.services.importing.writers import _reserve_serials, _Writer
from huifang_desktop.storage.models import (
    Complaint,
    ComplaintEvent,
    ComplaintOccurrence,
    ServiceRecord,
    User,
    VisitRecord,
)


class _VisitWriter(_Writer):
    entity = "visit_record"

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        numbers = {
            n
            for (n,) in _chunked_in(
                s,
                lambda part: select(VisitRecord.number).where(VisitRecord.number.in_(part)),
                {c.number for c in cands if c.number},
            )
        }
        return [c for c in cands if c.number not in numbers], [
            c for c in cands if c.number and c.number in numbers
        ]

    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        need: dict[date, int] = defaultdict(int)
        for c in batch:
            if not c.number:
                need[c.visited_at.date()] += 1
        next_serial = {day: _reserve_serials(s, f"visit:{day:%Y%m%d}", n) for day, n in sorted(need.items())}
        rows, numbers = [], []
        for c in batch:
            if c.number:
                number = c.number
                try:
                    day, serial = parse_visit_number(number)
                    self.keep(f"visit:{day:%Y%m%d}", serial)
                except ValidationError:
                    pass
            else:
                day = c.visited_at.date()
                number = format_visit_number(day, next_serial[day])
                next_serial[day] += 1
            numbers.append(number)
            rows.append(_visit_row(c, number, self.now))
        table = table_of(VisitRecord)
        self.ids = list(
            s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars()
        )
        return self.numbered(numbers)


def _visit_row(c: VisitCandidate, number: str, now: datetime) -> dict[str, Any]:
    return {
        "number": number,
        "plan_id": None,
        "customer_id": c.customer_id,
        "contact_name": c.contact_name,
        "contact_phone": c.contact_phone,
        "visit_type": c.visit_type,
        "method": c.method,
        "visited_at": c.visited_at,
        "visitor_id": c.visitor_id,
        "content": c.content,
        "feedback": c.feedback,
        "problems": c.problems,
        "measures": c.measures,
        "satisfaction": c.satisfaction,
        "handling": c.handling,
        "transfer_department": "",
        "transfer_due": None,
        "transfer_done_at": None,
        "transfer_answer": "",
        "next_visit_on": c.next_visit_on,
        "result": c.result,
        "customer_signed": False,
        "status": VISIT_HISTORY_STATUS,
        "supervisor_comment": VISIT_HISTORY_NOTE,
        "signed_by_id": None,
        "signed_at": None,
        "content_hash": "",
        "revision": 0,
        "created_at": now,
        "version": 1,
    }


class _ComplaintWriter(_Writer):
    entity = "complaint"

    def __init__(self, ctx: ServiceContext, report: ValidationReport) -> None:
        super().__init__(ctx, report)
        from huifang_desktop.services.complaints import load_policy
        from huifang_desktop.services.policy import work_calendar

        self.policy = load_policy(ctx)
        self.cal = work_calendar(ctx)
        with ctx.sessions() as s:
            self.departments = dict(s.execute(select(User.id, User.department_id)).all())

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        numbers = {
            n
            for (n,) in _chunked_in(
                s,
                lambda part: select(Complaint.number).where(Complaint.number.in_(part)),
                {c.number for c in cands if c.number},
            )
        }
        return [c for c in cands if c.number not in numbers], [
            c for c in cands if c.number and c.number in numbers
        ]

    def _scope(self, when: date) -> str:
        return f"complaint:{MessageKind.COMPLAINT.value}:{sequence_scope(self.policy.number_pattern, when)}"

    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        pattern = self.policy.number_pattern
        need: dict[str, int] = defaultdict(int)
        for c in batch:
            if not c.number:
                need[self._scope(c.received_at.date())] += 1
        next_serial = {scope: _reserve_serials(s, scope, n) for scope, n in sorted(need.items())}
        rows, numbers = [], []
        for c in batch:
            day = c.received_at.date()
            if c.number:
                number = c.number
                tail = re.search(r"(\d+)$", number)
                if tail and format_complaint_number(pattern, day, int(tail.group(1))) == number:
                    self.keep(self._scope(day), int(tail.group(1)))
            else:
                scope = self._scope(day)
                number = format_complaint_number(pattern, day, next_serial[scope])
                next_serial[scope] += 1
            numbers.append(number)
            rows.append(_complaint_row(c, number, self))
        table = table_of(Complaint)
        ids = list(
            s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars()
        )
        self.ids = ids
        user = self.ctx.user
        events, occurrences = [], []
        for cid, c in zip(ids, batch, strict=True):
            note = f"从“{self.report.file_name}”第 {c.row} 行导入"
            if c.handler_name:
                note += f"；原负责人：{c.handler_name}（不是本系统用户）"
            events.append(
                {
                    "complaint_id": cid,
                    "at": self.now,
                    "user_id": user.id or None,
                    "username": user.display_name or user.username,
                    "action": "从Excel导入",
                    "from_state": "",
                    "to_state": c.state,
                    "note": note,
                }
            )
            occurrences.append(
                {
                    "complaint_id": cid,
                    "received_at": c.received_at,
                    "channel": c.channel,
                    "complainant": c.complainant,
                    "phone": c.phone,
                    "received_by": "",
                    "note": "导入",
                    "created_by_id": user.id or None,
                    "created_at": self.now,
                }
            )
        s.execute(insert(table_of(ComplaintEvent)), events)
        s.execute(insert(table_of(ComplaintOccurrence)), occurrences)
        return self.numbered(numbers)


def _complaint_row(c: ComplaintCandidate, number: str, w: _ComplaintWriter) -> dict[str, Any]:
    """A complaint put straight into its state from the sheet (no workflow steps: it happened on paper)."""
    severity = Severity(c.severity)
    dl = deadlines(c.received_at, MessageKind.COMPLAINT, severity, w.policy, w.cal)
    state = ComplaintState(c.state)
    closed_at = c.closed_at or c.received_at if state is ComplaintState.CLOSED else None
    deadline = {ComplaintState.PENDING: dl.first_reply, ComplaintState.IN_PROGRESS: dl.handling}.get(state)
    user = w.ctx.user
    return {
        "number": number,
        "kind": MessageKind.COMPLAINT.value,
        "received_at": c.received_at,
        "channel": c.channel,
        "complainant": c.complainant,
        "anonymous": c.anonymous,
        "phone": c.phone,
        "customer_id": c.customer_id,
        "subject": c.subject,
        "content": c.content,
        "category": c.category,
        "severity": severity.value,
        "special": False,
        "reply_only": False,
        "department_id": w.departments.get(c.handler_id) if c.handler_id else user.department_id,
        "handler_id": c.handler_id,
        "handler_role": handler_role(severity, w.policy).value,
        "state": state.value,
        "first_reply_due": dl.first_reply,
        "handling_due": dl.handling,
        "deadline": deadline,
        "accepted_at": c.received_at if state is not ComplaintState.PENDING else None,
        "investigation": "",
        "cause": c.cause,
        "measures": c.measures,
        "result": c.result,
        "replied_at": None,
        "reply_way": "",
        "reply_text": "",
        "handled_at": closed_at,
        "visit_round": 0,
        "visit_plan_id": None,
        "visit_due": None,
        "visit_record_id": None,
        "visited_at": None,
        "visit_satisfied": None,
        "satisfaction": "",
        "visit_note": "",
        "closed_at": closed_at,
        "withdraw_reason": "原台账中已撤销" if state is ComplaintState.WITHDRAWN else "",
        "escalation_level": 0,
        "escalated_at": None,
        "escalated_deadline": None,
        "escalation_seen": True,
        "chase_count": 0,
        "linked_to_id": None,
        "converted_from": "",
        "occurrences": 1,
        "created_by_id": user.id or None,
        "created_at": w.now,
        "updated_at": w.now,
        "review_status": "",
        "supervisor_comment": "",
        "signed_by_id": None,
        "signed_at": None,
        "content_hash": "",
        "revision": 0,
        "version": 1,
    }


class _ServiceWriter(_Writer):
    """Service records as they happened: numbered FW + date (or the sheet's 服务单号); no repair follow-up
    visit is planned for them (history, like imported visit records)."""

    entity = "service_record"

    def __init__(self, ctx: ServiceContext, report: ValidationReport) -> None:
        super().__init__(ctx, report)
        from huifang_desktop.services.service_records import load_options

        self.prefix = load_options(ctx).number_prefix

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        numbers = {
            n
            for (n,) in _chunked_in(
                s,
                lambda part: select(ServiceRecord.number).where(ServiceRecord.number.in_(part)),
                {c.number for c in cands if c.number},
            )
        }
        return [c for c in cands if c.number not in numbers], [
            c for c in cands if c.number and c.number in numbers
        ]

    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        from huifang_desktop.services.service_records import format_service_number

        need: dict[date, int] = defaultdict(int)
        for c in batch:
            if not c.number:
                need[c.served_on] += 1
        next_serial = {
            day: _reserve_serials(s, f"service:{day:%Y%m%d}", n) for day, n in sorted(need.items())
        }
        rows, numbers = [], []
        user = self.ctx.user
        for c in batch:
            if c.number:
                number = c.number
                m = re.fullmatch(re.escape(self.prefix) + r"(\d{8})-(\d+)", number)
                if m and m.group(1) == f"{c.served_on:%Y%m%d}":
                    self.keep(f"service:{m.group(1)}", int(m.group(2)))
            else:
                number = format_service_number(c.served_on, next_serial[c.served_on], self.prefix)
                next_serial[c.served_on] += 1
            numbers.append(number)
            rows.append(
                {
                    "number": number,
                    "customer_id": c.customer_id,
                    "served_on": c.served_on,
                    "kind": c.kind,
                    "place": c.place,
                    "product": c.product,
                    "serial_no": c.serial_no,
                    "problem": c.problem,
                    "content": c.content,
                    "parts": c.parts,
                    "parts_quantity": 0,
                    "parts_amount": c.parts_amount,
                    "cost": c.cost,
                    "result": c.result,
                    "feedback": c.feedback,
                    "satisfaction": c.satisfaction,
                    "technician": c.technician,
                    "handler_id": c.handler_id,
                    "status": c.status,
                    "completed_on": c.completed_on,
                    "follow_up_at": None,
                    "follow_up_by": "",
                    "follow_up_result": "",
                    "visit_plan_id": None,
                    "notes": c.notes,
                    "created_by_id": user.id or None,
                    "created_at": self.now,
                    "updated_at": self.now,
                    "version": 1,
                }
            )
        table = table_of(ServiceRecord)
        self.ids = list(
            s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars()
        )
        return self.numbered(numbers)
