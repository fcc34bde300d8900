"""Users, departments, log-in (domain.md §1). Passwords are argon2 hashes, never stored in clear.

Log-in controls, kept in the audit log (no table of their own): every failed log-in is an audit row
(``登录失败``: the name tried, why, which computer); after ``login_attempts`` failures of one name in a row
(office setting, default 5) the name is locked for ``lockout_minutes`` (default 15) — counted since its
last successful log-in, unlock by an administrator (``解锁用户``) or password reset. Names that do not exist
are counted and locked alike, and they cost one password check against a dummy hash of the same
parameters, so neither the answer nor its time tells whether a user exists.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import ROLE_LABELS, Permission, Role, can
from huifang_desktop.domain.validation import CONTROL_CHARS, CONTROL_MESSAGE, clean_text
from huifang_desktop.services import passwords
from huifang_desktop.services.context import ServiceContext, UserInfo, audit
from huifang_desktop.services.errors import NotFound, ServiceError
from huifang_desktop.services.lockout import (
    LOGGED_IN,
    PASSWORD_RESET,
    UNLOCKED,
    _audit_failure,
    _locked_until,
    _this_computer,
)
from huifang_desktop.services.signing import ensure_key_at_login, password_changed, set_new_key, with_state
from huifang_desktop.storage.models import Department, Setting, User

MIN_PASSWORD = 6


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


class AccountLocked(LoginFailed):
    """Too many wrong passwords in a row: refused until ``until`` without checking the password."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"账户已锁定，请于 {until:%H:%M} 后再试或联系管理员解锁。")
        self.until = until


class NotDemoOffice(ServiceError):
    pass


PASSWORD_CHANGED = "修改密码"
DEMO_OFFICE_KEY = "demo_office"  # Setting row written when the demo generator made the whole office


def hash_password(password: str) -> str:
    return passwords.password_hasher().hash(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(FieldError("password", "密码", f"至少 {MIN_PASSWORD} 位"))


def _to_info(u: User) -> UserInfo:
    return UserInfo(
        u.id,
        u.username,
        u.display_name,
        Role(u.role),
        u.department_id,
        u.department.name if u.department else "",
    )


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


def create_user(
    ctx: ServiceContext,
    username: str,
    display_name: str,
    role: Role | str,
    password: str,
    department: str = "",
    *,
    first_admin: bool = False,
    must_change: bool = False,
    hasher: PasswordHasher | None = None,
) -> UserInfo:
    """Create a user. ``first_admin`` lets the very first start create the administrator; ``must_change``
    (a generated password) makes the user set their own at the first log-in. ``hasher``: the demo office's
    cheap one (its passwords are shown on its log-in dialog anyway); otherwise
    ``passwords.password_hasher()``."""
    if first_admin:
        if has_users(ctx):
            raise ServiceError("已有用户，不能再创建初始管理员。")
    else:
        ctx.require(Permission.MANAGE_USERS, "管理用户")
    errors = []
    username = clean_text(username).lower()
    if not username or not username.replace("_", "").replace(".", "").isalnum() or not username.isascii():
        errors.append(FieldError("username", "用户名", "只能用字母、数字、点和下划线"))
    if CONTROL_CHARS.search(display_name or ""):
        errors.append(FieldError("display_name", "姓名", CONTROL_MESSAGE))
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
    _check_department_name(department, allow_empty=True)
    with ctx.sessions() as s, s.begin():  # one transaction: a refused user leaves no new department behind
        if s.execute(select(User.id).where(User.username == username)).first():
            raise ValidationError(FieldError("username", "用户名", f"“{username}”已存在"))
        dep_id = _ensure_department(s, ctx, department) if department else None
        user = User(
            username=username,
            display_name=display_name,
            role=str(role),
            department_id=dep_id,
            password_hash=(hasher or passwords.password_hasher()).hash(password),
            active=True,
            created_at=ctx.now(),
            must_change_password=must_change,
        )
        s.add(user)
        s.flush()
        audit(
            s,
            ctx,
            "新建用户",
            "user",
            user.id,
            f"{display_name}（{username}）",
            new=with_state(user, {"username": username, "role": str(role), "department": department}),
        )
        set_new_key(s, ctx, user, password, "新建用户", hasher=hasher)
        s.refresh(user)
        return _to_info(user)


_DUMMY_HASHES: dict[tuple[object, ...], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random password made with ``hasher``'s parameters (once per parameter set): checking a
    password against it costs what checking a real user's costs."""
    key = (
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
        hasher.type,
    )
    found = _DUMMY_HASHES.get(key)
    if found is None:
        found = _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return found


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(ctx: ServiceContext, username: str, password: str) -> UserInfo:
    """Check a log-in. Success and every failure are audited; a locked name is refused (``AccountLocked``)
    without looking at the password; a wrong password, an unknown or a disabled user all get the same
    message (and the same password check, against a dummy hash when there is no real one)."""
    name = clean_text(username).lower()
    now = ctx.now()
    with ctx.sessions() as s, s.begin():
        user = s.execute(select(User).where(User.username == name)).scalar_one_or_none()
        user_id = user.id if user is not None else None
        locked = _locked_until(s, name, user_id, now)
        if locked is not None:
            _audit_failure(s, ctx, name, user, "账户已锁定")
            failure: LoginFailed = AccountLocked(locked)
        else:
            hasher = passwords.password_hasher()
            if user is not None and user.active:
                ok = _verify(hasher, user.password_hash, password)
                reason = "密码错误"
            else:
                _verify(hasher, _dummy_hash(hasher), password)  # the same work as for a real user
                ok = False
                reason = "用户不存在" if user is None else "用户已停用"
            if ok:
                assert user is not None
                info = _to_info(user)
                audit(
                    s,
                    ctx.as_user(info),
                    LOGGED_IN,
                    "user",
                    user.id,
                    user.display_name,
                    note=f"电脑：{_this_computer() or '未知'}",
                )
                ensure_key_at_login(s, ctx.as_user(info), user, password)
                return info
            _audit_failure(s, ctx, name, user, reason)
            s.flush()
            now_locked = _locked_until(s, name, user_id, now)
            failure = (
                AccountLocked(now_locked) if now_locked is not None else LoginFailed("用户名或密码不正确。")
            )
    raise failure  # after the commit: the failure stays in the audit log


def locked_until(ctx: ServiceContext, username: str) -> datetime | None:
    """Until when ``username`` cannot log in after too many wrong passwords, or None."""
    name = clean_text(username).lower()
    with ctx.sessions() as s:
        user_id = s.execute(select(User.id).where(User.username == name)).scalar()
        return _locked_until(s, name, user_id, ctx.now())


def unlock_user(ctx: ServiceContext, username: str) -> bool:
    """An administrator lifts a lock-out (audited); returns whether the user was locked."""
    ctx.require(Permission.MANAGE_USERS, "解锁用户")
    name = clean_text(username).lower()
    with ctx.sessions() as s, s.begin():
        u = s.execute(select(User).where(User.username == name)).scalar_one_or_none()
        if u is None:
            raise NotFound(f"用户“{username}”不存在。")
        until = _locked_until(s, name, u.id, ctx.now())
        audit(
            s,
            ctx,
            UNLOCKED,
            "user",
            u.id,
            u.display_name,
            old={"locked_until": until} if until is not None else None,
        )
        return until is not None


def must_change_password(ctx: ServiceContext, user_id: int) -> bool:
    """True after a reset to a generated password: the user sets their own before the main window opens."""
    with ctx.sessions() as s:
        return bool(s.execute(select(User.must_change_password).where(User.id == user_id)).scalar())


def change_password(ctx: ServiceContext, old_password: str, new_password: str) -> None:
    """The acting user changes their own password (audited); clears the must-change flag."""
    if not ctx.user.id:
        raise ServiceError("请先登录，再修改自己的密码。")
    errors = []
    try:
        _check_password(new_password)
    except ValidationError as exc:
        errors.extend(exc.errors)
    if new_password == old_password:
        errors.append(FieldError("new_password", "新密码", "不能与原密码相同"))
    with ctx.sessions() as s, s.begin():
        u = s.get(User, ctx.user.id)
        if u is None or not u.active:
            raise NotFound("当前用户不存在或已停用。")
        if not _verify(passwords.password_hasher(), u.password_hash, old_password):
            raise ValidationError(FieldError("old_password", "原密码", "不正确"))
        if errors:
            raise ValidationError(errors)
        u.password_hash = hash_password(new_password)
        _forget_demo_password(s, u.username)
        was_forced = u.must_change_password
        u.must_change_password = False
        # the signing key follows the password (re-encrypted); the audit row records the user's new state
        password_changed(
            s,
            ctx,
            u,
            old_password,
            new_password,
            PASSWORD_CHANGED,
            note="重置后首次登录时修改" if was_forced else "",
        )


def is_demo_office(ctx: ServiceContext) -> bool:
    with ctx.sessions() as s:
        return s.get(Setting, DEMO_OFFICE_KEY) is not None


def mark_demo_office(ctx: ServiceContext, accounts: Sequence[tuple[str, str, str]] = ()) -> None:
    """Written by the demo generator when it made the whole office (users included): only such a database
    opens without a password (``--demo``, ``--screenshot``). A right of the administrators (and the program
    itself): a clerk marking the office would open it to anybody without a password.

    ``accounts``: the sample users' (username, role, password), kept in the marker so that the office's
    log-in dialog can show them (:func:`demo_accounts`): the marker exists on example offices only."""
    import json

    ctx.require(Permission.MANAGE_USERS, "标记示例办公室")
    listed = [{"username": u, "role": str(r), "password": p} for u, r, p in accounts]
    with ctx.sessions() as s, s.begin():
        if s.get(Setting, DEMO_OFFICE_KEY) is None:
            s.add(
                Setting(
                    key=DEMO_OFFICE_KEY,
                    value=json.dumps(
                        {"made_at": ctx.now().isoformat(), "accounts": listed}, ensure_ascii=False
                    ),
                )
            )


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    password: str


def demo_accounts(ctx: ServiceContext) -> list[DemoAccount]:
    """The example office's sample accounts with their passwords, for its log-in dialog: those still active
    and not changed since (a changed or reset password is dropped from the list). Empty on any other
    office — a real office has no marker, so nothing is shown."""
    import json

    with ctx.sessions() as s:
        row = s.get(Setting, DEMO_OFFICE_KEY)
        if row is None:
            return []
        try:
            listed = json.loads(row.value).get("accounts") or []
        except (ValueError, AttributeError):
            return []
        active = set(s.execute(select(User.username).where(User.active.is_(True))).scalars())
    found = []
    for item in listed:
        try:
            account = DemoAccount(str(item["username"]), Role(item["role"]), str(item["password"]))
        except (KeyError, TypeError, ValueError):
            continue
        if account.username in active:
            found.append(account)
    return found


def _forget_demo_password(s: Session, username: str) -> None:
    """A sample account's password was changed: its old one is no longer shown on the log-in dialog."""
    import json

    row = s.get(Setting, DEMO_OFFICE_KEY)
    if row is None:
        return
    try:
        value = json.loads(row.value)
        listed = value.get("accounts") or []
    except (ValueError, AttributeError):
        return
    kept = [a for a in listed if not (isinstance(a, dict) and a.get("username") == username)]
    if len(kept) != len(listed):
        value["accounts"] = kept
        row.value = json.dumps(value, ensure_ascii=False)


def demo_login(ctx: ServiceContext, username: str | None = None) -> UserInfo:
    """Log in without a password, on an example office only (``--demo``, screenshots): as ``username``, or
    the first supervisor (then manager, administrator). Audited like any log-in."""
    if not is_demo_office(ctx):
        raise NotDemoOffice(
            "这个数据库不是示例办公室，不能免密码打开（--demo、--screenshot、--user 只用于"
            "示例办公室）。请不带这些选项启动，在登录框中登录。"
        )
    if username:
        info = find_user(ctx, username)
    else:
        rows = {r.role: r for r in reversed(list_users(ctx))}  # the first user of each role
        first = next((rows[r] for r in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN) if r in rows), None)
        if first is None:
            raise NotFound("示例办公室里没有主管、经理或管理员账号。")
        info = get_user(ctx, first.id)
    with ctx.sessions() as s, s.begin():
        audit(
            s,
            ctx.as_user(info),
            LOGGED_IN,
            "user",
            info.id,
            info.display_name,
            note=f"示例办公室免密码登录（电脑：{_this_computer() or '未知'}）",
        )
    return info


def list_users(ctx: ServiceContext, *, include_inactive: bool = False) -> list[UserRow]:
    with ctx.sessions() as s:
        q = select(User).order_by(User.role, User.username)
        if not include_inactive:
            q = q.where(User.active.is_(True))
        return [
            UserRow(
                u.id,
                u.username,
                u.display_name,
                Role(u.role),
                u.department.name if u.department else "",
                u.active,
            )
            for u in s.execute(q).scalars()
        ]


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
        _forget_demo_password(s, u.username)
        u.must_change_password = new_password is None
        audit(
            s,
            ctx,
            PASSWORD_RESET,
            "user",
            u.id,
            u.display_name,
            new=with_state(u),
            note="随机密码，下次登录时须修改" if new_password is None else "",
        )
        # the old password is unknown: a new key pair (the old public key stays in the chain for old signatures)
        set_new_key(s, ctx, u, password, "重置密码")
    return password


def set_active(ctx: ServiceContext, user_id: int, active: bool) -> None:
    """Disable or enable a user (audited). Refused: disabling yourself, and disabling the last active
    administrator (nobody could then manage users)."""
    ctx.require(Permission.MANAGE_USERS, "管理用户")
    with ctx.sessions() as s, s.begin():
        u = s.get(User, user_id)
        if u is None:
            raise NotFound(f"用户 {user_id} 不存在。")
        if not active and u.active:
            disable_in(s, ctx, u)
            return
        old = u.active
        u.active = active
        audit(
            s,
            ctx,
            "启用用户" if active else "停用用户",
            "user",
            u.id,
            u.display_name,
            old={"active": old},
            new=with_state(u, {"active": active}),
        )


def disable_in(s: Session, ctx: ServiceContext, u: User) -> None:
    """Disable ``u`` inside the caller's transaction (after its hand-over, :func:`handover.disable_user`).
    Refused: disabling yourself, and disabling the last active administrator."""
    if u.id == ctx.user.id:
        raise ServiceError("不能停用自己的账号。")
    _keep_an_administrator(s, u, "停用")
    old = u.active
    u.active = False
    audit(
        s,
        ctx,
        "停用用户",
        "user",
        u.id,
        u.display_name,
        old={"active": old},
        new=with_state(u, {"active": False}),
    )


def clerks(ctx: ServiceContext) -> list[UserRow]:
    """Users who can own customers (clerks and supervisors), for owner pickers."""
    return [u for u in list_users(ctx) if can(u.role, Permission.EDIT_CUSTOMERS)]


# --- user and department management (工具 → 用户与部门, issue 18) -------------------------------------------

GENERATED_PASSWORD_BYTES = 8  # secrets.token_urlsafe(8): 11 characters
_DEPARTMENT_NAME_LIMIT = 50  # department.name


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    id: int
    name: str
    head_id: int | None
    head_name: str  # 姓名（登录名） of the head, or ""
    members: int  # active users in the department


@dataclass(frozen=True, slots=True)
class ManagedUser:
    """A row of the 用户与部门 screen: the user, their department and whether they are locked out now."""

    id: int
    username: str
    display_name: str
    role: Role
    department: str
    active: bool
    must_change_password: bool
    locked_until: datetime | None


def generate_password() -> str:
    """A random initial password (shown once; the user must change it at the first log-in)."""
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def add_user(
    ctx: ServiceContext,
    username: str,
    display_name: str,
    role: Role | str,
    department: str = "",
    password: str | None = None,
) -> tuple[UserInfo, str]:
    """An administrator adds a user with ``password``, or a generated one (returned, to be shown once; the
    user must set their own at the first log-in). Returns the user and the initial password."""
    ctx.require(Permission.MANAGE_USERS, "管理用户")
    generated = not password
    initial = generate_password() if generated else str(password)
    info = create_user(ctx, username, display_name, role, initial, department, must_change=generated)
    return info, initial


def _user_by_name(s: Session, username: str) -> User:
    u = s.execute(select(User).where(User.username == clean_text(username).lower())).scalar_one_or_none()
    if u is None:
        raise NotFound(f"用户“{username}”不存在。")
    return u


def _keep_an_administrator(s: Session, u: User, what: str) -> None:
    """Refuse a change that would leave no active administrator (``u`` is about to stop being one)."""
    if not (u.active and can(Role(u.role), Permission.MANAGE_USERS)):
        return
    admins = [r for r in Role if can(r, Permission.MANAGE_USERS)]
    others = s.execute(
        select(func.count(User.id)).where(
            User.active.is_(True), User.role.in_([str(r) for r in admins]), User.id != u.id
        )
    ).scalar()
    if not others:
        raise ServiceError(
            f"“{u.display_name}”是最后一个启用的系统管理员，不能{what}：请先添加另一个管理员。"
        )


def _parse_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        labels = {v: k for k, v in ROLE_LABELS.items()}
        if str(role) in labels:
            return labels[str(role)]
        message = f"“{role}”不是有效角色（clerk/supervisor/manager/admin）"
        raise ValidationError(FieldError("role", "角色", message)) from None


def set_role(ctx: ServiceContext, username: str, role: Role | str) -> UserInfo:
    """Change a user's role (audited with the user's new state). Refused: your own role, and taking the
    last active administrator's role away."""
    ctx.require(Permission.MANAGE_USERS, "修改用户角色")
    new_role = _parse_role(role)
    with ctx.sessions() as s, s.begin():
        u = _user_by_name(s, username)
        old = u.role  # stored value: an unchanged role is no change (not a rights check)
        if old == new_role.value:
            return _to_info(u)
        if u.id == ctx.user.id:
            raise ServiceError("不能修改自己的角色：请由另一位管理员修改。")
        if not can(new_role, Permission.MANAGE_USERS):
            _keep_an_administrator(s, u, "改为其他角色")
        u.role = str(new_role)
        s.flush()
        audit(
            s,
            ctx,
            "修改用户角色",
            "user",
            u.id,
            u.display_name,
            old={"role": old},
            new=with_state(u, {"role": str(new_role)}),
        )
        return _to_info(u)


def set_department(ctx: ServiceContext, username: str, department: str) -> UserInfo:
    """Move a user to ``department`` (made when new, audited), or to none with an empty name."""
    ctx.require(Permission.MANAGE_USERS, "修改用户部门")
    name = clean_text(department)
    _check_department_name(name, allow_empty=True)
    with ctx.sessions() as s, s.begin():
        u = _user_by_name(s, username)
        old = u.department.name if u.department else ""
        if old == name:
            return _to_info(u)
        u.department_id = _ensure_department(s, ctx, name) if name else None
        s.flush()
        audit(
            s,
            ctx,
            "修改用户部门",
            "user",
            u.id,
            u.display_name,
            old={"department": old},
            new=with_state(u, {"department": name}),
        )
        s.expire(u, ["department"])
        return _to_info(u)


def _check_department_name(name: str, *, allow_empty: bool = False) -> None:
    limit = _DEPARTMENT_NAME_LIMIT
    if not name and not allow_empty:
        raise ValidationError(FieldError("department", "部门", "不能为空"))
    if len(name) > limit:
        raise ValidationError(FieldError("department", "部门", f"最多 {limit} 个字"))


def _department(s: Session, name: str) -> Department:
    dep = s.execute(select(Department).where(Department.name == clean_text(name))).scalar_one_or_none()
    if dep is None:
        raise NotFound(f"部门“{name}”不存在。")
    return dep


def _head_id(s: Session, head: str | None) -> tuple[int | None, str]:
    """The head supervisor's id and name (None, "" for none): an active user who may sign off."""
    if not head or not clean_text(head):
        return None, ""
    u = _user_by_name(s, head)
    if not u.active or not can(Role(u.role), Permission.SIGN_OFF):
        raise ValidationError(
            FieldError(
                "head", "负责主管", f"“{u.display_name}”不是启用的主管或经理（部门负责人要能审阅签字）"
            )
        )
    return u.id, f"{u.display_name}（{u.username}）"


def add_department(ctx: ServiceContext, name: str, head: str | None = None) -> DepartmentRow:
    """A new department (audited), with an optional head supervisor (their log-in name)."""
    ctx.require(Permission.MANAGE_USERS, "管理部门")
    name = clean_text(name)
    _check_department_name(name)
    with ctx.sessions() as s, s.begin():
        if s.execute(select(Department.id).where(Department.name == name)).first():
            raise ValidationError(FieldError("department", "部门", f"“{name}”已存在"))
        head_id, head_name = _head_id(s, head)
        dep = Department(name=name, head_id=head_id)
        s.add(dep)
        s.flush()
        audit(s, ctx, "新建部门", "department", dep.id, name, new={"name": name, "head": head_name})
        return DepartmentRow(dep.id, name, head_id, head_name, 0)


def rename_department(ctx: ServiceContext, old_name: str, new_name: str) -> None:
    """Rename a department (audited); its users and customers stay in it."""
    ctx.require(Permission.MANAGE_USERS, "重命名部门")
    new_name = clean_text(new_name)
    _check_department_name(new_name)
    with ctx.sessions() as s, s.begin():
        dep = _department(s, old_name)
        if dep.name == new_name:
            return
        if s.execute(
            select(Department.id).where(Department.name == new_name, Department.id != dep.id)
        ).first():
            raise ValidationError(FieldError("department", "部门", f"“{new_name}”已存在"))
        old = dep.name
        dep.name = new_name
        audit(s, ctx, "重命名部门", "department", dep.id, new_name, old={"name": old}, new={"name": new_name})


def set_department_head(ctx: ServiceContext, department: str, head: str | None) -> None:
    """Set (or clear, with None/"") the supervisor heading ``department`` (audited)."""
    ctx.require(Permission.MANAGE_USERS, "设置部门负责主管")
    with ctx.sessions() as s, s.begin():
        dep = _department(s, department)
        head_id, head_name = _head_id(s, head)
        if dep.head_id == head_id:
            return
        old = _user_label(s, dep.head_id)
        dep.head_id = head_id
        audit(
            s,
            ctx,
            "设置部门负责主管",
            "department",
            dep.id,
            dep.name,
            old={"head": old},
            new={"head": head_name},
        )


def _user_label(s: Session, user_id: int | None) -> str:
    if user_id is None:
        return ""
    u = s.get(User, user_id)
    return f"{u.display_name}（{u.username}）" if u is not None else ""


def department_rows(ctx: ServiceContext) -> list[DepartmentRow]:
    """Every department with its head supervisor and number of active users, by name."""
    with ctx.sessions() as s:
        counts = dict(
            s.execute(
                select(User.department_id, func.count(User.id))
                .where(User.active.is_(True))
                .group_by(User.department_id)
            ).all()
        )
        return [
            DepartmentRow(d.id, d.name, d.head_id, _user_label(s, d.head_id), int(counts.get(d.id, 0)))
            for d in s.execute(select(Department).order_by(Department.name)).scalars()
        ]


def team_users(ctx: ServiceContext) -> list[ManagedUser]:
    """The users the acting user may look at on the 用户与部门 screen, disabled ones included: every user for
    whoever manages users or sees all departments; otherwise the users of their own department."""
    everyone = ctx.may(Permission.MANAGE_USERS) or ctx.may(Permission.VIEW_ALL_DEPARTMENTS)
    now = ctx.now()
    with ctx.sessions() as s:
        q = select(User).order_by(User.active.desc(), User.role, User.username)
        if not everyone:
            if ctx.user.department_id is None:
                q = q.where(User.id == ctx.user.id)
            else:
                q = q.where(User.department_id == ctx.user.department_id)
        return [
            ManagedUser(
                u.id,
                u.username,
                u.display_name,
                Role(u.role),
                u.department.name if u.department else "",
                u.active,
                u.must_change_password,
                _locked_until(s, u.username, u.id, now),
            )
            for u in s.execute(q).scalars()
        ]
