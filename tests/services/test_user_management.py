"""User and department management for the 用户与部门 screen (issue 18 item 1): generated passwords, roles,
departments as records with a head supervisor, the last administrator kept, everything audited and verifiable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import tamper, users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import NotFound, PermissionDenied, ServiceError
from huifang_desktop.storage.models import AuditLog, Department, User
from tests.conftest import PASSWORD


def _actions(ctx: ServiceContext) -> list[str]:
    with ctx.sessions() as s:
        return list(s.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


def test_add_user_with_a_generated_password_must_change_it(ctx: ServiceContext, admin: UserInfo) -> None:
    actx = ctx.as_user(admin)
    info, password = users.add_user(actx, "xiaozhao", "小赵", "clerk", "客服部")
    assert len(password) >= users.MIN_PASSWORD
    assert users.must_change_password(ctx, info.id)
    assert users.authenticate(ctx, "xiaozhao", password).id == info.id
    assert info.department == "客服部"
    # a password the administrator typed: no forced change
    typed, given = users.add_user(actx, "xiaoqian", "小钱", Role.CLERK, "", "typed-pass-1")
    assert given == "typed-pass-1" and not users.must_change_password(ctx, typed.id)
    assert tamper.verify_all(ctx).ok


def test_set_role_is_audited_with_the_users_state(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo
) -> None:
    actx = ctx.as_user(admin)
    info = users.set_role(actx, "xiaowang", "supervisor")
    assert info.role is Role.SUPERVISOR
    assert users.set_role(actx, "xiaowang", "客服专员").role is Role.CLERK  # the Chinese label works too
    with ctx.sessions() as s:
        rows = s.execute(select(AuditLog).where(AuditLog.action == "修改用户角色")).scalars().all()
    assert len(rows) == 2 and '"state"' in (rows[0].new or "")
    report = tamper.verify_all(ctx)
    assert report.ok, report.findings  # the role change is in the chain: verify does not report the user
    with pytest.raises(ValidationError, match="角色"):
        users.set_role(actx, "xiaowang", "boss")


def test_role_change_refused_for_yourself_and_the_last_administrator(
    ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo
) -> None:
    actx = ctx.as_user(admin)
    with pytest.raises(ServiceError, match="自己的角色"):
        users.set_role(actx, "admin", "clerk")
    second, _pw = users.add_user(actx, "admin2", "第二管理员", "admin")
    users.set_role(ctx.as_user(second), "admin", "manager")  # another admin remains: allowed
    with pytest.raises(ServiceError, match="最后一个启用的系统管理员"):
        users.set_role(ctx, "admin2", "clerk")  # the system context: admin2 is now the only admin
    with pytest.raises(PermissionDenied):
        users.set_role(ctx.as_user(supervisor), "xiaowang", "clerk")


def test_disable_refuses_yourself_and_the_last_admin_and_enable_again(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo
) -> None:
    actx = ctx.as_user(admin)
    with pytest.raises(ServiceError, match="不能停用自己"):
        users.set_active(actx, admin.id, False)
    with pytest.raises(ServiceError, match="最后一个启用的系统管理员"):
        users.set_active(ctx, admin.id, False)
    users.set_active(actx, clerk.id, False)
    with pytest.raises(users.LoginFailed):
        users.authenticate(ctx, "xiaowang", PASSWORD)
    users.set_active(actx, clerk.id, True)
    assert users.authenticate(ctx, "xiaowang", PASSWORD).id == clerk.id
    assert ["停用用户", "启用用户"] == [a for a in _actions(ctx) if a in ("停用用户", "启用用户")]


def test_set_department_moves_the_user_and_makes_the_department(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo
) -> None:
    actx = ctx.as_user(admin)
    info = users.set_department(actx, "xiaowang", "售后部")
    assert info.department == "售后部"
    assert "售后部" in [name for _id, name in users.list_departments(ctx)]
    assert users.set_department(actx, "xiaowang", "").department == ""
    assert "修改用户部门" in _actions(ctx) and tamper.verify_all(ctx).ok
    with pytest.raises(NotFound):
        users.set_department(actx, "nobody", "售后部")
    with pytest.raises(ValidationError, match="最多"):
        users.set_department(actx, "xiaowang", "部" * 51)


def test_departments_are_records_with_a_head_and_can_be_renamed(
    ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, clerk: UserInfo
) -> None:
    actx = ctx.as_user(admin)
    row = users.add_department(actx, "工程部", head="zhuguan")
    assert row.head_id == supervisor.id and row.head_name == "李主管（zhuguan）"
    with pytest.raises(ValidationError, match="已存在"):
        users.add_department(actx, "工程部")
    with pytest.raises(ValidationError, match="负责主管"):
        users.set_department_head(actx, "工程部", "xiaowang")  # a clerk cannot head a department
    users.rename_department(actx, "客服部", "客户服务部")
    rows = {r.name: r for r in users.department_rows(ctx)}
    assert "客服部" not in rows and rows["客户服务部"].members == 2  # 李主管 and 小王 moved with it
    assert users.get_user(ctx, clerk.id).department == "客户服务部"
    with pytest.raises(ValidationError, match="已存在"):
        users.rename_department(actx, "工程部", "客户服务部")
    users.set_department_head(actx, "工程部", None)
    assert {r.name: r for r in users.department_rows(ctx)}["工程部"].head_id is None
    assert {"新建部门", "重命名部门", "设置部门负责主管"} <= set(_actions(ctx))
    with ctx.sessions() as s:
        assert s.execute(select(Department.name).where(Department.head_id.is_not(None))).all() == []


def test_rename_department_needs_manage_users(
    ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, manager: UserInfo
) -> None:
    for who in (supervisor, manager):
        with pytest.raises(PermissionDenied):
            users.rename_department(ctx.as_user(who), "客服部", "别的名字")
    with ctx.sessions() as s:
        assert s.execute(select(Department.id).where(Department.name == "客服部")).scalar() is not None


def test_team_users_a_supervisor_sees_their_department_an_admin_everyone(
    ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, clerk: UserInfo, clerk2: UserInfo
) -> None:
    seen = {u.username for u in users.team_users(ctx.as_user(supervisor))}
    assert seen == {"zhuguan", "xiaowang"}  # 客服部 only, not 小李 of 销售部
    users.set_active(ctx.as_user(admin), clerk.id, False)
    all_rows = {u.username: u for u in users.team_users(ctx.as_user(admin))}
    assert set(all_rows) == {"admin", "zhuguan", "xiaowang", "xiaoli"}
    assert all_rows["xiaowang"].active is False  # disabled users are listed too


def test_team_users_shows_a_locked_account(ctx: ServiceContext, admin: UserInfo, clerk: UserInfo) -> None:
    for _ in range(5):
        with pytest.raises(users.LoginFailed):
            users.authenticate(ctx, "xiaowang", "wrong-password")
    row = {u.username: u for u in users.team_users(ctx.as_user(admin))}["xiaowang"]
    assert row.locked_until is not None
    assert users.unlock_user(ctx.as_user(admin), "xiaowang") is True
    assert {u.username: u for u in users.team_users(ctx.as_user(admin))}["xiaowang"].locked_until is None


def test_clerk_cannot_manage_users(ctx: ServiceContext, clerk: UserInfo) -> None:
    cctx = ctx.as_user(clerk)
    for call in (
        lambda: users.add_user(cctx, "x1", "某人", "clerk"),
        lambda: users.add_department(cctx, "新部门"),
        lambda: users.set_department(cctx, "xiaowang", "销售部"),
        lambda: users.set_active(cctx, clerk.id, False),
    ):
        with pytest.raises(PermissionDenied):
            call()
    with ctx.sessions() as s:
        assert s.execute(select(User.active).where(User.id == clerk.id)).scalar() is True
