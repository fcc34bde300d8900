"""Composition root: command line → paths → engine (backup + migrate) → services → GUI or a command.

``huifang-desktop`` without a subcommand opens the GUI; subcommands serve administrators and scheduled tasks.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from huifang_desktop import APP_TITLE, __version__, cli_handover, cli_holidays
from huifang_desktop.config import AppPaths, default_data_dir

log = logging.getLogger("huifang")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UserError(Exception):
    """A problem the user can fix; printed as a message, not a traceback."""


def _top_parser(*, add_help: bool = True) -> argparse.ArgumentParser:
    from huifang_desktop.cli_text import folder

    p = argparse.ArgumentParser(prog="huifang-desktop", description=f"{APP_TITLE}：客户回访与投诉管理",
                                add_help=add_help, exit_on_error=add_help)
    p.add_argument("--version", action="version", version=f"huifang-desktop {__version__}", help="显示版本号并退出")
    p.add_argument("--data-dir", type=folder, help="数据文件夹（默认：用户数据目录）")
    p.add_argument("--database-url", help="数据库地址，例如 postgresql+psycopg://user:pw@host/db（默认：数据文件夹里的 SQLite 文件）")
    p.add_argument("--demo", action="store_true", help="打开示例办公室（首次使用时自动生成）")
    p.add_argument("--smoke-test", action="store_true", help="离屏建立主窗口、检查数据库后退出")
    p.add_argument("--screenshot", type=Path, metavar="DIR", help="为每个主标签页和主要对话框保存一张 PNG 后退出")
    p.add_argument("--screen-size", metavar="WxH",
                   help="截图时按这个屏幕尺寸（如 1366x768，按当前缩放比例）排布窗口，默认按本机屏幕")
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
    from huifang_desktop.cli_text import record_id, whole_number

    count = whole_number(high=10_000_000, what="数量")
    p = _top_parser()
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="生成示例办公室数据")
    d.add_argument("--customers", type=count, default=300)
    d.add_argument("--visits", type=count, default=0)
    d.add_argument("--complaints", type=count, default=0)
    d.add_argument("--seed", type=whole_number(what="整数"), default=1)

    st = sub.add_parser("settings", help="办公室设置：show / set KEY VALUE")
    ssub = st.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    ssub.add_parser("show", help="列出设置")
    sset = ssub.add_parser("set", help="修改一项设置（列表用逗号分隔）")
    sset.add_argument("key")
    sset.add_argument("value")

    u = sub.add_parser("users", help="用户管理：add / list / reset-password / unlock / set-role / set-department / "
                                      "disable / enable")
    usub = u.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="新建用户")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="姓名")
    add.add_argument("--role", required=True, choices=["clerk", "supervisor", "manager", "admin"])
    add.add_argument("--department", default="")
    add.add_argument("--password", help="密码（不给则提示输入；没有终端时随机生成并打印，首次登录须修改）")
    usub.add_parser("list", help="列出用户")
    reset = usub.add_parser("reset-password", help="重置密码")
    reset.add_argument("username")
    reset.add_argument("--password", help="新密码（不给则随机生成并打印，下次登录须修改）")
    unlock = usub.add_parser("unlock", help="解锁因多次密码错误被锁定的用户")
    unlock.add_argument("username")
    set_role = usub.add_parser("set-role", help="修改用户角色")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=["clerk", "supervisor", "manager", "admin"])
    set_dep = usub.add_parser("set-department", help="修改用户所在部门（部门不存在时新建；空字符串表示无部门）")
    set_dep.add_argument("username")
    set_dep.add_argument("department")
    for action, text in (("disable", "停用用户（不能再登录，记录保留；未完成的工作交给 --to 接手人）"), ("enable", "重新启用用户")):
        usub.add_parser(action, help=text).add_argument("username")
    cli_handover.add_disable_options(usub.choices["disable"])

    dp = sub.add_parser("departments", help="部门：list / add / rename")
    dsub = dp.add_subparsers(dest="departments_command", metavar="ACTION", required=True)
    dsub.add_parser("list", help="列出部门、负责主管和人数")
    dadd = dsub.add_parser("add", help="新建部门")
    dadd.add_argument("name")
    dadd.add_argument("--head", help="负责主管的用户名")
    dren = dsub.add_parser("rename", help="部门改名")
    dren.add_argument("old_name")
    dren.add_argument("new_name")

    pl = sub.add_parser("plan", help="补排回访计划（启动时的每日补排）")
    pl.add_argument("--today", help="按哪一天补排，格式 2026-11-24（默认：今天）")

    cu = sub.add_parser("customers", help="客户档案：find TEXT 查找客户（每行：客户编号、名称、电话，以制表符分隔）")
    cusub = cu.add_subparsers(dest="customers_command", metavar="find", required=True)
    cf = cusub.add_parser("find", help="按名称、客户编号、拼音首字母或电话查找（电话：任意连续 4 位以上数字，"
                                       "如尾号 5678、不带区号的座机）；找不到时退出码为 1")
    cf.add_argument("text", metavar="TEXT", help="查找内容")
    cf.add_argument("--archived", action="store_true", help="也查找已归档的档案")

    bk = sub.add_parser("backup", help="立即备份数据库（校验后按 7 日/4 周/12 月轮换）")
    bk.add_argument("dir", nargs="?", type=Path, help="备份文件夹（默认：设置中的备份文件夹）")
    vf = sub.add_parser("verify", help="校验审计链、全部签字、用户和备份中的审计链记录（发现问题时退出码非 0）")
    vf.add_argument("--backups", type=Path, metavar="DIR", help="备份文件夹（默认：设置中的备份文件夹）")
    rs = sub.add_parser("restore", help="从备份恢复数据库（当前数据库先另存一份）")
    rs.add_argument("file", type=Path, metavar="FILE")
    rs.add_argument("--yes", action="store_true", help="不再询问确认")

    e = sub.add_parser("export", help="导出台账：customers/visits/complaints/services/endcustomers/audit")
    esub = e.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    ev = esub.add_parser("visits", help="回访台账（.xlsx）")
    ev.add_argument("out", type=Path, metavar="OUT.xlsx")
    ev.add_argument("--from", dest="start", help="计划日期从（含），如 2026-11-01")
    ev.add_argument("--to", dest="end", help="计划日期到（含），如 2026-11-30")
    ec = esub.add_parser("complaints", help="投诉台账（.xlsx）")
    ec.add_argument("out", type=Path, metavar="OUT.xlsx")
    ec.add_argument("--from", dest="start", help="投诉日期从（含），如 2026-11-01")
    ec.add_argument("--to", dest="end", help="投诉日期到（含），如 2026-11-30")
    ec.add_argument("--state", action="append", default=[], help="只导出该状态（可重复），如 处理中")
    ea = esub.add_parser("audit", help="操作日志（.xlsx）：时间、用户、操作、对象、原值、新值")
    ea.add_argument("out", type=Path, metavar="OUT.xlsx")
    ea.add_argument("--from", dest="start", help="日期从（含），如 2026-11-01")
    ea.add_argument("--to", dest="end", help="日期到（含），如 2026-11-30")
    ea.add_argument("--user", dest="audit_user", help="只导出该用户（登录名）的操作")
    ea.add_argument("--action", help="只导出该操作，如 签字、撤回签字")
    for name, aliases, help_text, day in (
            ("customers", [], "客户台账（.xlsx）", "建档日期"),
            ("services", ["service"], "售后服务台账（.xlsx）", "服务日期"),
            ("endcustomers", ["end-customers"], "终端客户信息台帐（.xlsx）", "购买日期")):
        el = esub.add_parser(name, aliases=aliases, help=help_text)
        el.add_argument("out", type=Path, metavar="OUT.xlsx")
        el.add_argument("--from", dest="start", help=f"{day}从（含），如 2026-11-01")
        el.add_argument("--to", dest="end", help=f"{day}到（含），如 2026-11-30")
        el.add_argument("--state", default="", help="只导出该状态，如 处理中、在保、正常、未归档")

    pr = sub.add_parser("print", help="打印表单或台账到 PDF：record / blank / empty / report / complaint / day / visits")
    prsub = pr.add_subparsers(dest="print_command", metavar="WHAT", required=True)
    for what, help_text, arg, arg_help in (
            ("record", "填好的回访记录表", "number", "回访记录编号（如 HF20261124-001）或 ID"),
            ("blank", "空白回访记录表（预印客户和联系人）", "id", "回访计划的 ID"),
            ("report", "回访报告表", "number", "回访报告编号或 ID"),
            ("complaint", "投诉处理表（含处理经过和签字）", "number", "投诉编号（如 TS20261124-001）或 ID"),
            ("day", "某一天全部回访计划的回访记录表（一个 PDF）", "day", "日期，如 2026-11-24")):
        pp = prsub.add_parser(what, help=help_text)
        pp.add_argument(arg, type=record_id if arg == "id" else str, help=arg_help)
        pp.add_argument("out", type=Path, metavar="OUT.pdf")
    pe = prsub.add_parser("empty", help="空白表单（手写用）：record 回访记录表 / complaint 投诉处理表")
    pe.add_argument("kind", metavar="KIND",
                    help="record（回访记录表）或 complaint（投诉处理表）")
    pe.add_argument("out", type=Path, metavar="OUT.pdf")
    pv = prsub.add_parser("visits", help="回访台账（横向表格，每页重复表头和本页合计）")
    pv.add_argument("out", type=Path, metavar="OUT.pdf")
    pv.add_argument("--from", dest="start", help="计划日期从（含），如 2026-11-01")
    pv.add_argument("--to", dest="end", help="计划日期到（含），如 2026-11-30")
    pv.add_argument("--no-appendix", dest="appendix", action="store_false",
                    help="超过两行的内容只印前两行，不附“未印全的内容”附录")
    sa = sub.add_parser("stats", help="统计报表：月度回访统计表（--month）或季度客户服务报告（--quarter），.xlsx 或 .pdf")
    speriod = sa.add_mutually_exclusive_group(required=True)
    speriod.add_argument("--month", help="月份，如 2026-10（月度回访统计表，含考核）")
    speriod.add_argument("--quarter", help="季度，如 2026Q3（季度客户服务报告）")
    speriod.add_argument("--period", help="其他期间：年份 2026，或 2026-10-01..2026-10-15")
    sa.add_argument("--group", default="clerk", choices=["clerk", "grade", "type", "department", "month"],
                    help="回访情况的分组：clerk 回访人 / grade 客户等级 / type 回访类型 / department 部门 / month 月份")
    sa.add_argument("out", type=Path, metavar="OUT.xlsx|OUT.pdf")
    im = sub.add_parser("import", help="导入 Excel 台账：customers / visits / complaints / services（先检查，再写入）")
    im.add_argument("what", choices=["customers", "visits", "complaints", "services"], metavar="WHAT",
                    help="customers（客户台账）/ visits（回访台账）/ complaints（投诉台账）/ services（售后服务台账）")
    im.add_argument("file", type=Path, metavar="FILE.xlsx")
    im.add_argument("--sheet", help="工作表名称（默认：第一个工作表；报告会列出其他工作表）")
    im.add_argument("--all-sheets", action="store_true", help="导入所有找得到表头的工作表（如按年份分开的几张表）")
    im.add_argument("--include-hidden", action="store_true", help="也导入 Excel 中隐藏的行（默认：跳过并在报告中列出）")
    im.add_argument("--owners", choices=["blank", "create"], default="blank",
                    help="负责人不是本系统用户时：blank 暂不指定负责人（默认，照常导入并提示）/ create 创建为客服专员账号（需管理用户的权限）")
    im.add_argument("--owner", action="append", default=[], metavar="姓名=用户名",
                    help="把表中的负责人姓名对应到已有用户，可重复，如 --owner 老刘=xiaowang")
    im.add_argument("--details", action="store_true", help="逐行列出每个问题（默认按问题种类汇总）")
    im.add_argument("--header-row", type=whole_number(low=1, high=1_048_576, what="行号"), help="表头所在的行号（默认：自动查找）")
    im.add_argument("--mapping", type=Path, metavar="FILE.json",
                    help='列对应，如 {"客户名称": "单位全称"}（默认：按列名和本单位保存的对应关系）')
    im.add_argument("--dry-run", action="store_true", help="只检查并打印报告，不写入")
    im.add_argument("--accept-valid", action="store_true", help="跳过有问题和重复的行，只导入有效行（默认：有问题时什么都不写）")
    sc = sub.add_parser("scan", help="扫描件回收：import 导入扫描的表单 / list 未识别的页 / file 手工归档")
    scsub = sc.add_subparsers(dest="scan_command", metavar="ACTION", required=True)
    sci = scsub.add_parser("import", help="导入扫描件（PDF、PNG、JPEG 文件或文件夹），按表上的二维码归档到回访记录")
    sci.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR")
    scsub.add_parser("list", help="列出未识别的扫描页（序号、文件、页码、原因）")
    scf = scsub.add_parser("file", help="把未识别的第 N 页手工归档到编号为 HF… 的回访记录")
    scf.add_argument("page", type=record_id, metavar="N")
    scf.add_argument("number", metavar="HF编号")
    ir = sub.add_parser("imports", help="导入记录：列出最近的导入（list），或撤销第 N 次导入（undo N）")
    ir.add_argument("action", nargs="?", choices=["list", "undo"], default="list", metavar="list|undo")
    ir.add_argument("run", nargs="?", type=record_id, metavar="N", help="导入的序号（见 imports list）")
    cli_holidays.add_parser(sub)
    return p


def resolve_paths(args: argparse.Namespace) -> AppPaths:
    base = args.data_dir if args.data_dir else default_data_dir()
    if args.demo and not args.data_dir:
        base = base / "demo"
    return AppPaths(base.expanduser().resolve())


def open_context(paths: AppPaths, database_url: str | None = None):  # type: ignore[no-untyped-def]
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
        raise UserError(f"无法写入数据文件夹 {paths.data_dir}：{os_reason(exc)}。"
                        "请检查磁盘空间和文件夹权限，或用 --data-dir 指定其他文件夹。") from exc
    if database_url is not None:
        try:
            check_url(database_url)
        except DatabaseError as exc:  # an address that does not parse, an unknown system, a missing driver
            raise UserError(str(exc)) from exc
    try:
        url = credentials.with_passfile(database_url, paths.data_dir) if database_url else sqlite_url(paths.database)
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
    except Exception as exc:  # refused (another program's file, newer version …), locked, server gone, disk full
        engine.dispose()
        if db_file is not None:
            release.detach()
            instance.leave_no_trace(lock)
        if isinstance(exc, DatabaseError):
            cause = exc.__cause__  # a server's refusal (wrong password, unreachable) says all: no "damaged file"
            if isinstance(cause, DatabaseError) and not is_sqlite(engine):
                raise UserError(str(cause)) from exc
            raise UserError(str(exc)) from exc
        raise UserError(f"无法打开数据库 {url}：{exc}") from exc
    ctx = ServiceContext(engine, make_session_factory(engine))
    _clean_leftovers(ctx, paths)
    return ctx


def _clean_leftovers(ctx, paths: AppPaths) -> None:  # type: ignore[no-untyped-def]
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


DEMO_STAGES = {"users": "用户", "customers": "客户", "visits": "回访历史", "complaints": "投诉",
               "review": "审阅记录", "statistics": "索引统计"}


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


def ensure_demo_office(ctx, paths: AppPaths, customers: int = 2000,  # type: ignore[no-untyped-def]
                       visits: int = 15000, complaints: int = 400,
                       report: Callable[[str], None] | None = None) -> None:
    """``--demo``: make the example office on an empty database; open only a database made as one.
    ``report(text)``: the progress, for the window (it says 正在生成示例办公室：客户 1200/2000…)."""
    from huifang_desktop import demo
    from huifang_desktop.services import users

    if users.has_users(ctx):
        if not users.is_demo_office(ctx):
            hint = ""
            if paths.data_dir == (default_data_dir() / "demo").expanduser().resolve():
                hint = f"旧版本生成的示例办公室没有示例标记：删除文件夹 {paths.data_dir} 后再用 --demo 启动即重新生成。"
            raise UserError("这个数据库不是示例办公室，不能用 --demo 打开（--demo 只打开由 demo 命令或 --demo "
                            "首次启动生成的示例办公室）。请去掉 --demo 启动，在登录框中登录。" + hint)
        return
    print(f"正在生成示例办公室（{customers} 位客户、{visits} 条回访、{complaints} 件投诉，约 10 秒）…",
          file=sys.stderr)
    stages = None
    if report is not None:
        def stages(stage: str, done: int, total: int) -> None:
            report(demo_stage_text(stage, done, total))
    result = demo.generate_demo(ctx, customers=customers, visits=visits, complaints=complaints, seed=1,
                                profile=demo.DemoProfile(batch_size=400), stages=stages)
    _print_demo_users(result)


def _print_demo_users(result) -> None:  # type: ignore[no-untyped-def]
    print("示例用户（示例办公室的登录框中也列出这些账户和密码）：")
    for username, role, password in result.users:
        print(f"  {username:<12} {role:<11} {password}")


# --- commands -----------------------------------------------------------------------------------------

def cmd_demo(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop import demo

    result = demo.generate_demo(ctx, customers=args.customers, visits=args.visits, complaints=args.complaints,
                                seed=args.seed)
    print(f"已生成 {result.customers} 位客户，用时 {result.seconds:.1f} 秒。")
    if result.visits is not None:
        v = result.visits
        print(f"回访历史：{v.plans} 条回访计划（自 {v.since} 起），{v.records} 份回访记录表，"
              f"{v.reports} 份回访报告表，逾期 {v.overdue} 条。")
    if result.complaints:
        print(f"投诉、咨询和建议：{result.complaints} 件（各种状态，含重复投诉、匿名、升级和结案回访）。")
    if result.review is not None:
        r = result.review
        print(f"审阅历史：签字 {r.signed} 件，退回 {r.returned} 件，撤回签字后重新签字 {r.reopened} 件。")
    _print_demo_users(result)
    return EXIT_OK


def cmd_users(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop.services import users

    if args.users_command == "list":
        for u in users.list_users(ctx, include_inactive=True):
            state = "" if u.active else "（停用）"
            until = users.locked_until(ctx, u.username)
            if until is not None:
                state += f"（已锁定至 {until:%H:%M}）"
            print(f"{u.username:<14} {u.display_name:<8} {u.role.label:<6} {u.department}{state}")
        return EXIT_OK
    if args.users_command == "add":
        generated = args.password is None and not sys.stdin.isatty()
        if generated:
            import secrets

            password = secrets.token_urlsafe(8)
        else:
            password = _ask_password() if args.password is None else args.password
        info = users.create_user(ctx, args.username, args.name, args.role, password, args.department,
                                 must_change=generated)
        print(f"已创建用户 {info.username}（{info.role.label}）。")
        if generated:
            print(f"初始密码：{password}（只显示这一次；首次登录时须修改）")
        return EXIT_OK
    if args.users_command == "unlock":
        if users.unlock_user(ctx, args.username):
            print(f"已解锁用户 {args.username}。")
        else:
            print(f"用户 {args.username} 没有被锁定（已记录解锁，失败次数重新计算）。")
        return EXIT_OK
    if args.users_command == "set-role":
        info = users.set_role(ctx, args.username, args.role)
        print(f"用户 {info.username} 的角色：{info.role.label}。")
        return EXIT_OK
    if args.users_command == "set-department":
        info = users.set_department(ctx, args.username, args.department)
        print(f"用户 {info.username} 的部门：{info.department or '（无）'}。")
        return EXIT_OK
    if args.users_command == "disable":
        return cli_handover.disable(ctx, args)
    if args.users_command in ("disable", "enable"):
        info = users.find_user(ctx, args.username)
        users.set_active(ctx, info.id, args.users_command == "enable")
        print(f"已{'启用' if args.users_command == 'enable' else '停用'}用户 {info.username}。")
        return EXIT_OK
    if args.users_command == "reset-password":
        password = users.reset_password(ctx, args.username, args.password)
        print(f"用户 {args.username} 的新密码：{password}" if not args.password else "密码已重置。")
        return EXIT_OK
    raise UserError(f"未知操作：{args.users_command}")


def cmd_departments(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop.services import users

    if args.departments_command == "list":
        for d in users.department_rows(ctx):
            print(f"{d.name:<12} 负责主管：{d.head_name or '（无）'}  人数：{d.members}")
        return EXIT_OK
    if args.departments_command == "add":
        row = users.add_department(ctx, args.name, args.head)
        print(f"已新建部门 {row.name}" + (f"（负责主管：{row.head_name}）。" if row.head_name else "。"))
        return EXIT_OK
    users.rename_department(ctx, args.old_name, args.new_name)
    print(f"部门 {args.old_name} 已改名为 {args.new_name.strip()}。")
    return EXIT_OK


PLAN_PREVIEW_ROWS = 10


def _day(text: str | None, label: str, field: str) -> date | None:
    """A date option: None when not given; given but empty ("") or out of range is refused, naming it."""
    from huifang_desktop.domain.validation import parse_date

    return None if text is None else parse_date(text, label=label, field=field, required=True)


def cmd_plan(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop.services import visits

    today = _day(args.today, "补排日期", "today")
    result = visits.plan_catch_up(ctx, today)
    day = today or ctx.today()
    print(f"{day:%Y-%m-%d} 补排完成：新增 {len(result.planned)} 条回访计划，已有 {result.skipped} 条，"
          f"调整 {result.moved} 条，用时 {result.seconds:.1f} 秒。")
    cli_holidays.print_gaps(ctx, day)
    if today is None:  # escalation compares with the real clock, so only for today's run
        from huifang_desktop.services import complaints

        escalated = complaints.escalate_overdue(ctx).escalated
        if escalated:
            print(f"逾期投诉自动升级 {len(escalated)} 件：")
            for number, from_role, to_name in escalated[:PLAN_PREVIEW_ROWS]:
                print(f"  {number}  {from_role} → {to_name or '（无此级别人员）'}")
    if result.planned:
        names = visits.rule_names(visits.load_rules(ctx))
        print("按规则：")
        for key, count in result.by_rule().items():
            print(f"  {names.get(key, key)}：{count}")
        print(f"前 {min(PLAN_PREVIEW_ROWS, len(result.planned))} 条：")
        for r in result.planned[:PLAN_PREVIEW_ROWS]:
            print(f"  {r.due:%Y-%m-%d}  {r.customer_code} {r.customer_name}  {r.visit_type}回访 {r.method}  "
                  f"{r.owner or '未分配'}  {r.display_state}")
    return EXIT_OK


def cmd_customers(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """``customers find TEXT``: the files the search box would list, for scripts (run as the system user,
    who sees every file, like the other commands)."""
    from huifang_desktop.services import customers
    from huifang_desktop.storage.queries import CustomerFilter

    text = args.text.strip()
    if not text:
        raise UserError("查找内容不能为空：请给出名称、客户编号、拼音首字母或电话号码中的一段。")
    f = CustomerFilter(text=text, include_archived=args.archived)
    found, after = 0, None
    while True:  # every match, a page at a time in 客户编号 order
        rows = customers.list_customers(ctx, f, after)
        for r in rows:
            print(f"{r.code}\t{r.name}\t{r.phone}")
        found += len(rows)
        if len(rows) < customers.PAGE_SIZE:
            break
        after = (rows[-1].sort_key, rows[-1].id)
    if not found:
        print("未找到匹配的客户", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def cmd_backup(ctx, args: argparse.Namespace, paths: AppPaths) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop.services import backups

    folder = args.dir or backups.backup_folder(ctx, paths.backups)
    info = backups.make_backup(ctx, folder.expanduser())
    print(f"已备份到 {info.path}（{info.size_text}，已校验）。")
    left = backups.list_backups(folder.expanduser())
    print(f"备份文件夹中共有 {len(left)} 份备份。")
    return EXIT_OK


def cmd_verify(ctx, args: argparse.Namespace, paths: AppPaths) -> int:  # type: ignore[no-untyped-def]
    """The full tamper check: one line per finding, exit 1 when anything is broken."""
    from huifang_desktop.services import backups, tamper

    folder = (args.backups or backups.backup_folder(ctx, paths.backups)).expanduser()
    report = tamper.verify_all(ctx, folder)
    for line in report.findings:
        print(line)
    print(report.summary() + "。")
    return EXIT_OK if report.ok else EXIT_ERROR


def cmd_restore(paths: AppPaths, args: argparse.Namespace) -> int:
    """Runs before the database is opened, so a file that no longer opens can still be replaced."""
    from huifang_desktop.services import backups

    check = backups.check_backup(args.file)
    if not check.ok:
        raise UserError(f"不能恢复：{check.message}当前数据库未改动。")
    counts = "，".join(f"{label} {n}" for label, n in check.counts)
    print(f"备份 {args.file.name}：{counts}。")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError("恢复会替换当前数据库。请确认后加 --yes 再运行。")
        if input("恢复会替换当前数据库（当前数据库会先另存一份）。继续吗？[y/N] ").strip().lower() not in ("y", "yes"):
            print("已取消。")
            return EXIT_OK
    try:
        paths.ensure()
    except OSError as exc:
        raise UserError(f"无法写入数据文件夹 {paths.data_dir}：{exc.strerror or exc}。") from exc
    try:
        _check, aside = backups.restore_file(args.file, paths.database, paths.backups)
    except backups.BackupError as exc:
        raise UserError(str(exc)) from exc
    if aside is not None:
        print(f"恢复前的数据库已另存为 {aside}。")
    print(f"已从 {args.file} 恢复。")
    return EXIT_OK


def cmd_export(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop.services import ledgers

    if args.export_command == "visits":  # the whole 回访台账: every column of the 台账 tab's definition
        lf = ledgers.LedgerFilter(start=_day(args.start, "开始日期", "from"), end=_day(args.end, "截止日期", "to"))
        every = [c.key for c in ledgers.columns(ledgers.Ledger.VISITS)]
        result = ledgers.export(ctx, ledgers.Ledger.VISITS, lf, args.out, columns_=every)
        print(f"已导出回访台账 {result.rows} 行到 {args.out}。")
        return EXIT_OK
    if args.export_command == "complaints":
        from huifang_desktop.domain.complaints import ComplaintState
        from huifang_desktop.services import complaints

        start = _day(args.start, "开始日期", "from")
        end = _day(args.end, "截止日期", "to")
        known = {s.value for s in ComplaintState}
        bad = [x for x in args.state if x not in known]
        if bad:
            raise UserError(f"未知状态：{'、'.join(bad)}（可选：{'、'.join(sorted(known))}）")
        cf = complaints.ComplaintFilter(start=start, end=end, states=frozenset(args.state))
        result = ledgers.export_complaints(ctx, args.out, cf)
        print(f"已导出投诉台账 {result.rows} 行到 {args.out}。")
        return EXIT_OK
    if args.export_command == "audit":
        from huifang_desktop.services import review, users

        if args.audit_user:
            users.find_user(ctx, args.audit_user)  # an unknown name is an error, not an empty file
        f = review.AuditFilter(
            username=args.audit_user or "", action=args.action or "",
            start=_day(args.start, "开始日期", "from"),
            end=_day(args.end, "截止日期", "to"))
        count = review.export_audit(ctx, args.out, f)
        print(f"已导出操作日志 {count} 行到 {args.out}。")
        return EXIT_OK
    if args.export_command in ("customers", "services", "service", "endcustomers", "end-customers"):
        ledger = ledgers.Ledger.parse(args.export_command)
        lf = ledgers.LedgerFilter(
            start=_day(args.start, "开始日期", "from"),
            end=_day(args.end, "截止日期", "to"), state=args.state)
        result = ledgers.export(ctx, ledger, lf, args.out)
        print(f"已导出{ledger.value} {result.rows} 行到 {args.out}。")
        return EXIT_OK
    raise UserError(f"未知导出内容：{args.export_command}")


def cmd_print(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop.domain.validation import parse_date
    from huifang_desktop.services import ledgers, printing

    forms = resolve_paths(args).forms_override
    what = args.print_command
    if what == "record":
        doc = printing.visit_record_pdf(ctx, printing.record_id_of(ctx, args.number), args.out, forms_dir=forms)
    elif what == "blank":
        doc = printing.blank_visit_record_pdf(ctx, args.id, args.out, forms_dir=forms)
    elif what == "empty":
        doc = printing.empty_form_pdf(ctx, args.kind, args.out, forms_dir=forms)
    elif what == "report":
        doc = printing.visit_report_pdf(ctx, printing.report_id_of(ctx, args.number), args.out, forms_dir=forms)
    elif what == "complaint":
        doc = printing.complaint_pdf(ctx, printing.complaint_id_of(ctx, args.number), args.out, forms_dir=forms)
    elif what == "day":
        day = parse_date(args.day, label="日期", field="day", required=True)
        doc = printing.day_plans_pdf(ctx, day, out=args.out, forms_dir=forms)
    elif what == "visits":
        start = _day(args.start, "开始日期", "from")
        end = _day(args.end, "截止日期", "to")
        doc = ledgers.visit_ledger_pdf(ctx, start, end, args.out, appendix=args.appendix)
    else:
        raise UserError(f"未知打印内容：{what}")
    print(f"已打印{doc.form}（{doc.label}）共 {doc.pages} 页到 {args.out}。")
    return EXIT_OK


def cmd_import(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """Check the sheet(s) and print the report: every problem of every row, grouped by kind with a count,
    the first rows and how to fix; the columns, sheets and hidden rows left out; 负责人 who are no user;
    the visit plans the import brings. Write only clean sheets, or the valid rows with --accept-valid.
    Exit 0 when written (or a clean dry run), 1 when rows were refused."""
    import json

    from huifang_desktop.services import importing, users

    if args.user:
        ctx = ctx.as_user(users.find_user(ctx, args.user))
    target = importing.ImportTarget.from_slug(args.what)
    if args.all_sheets and args.sheet:
        raise UserError("--sheet 和 --all-sheets 只能选一个。")
    prefer = None
    if args.mapping:
        try:
            raw = json.loads(args.mapping.read_text(encoding="utf-8"))
        except IsADirectoryError as exc:
            raise UserError(f"无法读取列对应文件 {args.mapping}：这是一个文件夹，请给出 .json 文件。") from exc
        except FileNotFoundError as exc:
            raise UserError(f"无法读取列对应文件 {args.mapping}：文件不存在。") from exc
        except OSError as exc:
            from huifang_desktop.services.outputs import os_reason

            raise UserError(f"无法读取列对应文件 {args.mapping}：{os_reason(exc)}。") from exc
        except json.JSONDecodeError as exc:
            raise UserError(f"列对应文件 {args.mapping} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）。"
                            '应为 {"字段": "表头"} 的形式。') from exc
        except ValueError as exc:  # not UTF-8
            raise UserError(f"列对应文件 {args.mapping} 不是 UTF-8 编码的文本文件。") from exc
        if not isinstance(raw, dict):
            raise UserError(f"列对应文件 {args.mapping} 应为 {{\"字段\": \"表头\"}} 的形式。")
        labels = {f.label: f.key for f in importing.target_fields(target)}
        prefer = {labels.get(str(k), str(k)): str(v) for k, v in raw.items()}
    owners: dict[str, int] = {}
    for item in args.owner:
        name, sep, username = item.partition("=")
        if not sep or not name.strip() or not username.strip():
            raise UserError(f"--owner 应写成 姓名=用户名，如 --owner 老刘=xiaowang（收到“{item}”）。")
        owners[name.strip()] = users.find_user(ctx, username.strip()).id
    create = args.owners == "create"
    first = importing.preview(ctx, args.file, args.sheet, target, header_row=args.header_row, prefer=prefer)
    sheets = list(first.sheet_names) if args.all_sheets else [first.sheet]
    previews = []
    for name in sheets:
        p = first if name == first.sheet else importing.preview(ctx, args.file, name, target, prefer=prefer)
        if p.header_row is None:
            if not args.all_sheets:
                raise UserError(p.message)
            print(f"工作表“{name}”：没有找到表头，跳过。")
            continue
        previews.append(p)
    if not previews:
        raise UserError(f"“{first.file_name}”的工作表中都没有找到表头行。")

    def check(owner_ids: dict[str, int], creating: bool) -> list[Any]:
        return [importing.validate(ctx, args.file, p.sheet, target,
                                   importing.ColumnMapping(p.header_row or 1, p.mapping),
                                   include_hidden=args.include_hidden, owners=owner_ids, create_owners=creating)
                for p in previews]  # every preview here has its header row

    reports = check(owners, create)
    for p, report in zip(previews, reports, strict=True):
        _print_import_report(importing, target, p, report, details=args.details, all_sheets=args.all_sheets)
    clean = all(r.clean for r in reports)
    if args.dry_run:
        print("试运行：没有写入任何数据。")
        return EXIT_OK if clean else EXIT_ERROR
    if not any(r.valid_count for r in reports):
        print("没有可导入的行，没有写入任何数据。", file=sys.stderr)
        return EXIT_ERROR
    if not clean and not args.accept_valid:
        bad = sum(r.error_rows + r.duplicate_rows for r in reports)
        print(f"没有写入任何数据：有 {bad} 行未通过检查。请在 Excel 中修改后重试，"
              "或加 --accept-valid 只导入有效行。", file=sys.stderr)
        return EXIT_ERROR
    unknown = list(dict.fromkeys(n for r in reports for n, _k in r.unknown_owners))
    if create and unknown:
        created = importing.create_owner_accounts(ctx, unknown)
        for name, username, password in created:
            print(f"已创建负责人账号：{name}（用户名 {username}，临时密码 {password}，首次登录须修改）")
            owners[name] = users.find_user(ctx, username).id
        reports = check(owners, False)
    for report in reports:
        if not report.valid_count:
            continue
        result = importing.run_import(ctx, report, only_valid=True)
        print(result.summary())
        if result.run_id is not None:
            print(f"这是第 {result.run_id} 次导入；如需整体撤销：huifang-desktop imports undo {result.run_id}")
    return EXIT_OK


def _print_import_report(importing: Any, target: Any, p: Any, report: Any, *, details: bool,
                         all_sheets: bool) -> None:
    """One sheet's check: where, the columns, the problems by kind (count, first rows, how to fix), notes."""
    print(f"文件：{report.file_name}  工作表：{report.sheet}  表头：第 {report.header_row} 行")
    print("列对应：" + "；".join(
        f"{f.label} ← {importing.column_letter(p.mapping[f.key])}列“{p.headers[p.mapping[f.key]]}”"
        for f in importing.target_fields(target) if f.key in p.mapping))
    groups = report.groups
    if groups:
        print(f"问题汇总（{len(groups)} 种，一次列全）：")
    for g in groups:
        print(f"  [{g.kind.value}] {g.where}：{g.what} — {g.count} 行（{g.first_rows()}）")
        print(f"      例：{g.example}")
        print(f"      怎么改：{g.hint}")
    if details:
        for issue in report.issues:
            print(f"  [{issue.kind.value}] {issue}")
    print(report.summary() + f"（检查用时 {report.seconds:.1f} 秒）")
    for line in report.notes():
        if all_sheets and line.startswith("本文件还有其他工作表"):
            continue
        print(line)


def cmd_imports(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """List the imports, newest first, or undo one (all its rows, in one step)."""
    from huifang_desktop.services import importing, users

    if args.user:
        ctx = ctx.as_user(users.find_user(ctx, args.user))
    if args.action == "undo":
        if args.run is None:
            raise UserError("请给出要撤销的导入序号，如：imports undo 3（序号见 imports list）。")
        print(importing.undo_import(ctx, args.run).summary())
        return EXIT_OK
    runs = importing.list_import_runs(ctx)
    if not runs:
        print("还没有导入过 Excel 台账。")
    for r in runs:
        undone = f"（{r.undone_by} {r.undone_at:%Y-%m-%d %H:%M} 撤销）" if r.undone_at else ""
        print(f"第 {r.id} 次  {r.created_at:%Y-%m-%d %H:%M}  {r.target.value}  “{r.file_name}”（{r.sheet}）"
              f"  {r.rows} 行  {r.created_by}  {r.state}{undone}")
    return EXIT_OK


def cmd_scan(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """Scan-back: import scanned forms (filed by their QR code), list the 未识别 pages, file one by hand."""
    from huifang_desktop.services import scans, users

    if args.user:
        ctx = ctx.as_user(users.find_user(ctx, args.user))
    if args.scan_command == "import":
        from huifang_desktop.ui.scans.pages import file_pages

        result = scans.import_pages(ctx, file_pages(args.paths))
        for page in result.pages:
            print(page.text())
        print(result.summary() + ("；未识别的页请用 scan list 查看，scan file N HF编号 归档" if
                                  result.count(scans.UNRECOGNIZED) else ""))
        return EXIT_OK
    if args.scan_command == "file":
        number = scans.file_page(ctx, args.page, args.number)
        print(f"已把第 {args.page} 页归档到回访记录 {number}。")
        return EXIT_OK
    unfiled = scans.list_unfiled(ctx)
    if not unfiled:
        print("没有未识别的扫描页。")
    for u in unfiled:
        print(f"{u.id}\t{u.source}\t第 {u.page} 页\t{u.created_at:%Y-%m-%d %H:%M}\t{u.reason}")
    return EXIT_OK


def cmd_stats(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop.domain.stats import PeriodKind, parse_period
    from huifang_desktop.services import stats

    text = args.month or args.quarter or args.period
    period = parse_period(text)
    if args.month and period.kind is not PeriodKind.MONTH:
        raise UserError(f"--month 应为月份，如 2026-10（收到“{text}”）")
    if args.quarter and period.kind is not PeriodKind.QUARTER:
        raise UserError(f"--quarter 应为季度，如 2026Q3（收到“{text}”）")
    report, out = stats.export_report(ctx, period, args.out, args.group,
                                      forms_dir=resolve_paths(args).forms_override)
    print(f"已生成{report.title}（{report.period.label}）到 {out}。")
    return EXIT_OK


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise UserError("请用 --password 给出密码（当前没有可输入的终端）。")
    import getpass

    first = getpass.getpass("密码：")
    if first != getpass.getpass("再输一次：") :
        raise UserError("两次输入的密码不一致。")
    return first


def cmd_settings(ctx, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from huifang_desktop.services import settings

    if args.settings_command == "show":
        for key, value in settings.describe(settings.load_settings(ctx)):
            print(f"{key:<22} {value}")
        return EXIT_OK
    new = settings.with_value(settings.load_settings(ctx), args.key, args.value)
    settings.save_settings(ctx, new)
    print(f"已修改 {args.key} = {args.value}")
    return EXIT_OK


COMMANDS = {"settings": cmd_settings, "demo": cmd_demo, "users": cmd_users, "plan": cmd_plan, "export": cmd_export}
COMMANDS["print"] = cmd_print
COMMANDS["import"] = cmd_import
COMMANDS["stats"] = cmd_stats
COMMANDS["imports"] = cmd_imports
COMMANDS["departments"] = cmd_departments
COMMANDS["customers"] = cmd_customers
COMMANDS["scan"] = cmd_scan
COMMANDS["holidays"] = cli_holidays.run


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    _utf8_console()
    paths = resolve_paths(args)
    try:
        if args.command == "restore":
            if args.database_url:
                raise UserError("PostgreSQL 数据库请由服务器管理员用 pg_restore 恢复。")
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
        if args.command in ("backup", "verify"):
            from huifang_desktop.services.errors import ServiceError

            try:
                return (cmd_backup if args.command == "backup" else cmd_verify)(ctx, args, paths)
            except ServiceError as exc:
                raise UserError(str(exc)) from exc
        try:
            return COMMANDS[args.command](ctx, args)
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


def _open_for_gui(paths: AppPaths, args: argparse.Namespace):  # type: ignore[no-untyped-def]
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
