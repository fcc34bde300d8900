"""Users, departments, log-in (domain.md §1). Passwords are argon2 hashes, never stored in clear."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.services.context import ServiceContext, UserInfo, audit
from huifang_desktop.services.errors import NotFound, ServiceError
from huifang_desktop.storage.models import Department, User

_DEFAULT_HASHER = PasswordHasher()  # argon2id with the library's recommended (slow) parameters
MIN_PASSWORD = 6


def password_hasher() -> PasswordHasher:
    """The hasher for new passwords. Verification reads the parameters stored in each hash, so a test may
    monkeypatch this to a cheap hasher without touching the production defaults."""
    return _DEFAULT_HASHER


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role: Role
    department: str
    active: bool


class LoginFailed(ServiceError):
    pass


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(FieldError("password", "密码", f"至少 {MIN_PASSWORD} 位"))


def _to_info(u: User) -> UserInfo:
    return UserInfo(u.id, u.username, u.display_name, Role(u.role), u.department_id,
                    u.department.name if u.department else "")


def has_users(ctx: ServiceContext) -> bool:
    with ctx.sessions() as s:
        return bool(s.execute(select(func.count(User.id))).scalar())


def ensure_department(ctx: ServiceContext, name: str) -> int:
    ctx.require(Permission.MANAGE_USERS, "管理部门")
    name = clean_text(name)
    if not name:
        raise ValidationError(FieldError("department", "部门", "不能为空"))
    with ctx.sessions() as s, s.begin():
        return _ensure_department(s, ctx, name)


def _ensure_department(s: Session, ctx: ServiceContext, name: str) -> int:
    """The id of department ``name`` (already cleaned), created inside the caller's transaction."""
    dep = s.execute(select(Department).where(Department.name == name)).scalar_one_or_none()
    if dep is None:
        dep = Department(name=name)
        s.add(dep)
        s.flush()
        audit(s, ctx, "新建部门", "department", dep.id, name)
    return dep.id


def list_departments(ctx: ServiceContext) -> list[tuple[int, str]]:
    with ctx.sessions() as s:
        return [(d.id, d.name) for d in s.execute(select(Department).order_by(Department.name)).scalars()]


def create_user(ctx: ServiceContext, username: str, display_name: str, role: Role | str, password: str,
                department: str = "", *, first_admin: bool = False) -> UserInfo:
    """Create a user. ``first_admin`` lets the very first start create the administrator."""
    if first_admin:
        if has_users(ctx):
            raise ServiceError("已有用户，不能再创建初始管理员。")
    else:
        ctx.require(Permission.MANAGE_USERS, "管理用户")
    errors = []
    username = clean_text(username).lower()
    if not username or not username.replace("_", "").replace(".", "").isalnum() or not username.isascii():
        errors.append(FieldError("username", "用户名", "只能用字母、数字、点和下划线"))
    display_name = clean_text(display_name)
    if not display_name:
        errors.append(FieldError("display_name", "姓名", "不能为空"))
    try:
        role = Role(role)
    except ValueError:
        errors.append(FieldError("role", "角色", f"“{role}”不是有效角色（clerk/supervisor/manager/admin）"))
    try:
        _check_password(password)
    except ValidationError as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors)
    department = clean_text(department)
    with ctx.sessions() as s, s.begin():  # one transaction: a refused user leaves no new department behind
        if s.execute(select(User.id).where(User.username == username)).first():
            raise ValidationError(FieldError("username", "用户名", f"“{username}”已存在"))
        dep_id = _ensure_department(s, ctx, department) if department else None
        user = User(username=username, display_name=display_name, role=str(role), department_id=dep_id,
                    password_hash=hash_password(password), active=True, created_at=ctx.now())
        s.add(user)
        s.flush()
        audit(s, ctx, "新建用户", "user", user.id, f"{display_name}（{username}）",
              new={"username": username, "role": str(role), "department": department})
        s.refresh(user)
        return _to_info(user)


def authenticate(ctx: ServiceContext, username: str, password: str) -> UserInfo:
    with ctx.sessions() as s, s.begin():
        user = s.execute(select(User).where(User.username == clean_text(username).lower())).scalar_one_or_none()
        ok = False
        if user is not None and user.active:
            try:
                ok = password_hasher().verify(user.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
        if not ok:
            raise LoginFailed("用户名或密码不正确。")
        assert user is not None
        info = _to_info(user)
        audit(s, ctx.as_user(info), "登录", "user", user.id, user.display_name)
        return info


def list_users(ctx: ServiceContext, *, include_inactive: bool = False) -> list[UserRow]:
    with ctx.sessions() as s:
        q = select(User).order_by(User.role, User.username)
        if not include_inactive:
            q = q.where(User.active.is_(True))
        return [UserRow(u.id, u.username, u.display_name, Role(u.role), u.department.name if u.department else "",
                        u.active) for u in s.execute(q).scalars()]


def get_user(ctx: ServiceContext, user_id: int) -> UserInfo:
    with ctx.sessions() as s:
        u = s.get(User, user_id)
        if u is None:
            raise NotFound(f"用户 {user_id} 不存在。")
        return _to_info(u)


def find_user(ctx: ServiceContext, username: str) -> UserInfo:
    with ctx.sessions() as s:
        u = s.execute(select(User).where(User.username == clean_text(username).lower())).scalar_one_or_none()
        if u is None:
            raise NotFound(f"用户“{username}”不存在。")
        return _to_info(u)


def reset_password(ctx: ServiceContext, username: str, new_password: str | None = None) -> str:
    """Set a new password (random if none given) and return it; the user must change it at next log-in."""
    ctx.require(Permission.MANAGE_USERS, "重置密码")
    password = new_password or secrets.token_urlsafe(8)
    _check_password(password)
    with ctx.sessions() as s, s.begin():
        u = s.execute(select(User).where(User.username == clean_text(username).lower())).scalar_one_or_none()
        if u is None:
            raise NotFound(f"用户“{username}”不存在。")
        u.password_hash = hash_password(password)
        u.must_change_password = new_password is None
        audit(s, ctx, "重置密码", "user", u.id, u.display_name)
    return password


def set_active(ctx: ServiceContext, user_id: int, active: bool) -> None:
    ctx.require(Permission.MANAGE_USERS, "管理用户")
    with ctx.sessions() as s, s.begin():
        u = s.get(User, user_id)
        if u is None:
            raise NotFound(f"用户 {user_id} 不存在。")
        old = u.active
        u.active = active
        audit(s, ctx, "启用用户" if active else "停用用户", "user", u.id, u.display_name,
              old={"active": old}, new={"active": active})


def clerks(ctx: ServiceContext) -> list[UserRow]:
    """Users who can own customers (clerks and supervisors), for owner pickers."""
    return [u for u in list_users(ctx) if can(u.role, Permission.EDIT_CUSTOMERS)]
