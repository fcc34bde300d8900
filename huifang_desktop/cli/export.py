"""``export``: the ledgers and the audit log as .xlsx (回访台账, 投诉台账, 客户台账, 售后服务台账,
终端客户信息台帐, 操作日志)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from huifang_desktop.cli.common import EXIT_OK, Handler, Subparsers, UserError, day_option

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
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
        ("endcustomers", ["end-customers"], "终端客户信息台帐（.xlsx）", "购买日期"),
    ):
        el = esub.add_parser(name, aliases=aliases, help=help_text)
        el.add_argument("out", type=Path, metavar="OUT.xlsx")
        el.add_argument("--from", dest="start", help=f"{day}从（含），如 2026-11-01")
        el.add_argument("--to", dest="end", help=f"{day}到（含），如 2026-11-30")
        el.add_argument("--state", default="", help="只导出该状态，如 处理中、在保、正常、未归档")


def cmd_export(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop.services import ledgers

    if args.export_command == "visits":  # the whole 回访台账: every column of the 台账 tab's definition
        lf = ledgers.LedgerFilter(
            start=day_option(args.start, "开始日期", "from"), end=day_option(args.end, "截止日期", "to")
        )
        every = [c.key for c in ledgers.columns(ledgers.Ledger.VISITS)]
        result = ledgers.export(ctx, ledgers.Ledger.VISITS, lf, args.out, columns_=every)
        print(f"已导出回访台账 {result.rows} 行到 {args.out}。")
        return EXIT_OK
    if args.export_command == "complaints":
        from huifang_desktop.domain.complaints import ComplaintState
        from huifang_desktop.services import complaints

        start = day_option(args.start, "开始日期", "from")
        end = day_option(args.end, "截止日期", "to")
        known = {s.value for s in ComplaintState}
        bad = [x for x in args.state if x not in known]
        if bad:
            raise UserError(f"未知状态：{'、'.join(bad)}（可选：{'、'.join(sorted(known))}）")
        cf = complaints.ComplaintFilter(start=start, end=end, states=frozenset(args.state))
        exported = ledgers.export_complaints(ctx, args.out, cf)
        print(f"已导出投诉台账 {exported.rows} 行到 {args.out}。")
        return EXIT_OK
    if args.export_command == "audit":
        from huifang_desktop.services import review, users

        if args.audit_user:
            users.find_user(ctx, args.audit_user)  # an unknown name is an error, not an empty file
        audit_filter = review.AuditFilter(
            username=args.audit_user or "",
            action=args.action or "",
            start=day_option(args.start, "开始日期", "from"),
            end=day_option(args.end, "截止日期", "to"),
        )
        count = review.export_audit(ctx, args.out, audit_filter)
        print(f"已导出操作日志 {count} 行到 {args.out}。")
        return EXIT_OK
    if args.export_command in ("customers", "services", "service", "endcustomers", "end-customers"):
        ledger = ledgers.Ledger.parse(args.export_command)
        lf = ledgers.LedgerFilter(
            start=day_option(args.start, "开始日期", "from"),
            end=day_option(args.end, "截止日期", "to"),
            state=args.state,
        )
        result = ledgers.export(ctx, ledger, lf, args.out)
        print(f"已导出{ledger.value} {result.rows} 行到 {args.out}。")
        return EXIT_OK
    raise UserError(f"未知导出内容：{args.export_command}")


COMMANDS: dict[str, Handler] = {"export": cmd_export}
