"""The office's numbers (编号) of what can be printed, resolved to ids under the acting user's visibility."""

from __future__ import annotations

from sqlalchemy import select

from huifang_desktop.domain.validation import MAX_DB_ID, clean_text, to_halfwidth
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import NotFound, PermissionDenied
from huifang_desktop.services.policy import customer_scope
from huifang_desktop.services.printing.report_form import _check_report_visible
from huifang_desktop.storage.models import Customer, VisitRecord, VisitReport

# --- the office's numbers (编号) -------------------------------------------------------------------------


def _number_text(number_or_id: str | int) -> str:
    return to_halfwidth(clean_text(str(number_or_id))).replace(" ", "").upper()


def record_id_of(ctx: ServiceContext, number_or_id: str | int) -> int:
    """A visit record's id from its 编号 (HF20261124-001) or its id. A record of a customer the acting user
    may not see is "not found" with the same message as a number that does not exist (no probing)."""
    text = _number_text(number_or_id)
    scope = customer_scope(ctx)
    q = select(VisitRecord.id).join(Customer, Customer.id == VisitRecord.customer_id)
    q = scope.where(q)
    with ctx.sessions() as s:
        found = s.execute(q.where(VisitRecord.number == text)).scalar() if text else None
        if found is None and text.isdigit() and int(text) <= MAX_DB_ID:
            found = s.execute(q.where(VisitRecord.id == int(text))).scalar()
    if found is None:
        raise NotFound(f"没有编号为 {text or '（空）'} 的回访记录。")
    return int(found)


def report_id_of(ctx: ServiceContext, number_or_id: str | int) -> int:
    """A visit report's id from its 编号 or its id; a report the acting user may not print is "not found"
    with the same message as a number that does not exist."""
    text = _number_text(number_or_id)
    with ctx.sessions() as s:
        row = (
            s.execute(
                select(VisitReport.id, VisitReport.clerk_id).where(VisitReport.number == text)
            ).one_or_none()
            if text
            else None
        )
        if row is None and text.isdigit() and int(text) <= MAX_DB_ID:
            row = s.execute(
                select(VisitReport.id, VisitReport.clerk_id).where(VisitReport.id == int(text))
            ).one_or_none()
        if row is not None:
            try:
                _check_report_visible(ctx, s, row.clerk_id)
            except PermissionDenied:
                row = None
    if row is None:
        raise NotFound(f"没有编号为 {text or '（空）'} 的回访报告。")
    return int(row.id)


def complaint_id_of(ctx: ServiceContext, number_or_id: str | int) -> int:
    """A complaint's id from its 投诉编号 (TS20261124-001) or its id, visibility-checked
    (:func:`huifang_desktop.services.complaints.find_id`)."""
    from huifang_desktop.services.complaints import find_id

    return find_id(ctx, _number_text(number_or_id))
