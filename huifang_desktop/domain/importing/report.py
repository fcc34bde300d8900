"""The check's report: rows that repeat an earlier row of the sheet (:func:`sheet_duplicates`) and the
problems grouped by kind with a count, the first rows and how to fix them (:func:`group_issues`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from huifang_desktop.domain.importing.rows import IssueKind, RowIssue
from huifang_desktop.domain.validation import (
    format_phone,
)


def describe_key(kind: str, value: Any) -> str:
    """Why two rows are the same, in Chinese."""
    if kind == "phone":
        return f"电话 {format_phone(value)} 相同"
    if kind == "name_address":
        return "名称和地址相同"
    if kind == "code":
        return f"客户编号 {value} 相同"
    if kind == "number":
        return f"编号 {value} 相同"
    if kind == "visit":
        return "客户、回访时间和类型相同"
    if kind == "service":
        return "客户、服务日期、类型和产品（序列号）相同"
    return "投诉时间、主题和投诉人相同"


def sheet_duplicates(
    candidates: Sequence[Any],
    keys: Callable[[Any], list[tuple[str, Any]]],
    column_for: Callable[..., tuple[str, str]],
) -> tuple[list[Any], list[RowIssue]]:
    """Split candidates into the first of each kind and the later rows that repeat an earlier one.
    ``column_for(kind, value, candidate)`` gives the (letter, header) to name in the issue: the column the
    repeated value was found in."""
    seen: dict[tuple[str, Any], int] = {}
    kept: list[Any] = []
    issues: list[RowIssue] = []
    for cand in candidates:
        hit = None
        ks = keys(cand)
        for k in ks:
            if k in seen:
                hit = k
                break
        if hit is not None:
            letter, header = column_for(hit[0], hit[1], cand)
            issues.append(
                RowIssue(
                    cand.row,
                    letter,
                    header,
                    f"与第 {seen[hit]} 行重复（{describe_key(*hit)}）",
                    IssueKind.DUPLICATE,
                )
            )
            continue
        for k in ks:
            seen.setdefault(k, cand.row)
        kept.append(cand)
    return kept, issues


def sort_issues(issues: Iterable[RowIssue]) -> tuple[RowIssue, ...]:
    return tuple(sorted(issues, key=lambda i: (i.row, i.kind != IssueKind.ERROR, i.column)))


@dataclass(frozen=True, slots=True)
class IssueGroup:
    """Problems of one kind in one column: how many rows, the first rows and how to fix them."""

    kind: IssueKind
    where: str  # ``D列（联系电话）``
    what: str  # the problem with the row's own values left out
    rows: tuple[int, ...]  # every sheet row with this problem, in order
    example: str  # the first row's message, values included
    hint: str

    @property
    def count(self) -> int:
        return len(self.rows)

    def first_rows(self, n: int = 5) -> str:
        shown = "、".join(str(r) for r in self.rows[:n])
        return f"第 {shown} 行" + (f" 等 {self.count} 行" if self.count > n else "")


_HINTS: tuple[tuple[str, str], ...] = (
    (
        r"不在类别列表中",
        "在“设置 → 客户类别”中增加这些类别；若这一列其实是客户等级，请在列对应中把它对应到“等级”",
    ),
    (
        r"手机号码|固定电话|电话号码|含有非数字字符|分机号",
        "在 Excel 中改正号码：手机 11 位；固定电话带区号，如 0531-26485794 或 +86-531-26485794",
    ),
    (r"日期|时间", "把日期写成 2026-03-05 或 2026年3月5日（不能晚于今天，也不能是不存在的日期）"),
    (r"等级", "等级写成 A/B/C/D、A类/甲类，或 VIP/大客户"),
    (r"与第 N 行重复", "表中同一客户出现了多次：只导入第一行；如确是不同客户，请改正电话或名称"),
    (
        r"与已有客户|与其他部门的客户档案重复|已存在",
        "这些记录已在系统中，不会再导入；需要更新时请在系统中直接修改",
    ),
    (r"不能超过", "缩短这一格的文字，或把多出的内容放到“备注”"),
    (r"不能为空|请填写|至少需要", "补上这一格，或删除这一行"),
    (r"不是有效的选项|不是可识别", "改成列出的选项之一"),
    (r"不在系统中|不存在", "先导入客户台账，或填写客户编号"),
)


def _issue_what(issue: RowIssue) -> str:
    text = re.sub(r"“[^”]*”", "“…”", issue.message)
    if issue.kind is IssueKind.DUPLICATE:
        text = re.sub(r"（.*）$", "", text)
        text = "与已有客户重复" if text.startswith("与已有客户") else text
    text = re.sub(r"（现有 \d+ 个字）", "", text)
    return re.sub(r"第 \d+ 行", "第 N 行", text)


def issue_hint(what: str) -> str:
    for pattern, hint in _HINTS:
        if re.search(pattern, what):
            return hint
    return "在 Excel 中改正后重新检查"


def group_issues(issues: Iterable[RowIssue]) -> list[IssueGroup]:
    """The report by kind of problem: errors first, then duplicates, the most frequent first."""
    groups: dict[tuple[IssueKind, str, str], list[RowIssue]] = {}
    for i in issues:
        groups.setdefault((i.kind, i.where, _issue_what(i)), []).append(i)
    out = [
        IssueGroup(
            kind, where, what, tuple(dict.fromkeys(i.row for i in items)), str(items[0]), issue_hint(what)
        )
        for (kind, where, what), items in groups.items()
    ]
    return sorted(out, key=lambda g: (g.kind is not IssueKind.ERROR, -g.count, g.rows[0]))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
