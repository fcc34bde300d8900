"""``backup``, ``verify`` (the full tamper check) and ``restore``.

``restore`` is not in :data:`COMMANDS`: it runs before the database is opened (``app.main`` calls
:func:`cmd_restore` itself), so a file that no longer opens can still be replaced."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from huifang_desktop.cli.common import EXIT_ERROR, EXIT_OK, Handler, Subparsers, UserError

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    bk = sub.add_parser("backup", help="立即备份数据库（校验后按 7 日/4 周/12 月轮换）")
    bk.add_argument("dir", nargs="?", type=Path, help="备份文件夹（默认：设置中的备份文件夹）")
    vf = sub.add_parser(
        "verify", help="校验审计链、全部签字、用户和备份中的审计链记录（发现问题时退出码非 0）"
    )
    vf.add_argument("--backups", type=Path, metavar="DIR", help="备份文件夹（默认：设置中的备份文件夹）")
    rs = sub.add_parser("restore", help="从备份恢复数据库（当前数据库先另存一份）")
    rs.add_argument("file", type=Path, metavar="FILE")
    rs.add_argument("--yes", action="store_true", help="不再询问确认")


def cmd_backup(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    from huifang_desktop.services import backups

    folder = args.dir or backups.backup_folder(ctx, paths.backups)
    info = backups.make_backup(ctx, folder.expanduser())
    print(f"已备份到 {info.path}（{info.size_text}，已校验）。")
    left = backups.list_backups(folder.expanduser())
    print(f"备份文件夹中共有 {len(left)} 份备份。")
    return EXIT_OK


def cmd_verify(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    """The full tamper check: one line per finding, exit 1 when anything is broken."""
    from huifang_desktop.services import backups, tamper

    folder = (args.backups or backups.backup_folder(ctx, paths.backups)).expanduser()
    report = tamper.verify_all(ctx, folder)
    for line in report.findings:
        print(line)
    print(report.summary() + "。")
    return EXIT_OK if report.ok else EXIT_ERROR


def cmd_restore(paths: AppPaths, args: argparse.Namespace) -> int:
    """Runs before the database is opened, so a file that no longer opens can still be replaced."""
    from huifang_desktop.services import backups

    check = backups.check_backup(args.file)
    if not check.ok:
        raise UserError(f"不能恢复：{check.message}当前数据库未改动。")
    counts = "，".join(f"{label} {n}" for label, n in check.counts)
    print(f"备份 {args.file.name}：{counts}。")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError("恢复会替换当前数据库。请确认后加 --yes 再运行。")
        if input("恢复会替换当前数据库（当前数据库会先另存一份）。继续吗？[y/N] ").strip().lower() not in (
            "y",
            "yes",
        ):
            print("已取消。")
            return EXIT_OK
    try:
        paths.ensure()
    except OSError as exc:
        raise UserError(f"无法写入数据文件夹 {paths.data_dir}：{exc.strerror or exc}。") from exc
    try:
        _check, aside = backups.restore_file(args.file, paths.database, paths.backups)
    except backups.BackupError as exc:
        raise UserError(str(exc)) from exc
    if aside is not None:
        print(f"恢复前的数据库已另存为 {aside}。")
    print(f"已从 {args.file} 恢复。")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"backup": cmd_backup, "verify": cmd_verify}
