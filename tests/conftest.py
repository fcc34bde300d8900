"""Shared fixtures: an isolated home folder, a freshly migrated SQLite database, a fixed clock and users."""

from __future__ import annotations

import faulthandler
import os
import shutil

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import Engine

from huifang_desktop.domain.roles import Role
from huifang_desktop.services import passwords
from huifang_desktop.services import users as users_service
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url, upgrade

NOW = datetime(2026, 11, 24, 10, 0)
PASSWORD = "secret-123"
_GUI_FIXTURES = frozenset({"qtbot", "qapp", "qtmodeltester"})


# A watchdog for a stuck test: after this many seconds every thread's Python stack is printed and the run
# ends (exit 1), instead of holding CI until its limit. faulthandler's timer is a C thread that needs no
# GIL, so it fires even when the GIL itself is deadlocked (pytest-timeout's thread timer would not).
TEST_TIME_LIMIT_S = float(os.environ.get("HUIFANG_TEST_TIME_LIMIT", "600"))
_watchdog_fd: int | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _watchdog_fd
    if _watchdog_fd is None:  # capturing is suspended here: fd 2 is the real stderr, keep a copy of it
        _watchdog_fd = os.dup(2)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    if _watchdog_fd is not None and TEST_TIME_LIMIT_S > 0:
        faulthandler.dump_traceback_later(TEST_TIME_LIMIT_S, exit=True, file=_watchdog_fd)
    try:
        return (yield)
    finally:
        faulthandler.cancel_dump_traceback_later()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _GUI_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME and the XDG folders point at a temp dir, so no test touches the real user's files."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("USERPROFILE", str(home))
        mp.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        yield home


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest profile: still real salted hashes, but fast enough for many users per test."""
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(passwords, "password_hasher", lambda: cheap)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One empty database migrated to head per session; every test gets its own copy (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "huifang.db"
    eng = make_engine(sqlite_url(path))
    try:
        upgrade(eng)
    finally:
        eng.dispose()  # the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


# No test depends on how fast the machine is: tests wait on conditions and signals, and every timeout is only a
# guard against a hang, long enough for a loaded two-core machine (the watchdog above ends a real hang).
HANG_GUARD_S = 120
HANG_GUARD_MS = HANG_GUARD_S * 1000


def _generous_qtbot_waits() -> None:
    """pytest-qt's waits give up after 5 s unless told otherwise; here their default is the hang guard."""
    try:
        from pytestqt.qtbot import QtBot
    except ImportError:  # the layers without Qt
        return
    for name in ("waitUntil", "waitSignal", "waitSignals", "waitCallback", "waitExposed", "waitActive"):
        method = getattr(QtBot, name)
        method.__kwdefaults__ = {**(method.__kwdefaults__ or {}), "timeout": HANG_GUARD_MS}


_generous_qtbot_waits()

BACKEND = os.environ.get("HUIFANG_TEST_DB", "sqlite")
_pg_counter = iter(range(1, 1_000_000))


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A PostgreSQL server for this test session (``HUIFANG_TEST_DB=postgres``), with a migrated template."""
    from tests.pgserver import PgServer

    server = PgServer(Path("/tmp") / f"huifang-pg-{os.getpid()}")
    server.start()
    try:
        server.wait()
        server.admin_sql("CREATE DATABASE huifang_template")
        eng = make_engine(server.url("huifang_template"))
        try:
            upgrade(eng)
        finally:
            eng.dispose()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.base, ignore_errors=True)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if BACKEND == "postgres" and item.get_closest_marker("sqlite_only"):
        pytest.skip("SQLite file behaviour (backups, WAL, file locks); not applicable on PostgreSQL")


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database at the head revision: a SQLite file in this test's tmp_path, or (with
    ``HUIFANG_TEST_DB=postgres``) a new PostgreSQL database copied from the migrated template."""
    if BACKEND == "postgres" and not request.node.get_closest_marker("sqlite_only"):
        server = request.getfixturevalue("pg_server")
        name = f"t{os.getpid()}_{next(_pg_counter)}"
        server.admin_sql(f"CREATE DATABASE {name} TEMPLATE huifang_template")
        eng = make_engine(server.url(name))
        yield eng
        eng.dispose()
        server.admin_sql(f"DROP DATABASE {name} WITH (FORCE)")
        return
    template = request.getfixturevalue("_migrated_template")
    path = tmp_path / "huifang.db"
    shutil.copyfile(template, path)
    eng = make_engine(sqlite_url(path))
    yield eng
    eng.dispose()


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def ctx(engine: Engine) -> ServiceContext:
    """The system context (no logged-in user) with the clock fixed at 2026-11-24 10:00."""
    return ServiceContext(engine, make_session_factory(engine), clock=fixed_clock)


@pytest.fixture
def admin(ctx: ServiceContext) -> UserInfo:
    return users_service.create_user(ctx, "admin", "管理员", Role.ADMIN, PASSWORD, first_admin=True)


@pytest.fixture
def supervisor(ctx: ServiceContext, admin: UserInfo) -> UserInfo:
    return users_service.create_user(
        ctx.as_user(admin), "zhuguan", "李主管", Role.SUPERVISOR, PASSWORD, "客服部"
    )


@pytest.fixture
def manager(ctx: ServiceContext, admin: UserInfo) -> UserInfo:
    return users_service.create_user(ctx.as_user(admin), "jingli", "赵经理", Role.MANAGER, PASSWORD, "经理室")


@pytest.fixture
def clerk(ctx: ServiceContext, admin: UserInfo) -> UserInfo:
    return users_service.create_user(ctx.as_user(admin), "xiaowang", "小王", Role.CLERK, PASSWORD, "客服部")


@pytest.fixture
def clerk2(ctx: ServiceContext, admin: UserInfo) -> UserInfo:
    return users_service.create_user(ctx.as_user(admin), "xiaoli", "小李", Role.CLERK, PASSWORD, "销售部")


@pytest.fixture
def as_user() -> Callable[[ServiceContext, UserInfo], ServiceContext]:
    """``as_user(ctx, user)``: the same database and clock, acting as ``user``."""

    def _as_user(ctx: ServiceContext, user: UserInfo) -> ServiceContext:
        return ctx.as_user(user)

    return _as_user


@pytest.fixture
def cctx(ctx: ServiceContext, clerk: UserInfo) -> ServiceContext:
    """Acting as 小王 (clerk, 客服部)."""
    return ctx.as_user(clerk)


@pytest.fixture
def c2ctx(ctx: ServiceContext, clerk2: UserInfo) -> ServiceContext:
    """Acting as 小李 (clerk, 销售部)."""
    return ctx.as_user(clerk2)


@pytest.fixture
def sctx(ctx: ServiceContext, supervisor: UserInfo) -> ServiceContext:
    """Acting as the supervisor (客服主管)."""
    return ctx.as_user(supervisor)


@pytest.fixture
def mctx(ctx: ServiceContext, manager: UserInfo) -> ServiceContext:
    """Acting as the manager (经理)."""
    return ctx.as_user(manager)


class MainRunner:
    """``run(args) -> (exit code, stdout, stderr)``: ``app.main`` in this process. Every context it opens is
    kept in ``opened`` (and given ``clock`` when one is set); engines and the log handlers main adds are
    closed afterwards by the ``run_main`` fixture."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.opened: list[ServiceContext] = []
        self.clock: Callable[[], datetime] | None = None

    def __call__(self, args: list[str]) -> tuple[int, str, str]:
        from huifang_desktop import app

        code = app.main(args)
        out = self.capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[MainRunner]:
    import logging

    from huifang_desktop import app

    runner = MainRunner(capsys)
    real_open = app.open_context

    def open_context(paths: object, url: str | None = None) -> ServiceContext:
        ctx = real_open(paths, url)  # type: ignore[arg-type]
        if runner.clock is not None:
            ctx = ServiceContext(ctx.engine, ctx.sessions, ctx.user, runner.clock)
        runner.opened.append(ctx)
        return ctx

    monkeypatch.setattr(app, "open_context", open_context)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield runner
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    for ctx in runner.opened:
        ctx.engine.dispose()
