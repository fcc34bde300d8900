"""``import`` (an Excel ledger: checked first, then written), ``scan`` (scanned forms filed by their QR
code) and ``imports`` (the list of imports, and undoing one)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huifang_desktop.cli.common import EXIT_ERROR, EXIT_OK, Handler, Subparsers, UserError

if TYPE_CHECKING:
    from huifang_desktop.config import AppPaths
    from huifang_desktop.services.context import ServiceContext


def add_parser(sub: Subparsers) -> None:
    from huifang_desktop.cli_text import record_id, whole_number

    im = sub.add_parser(
        "import", help="导入 Excel 台账：customers / visits / complaints / services（先检查，再写入）"
    )
    im.add_argument(
        "what",
        choices=["customers", "visits", "complaints", "services"],
        metavar="WHAT",
        help="customers（客户台账）/ visits（回访台账）/ complaints（投诉台账）/ services（售后服务台账）",
    )
    im.add_argument("file", type=Path, metavar="FILE.xlsx")
    im.add_argument("--sheet", help="工作表名称（默认：第一个工作表；报告会列出其他工作表）")
    im.add_argument(
        "--all-sheets", action="store_true", help="导入所有找得到表头的工作表（如按年份分开的几张表）"
    )
    im.add_argument(
        "--include-hidden", action="store_true", help="也导入 Excel 中隐藏的行（默认：跳过并在报告中列出）"
    )
    im.add_argument(
        "--owners",
        choices=["blank", "create"],
        default="blank",
        help="负责人不是本系统用户时：blank 暂不指定负责人（默认，照常导入并提示）/ create 创建为客服专员账号（需管理用户的权限）",
    )
    im.add_argument(
        "--owner",
        action="append",
        default=[],
        metavar="姓名=用户名",
        help="把表中的负责人姓名对应到已有用户，可重复，如 --owner 老刘=xiaowang",
    )
    im.add_argument("--details", action="store_true", help="逐行列出每个问题（默认按问题种类汇总）")
    im.add_argument(
        "--header-row",
        type=whole_number(low=1, high=1_048_576, what="行号"),
        help="表头所在的行号（默认：自动查找）",
    )
    im.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE.json",
        help='列对应，如 {"客户名称": "单位全称"}（默认：按列名和本单位保存的对应关系）',
    )
    im.add_argument("--dry-run", action="store_true", help="只检查并打印报告，不写入")
    im.add_argument(
        "--accept-valid",
        action="store_true",
        help="跳过有问题和重复的行，只导入有效行（默认：有问题时什么都不写）",
    )
    sc = sub.add_parser("scan", help="扫描件回收：import 导入扫描的表单 / list 未识别的页 / file 手工归档")
    scsub = sc.add_subparsers(dest="scan_command", metavar="ACTION", required=True)
    sci = scsub.add_parser(
        "import", help="导入扫描件（PDF、PNG、JPEG 文件或文件夹），按表上的二维码归档到回访记录"
    )
    sci.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR")
    scsub.add_parser("list", help="列出未识别的扫描页（序号、文件、页码、原因）")
    scf = scsub.add_parser("file", help="把未识别的第 N 页手工归档到编号为 HF… 的回访记录")
    scf.add_argument("page", type=record_id, metavar="N")
    scf.add_argument("number", metavar="HF编号")
    ir = sub.add_parser("imports", help="导入记录：列出最近的导入（list），或撤销第 N 次导入（undo N）")
    ir.add_argument("action", nargs="?", choices=["list", "undo"], default="list", metavar="list|undo")
    ir.add_argument("run", nargs="?", type=record_id, metavar="N", help="导入的序号（见 imports list）")


def cmd_import(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    """Check the sheet(s) and print the report: every problem of every row, grouped by kind with a count,
    the first rows and how to fix; the columns, sheets and hidden rows left out; 负责人 who are no user;
    the visit plans the import brings. Write only clean sheets, or the valid rows with --accept-valid.
    Exit 0 when written (or a clean dry run), 1 when rows were refused."""
    import json

    from huifang_desktop.services import importing, users

    if args.user:
        ctx = ctx.as_user(users.find_user(ctx, args.user))
    target = importing.ImportTarget.from_slug(args.what)
    if args.all_sheets and args.sheet:
        raise UserError("--sheet 和 --all-sheets 只能选一个。")
    prefer = None
    if args.mapping:
        try:
            raw = json.loads(args.mapping.read_text(encoding="utf-8"))
        except IsADirectoryError as exc:
            raise UserError(
                f"无法读取列对应文件 {args.mapping}：这是一个文件夹，请给出 .json 文件。"
            ) from exc
        except FileNotFoundError as exc:
            raise UserError(f"无法读取列对应文件 {args.mapping}：文件不存在。") from exc
        except OSError as exc:
            from huifang_desktop.services.outputs import os_reason

            raise UserError(f"无法读取列对应文件 {args.mapping}：{os_reason(exc)}。") from exc
        except json.JSONDecodeError as exc:
            raise UserError(
                f"列对应文件 {args.mapping} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）。"
                '应为 {"字段": "表头"} 的形式。'
            ) from exc
        except ValueError as exc:  # not UTF-8
            raise UserError(f"列对应文件 {args.mapping} 不是 UTF-8 编码的文本文件。") from exc
        if not isinstance(raw, dict):
            raise UserError(f'列对应文件 {args.mapping} 应为 {{"字段": "表头"}} 的形式。')
        labels = {f.label: f.key for f in importing.target_fields(target)}
        prefer = {labels.get(str(k), str(k)): str(v) for k, v in raw.items()}
    owners: dict[str, int] = {}
    for item in args.owner:
        name, sep, username = item.partition("=")
        if not sep or not name.strip() or not username.strip():
            raise UserError(f"--owner 应写成 姓名=用户名，如 --owner 老刘=xiaowang（收到“{item}”）。")
        owners[name.strip()] = users.find_user(ctx, username.strip()).id
    create = args.owners == "create"
    first = importing.preview(ctx, args.file, args.sheet, target, header_row=args.header_row, prefer=prefer)
    sheets = list(first.sheet_names) if args.all_sheets else [first.sheet]
    previews = []
    for name in sheets:
        p = first if name == first.sheet else importing.preview(ctx, args.file, name, target, prefer=prefer)
        if p.header_row is None:
            if not args.all_sheets:
                raise UserError(p.message)
            print(f"工作表“{name}”：没有找到表头，跳过。")
            continue
        previews.append(p)
    if not previews:
        raise UserError(f"“{first.file_name}”的工作表中都没有找到表头行。")

    def check(owner_ids: dict[str, int], creating: bool) -> list[Any]:
        return [
            importing.validate(
                ctx,
                args.file,
                p.sheet,
                target,
                importing.ColumnMapping(p.header_row or 1, p.mapping),
                include_hidden=args.include_hidden,
                owners=owner_ids,
                create_owners=creating,
            )
            for p in previews
        ]  # every preview here has its header row

    reports = check(owners, create)
    for p, report in zip(previews, reports, strict=True):
        _print_import_report(importing, target, p, report, details=args.details, all_sheets=args.all_sheets)
    clean = all(r.clean for r in reports)
    if args.dry_run:
        print("试运行：没有写入任何数据。")
        return EXIT_OK if clean else EXIT_ERROR
    if not any(r.valid_count for r in reports):
        print("没有可导入的行，没有写入任何数据。", file=sys.stderr)
        return EXIT_ERROR
    if not clean and not args.accept_valid:
        bad = sum(r.error_rows + r.duplicate_rows for r in reports)
        print(
            f"没有写入任何数据：有 {bad} 行未通过检查。请在 Excel 中修改后重试，"
            "或加 --accept-valid 只导入有效行。",
            file=sys.stderr,
        )
        return EXIT_ERROR
    unknown = list(dict.fromkeys(n for r in reports for n, _k in r.unknown_owners))
    if create and unknown:
        created = importing.create_owner_accounts(ctx, unknown)
        for name, username, password in created:
            print(f"已创建负责人账号：{name}（用户名 {username}，临时密码 {password}，首次登录须修改）")
            owners[name] = users.find_user(ctx, username).id
        reports = check(owners, False)
    for report in reports:
        if not report.valid_count:
            continue
        result = importing.run_import(ctx, report, only_valid=True)
        print(result.summary())
        if result.run_id is not None:
            print(
                f"这是第 {result.run_id} 次导入；如需整体撤销：huifang-desktop imports undo {result.run_id}"
            )
    return EXIT_OK


def _print_import_report(
    importing: Any, target: Any, p: Any, report: Any, *, details: bool, all_sheets: bool
) -> None:
    """One sheet's check: where, the columns, the problems by kind (count, first rows, how to fix), notes."""
    print(f"文件：{report.file_name}  工作表：{report.sheet}  表头：第 {report.header_row} 行")
    print(
        "列对应："
        + "；".join(
            f"{f.label} ← {importing.column_letter(p.mapping[f.key])}列“{p.headers[p.mapping[f.key]]}”"
            for f in importing.target_fields(target)
            if f.key in p.mapping
        )
    )
    groups = report.groups
    if groups:
        print(f"问题汇总（{len(groups)} 种，一次列全）：")
    for g in groups:
        print(f"  [{g.kind.value}] {g.where}：{g.what} — {g.count} 行（{g.first_rows()}）")
        print(f"      例：{g.example}")
        print(f"      怎么改：{g.hint}")
    if details:
        for issue in report.issues:
            print(f"  [{issue.kind.value}] {issue}")
    print(report.summary() + f"（检查用时 {report.seconds:.1f} 秒）")
    for line in report.notes():
        if all_sheets and line.startswith("本文件还有其他工作表"):
            continue
        print(line)


def cmd_imports(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    """List the imports, newest first, or undo one (all its rows, in one step)."""
    from huifang_desktop.services import importing, users

    if args.user:
        ctx = ctx.as_user(users.find_user(ctx, args.user))
    if args.action == "undo":
        if args.run is None:
            raise UserError("请给出要撤销的导入序号，如：imports undo 3（序号见 imports list）。")
        print(importing.undo_import(ctx, args.run).summary())
        return EXIT_OK
    runs = importing.list_import_runs(ctx)
    if not runs:
        print("还没有导入过 Excel 台账。")
    for r in runs:
        undone = f"（{r.undone_by} {r.undone_at:%Y-%m-%d %H:%M} 撤销）" if r.undone_at else ""
        print(
            f"第 {r.id} 次  {r.created_at:%Y-%m-%d %H:%M}  {r.target.value}  “{r.file_name}”（{r.sheet}）"
            f"  {r.rows} 行  {r.created_by}  {r.state}{undone}"
        )
    return EXIT_OK


def cmd_scan(ctx: ServiceContext, args: argparse.Namespace, paths: AppPaths) -> int:
    """Scan-back: import scanned forms (filed by their QR code), list the 未识别 pages, file one by hand."""
    from huifang_desktop.services import scans, users

    if args.user:
        ctx = ctx.as_user(users.find_user(ctx, args.user))
    if args.scan_command == "import":
        from huifang_desktop.ui.scans.pages import file_pages

        result = scans.import_pages(ctx, file_pages(args.paths))
        for page in result.pages:
            print(page.text())
        print(
            result.summary()
            + (
                "；未识别的页请用 scan list 查看，scan file N HF编号 归档"
                if result.count(scans.UNRECOGNIZED)
                else ""
            )
        )
        return EXIT_OK
    if args.scan_command == "file":
        number = scans.file_page(ctx, args.page, args.number)
        print(f"已把第 {args.page} 页归档到回访记录 {number}。")
        return EXIT_OK
    unfiled = scans.list_unfiled(ctx)
    if not unfiled:
        print("没有未识别的扫描页。")
    for u in unfiled:
        print(f"{u.id}\t{u.source}\t第 {u.page} 页\t{u.created_at:%Y-%m-%d %H:%M}\t{u.reason}")
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"import": cmd_import, "scan": cmd_scan, "imports": cmd_imports}
