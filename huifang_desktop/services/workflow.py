"""The steps that cross from one workflow into another, called explicitly from here.

The customer files, the return visits and the complaints are separate workflows that do not import each
other; where a fact recorded in one is the start of work in another, the step is taken here, in the same
transaction as the fact (domain.md §3 and §4):

* a purchase or delivery (:func:`add_purchase`) plans the visits it triggers
  (:func:`huifang_desktop.services.visits.plan_purchase_in`);
* a complaint's closing visit recorded on the 回访记录表 (:func:`record_visit`, and from the complaint
  :func:`record_closing_visit`) settles the complaint
  (:func:`huifang_desktop.services.complaints.apply_closing_visit_in`): closed when the customer is
  satisfied, back to 处理中 when not, still waiting when the customer was not reached.

The user interface and the command line call these functions for the two steps, never the workflow
functions alone (those would record the fact without its consequence).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from huifang_desktop.domain.visits import VisitType
from huifang_desktop.services import complaints, customers, visits
from huifang_desktop.services.complaints import ClosingVisitDraft, ComplaintDetail
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import PurchaseInfo
from huifang_desktop.services.visits import PlannedVisitDone, VisitRecordDraft, VisitRecordRow


def add_purchase(
    ctx: ServiceContext,
    customer_id: int,
    *,
    day: date | str,
    product: str,
    quantity: int | str,
    amount: Decimal | str | None = None,
    spec: str = "",
    kind: str = "购货",
    warranty_end: date | str | None = None,
) -> PurchaseInfo:
    """Record a purchase or delivery (:func:`customers.add_purchase`: validated, the grade recomputed) and
    plan the visits it triggers, in one transaction."""
    return customers.add_purchase(
        ctx,
        customer_id,
        day=day,
        product=product,
        quantity=quantity,
        amount=amount,
        spec=spec,
        kind=kind,
        warranty_end=warranty_end,
        then=visits.plan_purchase_in,
    )


def _settle_complaint(s: Session, ctx: ServiceContext, visit: PlannedVisitDone) -> None:
    """A complaint's closing visit (plan key ``complaint:<id>#…``) updates the complaint in the visit's
    transaction; any other planned visit leaves the complaints alone."""
    complaint_id = complaints.complaint_id_for_plan(visit.plan_key)
    if complaint_id is None:
        return
    complaints.apply_closing_visit_in(
        s,
        ctx,
        complaint_id,
        reached=visit.reached,
        satisfied=visit.satisfied,
        satisfaction=visit.satisfaction,
        visited_at=visit.visited_at,
        note=visit.note,
        record_id=visit.record_id,
        next_plan=visit.next_plan,
    )


def record_visit(ctx: ServiceContext, draft: VisitRecordDraft) -> VisitRecordRow:
    """Save a 回访记录表 (:func:`visits.record_visit`); when it is a complaint's closing visit, the
    complaint is settled in the same transaction."""
    return visits.record_visit(ctx, draft, then=_settle_complaint)


def record_closing_visit(
    ctx: ServiceContext, complaint_id: int, draft: ClosingVisitDraft, expected_version: int | None = None
) -> ComplaintDetail:
    """Record a complaint's closing visit. With a customer file it is a full 回访记录表 against the
    complaint's plan (numbered, in the customer's visit history) that settles the complaint; without one it
    is kept on the complaint (:func:`complaints.record_closing_visit`). Who may: the visitor the pending plan
    names (from the complaint as from the calendar), or whoever works on the complaint — but, with visitor
    independence on, never its handler nor the customer's 业务员 (:func:`complaints.closing_visit_plan`)."""
    plan = complaints.closing_visit_plan(ctx, complaint_id, expected_version)
    if plan is None:
        return complaints.record_closing_visit(ctx, complaint_id, draft, expected_version)
    record_visit(
        ctx,
        VisitRecordDraft(
            customer_id=plan.customer_id,
            plan_id=plan.plan_id,
            result=draft.result,
            contact_name=draft.contact_name,
            contact_phone=draft.contact_phone,
            visit_type=VisitType.COMPLAINT.value,
            method=draft.method,
            visited_at=draft.visited_at or ctx.now(),
            content=draft.note or f"投诉 {plan.number} 结案回访",
            feedback=draft.note,
            satisfaction=draft.satisfaction,
            customer_signed=draft.customer_signed,
        ),
    )
    return complaints.get_complaint(ctx, complaint_id)


__all__ = ["add_purchase", "record_closing_visit", "record_visit"]
