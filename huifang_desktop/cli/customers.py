"""``customers find TEXT``: the customer files the search box would list, one per line, for scripts."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from huifang_desktop.cli.common import EXIT_ERROR, EXIT_OK, Handler, Subparsers, UserError

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    cu = sub.add_parser(
        "customers", help="客户档案：find TEXT 查找客户（每行：客户编号、名称、电话，以制表符分隔）"
    )
    cusub = cu.add_subparsers(dest="customers_command", metavar="find", required=True)
    cf = cusub.add_parser(
        "find",
        help="按名称、客户编号、拼音首字母或电话查找（电话：任意连续 4 位以上数字，"
        "如尾号 5678、不带区号的座机）；找不到时退出码为 1",
    )
    cf.add_argument("text", metavar="TEXT", help="查找内容")
    cf.add_argument("--archived", action="store_true", help="也查找已归档的档案")


def cmd_customers(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
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


COMMANDS: dict[str, Handler] = {"customers": cmd_customers}
