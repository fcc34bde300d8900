"""``huifang-desktop --data-dir D --user MANAGER assessment confirm --month YYYY-MM``: the 考核 from the command
line. ``show`` prints a month's sheet (each person's total and every charged event with its source);
``confirm`` is the manager's 审定 — it needs the manager's log-in (``--user`` and the password, asked on the
terminal or given by ``--password``) and signs with the manager's key like the window does; ``grade``
charges a graded event of *002 制度9* (a kind of 设置 → 考核规则, its amount within the kind's range, a reason)
against a clerk in an open month; ``adjust`` enters a correction of a confirmed month, shown on the next month.
A confirmed month is final: there is no 撤回.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from huifang_desktop.services.errors import ServiceError

GROUP = "assessment"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        GROUP,
        help="考核：show 查看某月考核 / confirm 经理审定（冻结）/ grade 登记考核 / adjust 更正已审定的月份",
    )
    sub = p.add_subparsers(dest="assessment_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="打印某月考核：每人合计和每一项考核及其来源")
    show.add_argument("--month", required=True, help="月份，如 2026-10")
    confirm = sub.add_parser(
        "confirm", help="经理审定某月考核（须 --user 经理登录名和密码；审定后该月不再变化）"
    )
    confirm.add_argument("--month", required=True, help="月份，如 2026-10")
    confirm.add_argument("--comment", default="", help="审定意见")
    confirm.add_argument("--password", help="经理的登录密码（不给则在终端提示输入）")
    grade = sub.add_parser(
        "grade", help="登记考核（制度9 等经理登记的项目；须经理登录和原因；已审定的月份不能再登记）"
    )
    grade.add_argument("--month", required=True, help="考核月份，如 2026-11")
    grade.add_argument("--clerk", required=True, help="被考核人的登录名")
    grade.add_argument(
        "--kind", required=True, help="考核项目的代码或名称（见 设置 → 考核规则），如 attitude"
    )
    grade.add_argument("--amount", type=int, required=True, help="金额（元，在该项目的范围内）")
    grade.add_argument("--reason", required=True, help="原因")
    grade.add_argument("--day", help="日期 YYYY-MM-DD（须在该月内；默认为今天，该月已过去则为该月最后一天）")
    grade.add_argument("--password", help="经理的登录密码（不给则在终端提示输入）")
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


def _graded_key(ctx: Any, kind: str) -> str:
    """A graded kind by its code or its name (设置 → 考核规则)."""
    from huifang_desktop.services import stats

    graded = stats.load_assessment_rules(ctx).graded
    for g in graded:
        if kind.strip() in (g.key, g.label):
            return g.key
    raise CommandError(
        f"“{kind}”不是登记考核项目；可选：" + "、".join(f"{g.key}（{g.label}）" for g in graded)
    )


def _grade_day(ctx: Any, month: str, day: str | None) -> Any:
    """``--day``, or today when it falls in ``month``, else the month's last day (the service checks the rest)."""
    from huifang_desktop.domain.stats import PeriodKind, parse_period

    period = parse_period(month, field_name="month", label="考核月份")
    if period.kind is not PeriodKind.MONTH:
        raise CommandError("--month 应为一个月份，如 2026-11。")
    if day:
        from huifang_desktop.domain.validation import parse_date

        when = parse_date(day, label="日期", field="day", required=True)
        if when is None or not period.start <= when <= period.end:
            raise CommandError(f"--day {day} 不在 {period.label}内。")
        return when
    today = ctx.today()
    return today if period.start <= today <= period.end else period.end


def _print_sheet(view: Any) -> None:
    from huifang_desktop.services.stats.reports import source_text

    a = view.assessment
    print(f"{view.month.label}考核（{view.status.value}）  合计 {a.count} 次 {a.amount} 元 扣 {a.points} 分")
    names = {c.clerk_id: c.clerk for c in a.clerks}
    for c in a.clerks:
        print(f"{c.clerk}\t{c.department or '—'}\t{c.count} 次\t{c.amount} 元\t扣 {c.points} 分")
    for e in a.events:
        print(
            f"  {names.get(e.owner_id, '')}\t{e.kind.value}\t{e.day:%Y-%m-%d}\t"
            f"{source_text(e.source, e.source_id, e.subject)}\t{e.amount} 元\t{e.detail}"
        )


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
        print(
            f"已审定{view.month.label}考核：{view.assessment.count} 次，{view.assessment.amount} 元，"
            f"扣 {view.assessment.points} 分（{view.integrity.value}）。此后数据的修改不再改变该月考核。"
        )
        return 0
    clerk = users.find_user(ctx, args.clerk)
    if args.assessment_command == "grade":
        key, day = _graded_key(mctx, args.kind), _grade_day(mctx, args.month, args.day)
        row = stats.add_graded_event(mctx, clerk.id, key, args.amount, day, args.reason)
        print(
            f"已登记{row.month}考核：{clerk.display_name} {row.label} {row.amount} 元"
            + (f"、扣 {row.points} 分" if row.points else "")
            + f"（{row.day:%Y-%m-%d}）。"
        )
        return 0
    row = stats.add_adjustment(mctx, args.month, clerk.id, args.amount, args.reason, args.points)
    print(f"已登记{args.month}考核更正：{clerk.display_name} {row.amount} 元，记入 {row.month} 的考核。")
    return 0


__all__ = ["GROUP", "add_parser", "handler"]


def cmd_assessment(ctx: Any, args: argparse.Namespace, paths: Any) -> int:
    return handler(ctx, args)


COMMANDS = {GROUP: cmd_assessment}
