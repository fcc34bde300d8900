"""``huifang-desktop --data-dir D --user MANAGER assessment confirm --month YYYY-MM``: the 考核 from the command
line. ``show`` prints a month's sheet (each person's total and every charged event with its source);
``confirm`` is the manager's 审定 — it needs the manager's log-in (``--user`` and the password, asked on the
terminal or given by ``--password``) and signs with the manager's key like the window does; ``adjust``
enters a correction of a confirmed month, shown on the next month.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from huifang_desktop.services.errors import ServiceError

GROUP = "assessment"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(GROUP, help="考核：show 查看某月考核 / confirm 经理审定（锁定）/ adjust 更正已审定的月份")
    sub = p.add_subparsers(dest="assessment_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="打印某月考核：每人合计和每一项考核及其来源")
    show.add_argument("--month", required=True, help="月份，如 2026-10")
    confirm = sub.add_parser("confirm", help="经理审定某月考核（须 --user 经理登录名和密码；审定后该月不再变化）")
    confirm.add_argument("--month", required=True, help="月份，如 2026-10")
    confirm.add_argument("--comment", default="", help="审定意见")
    confirm.add_argument("--password", help="经理的登录密码（不给则在终端提示输入）")
    adjust = sub.add_parser("adjust", help="更正已审定月份的考核（记入下一个未审定的月份；须经理登录和原因）")
    adjust.add_argument("--month", required=True, help="被更正的月份，如 2026-10")
    adjust.add_argument("--clerk", required=True, help="被考核人的登录名")
    adjust.add_argument("--amount", type=int, required=True, help="更正金额（元；负数表示退回）")
    adjust.add_argument("--points", type=int, default=0, help="更正绩效分")
    adjust.add_argument("--reason", required=True, help="更正原因")
    adjust.add_argument("--password", help="经理的登录密码（不给则在终端提示输入）")
    return p


class CommandError(ServiceError):
    """A refusal with a message for the user (``app`` prints it as an error, exit code 1)."""


def _password(given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise CommandError("请用 --password 给出经理的密码（当前没有可输入的终端）。")
    import getpass

    return getpass.getpass("经理密码：")


def _logged_in(ctx: Any, args: argparse.Namespace) -> tuple[Any, str]:
    """The manager's context after a real log-in (audited like the window's), and the password for signing."""
    from huifang_desktop.services import users

    if not args.user:
        raise CommandError("审定考核须由经理本人登录：请用 --user 给出经理的登录名。")
    password = _password(args.password)
    return ctx.as_user(users.authenticate(ctx, args.user, password)), password


def _print_sheet(view: Any) -> None:
    from huifang_desktop.services.stats.reports import source_text

    a = view.assessment
    print(f"{view.month.label}考核（{view.status.value}）  合计 {a.count} 次 {a.amount} 元 扣 {a.points} 分")
    names = {c.clerk_id: c.clerk for c in a.clerks}
    for c in a.clerks:
        print(f"{c.clerk}\t{c.department or '—'}\t{c.count} 次\t{c.amount} 元\t扣 {c.points} 分")
    for e in a.events:
        print(f"  {names.get(e.owner_id, '')}\t{e.kind.value}\t{e.day:%Y-%m-%d}\t"
              f"{source_text(e.source, e.source_id, e.subject)}\t{e.amount} 元\t{e.detail}")


def handler(ctx: Any, args: argparse.Namespace) -> int:
    from huifang_desktop.services import stats, users

    if args.assessment_command == "show":
        if args.user:
            ctx = ctx.as_user(users.find_user(ctx, args.user))
        _print_sheet(stats.assessment(ctx, args.month))
        return 0
    mctx, password = _logged_in(ctx, args)
    if args.assessment_command == "confirm":
        view = stats.confirm_assessment(mctx, args.month, args.comment, password=password)
        print(f"已审定{view.month.label}考核：{view.assessment.count} 次，{view.assessment.amount} 元，"
              f"扣 {view.assessment.points} 分（{view.integrity.value}）。此后数据的修改不再改变该月考核。")
        return 0
    clerk = users.find_user(ctx, args.clerk)
    row = stats.add_adjustment(mctx, args.month, clerk.id, args.amount, args.reason, args.points)
    print(f"已登记{args.month}考核更正：{clerk.display_name} {row.amount} 元，记入 {row.month} 的考核。")
    return 0


__all__ = ["GROUP", "add_parser", "handler"]


def cmd_assessment(ctx: Any, args: argparse.Namespace, paths: Any) -> int:
    return handler(ctx, args)


COMMANDS = {GROUP: cmd_assessment}
