"""Office-wide policy that every workflow reads: the work calendar, the satisfaction scale, who sees what.

This module sits below the workflows (customers, visits, complaints, review, statistics, printing, …): it
imports only the settings store, the context and storage, never a workflow, so following the acting user
from any screen ends here instead of going round from one workflow into another.

* Work calendar: the mainland calendar (``chinesecalendar``) plus the years an admin entered in Settings
  (``OfficeSettings.holidays``); every deadline and due day is counted on it.
* Satisfaction scale (setting ``satisfaction_scale``, a key of :data:`SATISFACTION_SCALES`): the answers a
  visit offers and which of them count as satisfied.
* Visibility (setting ``visibility``, domain.md §1 and 002): every file, or — for a user without
  ``VIEW_ALL_DEPARTMENTS`` under the department setting — only their department's customer files and the
  complaints of their department or handled by them; to read (not to work on) also the complaints whose
  closing visit they are planned to make or made.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.visits import DEFAULT_SCALE, SATISFACTION_SCALES, PlanState, SatisfactionScale
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.services.settings import (
    VISIBILITY_DEPARTMENT,
    OfficeSettings,
    get_value,
    load_settings,
    set_value,
)
from huifang_desktop.storage.models import Complaint, Customer, VisitPlan

SCALE_KEY = "satisfaction_scale"


# --- the work calendar --------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _calendar_for(overrides_json: str) -> WorkCalendar:
    return WorkCalendar.china(json.loads(overrides_json) or None)


def work_calendar(ctx: ServiceContext) -> WorkCalendar:
    """The mainland calendar plus the years an admin entered in Settings (cached per set of overrides)."""
    return _calendar_for(json.dumps(load_settings(ctx).holidays, sort_keys=True, default=str))


# --- the satisfaction scale ---------------------------------------------------------------------------


def load_scale(ctx: ServiceContext) -> SatisfactionScale:
    key = get_value(ctx, SCALE_KEY, DEFAULT_SCALE.key)
    return SATISFACTION_SCALES.get(str(key), DEFAULT_SCALE)


def save_scale(ctx: ServiceContext, key: str) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改满意度选项")
    if key not in SATISFACTION_SCALES:
        raise ValidationError(FieldError("satisfaction_scale", "满意度选项", f"“{key}”不是可选的满意度标准"))
    set_value(ctx, SCALE_KEY, key, what="满意度选项")


# --- visibility ---------------------------------------------------------------------------------------


class Filed(Protocol):
    """What the visibility check reads of a customer (a mapped Customer, or the columns a form printed)."""

    @property
    def code(self) -> str: ...

    @property
    def department_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class CustomerScope:
    """Which customer files the acting user sees (domain.md §1, 002): every file, or (``limited``) only
    those of their department; a limited user without a department sees only files that have none. The
    one place this rule is decided: the customer files, visits, printing, statistics, ledgers and service
    records all ask :func:`customer_scope`."""

    limited: bool
    department_id: int | None

    def condition(self) -> Any:
        """The limit as a condition on ``Customer`` (joined by the caller)."""
        if self.department_id is None:
            return Customer.department_id.is_(None)
        return Customer.department_id == self.department_id

    def where(self, q: Any) -> Any:
        return q.where(self.condition()) if self.limited else q

    def check(self, c: Filed) -> None:
        if self.limited and c.department_id != self.department_id:
            raise PermissionDenied(f"客户 {c.code} 属于其他部门，需经理授权才能查看。")


def customer_scope(ctx: ServiceContext, settings: OfficeSettings | None = None) -> CustomerScope:
    """The acting user's scope under the office's visibility setting (read now unless passed)."""
    settings = settings or load_settings(ctx)
    limited = (
        settings.visibility == VISIBILITY_DEPARTMENT
        and ctx.user.id != 0
        and not can(ctx.user.role, Permission.VIEW_ALL_DEPARTMENTS)
    )
    return CustomerScope(limited, ctx.user.department_id if limited else None)


def check_visible(ctx: ServiceContext, c: Filed, settings: OfficeSettings | None = None) -> None:
    """PermissionDenied for a customer file outside the acting user's scope."""
    customer_scope(ctx, settings).check(c)


_COMPLAINT_PLAN = re.compile(r"^complaint:(\d+)#")  # a complaint's closing-visit plan (complaints.closing)
_HELD_PLAN_STATES = (PlanState.PENDING.value, PlanState.DONE.value)


def visited_complaints(ctx: ServiceContext, db: Session | Connection | None = None) -> list[int]:
    """The complaints whose closing visit the acting user holds a plan for, open or done (``complaint:<id>#…``,
    a cancelled plan or one given to somebody else does not count); read with ``db`` or a session of its own."""
    if not ctx.user.id:
        return []
    q = select(VisitPlan.source_key).where(
        VisitPlan.owner_id == ctx.user.id,
        VisitPlan.state.in_(_HELD_PLAN_STATES),
        VisitPlan.source_key.startswith("complaint:"),
    )
    if db is None:
        with ctx.sessions() as s:
            keys = s.execute(q).scalars().all()
    else:
        keys = db.execute(q).scalars().all()
    return sorted({int(m.group(1)) for key in keys if (m := _COMPLAINT_PLAN.match(key))})


def complaint_visibility(
    ctx: ServiceContext, *, reading: bool = False, db: Session | Connection | None = None
) -> Any:
    """The complaints a limited user sees, as a condition on ``Complaint`` (None: every complaint): those of
    their department and those they handle (same setting as the customer files).

    ``reading``: to read a complaint — the register and the 投诉台账, open by number, the detail (its events
    and attachments), printing it — and to record its closing visit, a limited user also sees the complaints
    whose closing visit they hold a plan for (:func:`visited_complaints`, read with ``db`` when given): the
    independence rule may plan that visit for somebody of another department, who then reads the complaint
    there but may not handle, edit or close it (those steps ask without ``reading``, and check who works on
    the complaint besides)."""
    scope = customer_scope(ctx)
    if not scope.limited:
        return None
    dep = scope.department_id
    visited = visited_complaints(ctx, db) if reading else []
    return or_(
        Complaint.department_id == dep,
        Complaint.handler_id == ctx.user.id,
        Complaint.department_id.is_(None) if dep is None else Complaint.id < 0,
        *([Complaint.id.in_(visited)] if visited else []),
    )


__all__ = [
    "SCALE_KEY",
    "CustomerScope",
    "Filed",
    "check_visible",
    "complaint_visibility",
    "customer_scope",
    "load_scale",
    "save_scale",
    "visited_complaints",
    "work_calendar",
]
