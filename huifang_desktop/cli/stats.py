"""``stats``: the 月度回访统计表 or the quarterly customer service report as .xlsx or .pdf."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from huifang_desktop.cli.common import EXIT_OK, Handler, Subparsers, UserError

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    sa = sub.add_parser(
        "stats", help="统计报表：月度回访统计表（--month）或季度客户服务报告（--quarter），.xlsx 或 .pdf"
    )
    speriod = sa.add_mutually_exclusive_group(required=True)
    speriod.add_argument("--month", help="月份，如 2026-10（月度回访统计表，含考核）")
    speriod.add_argument("--quarter", help="季度，如 2026Q3（季度客户服务报告）")
    speriod.add_argument("--period", help="其他期间：年份 2026，或 2026-10-01..2026-10-15")
    sa.add_argument(
        "--group",
        default="clerk",
        choices=["clerk", "grade", "type", "department", "month"],
        help="回访情况的分组：clerk 回访人 / grade 客户等级 / type 回访类型 / department 部门 / month 月份",
    )
    sa.add_argument("out", type=Path, metavar="OUT.xlsx|OUT.pdf")


def cmd_stats(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop.domain.stats import PeriodKind, parse_period
    from huifang_desktop.services import stats

    text = args.month or args.quarter or args.period
    period = parse_period(text)
    if args.month and period.kind is not PeriodKind.MONTH:
        raise UserError(f"--month 应为月份，如 2026-10（收到“{text}”）")
    if args.quarter and period.kind is not PeriodKind.QUARTER:
        raise UserError(f"--quarter 应为季度，如 2026Q3（收到“{text}”）")
    report, out = stats.export_report(ctx, period, args.out, args.group, forms_dir=paths.forms_override)
    print(f"已生成{report.title}（{report.period.label}）到 {out}。")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"stats": cmd_stats}
