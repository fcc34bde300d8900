"""The 投诉查办单 of a late complaint (002 制度3 第十三条: “对于处理时效逾期案件，应开具‘查办单’送有关部门追查
逾期原因”): the complaint's dates and people, the working days it was late, and the 查办 record when a supervisor
has entered one (:func:`huifang_desktop.services.complaints.record_inquiry`); a 待查办 case prints the form with
the 逾期原因 / 改进措施 boxes left to fill in by the department it is sent to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_follow import InquiryState, overdue_workdays
from huifang_desktop.domain.complaints import ComplaintState
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.policy import work_calendar
from huifang_desktop.services.printing.documents import PrintedDocument
from huifang_desktop.services.printing.rendering import _form_document
from huifang_desktop.storage.models import Complaint, Department, User

INQUIRY_FORM = "inquiry"


def _name(s: Session, user_id: int | None) -> str:
    user = s.get(User, user_id) if user_id else None
    return (user.display_name or user.username) if user is not None else ""


def _late_text(workdays: int) -> str:
    """逾期天数: whole working days past the 处理期限 (:func:`overdue_workdays`)."""
    if workdays < 0:
        return "未逾期"
    return "不足 1 个工作日" if workdays == 0 else f"{workdays} 个工作日"


def inquiry_values(ctx: ServiceContext, complaint_id: int) -> dict[str, Any]:
    """The values of the 查办单 (the template ``forms/inquiry.toml``'s field names); refuses a complaint
    that neither needs a 查办 nor has one (ValidationError), and one the user may not see."""
    from huifang_desktop.services.complaints import get_inquiry

    row = get_inquiry(ctx, complaint_id)  # checks visibility
    if row.inquiry is InquiryState.NOT_NEEDED:
        raise ValidationError(FieldError("complaint", "投诉", f"投诉 {row.number} 未逾期，没有查办单"))
    now = ctx.now()
    with ctx.sessions() as s:
        c = s.get(Complaint, complaint_id)
        assert c is not None
        department = s.get(Department, c.department_id) if c.department_id else None
        first_responder = _name(s, c.first_responder_id)
        received_at, state = c.received_at, c.state
    until = row.closed_at if state == ComplaintState.CLOSED.value and row.closed_at is not None else now
    late = overdue_workdays(row.handling_due, until, work_calendar(ctx))
    closed = (
        f"{row.closed_at:%Y-%m-%d %H:%M} 关闭"
        if state == ComplaintState.CLOSED.value and row.closed_at
        else f"{state}（截至 {now:%Y-%m-%d}）"
    )
    return {
        "number": row.number,
        "complaint_number": row.number,
        "severity": row.severity,
        "subject": row.subject,
        "received_at": received_at,
        "handling_due": row.handling_due,
        "closed": closed,
        "overdue_days": _late_text(late),
        "handler": row.handler,
        "department": department.name if department else "",
        "first_responder": first_responder,
        "reason": row.reason,
        "measures": row.measures,
        "responsible": row.responsible,
        "inquiry_state": row.inquiry.value,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at,
    }


def inquiry_pdf(
    ctx: ServiceContext, complaint_id: int, out: str | Path | None = None, *, forms_dir: Path | None = None
) -> PrintedDocument:
    """The 投诉查办单 of a late complaint (filled from its 查办 record, or with the boxes empty while it is
    待查办). Anybody who may see the complaint may print it; entering the 查办 itself needs RECORD_INQUIRY."""
    from huifang_desktop.printing import FormJob

    values = inquiry_values(ctx, complaint_id)
    number = values["number"]
    return _form_document(
        ctx,
        INQUIRY_FORM,
        [FormJob(values)],
        entity="complaint",
        entity_id=complaint_id,
        label=f"{number} {values['subject']}",
        title=f"投诉查办单 {number}",
        file_name=f"投诉查办单_{number}.pdf",
        detail={"form": "查办单"},
        forms_dir=forms_dir,
        out=out,
    )
