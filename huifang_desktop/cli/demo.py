"""``demo``: make an example office in the open database (customers, visit history, complaints, review)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from huifang_desktop.cli.common import EXIT_OK, Handler, Subparsers

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    from huifang_desktop.cli_text import whole_number

    count = whole_number(high=10_000_000, what="数量")
    d = sub.add_parser("demo", help="生成示例办公室数据")
    d.add_argument("--customers", type=count, default=300)
    d.add_argument("--visits", type=count, default=0)
    d.add_argument("--complaints", type=count, default=0)
    d.add_argument("--seed", type=whole_number(what="整数"), default=1)


def cmd_demo(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop import demo

    result = demo.generate_demo(
        ctx, customers=args.customers, visits=args.visits, complaints=args.complaints, seed=args.seed
    )
    print(f"已生成 {result.customers} 位客户，用时 {result.seconds:.1f} 秒。")
    if result.visits is not None:
        v = result.visits
        print(
            f"回访历史：{v.plans} 条回访计划（自 {v.since} 起），{v.records} 份回访记录表，"
            f"{v.reports} 份回访报告表，逾期 {v.overdue} 条。"
        )
    if result.complaints:
        print(f"投诉、咨询和建议：{result.complaints} 件（各种状态，含重复投诉、匿名、升级和结案回访）。")
    if result.review is not None:
        r = result.review
        print(f"审阅历史：签字 {r.signed} 件，退回 {r.returned} 件，撤回签字后重新签字 {r.reopened} 件。")
    print_demo_users(result)
    return EXIT_OK


def print_demo_users(result: Any) -> None:
    """The example office's accounts and passwords (``result``: what the demo generator returned)."""
    print("示例用户（示例办公室的登录框中也列出这些账户和密码）：")
    for username, role, password in result.users:
        print(f"  {username:<12} {role:<11} {password}")


COMMANDS: dict[str, Handler] = {"demo": cmd_demo}
