"""Visitor independence in planning and recording (001 篇11; rules in
:mod:`huifang_desktop.domain.independence`).

Planning (:class:`Visitors`): a satisfaction or complaint-closing plan whose visitor would be the customer's
业务员 (or the complaint's handler) goes to a colleague — 客服专员 first, same department, fewest pending
visits. Recording (:func:`check_visitor`): such a visit by the 业务员 or the handler is refused with a clear
message, unless the office switched the check off (设置 → 回访规则, ``independent_visitor``). The same one
switch decides who a complaint's closing visit is planned for (the complaint rules have none of their own).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.independence import Colleague, conflict, keep_or_pick
from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.visits import VisitMethod, VisitType
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.visits.options import _PENDING, independence_covers, load_rules
from huifang_desktop.storage.models import Complaint, User, VisitPlan

_COMPLAINT_KEY = re.compile(r"^complaint:(\d+)#")
#: who makes an ordinary independent visit, in order of preference (客服专员, then a supervisor)
VISIT_ROLES: tuple[str, ...] = (Role.CLERK.value, Role.SUPERVISOR.value)


def closing_roles(level: Role) -> tuple[str, ...]:
    """A complaint's closing visit is made at the severity's level or above (domain.md §7)."""
    ladder = (Role.CLERK, Role.SUPERVISOR, Role.MANAGER)
    return tuple(r.value for r in ladder[ladder.index(level) :]) if level in ladder else (level.value,)


def complaint_handler(conn: Connection | Session, source_key: str) -> int | None:
    """The handler of the complaint a closing-visit plan (``complaint:<id>#…``) belongs to."""
    m = _COMPLAINT_KEY.match(source_key or "")
    if not m:
        return None
    return conn.execute(select(Complaint.handler_id).where(Complaint.id == int(m.group(1)))).scalar()


class Visitors:
    """The office's possible visitors with their pending load, read once per planning run; each
    assignment counts towards the load, so one run spreads its plans."""

    def __init__(self, conn: Connection | Session) -> None:
        self._conn = conn
        self._people: list[Colleague] | None = None

    def _load(self) -> list[Colleague]:
        if self._people is None:
            load = dict(
                self._conn.execute(
                    select(VisitPlan.owner_id, func.count())
                    .where(VisitPlan.state == _PENDING)
                    .group_by(VisitPlan.owner_id)
                ).all()
            )
            self._people = [
                Colleague(uid, role, dep, int(load.get(uid, 0)))
                for uid, role, dep in self._conn.execute(
                    select(User.id, User.role, User.department_id)
                    .where(User.active.is_(True))
                    .order_by(User.id)
                )
            ]
        return self._people

    def assign(
        self,
        current: int | None,
        department_id: int | None,
        owner_id: int | None,
        handler_id: int | None = None,
        roles: Sequence[str] = VISIT_ROLES,
    ) -> int | None:
        """``current`` if independent of the customer's owner and the handler, else a colleague."""
        if conflict(current, owner_id, handler_id) is None and current is not None:
            return current
        people = self._load()
        picked = keep_or_pick(current, people, roles, department_id, owner_id, handler_id)
        if picked is not None and picked != current:
            self._people = [replace_load(c) if c.id == picked else c for c in people]
        return picked


def replace_load(c: Colleague) -> Colleague:
    return Colleague(c.id, c.role, c.department_id, c.load + 1)


def check_visitor(
    visitor_id: int | None, owner_id: int | None, handler_id: int | None, visit_type: str
) -> str | None:
    """The refusal message for a visit that breaks independence (None: allowed)."""
    why = conflict(visitor_id, owner_id, handler_id)
    return None if why is None else f"{visit_type}回访：{why}（回访独立性，可在 设置 → 回访规则 中关闭）"


def closing_visit_plan_for(
    ctx: ServiceContext,
    s: Session,
    owner: int | None,
    level: Role,
    department_id: int | None,
    customer_owner: int | None,
    handler_id: int | None,
    severity: str,
) -> tuple[int | None, str]:
    """Who makes a complaint's closing visit and how (used by the complaint workflow when it plans it):
    independent of the customer's 业务员 and the handler when the check is on (a colleague at the
    severity's level or above), on site for the severities of ``FollowUpPolicy.on_site_severities``
    (重大 by default, 000 §1.9), else by phone."""
    rules = load_rules(ctx)
    method = rules.follow_up.closing_method(severity) or VisitMethod.PHONE
    if independence_covers(ctx, VisitType.COMPLAINT.value):
        owner = Visitors(s).assign(owner, department_id, customer_owner, handler_id, closing_roles(level))
    return owner, method.value
