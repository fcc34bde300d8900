"""Log-in lock-out (issue 23): failed log-ins are audited with the name tried and the PC; the
``login_attempts``-th failure in a row locks the name for ``lockout_minutes`` (settings). Used by
:mod:`huifang_desktop.services.users` (authenticate, unlock, reset)."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.roles import Role
from huifang_desktop.services.context import ServiceContext, UserInfo, audit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.storage.models import AuditLog, User

LOGIN_FAILED = "登录失败"
LOGGED_IN = "登录"
UNLOCKED = "解锁用户"
PASSWORD_RESET = "重置密码"
_LOCK_CLEARED_BY = (LOGGED_IN, UNLOCKED, PASSWORD_RESET)  # a failure streak ends at any of these
_NAME_LIMIT = 40  # audit_log.username


def _login_limits(s: Session) -> tuple[int, timedelta]:
    from huifang_desktop.services.settings import OfficeSettings, settings_in

    try:
        office = settings_in(s)
        limit, period = (
            max(1, int(office.login_attempts)),
            timedelta(minutes=max(1, int(office.lockout_minutes))),
        )
    except (ServiceError, TypeError, ValueError):  # damaged settings must not keep everyone out: defaults
        office = OfficeSettings()
        limit, period = office.login_attempts, timedelta(minutes=office.lockout_minutes)
    return limit, period


def _locked_until(s: Session, name: str, user_id: int | None, now: datetime) -> datetime | None:
    """Until when log-ins as ``name`` are refused, or None. The failures since the user's last log-in,
    unlock or password reset are read in order: the ``login_attempts``-th in a row locks the name for
    ``lockout_minutes``; attempts while locked do not count (nor extend it); after it, counting restarts."""
    limit, period = _login_limits(s)
    since = 0
    if user_id is not None:
        since = (
            s.execute(
                select(func.max(AuditLog.id)).where(
                    AuditLog.entity == "user",
                    AuditLog.entity_id == user_id,
                    AuditLog.action.in_(_LOCK_CLEARED_BY),
                )
            ).scalar()
            or 0
        )
    failures = s.execute(
        select(AuditLog.at)
        .where(AuditLog.action == LOGIN_FAILED, AuditLog.label == name, AuditLog.id > since)
        .order_by(AuditLog.id)
    )
    count, until = 0, None
    for at in failures.scalars():
        if until is not None:
            if at < until:
                continue
            count, until = 0, None
        count += 1
        if count >= limit:
            until = at + period
    return until if until is not None and now < until else None


def _this_computer() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return ""


def _audit_failure(s: Session, ctx: ServiceContext, name: str, user: User | None, reason: str) -> None:
    host = _this_computer()
    who = UserInfo(
        user.id if user is not None else 0,
        name[:_NAME_LIMIT] or "（空）",
        user.display_name if user is not None else name[:_NAME_LIMIT],
        Role(user.role) if user is not None else Role.CLERK,
        None,
    )
    audit(
        s,
        ctx.as_user(who),
        LOGIN_FAILED,
        "user",
        user.id if user is not None else None,
        name[:200],
        new={"username": name[:200], "reason": reason, "host": host},
        note=f"{reason}（电脑：{host or '未知'}）",
    )
