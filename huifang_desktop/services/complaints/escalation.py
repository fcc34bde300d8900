"""Escalation of overdue complaints (run at start) and the handler's notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from huifang_desktop.domain.complaints import (
    MessageKind,
    escalated_role,
)
from huifang_desktop.domain.roles import Role
from huifang_desktop.services.complaints.common import _event, _label, _pick_user, _user_name
from huifang_desktop.services.complaints.model import _OPEN, EscalationResult, Notices, load_policy
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.storage.models import (
    Complaint,
)

# --- escalation and notices --------------------------------------------------------------------------

def escalate_overdue(ctx: ServiceContext, now: datetime | None = None) -> EscalationResult:
    """Every open complaint past its deadline goes one level up (clerk → 部门主管 → 公司经理), once per missed
    deadline; audited as the system. Run at start (and by ``plan``)."""
    policy = load_policy(ctx)
    if not policy.escalate_overdue:
        return EscalationResult(())
    now = now or ctx.now()
    system = ctx.as_user(SYSTEM_USER)
    out: list[tuple[str, str, str]] = []
    with ctx.sessions() as s, s.begin():
        q = (select(Complaint).where(Complaint.state.in_(_OPEN), Complaint.deadline < now,
                                     Complaint.kind == MessageKind.COMPLAINT.value,
                                     Complaint.handler_role != Role.MANAGER.value,
                                     or_(Complaint.escalated_deadline.is_(None),
                                         Complaint.escalated_deadline != Complaint.deadline))
             .order_by(Complaint.deadline))
        for c in s.execute(q).scalars():
            current = Role(c.handler_role)
            up = escalated_role(current)
            if up is None:
                continue
            new_handler = _pick_user(s, up, c.department_id)
            old_name = _user_name(s, c.handler_id)
            c.handler_role, c.escalation_level = up.value, c.escalation_level + 1
            if new_handler is not None:
                c.handler_id = new_handler
            c.escalated_at, c.escalated_deadline, c.escalation_seen = now, c.deadline, False
            new_name = _user_name(s, c.handler_id)
            assert c.deadline is not None
            note = (f"逾期（期限 {c.deadline:%Y-%m-%d %H:%M}）自动升级：{current.label} {old_name} → "
                    f"{up.label} {new_name or '（无此级别人员）'}")
            _event(s, system, c, "逾期升级", note=note)
            audit(s, system, "逾期升级", "complaint", c.id, _label(c),
                  old={"handler": old_name, "level": current.value}, new={"handler": new_name, "level": up.value})
            out.append((c.number, current.label, new_name))
    return EscalationResult(tuple(out))


def notices(ctx: ServiceContext) -> Notices:
    """For the start-up reminder and the tray: complaints escalated or chased to me and not yet seen,
    my overdue ones, my open ones."""
    me = ctx.user.id or -1
    now = ctx.now()
    with ctx.sessions() as s:
        mine = select(func.count(Complaint.id)).where(Complaint.handler_id == me, Complaint.state.in_(_OPEN))
        unseen = s.execute(mine.where(Complaint.escalation_seen.is_(False))).scalar() or 0
        overdue = s.execute(mine.where(Complaint.deadline < now)).scalar() or 0
        total = s.execute(mine).scalar() or 0
    return Notices(int(unseen), int(overdue), int(total))


def mark_notices_seen(ctx: ServiceContext) -> int:
    """The handler opened the register: escalation / 催办 notices are seen."""
    me = ctx.user.id
    if not me:
        return 0
    with ctx.sessions() as s, s.begin():
        rows = s.execute(select(Complaint).where(Complaint.handler_id == me,
                                                 Complaint.escalation_seen.is_(False))).scalars().all()
        for c in rows:
            c.escalation_seen = True
        return len(rows)
