"""Small helpers shared by the visit workflows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.errors import FieldError
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.services.errors import NotFound
from huifang_desktop.storage.models import User, VisitPlan


def _user_names(conn: Connection | Session) -> dict[int, str]:
    return {uid: name for uid, name in conn.execute(select(User.id, User.display_name))}


def _load_plan(s: Session, plan_id: int) -> VisitPlan:
    plan = s.get(VisitPlan, plan_id)
    if plan is None:
        raise NotFound(f"回访计划 {plan_id} 不存在。")
    return plan


def _enum_field(cls: Any, value: Any, name: str, label: str, errors: list[FieldError]) -> Any:
    try:
        return cls(clean_text(str(value)) if value is not None else value)
    except ValueError:
        errors.append(FieldError(name, label, f"“{value or ''}”不是有效的选项"))
        return None
