"""Follow-up chains (再次回访, 000 §1.9 / 001 §47): what the next attempt needs to know, and a supervisor
closing a chain that cannot go on.

A chain is a first plan (key ``K``) and its further attempts (``K#2``, ``K#3`` …). With the default policy
(``FollowUpPolicy.max_attempts`` 0) a chain goes on until the customer is reached; only a supervisor ends
it early, with a reason, audited (:func:`close_chain`). A refusal (拒绝) is contacted again after
``refused_after_days``; refusals already in the chain are counted (:func:`chain_context`). A complaint's
closing visit carries the complaint's severity, so a 重大 complaint's follow-ups stay on site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.schedule import chain_base
from huifang_desktop.domain.validation import require_text
from huifang_desktop.domain.visits import VisitResult
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.policy import check_visible
from huifang_desktop.services.visits.options import _CANCELLED, _PENDING
from huifang_desktop.services.visits.shared import _load_plan
from huifang_desktop.storage.models import Complaint, Customer, VisitPlan, VisitRecord

_COMPLAINT_KEY = re.compile(r"^complaint:(\d+)#")
CHAIN_CLOSED = "结束再次回访"  # the cancel reason's prefix of a chain a supervisor closed


@dataclass(frozen=True, slots=True)
class ChainContext:
    severity: str | None  # the complaint's 严重程度 for a complaint's closing visit, else None
    refusals: int  # visits of the chain that ended with 拒绝 (the one being recorded not counted)


def chain_context(s: Session, plan: VisitPlan | None, record_id: int | None) -> ChainContext:
    """What :func:`huifang_desktop.domain.schedule.follow_up` needs of the chain ``plan`` belongs to."""
    if plan is None:
        return ChainContext(None, 0)
    base = chain_base(plan.source_key, plan.attempt)
    severity = None
    m = _COMPLAINT_KEY.match(base)
    if m:
        severity = s.execute(select(Complaint.severity).where(Complaint.id == int(m.group(1)))).scalar()
    keys = [
        k
        for k in s.execute(
            select(VisitPlan.source_key).where(
                VisitPlan.customer_id == plan.customer_id,
                VisitPlan.source_key.startswith(base, autoescape=True),
            )
        ).scalars()
        if k == base or (k.startswith(base + "#") and k[len(base) + 1 :].isdigit())
    ]
    q = (
        select(VisitRecord.id)
        .join(VisitPlan, VisitPlan.id == VisitRecord.plan_id)
        .where(VisitPlan.source_key.in_(keys), VisitRecord.result == VisitResult.REFUSED.value)
    )
    if record_id is not None:
        q = q.where(VisitRecord.id != record_id)
    refusals = len(s.execute(q).scalars().all())
    return ChainContext(severity, refusals)


def close_chain(ctx: ServiceContext, plan_id: int, reason: str) -> None:
    """A supervisor ends a follow-up chain (再次回访) that cannot go on: the pending attempt is cancelled
    with ``reason`` (required), audited; no further attempt is planned. Only a later attempt (第2次起)
    can be closed this way — a first visit is cancelled as a plan."""
    ctx.require(Permission.REASSIGN, "结束再次回访")
    why = require_text(reason, label="原因", field="reason", max_len=150)
    with ctx.sessions() as s, s.begin():
        plan = _load_plan(s, plan_id)
        c = s.get(Customer, plan.customer_id)
        assert c is not None
        check_visible(ctx, c)
        if plan.state != _PENDING:
            raise ValidationError(FieldError("plan_id", "回访计划", "该计划不是待回访状态，不能结束"))
        if plan.attempt <= 1:
            raise ValidationError(FieldError("plan_id", "回访计划", "第一次回访不是再次回访，请用“取消计划”"))
        plan.state, plan.cancel_reason = _CANCELLED, f"{CHAIN_CLOSED}：{why}"
        audit(
            s,
            ctx,
            CHAIN_CLOSED,
            "visit_plan",
            plan.id,
            f"{c.code} {c.name} 第{plan.attempt}次回访",
            old={"state": _PENDING},
            new={"state": _CANCELLED, "cancel_reason": plan.cancel_reason},
            note=why,
        )
