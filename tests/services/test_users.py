"""Users, departments, log-in, password resets and who may manage users."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import passwords
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import NotFound, PermissionDenied, ServiceError
from huifang_desktop.services.users import (
    LoginFailed,
    authenticate,
    clerks,
    create_user,
    ensure_department,
    find_user,
    get_user,
    has_users,
    list_departments,
    list_users,
    reset_password,
    set_active,
)
from huifang_desktop.storage.models import AuditLog, Department, User

PASSWORD = "secret-123"  # the conftest users' password

AsUser = Callable[[ServiceContext, UserInfo], ServiceContext]


def _audit(ctx: ServiceContext, action: str) -> list[AuditLog]:
    with ctx.sessions() as s:
        return list(
            s.execute(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).scalars()
        )


def _count(ctx: ServiceContext, model: type) -> int:
    with ctx.sessions() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


# --- creating users -------------------------------------------------------------------------------------


def test_create_user_first_admin_on_an_empty_database(ctx: ServiceContext) -> None:
    assert has_users(ctx) is False
    info = create_user(ctx, " Admin ", "管理员", "admin", PASSWORD, first_admin=True)
    assert (info.username, info.display_name, info.role, info.department_id) == (
        "admin",
        "管理员",
        Role.ADMIN,
        None,
    )
    assert has_users(ctx) is True


def test_create_user_first_admin_only_once(ctx: ServiceContext, admin: UserInfo) -> None:
    with pytest.raises(ServiceError, match="已有用户"):
        create_user(ctx, "boss2", "第二个管理员", Role.ADMIN, PASSWORD, first_admin=True)
    assert [u.username for u in list_users(ctx)] == ["admin"]


def test_create_user_returns_department(clerk: UserInfo, clerk2: UserInfo, supervisor: UserInfo) -> None:
    assert (clerk.username, clerk.role, clerk.department) == ("xiaowang", Role.CLERK, "客服部")
    assert supervisor.department == "客服部"
    assert supervisor.department_id == clerk.department_id
    assert clerk2.department == "销售部"
    assert clerk2.department_id != clerk.department_id


@pytest.mark.parametrize("role", [Role.CLERK, Role.SUPERVISOR, Role.MANAGER])
def test_create_user_refused_for_business_roles(
    ctx: ServiceContext, admin: UserInfo, as_user: AsUser, role: Role
) -> None:
    someone = create_user(as_user(ctx, admin), f"user_{role}", "某人", role, PASSWORD, "客服部")
    before = _count(ctx, User)
    with pytest.raises(PermissionDenied) as info:
        create_user(as_user(ctx, someone), "newbie", "新人", Role.CLERK, PASSWORD, "客服部")
    assert role.label in str(info.value) and "管理用户" in str(info.value)
    assert _count(ctx, User) == before


def test_create_user_reports_every_bad_field(ctx: ServiceContext, admin: UserInfo, as_user: AsUser) -> None:
    with pytest.raises(ValidationError) as info:
        create_user(as_user(ctx, admin), "王五", " ", "boss", "12345")
    assert info.value.fields == ["username", "display_name", "role", "password"]
    assert "密码：至少 6 位" in str(info.value)


def test_create_user_duplicate_username_leaves_nothing_behind(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, as_user: AsUser
) -> None:
    deps_before, audit_before = list_departments(ctx), _count(ctx, AuditLog)
    with pytest.raises(ValidationError) as info:
        create_user(as_user(ctx, admin), "XiaoWang", "另一个小王", Role.CLERK, PASSWORD, "新部门")
    assert info.value.fields == ["username"]
    assert "已存在" in str(info.value)
    assert list_departments(ctx) == deps_before  # the refused user's new department was not created
    assert _count(ctx, AuditLog) == audit_before


def test_create_user_stores_a_salted_argon2_hash(
    ctx: ServiceContext, clerk: UserInfo, supervisor: UserInfo
) -> None:
    with ctx.sessions() as s:
        hashes = {u: h for u, h in s.execute(select(User.username, User.password_hash))}
    assert hashes["xiaowang"].startswith("$argon2id$")
    assert PASSWORD not in hashes["xiaowang"]
    assert hashes["xiaowang"] != hashes["zhuguan"]  # same password, different salt


def test_password_hasher_production_defaults_are_the_library_recommendation() -> None:
    default, recommended = passwords._DEFAULT_HASHER, PasswordHasher()
    assert (
        default.time_cost,
        default.memory_cost,
        default.parallelism,
        default.hash_len,
        default.salt_len,
    ) == (
        recommended.time_cost,
        recommended.memory_cost,
        recommended.parallelism,
        recommended.hash_len,
        recommended.salt_len,
    )
    assert default.memory_cost >= 65536 and default.time_cost >= 2


def test_authenticate_accepts_a_hash_made_with_production_parameters(
    ctx: ServiceContext, clerk: UserInfo
) -> None:
    with ctx.sessions() as s, s.begin():
        s.execute(
            select(User).where(User.id == clerk.id)
        ).scalar_one().password_hash = passwords._DEFAULT_HASHER.hash("strong-pass")
    assert authenticate(ctx, "xiaowang", "strong-pass").id == clerk.id


def test_create_user_audited(ctx: ServiceContext, clerk: UserInfo, admin: UserInfo) -> None:
    rows = _audit(ctx, "新建用户")
    assert [(r.entity, r.entity_id, r.username) for r in rows] == [
        ("user", admin.id, "system"),
        ("user", clerk.id, "admin"),
    ]
    assert '"department": "客服部"' in (rows[1].new or "")
    assert [r.label for r in _audit(ctx, "新建部门")] == ["客服部"]


# --- log-in ---------------------------------------------------------------------------------------------


def test_authenticate_returns_the_user(ctx: ServiceContext, clerk: UserInfo) -> None:
    info = authenticate(ctx, "  XiaoWang ", PASSWORD)
    assert info == clerk
    rows = _audit(ctx, "登录")
    assert [(r.user_id, r.username, r.entity_id) for r in rows] == [(clerk.id, "xiaowang", clerk.id)]


@pytest.mark.parametrize(
    ("username", "password"), [("xiaowang", "wrong-pass"), ("xiaowang", ""), ("nobody", PASSWORD), ("", "")]
)
def test_authenticate_wrong_credentials_same_message(
    ctx: ServiceContext, clerk: UserInfo, username: str, password: str
) -> None:
    with pytest.raises(LoginFailed) as info:
        authenticate(ctx, username, password)
    assert str(info.value) == "用户名或密码不正确。"
    assert _audit(ctx, "登录") == []


def test_authenticate_inactive_user_refused(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, as_user: AsUser
) -> None:
    set_active(as_user(ctx, admin), clerk.id, False)
    with pytest.raises(LoginFailed):
        authenticate(ctx, "xiaowang", PASSWORD)
    set_active(as_user(ctx, admin), clerk.id, True)
    assert authenticate(ctx, "xiaowang", PASSWORD).id == clerk.id


def test_set_active_hides_user_from_lists_and_is_audited(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, clerk2: UserInfo, as_user: AsUser
) -> None:
    set_active(as_user(ctx, admin), clerk.id, False)
    assert "xiaowang" not in [u.username for u in list_users(ctx)]
    inactive = [u for u in list_users(ctx, include_inactive=True) if u.username == "xiaowang"]
    assert [(u.active, u.department) for u in inactive] == [(False, "客服部")]
    assert [u.username for u in clerks(ctx)] == ["xiaoli"]
    (row,) = _audit(ctx, "停用用户")
    assert (row.entity_id, row.old) == (clerk.id, '{"active": true}')
    assert json.loads(row.new)["active"] is False and json.loads(row.new)["state"]["active"] is False


def test_set_active_needs_admin(
    ctx: ServiceContext, supervisor: UserInfo, clerk: UserInfo, as_user: AsUser
) -> None:
    with pytest.raises(PermissionDenied):
        set_active(as_user(ctx, supervisor), clerk.id, False)
    assert authenticate(ctx, "xiaowang", PASSWORD).id == clerk.id


# --- password reset -------------------------------------------------------------------------------------


def _must_change(ctx: ServiceContext, user_id: int) -> bool:
    with ctx.sessions() as s:
        return bool(s.execute(select(User.must_change_password).where(User.id == user_id)).scalar_one())


def test_reset_password_to_given_password(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, as_user: AsUser
) -> None:
    assert reset_password(as_user(ctx, admin), "xiaowang", "new-secret") == "new-secret"
    with pytest.raises(LoginFailed):
        authenticate(ctx, "xiaowang", PASSWORD)
    assert authenticate(ctx, "xiaowang", "new-secret").id == clerk.id
    assert _must_change(ctx, clerk.id) is False
    assert [r.entity_id for r in _audit(ctx, "重置密码")] == [clerk.id]


def test_reset_password_random_must_be_changed(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, as_user: AsUser
) -> None:
    password = reset_password(as_user(ctx, admin), "xiaowang")
    assert len(password) >= 6 and password != PASSWORD
    assert authenticate(ctx, "xiaowang", password).id == clerk.id
    assert _must_change(ctx, clerk.id) is True
    assert reset_password(as_user(ctx, admin), "xiaowang") != password


def test_reset_password_checks(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, supervisor: UserInfo, as_user: AsUser
) -> None:
    with pytest.raises(PermissionDenied):
        reset_password(as_user(ctx, supervisor), "xiaowang", "hijacked1")
    with pytest.raises(ValidationError) as info:
        reset_password(as_user(ctx, admin), "xiaowang", "123")
    assert info.value.fields == ["password"]
    with pytest.raises(NotFound):
        reset_password(as_user(ctx, admin), "nobody", "new-secret")
    assert authenticate(ctx, "xiaowang", PASSWORD).id == clerk.id


# --- departments and look-ups ---------------------------------------------------------------------------


def test_ensure_department_is_idempotent(ctx: ServiceContext) -> None:
    first = ensure_department(ctx, " 客服部 ")
    assert ensure_department(ctx, "客服部") == first
    assert list_departments(ctx) == [(first, "客服部")]
    with pytest.raises(ValidationError):
        ensure_department(ctx, "  ")
    with ctx.sessions() as s:
        assert s.execute(select(func.count(Department.id))).scalar_one() == 1


def test_get_and_find_user(ctx: ServiceContext, clerk: UserInfo) -> None:
    assert get_user(ctx, clerk.id) == clerk
    assert find_user(ctx, "XIAOWANG") == clerk
    with pytest.raises(NotFound):
        get_user(ctx, 999)
    with pytest.raises(NotFound):
        find_user(ctx, "nobody")


def test_clerks_lists_people_who_can_own_customers(
    ctx: ServiceContext,
    admin: UserInfo,
    clerk: UserInfo,
    clerk2: UserInfo,
    supervisor: UserInfo,
    manager: UserInfo,
) -> None:
    assert sorted(u.username for u in clerks(ctx)) == ["jingli", "xiaoli", "xiaowang", "zhuguan"]
