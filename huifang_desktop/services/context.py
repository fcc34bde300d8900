"""The acting user, the session factory and the clock, passed to every service call."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.services.audit_labels import FIELD_LABELS
from huifang_desktop.services.errors import PermissionDenied
from huifang_desktop.storage.chain import chain_rows
from huifang_desktop.storage.models import AuditLog


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    department_id: int | None
    department: str = ""


SYSTEM_USER = UserInfo(0, "system", "系统", Role.ADMIN, None)


@dataclass(frozen=True)
class ServiceContext:
    engine: Engine
    sessions: sessionmaker[Session]
    user: UserInfo = SYSTEM_USER
    clock: Callable[[], datetime] = field(default=datetime.now)

    def as_user(self, user: UserInfo) -> ServiceContext:
        return ServiceContext(self.engine, self.sessions, user, self.clock)

    def now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def today(self) -> date:
        return self.clock().date()

    def may(self, permission: Permission) -> bool:
        """The acting user holds ``permission`` (the system context, e.g. the command line, holds all)."""
        return self.user is SYSTEM_USER or can(self.user.role, permission)

    def require(self, permission: Permission, what: str) -> None:
        if not self.may(permission):
            raise PermissionDenied(f"您的角色（{self.user.role.label}）无权{what}。")


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def audit(
    session: Session,
    ctx: ServiceContext,
    action: str,
    entity: str,
    entity_id: int | None,
    label: str = "",
    *,
    old: Any = None,
    new: Any = None,
    note: str = "",
) -> AuditLog:
    """Append one audit row inside the caller's transaction, chained to the one before (storage.chain)."""
    row = audit_values(ctx, action, entity, entity_id, label, old=old, new=new, note=note)
    chain_rows(session, [row])
    entry = AuditLog(**row)
    session.add(entry)
    return entry


def audit_values(
    ctx: ServiceContext,
    action: str,
    entity: str,
    entity_id: int | None,
    label: str = "",
    *,
    old: Any = None,
    new: Any = None,
    note: str = "",
) -> dict[str, Any]:
    """One audit row as a dict (for bulk writers: chain them with ``storage.chain.chain_rows``)."""
    return {
        "at": ctx.now(),
        "user_id": ctx.user.id or None,
        "username": ctx.user.username,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "label": label,
        "old": _json(old),
        "new": _json(new),
        "note": note,
    }


def diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (old, new) dicts for the audit log."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}


def recent_changes(session: Session, entity: str, entity_id: int, saves: int, me: int | None = None) -> str:
    """What the other person changed, for a refused save (version conflict): up to ``saves`` of the newest
    audit rows of the record written by someone else, as “小李 11-24 10:05 修改客户：地址：甲 → 乙”."""
    from sqlalchemy import or_, select

    from huifang_desktop.storage.models import User

    if saves <= 0:
        return ""
    q = (
        select(AuditLog, User.display_name)
        .outerjoin(User, User.id == AuditLog.user_id)
        .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
        .order_by(AuditLog.id.desc())
        .limit(min(saves, 5))
    )
    if me:
        q = q.where(or_(AuditLog.user_id.is_(None), AuditLog.user_id != me))
    parts = []
    for row, name in reversed(session.execute(q).all()):
        old = json.loads(row.old) if row.old else {}
        new = json.loads(row.new) if row.new else {}
        fields_ = []
        if isinstance(new, dict):
            for key, value in list(new.items())[:6]:
                before = old.get(key) if isinstance(old, dict) else None
                fields_.append(f"{FIELD_LABELS.get(key, key)}：{_short(before)} → {_short(value)}")
        who = name or row.username
        parts.append(
            f"{who} {row.at:%m-%d %H:%M} {row.action}" + ("：" + "；".join(fields_) if fields_ else "")
        )
    return "\n".join(parts)


def _short(value: Any) -> str:
    text = "（空）" if value in (None, "") else str(value)
    return text if len(text) <= 30 else text[:29] + "…"
