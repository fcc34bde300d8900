"""``huifang-desktop users disable USER --to SUCCESSOR [--to …] [--note TEXT]``: disabling a user hands their
open work (customers, pending visit plans, open complaints, report drafts) to the successors in one audited
step (issue 19 item 8, :func:`huifang_desktop.services.handover.disable_user`). A user who still holds work
cannot be disabled without ``--to``: the command lists what they hold. Only ``argparse`` is imported at
start; the services when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK, EXIT_ERROR = 0, 1


def add_disable_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        action="append",
        default=[],
        metavar="USERNAME",
        help="接手人（可多次给出，客户和计划轮流分给各接手人）；用户仍有未完成的工作时必须给出",
    )
    parser.add_argument("--note", default="", help="交接说明（写入客户档案备注和操作日志）")


def disable(ctx: Any, args: argparse.Namespace) -> int:
    from huifang_desktop.services import handover, users

    info = users.find_user(ctx, args.username)
    if not args.to:
        work = handover.open_work(ctx, info.id)
        if any(work.values()):
            print(
                f"用户 {info.username} 仍有未完成的工作：客户 {work['customers']} 个，待回访计划 {work['plans']} 条，"
                f"未结投诉 {work['complaints']} 件，报告草稿 {work['drafts']} 份。请用 --to 指定接手人。",
                file=sys.stderr,
            )
            return EXIT_ERROR
    successors = [users.find_user(ctx, name).id for name in args.to]
    result = handover.disable_user(ctx, info.id, successors, args.note)
    print(f"已停用用户 {info.username}。" + (f"\n{result.text}" if result is not None else ""))
    return EXIT_OK
