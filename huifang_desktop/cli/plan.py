"""``plan``: the daily catch-up of visit plans (and, for today, the escalation of overdue complaints)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from huifang_desktop.cli.common import EXIT_OK, Handler, Subparsers, day_option

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    pl = sub.add_parser("plan", help="补排回访计划（启动时的每日补排）")
    pl.add_argument("--today", help="按哪一天补排，格式 2026-11-24（默认：今天）")


PLAN_PREVIEW_ROWS = 10


def cmd_plan(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop.services import visits

    today = day_option(args.today, "补排日期", "today")
    from huifang_desktop.cli.classes import recompute_and_report

    recompute_and_report(ctx, today or ctx.today())
    result = visits.plan_catch_up(ctx, today)
    day = today or ctx.today()
    print(
        f"{day:%Y-%m-%d} 补排完成：新增 {len(result.planned)} 条回访计划，已有 {result.skipped} 条，"
        f"调整 {result.moved} 条，用时 {result.seconds:.1f} 秒。"
    )
    from huifang_desktop.cli.holidays import print_gaps

    print_gaps(ctx, day)
    if today is None:  # escalation compares with the real clock, so only for today's run
        from huifang_desktop.services import complaints

        escalated = complaints.escalate_overdue(ctx).escalated
        if escalated:
            print(f"逾期投诉催办 {len(escalated)} 次：")
            for number, kind, told in escalated[:PLAN_PREVIEW_ROWS]:
                print(f"  {number}  {kind} → {told}")
    if result.planned:
        names = visits.rule_names(visits.load_rules(ctx))
        print("按规则：")
        for key, count in result.by_rule().items():
            print(f"  {names.get(key, key)}：{count}")
        print(f"前 {min(PLAN_PREVIEW_ROWS, len(result.planned))} 条：")
        for r in result.planned[:PLAN_PREVIEW_ROWS]:
            print(
                f"  {r.due:%Y-%m-%d}  {r.customer_code} {r.customer_name}  {r.visit_type}回访 {r.method}  "
                f"{r.owner or '未分配'}  {r.display_state}"
            )
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"plan": cmd_plan}
