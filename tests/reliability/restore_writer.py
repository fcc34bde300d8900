"""Worker for the restore tests: one office user saving customers, one per ``save`` line on stdin.

Usage: python restore_writer.py DATA_DIR. Prints ``ready <pid>`` once the office is open, then for each
``save`` line read, ``saved <客户编号>`` *after* the service call returned (its transaction committed), or
``stopped <message>`` and exit 3 when the save was refused. Ends (exit 0) when stdin closes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from huifang_desktop.app import open_context
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import backups, customers, users
from huifang_desktop.services.errors import ServiceError


def main() -> int:
    ctx = open_context(AppPaths(Path(sys.argv[1])))
    try:
        clerk = users.find_user(ctx, "writer")
    except ServiceError:  # the first run: the user is made
        clerk = users.create_user(ctx, "writer", "小王", Role.CLERK, "secret-123", "客服部")
    cctx = ctx.as_user(clerk)
    backups.note_instance(cctx, program="测试写入程序")
    print("ready", os.getpid(), flush=True)
    n = 0
    for line in sys.stdin:
        if line.strip() != "save":
            continue
        n += 1
        try:
            c = customers.register_customer(
                cctx,
                CustomerDraft(
                    name=f"客户{os.getpid()}-{n}",
                    contacts=(ContactDraft(name="张", mobile=f"137{os.getpid() % 10000:04d}{n:04d}"),),
                ),
            )
        except Exception as exc:  # noqa: BLE001 - the refusal is what the test reads
            print("stopped", str(exc).replace("\n", " "), flush=True)
            return 3
        print("saved", c.code, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
