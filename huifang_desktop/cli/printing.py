"""``print``: a form or a ledger to PDF (回访记录表 filled or blank, 回访报告表, 投诉处理表, 投诉查办单, a day's
forms, empty forms to write on, the 回访台账 as a landscape table)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from huifang_desktop.cli.common import EXIT_OK, Handler, Subparsers, UserError, day_option

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    from huifang_desktop.cli_text import record_id

    pr = sub.add_parser(
        "print",
        help="打印表单或台账到 PDF：record / blank / empty / report / complaint / inquiry / day / visits",
    )
    prsub = pr.add_subparsers(dest="print_command", metavar="WHAT", required=True)
    for what, help_text, arg, arg_help in (
        ("record", "填好的回访记录表", "number", "回访记录编号（如 HF20261124-001）或 ID"),
        ("blank", "空白回访记录表（预印客户和联系人）", "id", "回访计划的 ID"),
        ("report", "回访报告表", "number", "回访报告编号或 ID"),
        ("complaint", "投诉处理表（含处理经过和签字）", "number", "投诉编号（如 TS20261124-001）或 ID"),
        ("inquiry", "逾期投诉的查办单", "number", "投诉编号（如 TS20261124-001）或 ID"),
        ("day", "某一天全部回访计划的回访记录表（一个 PDF）", "day", "日期，如 2026-11-24"),
    ):
        pp = prsub.add_parser(what, help=help_text)
        pp.add_argument(arg, type=record_id if arg == "id" else str, help=arg_help)
        pp.add_argument("out", type=Path, metavar="OUT.pdf")
    pe = prsub.add_parser(
        "empty", help="空白表单（手写用）：record 回访记录表 / complaint 投诉处理表 / inquiry 查办单"
    )
    pe.add_argument(
        "kind", metavar="KIND", help="record（回访记录表）、complaint（投诉处理表）或 inquiry（投诉查办单）"
    )
    pe.add_argument("out", type=Path, metavar="OUT.pdf")
    pv = prsub.add_parser("visits", help="回访台账（横向表格，每页重复表头和本页合计）")
    pv.add_argument("out", type=Path, metavar="OUT.pdf")
    pv.add_argument("--from", dest="start", help="计划日期从（含），如 2026-11-01")
    pv.add_argument("--to", dest="end", help="计划日期到（含），如 2026-11-30")
    pv.add_argument(
        "--no-appendix",
        dest="appendix",
        action="store_false",
        help="超过两行的内容只印前两行，不附“未印全的内容”附录",
    )


def cmd_print(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop.domain.validation import parse_date
    from huifang_desktop.services import ledgers, printing

    forms = paths.forms_override
    what = args.print_command
    if what == "record":
        doc = printing.visit_record_pdf(
            ctx, printing.record_id_of(ctx, args.number), args.out, forms_dir=forms
        )
    elif what == "blank":
        doc = printing.blank_visit_record_pdf(ctx, args.id, args.out, forms_dir=forms)
    elif what == "empty":
        doc = printing.empty_form_pdf(ctx, args.kind, args.out, forms_dir=forms)
    elif what == "report":
        doc = printing.visit_report_pdf(
            ctx, printing.report_id_of(ctx, args.number), args.out, forms_dir=forms
        )
    elif what == "complaint":
        doc = printing.complaint_pdf(
            ctx, printing.complaint_id_of(ctx, args.number), args.out, forms_dir=forms
        )
    elif what == "inquiry":
        doc = printing.inquiry_pdf(ctx, printing.complaint_id_of(ctx, args.number), args.out, forms_dir=forms)
    elif what == "day":
        day = parse_date(args.day, label="日期", field="day", required=True)
        assert day is not None  # required: an empty text was refused
        doc = printing.day_plans_pdf(ctx, day, out=args.out, forms_dir=forms)
    elif what == "visits":
        start = day_option(args.start, "开始日期", "from")
        end = day_option(args.end, "截止日期", "to")
        doc = ledgers.visit_ledger_pdf(ctx, start, end, args.out, appendix=args.appendix)
    else:
        raise UserError(f"未知打印内容：{what}")
    print(f"已打印{doc.form}（{doc.label}）共 {doc.pages} 页到 {args.out}。")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"print": cmd_print}
