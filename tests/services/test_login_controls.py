"""Log-in controls: failed log-ins audited, lock-out after N in a row and unlock, unknown names cost a real
password check, forced change after a reset, and password-free log-in only on an example office."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles
from sqlalchemy import select

from huifang_desktop.demo import generate_demo
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import passwords, settings, users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import NotFound, PermissionDenied, ServiceError
from huifang_desktop.services.users import AccountLocked, LoginFailed, NotDemoOffice, authenticate
from huifang_desktop.storage.models import AuditLog, User
from tests.conftest import NOW, PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tctx(ctx: ServiceContext, clock: Clock) -> ServiceContext:
    """The system context on the same database, with a clock the test moves."""
    return ServiceContext(ctx.engine, ctx.sessions, clock=clock)


def _rows(ctx: ServiceContext, action: str) -> list[AuditLog]:
    with ctx.sessions() as s:
        return list(
            s.execute(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).scalars()
        )


def _fail(ctx: ServiceContext, name: str, times: int) -> list[str]:
    messages = []
    for _ in range(times):
        with pytest.raises(LoginFailed) as info:
            authenticate(ctx, name, "wrong-pass")
        messages.append(str(info.value))
    return messages


# --- failed log-ins are audited -------------------------------------------------------------------------


def test_every_failed_log_in_is_audited_with_the_name_tried_the_reason_and_the_computer(
    tctx: ServiceContext, admin: UserInfo, clerk: UserInfo
) -> None:
    import socket

    users.set_active(tctx.as_user(admin), clerk.id, False)
    _fail(tctx, " XiaoWang ", 1)  # disabled
    users.set_active(tctx.as_user(admin), clerk.id, True)
    _fail(tctx, "xiaowang", 1)
    _fail(tctx, "nobody", 1)
    rows = _rows(tctx, "登录失败")
    assert [(r.label, r.entity_id, r.user_id) for r in rows] == [
        ("xiaowang", clerk.id, clerk.id),
        ("xiaowang", clerk.id, clerk.id),
        ("nobody", None, None),
    ]
    assert [r.note.split("（")[0] for r in rows] == ["用户已停用", "密码错误", "用户不存在"]
    assert all(f'"host": "{socket.gethostname()}"' in (r.new or "") for r in rows)
    assert [r.at for r in rows] == [NOW] * 3
    assert _rows(tctx, "登录") == []


# --- lock-out --------------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    tctx: ServiceContext, clock: Clock, clerk: UserInfo
) -> None:
    messages = _fail(tctx, "xiaowang", 5)
    assert messages[:4] == ["用户名或密码不正确。"] * 4
    assert messages[4] == "账户已锁定，请于 10:15 后再试或联系管理员解锁。"
    clock.now = NOW + timedelta(minutes=14)
    with pytest.raises(AccountLocked) as info:  # the right password does not open a locked account
        authenticate(tctx, "xiaowang", PASSWORD)
    assert info.value.until == NOW + timedelta(minutes=15)
    assert _rows(tctx, "登录") == []
    assert _rows(tctx, "登录失败")[-1].note.startswith("账户已锁定")
    assert users.locked_until(tctx, "xiaowang") == NOW + timedelta(minutes=15)
    clock.now = NOW + timedelta(minutes=15)  # attempts while locked did not extend the lock
    assert users.locked_until(tctx, "xiaowang") is None
    assert authenticate(tctx, "xiaowang", PASSWORD).id == clerk.id


def test_a_successful_log_in_ends_the_streak_and_after_a_lock_counting_restarts(
    tctx: ServiceContext, clock: Clock, clerk: UserInfo
) -> None:
    _fail(tctx, "xiaowang", 4)
    authenticate(tctx, "xiaowang", PASSWORD)
    assert _fail(tctx, "xiaowang", 4) == ["用户名或密码不正确。"] * 4  # 4 + 4, but not in a row
    _fail(tctx, "xiaowang", 1)
    clock.now = NOW + timedelta(minutes=20)
    assert _fail(tctx, "xiaowang", 4) == ["用户名或密码不正确。"] * 4
    assert "账户已锁定" in _fail(tctx, "xiaowang", 1)[0]


def test_the_number_of_attempts_and_the_lock_period_are_office_settings(
    tctx: ServiceContext, clerk: UserInfo
) -> None:
    assert (settings.OfficeSettings().login_attempts, settings.OfficeSettings().lockout_minutes) == (5, 15)
    settings.save_settings(tctx, replace(settings.load_settings(tctx), login_attempts=3, lockout_minutes=60))
    assert _fail(tctx, "xiaowang", 3)[2] == "账户已锁定，请于 11:00 后再试或联系管理员解锁。"
    with pytest.raises(ValidationError) as info:
        settings.with_value(settings.load_settings(tctx), "login_attempts", "0")
    assert info.value.fields == ["login_attempts"]


def test_unknown_names_are_locked_alike(tctx: ServiceContext, clerk: UserInfo) -> None:
    """Otherwise the lock-out itself would tell which names exist."""
    assert _fail(tctx, "nobody", 5)[4] == "账户已锁定，请于 10:15 后再试或联系管理员解锁。"


def test_an_administrator_unlocks_a_locked_account_audited(
    tctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, clerk: UserInfo
) -> None:
    _fail(tctx, "xiaowang", 5)
    with pytest.raises(PermissionDenied):
        users.unlock_user(tctx.as_user(supervisor), "xiaowang")
    with pytest.raises(NotFound):
        users.unlock_user(tctx.as_user(admin), "nobody")
    with pytest.raises(AccountLocked):
        authenticate(tctx, "xiaowang", PASSWORD)
    assert users.unlock_user(tctx.as_user(admin), "XiaoWang") is True
    (row,) = _rows(tctx, "解锁用户")
    assert (row.username, row.entity_id, row.old) == (
        "admin",
        clerk.id,
        '{"locked_until": "2026-11-24 10:15:00"}',
    )
    assert authenticate(tctx, "xiaowang", PASSWORD).id == clerk.id
    assert users.unlock_user(tctx.as_user(admin), "xiaowang") is False


def test_a_password_reset_also_lifts_the_lock(tctx: ServiceContext, admin: UserInfo, clerk: UserInfo) -> None:
    _fail(tctx, "xiaowang", 5)
    users.reset_password(tctx.as_user(admin), "xiaowang", "fresh-pass")
    assert authenticate(tctx, "xiaowang", "fresh-pass").id == clerk.id


# --- unknown users take as long as known ones -----------------------------------------------------------


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        cheap = profiles.CHEAPEST
        super().__init__(
            time_cost=cheap.time_cost,
            memory_cost=cheap.memory_cost,
            parallelism=cheap.parallelism,
            hash_len=cheap.hash_len,
            salt_len=cheap.salt_len,
            type=cheap.type,
        )
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # argon2's parameter names
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


@pytest.mark.parametrize("who", ["unknown", "disabled", "known, wrong password"])
def test_every_refused_log_in_checks_one_password_hash_of_the_same_parameters(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    """No wall clock: the work is the argon2 check, so an unknown (or disabled) user must cost exactly one
    check against a hash made with the parameters real passwords are hashed with."""
    hasher = CountingHasher()
    monkeypatch.setattr(passwords, "password_hasher", lambda: hasher)
    if who == "disabled":
        users.set_active(ctx.as_user(admin), clerk.id, False)
    with pytest.raises(LoginFailed) as info:
        authenticate(ctx, "nobody" if who == "unknown" else "xiaowang", "wrong-pass")
    assert str(info.value) == "用户名或密码不正确。"
    assert len(hasher.verified) == 1
    params = extract_parameters(hasher.verified[0])
    with ctx.sessions() as s:
        real = extract_parameters(
            s.execute(select(User.password_hash).where(User.id == clerk.id)).scalar_one()
        )
    assert params == real
    if who != "known, wrong password":
        with ctx.sessions() as s:
            assert hasher.verified[0] not in set(s.execute(select(User.password_hash)).scalars())


def test_the_dummy_hash_follows_the_production_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_DUMMY_HASHES", {})
    made = users._dummy_hash(passwords._DEFAULT_HASHER)
    assert extract_parameters(made) == extract_parameters(passwords._DEFAULT_HASHER.hash("x"))
    assert users._dummy_hash(passwords._DEFAULT_HASHER) is made  # made once


# --- changing passwords ---------------------------------------------------------------------------------


def test_a_generated_password_must_be_changed_and_changing_clears_the_flag(
    ctx: ServiceContext, admin: UserInfo, clerk: UserInfo
) -> None:
    assert users.must_change_password(ctx, clerk.id) is False
    generated = users.reset_password(ctx.as_user(admin), "xiaowang")
    assert users.must_change_password(ctx, clerk.id) is True
    me = ctx.as_user(authenticate(ctx, "xiaowang", generated))
    with pytest.raises(ValidationError) as info:
        users.change_password(me, "not-it", "my-own-pass")
    assert info.value.fields == ["old_password"]
    with pytest.raises(ValidationError) as info:
        users.change_password(me, generated, "123")
    assert info.value.fields == ["password"]
    with pytest.raises(ValidationError) as info:
        users.change_password(me, generated, generated)
    assert info.value.fields == ["new_password"]
    assert users.must_change_password(ctx, clerk.id) is True
    users.change_password(me, generated, "my-own-pass")
    assert users.must_change_password(ctx, clerk.id) is False
    with pytest.raises(LoginFailed):
        authenticate(ctx, "xiaowang", generated)
    assert authenticate(ctx, "xiaowang", "my-own-pass").id == clerk.id
    (row,) = _rows(ctx, "修改密码")
    assert (row.username, row.entity_id, row.note) == ("xiaowang", clerk.id, "重置后首次登录时修改")


def test_every_user_may_change_their_own_password_but_only_when_logged_in(
    ctx: ServiceContext, manager: UserInfo
) -> None:
    users.change_password(ctx.as_user(manager), PASSWORD, "manager-pass")
    assert authenticate(ctx, "jingli", "manager-pass").id == manager.id
    with pytest.raises(ServiceError, match="请先登录"):
        users.change_password(ctx, PASSWORD, "system-pass")


def test_a_user_created_with_a_generated_password_must_change_it(
    ctx: ServiceContext, admin: UserInfo
) -> None:
    info = users.create_user(
        ctx.as_user(admin), "newbie", "新人", Role.CLERK, "gen-pass-1", "客服部", must_change=True
    )
    assert users.must_change_password(ctx, info.id) is True


# --- password-free log-in: example offices only ---------------------------------------------------------


def test_password_free_log_in_is_refused_on_an_office_that_is_not_an_example(
    ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo
) -> None:
    assert users.is_demo_office(ctx) is False
    for name in (None, "zhuguan"):
        with pytest.raises(NotDemoOffice, match="不是示例办公室"):
            users.demo_login(ctx, name)
    assert _rows(ctx, "登录") == []


def test_the_demo_generator_marks_the_office_it_made_and_its_log_in_is_audited(ctx: ServiceContext) -> None:
    generate_demo(ctx, customers=3, seed=2)
    assert users.is_demo_office(ctx) is True
    info = users.demo_login(ctx)
    assert (info.username, info.role) == ("supervisor", Role.SUPERVISOR)
    assert users.demo_login(ctx, "manager").role == Role.MANAGER
    rows = _rows(ctx, "登录")
    assert [(r.username, r.entity_id) for r in rows] == [
        ("supervisor", info.id),
        ("manager", rows[1].entity_id),
    ]
    assert all(r.note.startswith("示例办公室免密码登录") for r in rows)


def test_demo_data_put_into_an_office_with_users_does_not_make_it_an_example(
    ctx: ServiceContext, admin: UserInfo
) -> None:
    generate_demo(ctx.as_user(admin), customers=3, seed=2)
    assert users.is_demo_office(ctx) is False
    with pytest.raises(NotDemoOffice):
        users.demo_login(ctx, "supervisor")


def test_damaged_office_settings_do_not_keep_anybody_out(tctx: ServiceContext, clerk: UserInfo) -> None:
    from huifang_desktop.storage.models import Setting

    with tctx.sessions() as s, s.begin():
        s.merge(Setting(key=settings.SETTINGS_KEY, value='["not", "settings"]'))
    assert _fail(tctx, "xiaowang", 5)[4].startswith("账户已锁定")  # the default limit still applies
    tctx.clock.now = NOW + timedelta(minutes=15)  # type: ignore[attr-defined]
    assert authenticate(tctx, "xiaowang", PASSWORD).id == clerk.id
