"""Composition root: command line → paths → engine (backup + migrate) → services → GUI or a command.

``huifang-desktop`` without a subcommand opens the GUI; subcommands serve administrators and scheduled tasks.
The subcommands live in ``huifang_desktop.cli`` (one module per group, see its docstring); this module
builds the top-level options, opens the data and dispatches.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from huifang_desktop import APP_TITLE, __version__
from huifang_desktop.cli.common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, UserError
from huifang_desktop.config import AppPaths, default_data_dir

if TYPE_CHECKING:  # for the annotations; the functions below import the services at call time
    from huifang_desktop.services.context import ServiceContext

# The exit codes and UserError belong to the command groups (cli/common.py); this module names them too.
__all__ = [
    "DEMO_STAGES",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "UserError",
    "build_parser",
    "demo_stage_text",
    "ensure_demo_office",
    "main",
    "open_context",
    "parse_args",
    "resolve_paths",
    "setup_logging",
]

log = logging.getLogger("huifang")


def _top_parser(*, add_help: bool = True) -> argparse.ArgumentParser:
    from huifang_desktop.cli_text import folder

    p = argparse.ArgumentParser(
        prog="huifang-desktop",
        description=f"{APP_TITLE}：客户回访与投诉管理",
        add_help=add_help,
        exit_on_error=add_help,
    )
    p.add_argument(
        "--version", action="version", version=f"huifang-desktop {__version__}", help="显示版本号并退出"
    )
    p.add_argument("--data-dir", type=folder, help="数据文件夹（默认：用户数据目录）")
    p.add_argument(
        "--database-url",
        help="数据库地址，例如 postgresql+psycopg://user:pw@host/db（默认：数据文件夹里的 SQLite 文件）",
    )
    p.add_argument("--demo", action="store_true", help="打开示例办公室（首次使用时自动生成）")
    p.add_argument("--smoke-test", action="store_true", help="离屏建立主窗口、检查数据库后退出")
    p.add_argument(
        "--screenshot", type=Path, metavar="DIR", help="为每个主标签页和主要对话框保存一张 PNG 后退出"
    )
    p.add_argument(
        "--screen-size",
        metavar="WxH",
        help="截图时按这个屏幕尺寸（如 1366x768，按当前缩放比例）排布窗口，默认按本机屏幕",
    )
    p.add_argument("--user", help="登录用户名（截图、测试用；GUI 默认弹出登录框）")
    return p


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The GUI's usual start has no command: its options alone are parsed, without building the ~90
    parsers of the commands (argparse looks up a translation for each: 7 ms of a 0.15 s start). Anything
    else — a command (left over by the options' parser), ``--help``, a mistake — goes through the whole
    parser and its messages."""
    from huifang_desktop.cli_text import chinese_argparse

    words = list(sys.argv[1:] if argv is None else argv)
    with chinese_argparse():  # argparse's own words ("usage:", "error: …") in Chinese
        try:  # no help here, no exit on errors: help, commands and mistakes are left to the whole parser
            args, rest = _top_parser(add_help=False).parse_known_args(words)
        except argparse.ArgumentError:
            rest = words
        if not rest:
            args.command = None
            return args
        return build_parser().parse_args(words)


def build_parser() -> argparse.ArgumentParser:
    from huifang_desktop import cli

    p = _top_parser()
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    cli.add_parsers(sub)
    return p


def resolve_paths(args: argparse.Namespace) -> AppPaths:
    base = args.data_dir if args.data_dir else default_data_dir()
    if args.demo and not args.data_dir:
        base = base / "demo"
    return AppPaths(base.expanduser().resolve())


def open_context(paths: AppPaths, database_url: str | None = None) -> ServiceContext:
    """Make the folders and the engine, back up and migrate; return a system ServiceContext.

    A SQLite database is registered as open by this instance (``storage/instance.py``) for as long as the
    engine lives, so a restore elsewhere is refused while it runs."""
    import weakref

    from huifang_desktop.services.context import ServiceContext
    from huifang_desktop.services.outputs import os_reason
    from huifang_desktop.storage import credentials, instance
    from huifang_desktop.storage.db import (
        DatabaseError,
        check_url,
        is_sqlite,
        make_engine,
        make_session_factory,
        sqlite_path,
        sqlite_url,
        upgrade,
    )

    try:
        paths.ensure()
    except OSError as exc:
        raise UserError(
            f"无法写入数据文件夹 {paths.data_dir}：{os_reason(exc)}。"
            "请检查磁盘空间和文件夹权限，或用 --data-dir 指定其他文件夹。"
        ) from exc
    if database_url is not None:
        try:
            check_url(database_url)
        except DatabaseError as exc:  # an address that does not parse, an unknown system, a missing driver
            raise UserError(str(exc)) from exc
    try:
        url = (
            credentials.with_passfile(database_url, paths.data_dir)
            if database_url
            else sqlite_url(paths.database)
        )
    except DatabaseError as exc:
        raise UserError(str(exc)) from exc
    engine = make_engine(url)
    db_file = sqlite_path(engine)
    if db_file is not None:
        try:
            credentials.create_private(db_file)
            lock = instance.hold(db_file)
        except (OSError, instance.InstanceBusy) as exc:
            engine.dispose()
            raise UserError(str(exc)) from exc
        release = weakref.finalize(engine, lock.release)
    try:
        upgrade(engine, backup_dir=paths.backups)
    except (
        Exception
    ) as exc:  # refused (another program's file, newer version …), locked, server gone, disk full
        engine.dispose()
        if db_file is not None:
            release.detach()
            instance.leave_no_trace(lock)
        if isinstance(exc, DatabaseError):
            cause = (
                exc.__cause__
            )  # a server's refusal (wrong password, unreachable) says all: no "damaged file"
            if isinstance(cause, DatabaseError) and not is_sqlite(engine):
                raise UserError(str(cause)) from exc
            raise UserError(str(exc)) from exc
        raise UserError(f"无法打开数据库 {url}：{exc}") from exc
    ctx = ServiceContext(engine, make_session_factory(engine))
    _clean_leftovers(ctx, paths)
    return ctx


def _clean_leftovers(ctx: ServiceContext, paths: AppPaths) -> None:
    """What a killed backup or restore left (``.part`` files, cut-short copies) goes at the next start."""
    from huifang_desktop.services import backups
    from huifang_desktop.storage.db import sqlite_path

    folders = [paths.backups]
    try:
        configured = backups.backup_folder(ctx, paths.backups)
    except Exception:  # noqa: BLE001 - a settings table this start cannot read: the default folder only
        configured = paths.backups
    if configured != paths.backups:
        folders.append(configured)
    backups.clean_leftovers(sqlite_path(ctx.engine), folders)


def setup_logging(paths: AppPaths) -> None:
    handler = logging.FileHandler(paths.log_file, encoding="utf-8")
    paths.tighten()  # the log file just made: owner-only
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


DEMO_STAGES = {
    "users": "用户",
    "customers": "客户",
    "visits": "回访历史",
    "complaints": "投诉",
    "review": "审阅记录",
    "statistics": "索引统计",
}


def demo_stage_text(stage: str, done: int, total: int) -> str:
    """What the window says while the example office is made: ``正在生成示例办公室：客户 1200/2000…``."""
    label = DEMO_STAGES.get(stage, stage)
    if stage == "visits":
        return f"正在生成示例办公室：{label} {done * 100 // max(total, 1)}%…"
    if stage == "customers" and total:
        return f"正在生成示例办公室：{label} {done}/{total}…"
    if stage == "complaints" and total:
        return f"正在生成示例办公室：{label} {total} 件…"
    return f"正在生成示例办公室：{label}…"


def ensure_demo_office(
    ctx: ServiceContext,
    paths: AppPaths,
    customers: int = 2000,
    visits: int = 15000,
    complaints: int = 400,
    report: Callable[[str], None] | None = None,
) -> None:
    """``--demo``: make the example office on an empty database; open only a database made as one.
    ``report(text)``: the progress, for the window (it says 正在生成示例办公室：客户 1200/2000…)."""
    from huifang_desktop import demo
    from huifang_desktop.services import users

    if users.has_users(ctx):
        if not users.is_demo_office(ctx):
            hint = ""
            if paths.data_dir == (default_data_dir() / "demo").expanduser().resolve():
                hint = f"旧版本生成的示例办公室没有示例标记：删除文件夹 {paths.data_dir} 后再用 --demo 启动即重新生成。"
            raise UserError(
                "这个数据库不是示例办公室，不能用 --demo 打开（--demo 只打开由 demo 命令或 --demo "
                "首次启动生成的示例办公室）。请去掉 --demo 启动，在登录框中登录。" + hint
            )
        return
    print(
        f"正在生成示例办公室（{customers} 位客户、{visits} 条回访、{complaints} 件投诉，约 10 秒）…",
        file=sys.stderr,
    )
    stages = None
    if report is not None:

        def stages(stage: str, done: int, total: int) -> None:
            report(demo_stage_text(stage, done, total))

    result = demo.generate_demo(
        ctx,
        customers=customers,
        visits=visits,
        complaints=complaints,
        seed=1,
        profile=demo.DemoProfile(batch_size=400),
        stages=stages,
    )
    from huifang_desktop.cli.demo import print_demo_users

    print_demo_users(result)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    _utf8_console()
    paths = resolve_paths(args)
    try:
        if args.command == "restore":
            if args.database_url:
                raise UserError("PostgreSQL 数据库请由服务器管理员用 pg_restore 恢复。")
            from huifang_desktop.cli.backup import cmd_restore

            return cmd_restore(paths, args)
        if not args.command:  # the GUI: its window shows first, then opens the data (ui/application.py)
            from huifang_desktop.ui.application import run_gui

            _check_screen_size(args)

            try:
                return run_gui(paths, args, lambda: _open_for_gui(paths, args))
            except Exception as exc:
                _raise_for_user(exc)
                raise
        ctx = open_context(paths, args.database_url)
        setup_logging(paths)
        from huifang_desktop.services.backups import note_instance

        note_instance(ctx, program=f"命令 {args.command}", username=args.user)
        from huifang_desktop import cli

        command = cli.commands()[args.command]
        if args.command in ("backup", "verify"):
            from huifang_desktop.services.errors import ServiceError

            try:
                return command(ctx, args, paths)
            except ServiceError as exc:
                raise UserError(str(exc)) from exc
        try:
            return command(ctx, args, paths)
        except Exception as exc:
            _raise_for_user(exc)
            raise
    except UserError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        if not args.command and not (args.smoke_test or args.screenshot):
            _show_startup_error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _check_screen_size(args: argparse.Namespace) -> None:
    """``--screen-size WxH``: only with ``--screenshot``, and well-formed (checked before anything opens)."""
    if not args.screen_size:
        return
    if not args.screenshot:
        raise UserError("--screen-size 只用于截图：请与 --screenshot DIR 一起使用。")
    from huifang_desktop.ui.screenshots import parse_screen_size

    try:
        parse_screen_size(args.screen_size)
    except ValueError as exc:
        raise UserError(f"--screen-size：{exc}") from exc


def _raise_for_user(exc: Exception) -> None:
    """A problem with a message for the user (locked database, bad input, a refused action) is raised as a
    UserError; anything else (a bug: its traceback goes to the log) is left to the caller to re-raise."""
    from huifang_desktop.domain.errors import ValidationError
    from huifang_desktop.services.errors import ServiceError
    from huifang_desktop.storage.db import DatabaseError

    if isinstance(exc, ServiceError | ValidationError | DatabaseError):
        raise UserError(str(exc)) from exc


def _open_for_gui(paths: AppPaths, args: argparse.Namespace) -> ServiceContext:
    """The GUI's data: runs in a worker thread while the window shows (see ``ui/application.py``); the
    example office's progress is shown in the window."""
    from huifang_desktop.services.backups import note_instance
    from huifang_desktop.ui.application import report_startup

    ctx = open_context(paths, args.database_url)
    setup_logging(paths)
    note_instance(ctx, program="窗口")  # named when a restore elsewhere is refused (the user after log-in)
    if args.demo:
        ensure_demo_office(ctx, paths, report=report_startup)
    return ctx


def _show_startup_error(message: str) -> None:
    """Started from the desktop there is no console: say why the program cannot start in a window."""
    try:
        from huifang_desktop.ui.application import show_startup_error
    except ImportError:  # pragma: no cover - PySide6 missing: the console message is all we can give
        return
    show_startup_error(message)


def _utf8_console() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
