"""``huifang-desktop holidays``: the office's holidays from the command line (issue 19 item 10).

* ``holidays import NOTICE.txt [--dry-run] [--year YEAR]`` reads the text of the State Council's notice
  (国务院办公厅关于YYYY年部分节假日安排的通知, UTF-8 or GB18030), prints each holiday range and each 调休
  working day it read, and saves the year (replacing the office's data for it) unless ``--dry-run``;
* ``holidays list YEAR`` prints every holiday and 调休 working day of the year, one a line:
  ``2027-01-01<TAB>放假<TAB>元旦`` (from the office's data, else the program's own calendar);
* ``holidays set DAY 放假|上班|平常 [--name NAME]`` changes one day by hand.

:func:`print_gaps` is the warning ``plan`` prints when planning reaches a year without data. Only
``argparse`` is imported at start; the services when a command runs.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERROR = 0, 1
ORDINARY = "平常"  # ``holidays set DAY 平常``: neither a holiday nor a 调休 working day


def add_parser(sub: Any) -> None:
    """The ``holidays`` command and its actions, on the program's subparsers."""
    from huifang_desktop.cli_text import whole_number

    year = whole_number(low=1900, high=2200, what="年份")
    h = sub.add_parser(
        "holidays", help="节假日：import 录入国务院放假通知 / list 列出某年的放假和调休 / set 修改某一天"
    )
    hsub = h.add_subparsers(dest="holidays_command", metavar="ACTION", required=True)
    imp = hsub.add_parser(
        "import", help="读取国务院办公厅放假安排通知的文字（.txt），列出读到的安排并保存（替换该年已有数据）"
    )
    imp.add_argument("file", type=Path, metavar="NOTICE.txt")
    imp.add_argument("--dry-run", action="store_true", help="只读取并列出，不保存")
    imp.add_argument("--year", type=year, help="通知的年份（文字中没有标题时需要）")
    lst = hsub.add_parser("list", help="列出某年每个放假日和调休上班日：每行一个日期，注明放假或上班")
    lst.add_argument("year", type=year, metavar="YEAR")
    st = hsub.add_parser("set", help="把某一天改为放假、调休上班，或恢复为平常日")
    st.add_argument("day", metavar="YYYY-MM-DD")
    st.add_argument("kind", choices=["放假", "上班", ORDINARY], metavar="放假|上班|平常")
    st.add_argument("--name", default="", help="节日名称（如 春节）")


def run(ctx: Any, args: argparse.Namespace) -> int:
    if args.holidays_command == "import":
        return _import(ctx, args.file, dry_run=args.dry_run, year=args.year)
    if args.holidays_command == "list":
        return _list(ctx, args.year)
    return _set(ctx, args.day, args.kind, args.name)


def read_text(path: Path) -> str:
    """A notice saved by a browser or Notepad: UTF-8 (with or without BOM) or GB18030 (GBK)."""
    from huifang_desktop.services.errors import ServiceError
    from huifang_desktop.services.outputs import os_reason

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ServiceError(f"无法读取 {path}：{os_reason(exc)}") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ServiceError(f"{path} 不是文本文件（应为 UTF-8 或 GBK 编码的 .txt）")


def describe_notice(notice: Any) -> list[str]:
    """What was read from a notice, as printed by ``holidays import``."""
    from huifang_desktop.domain.holiday_notice import WEEKDAYS

    lines = [f"读到 {notice.year} 年的放假安排：", "放假："]
    for r in notice.ranges:
        span = r.first.isoformat() if r.length == 1 else f"{r.first.isoformat()} 至 {r.last.isoformat()}"
        lines.append(f"  {r.name}  {span}  共 {r.length} 天")
    lines.append("调休上班：" if notice.workdays else "调休上班：无")
    for w in notice.workdays:
        lines.append(f"  {w.day.isoformat()}（周{WEEKDAYS[w.day.weekday()]}）  {w.name}")
    return lines


def _import(ctx: Any, path: Path, *, dry_run: bool, year: int | None) -> int:
    from huifang_desktop.domain.holiday_notice import parse_notice
    from huifang_desktop.services import holidays

    notice = parse_notice(read_text(path), year)
    for line in describe_notice(notice):
        print(line)
    before = holidays.year_holidays(ctx, notice.year)
    if dry_run:
        print("未保存（--dry-run）。")
        return EXIT_OK
    saved = holidays.save_notice(ctx, notice)
    replaced = {
        holidays.FROM_OFFICE: "，替换了本单位原先录入的数据",
        holidays.FROM_PACKAGE: "，替换了程序自带的数据",
    }.get(before.source, "")
    print(
        f"已保存 {notice.year} 年：放假 {len(saved.of_kind('放假'))} 天，调休上班 {len(saved.of_kind('上班'))} 天"
        f"{replaced}。"
    )
    return EXIT_OK


def _list(ctx: Any, year: int) -> int:
    import sys

    from huifang_desktop.services import holidays

    data = holidays.year_holidays(ctx, year)
    for d in data.days:
        print("\t".join(t for t in (d.day.isoformat(), d.kind, d.name) if t))
    if not data.known:
        print(gap_text((year,)), file=sys.stderr)
        return EXIT_ERROR if not data.days else EXIT_OK
    return EXIT_OK


def _set(ctx: Any, text: str, kind: str, name: str) -> int:
    from huifang_desktop.domain.validation import parse_date
    from huifang_desktop.services import holidays

    day = parse_date(text, label="日期", field="day", required=True) or date.min  # (required: never None)
    holidays.set_day(ctx, day, None if kind == ORDINARY else kind, name)
    print(f"已将 {day.isoformat()} 改为{'平常日' if kind == ORDINARY else kind + '日'}。")
    return EXIT_OK


def gap_text(years: tuple[int, ...]) -> str:
    """The warning about years without holiday data (the same words as the calendar and the reminder)."""
    return (
        f"注意：{'、'.join(str(y) for y in years)} 年的节假日尚未录入，这些年份的到期日只避开周末"
        "（法定节假日不顺延，调休上班的周末按休息日算）。国务院办公厅公布放假安排后，请在“设置 → 节假日”"
        "粘贴通知，或运行 huifang-desktop holidays import 通知.txt。"
    )


def print_gaps(ctx: Any, today: date) -> None:
    """``plan``: say which years the planning reaches without holiday data (nothing when all are known)."""
    from huifang_desktop.services import holidays

    years = holidays.unknown_years(ctx, today)
    if years:
        print(gap_text(years))


def cmd_holidays(ctx: Any, args: argparse.Namespace, paths: Any) -> int:
    return run(ctx, args)


COMMANDS = {"holidays": cmd_holidays}
