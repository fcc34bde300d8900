"""The check before anything is written (:func:`validate` → :class:`ValidationReport`): every problem of every
row in one pass, duplicates within the sheet and against the database, and what the import leaves out or
will do besides (columns not imported, other sheets, hidden rows, people who are not users, the visit plans
it will bring).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.importing import (
    Columns,
    CustomerCandidate,
    ImportTarget,
    IssueGroup,
    IssueKind,
    RowIssue,
    RowSkips,
    cell_text,
    data_rows,
    group_issues,
    missing_required,
    sheet_duplicates,
    sort_issues,
    target_field,
    unused_columns,
)
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.importing.checkers import _CHECKERS
from huifang_desktop.services.importing.common import WorkbookError, _name_key, load_import_rules
from huifang_desktop.services.importing.reading import read_workbook


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which sheet row is the header (1-based) and which column (0-based) feeds each field."""

    header_row: int
    columns: Mapping[str, int]


@dataclass(frozen=True)
class ValidationReport:
    """The check of one sheet before anything is written: every problem of every row, and what the import
    leaves out or will do besides (columns not imported, other sheets, hidden rows, people who are not
    users, the visit plans it will bring)."""

    path: str
    file_name: str
    sheet: str
    target: ImportTarget
    header_row: int
    mapping: Mapping[str, int]
    headers: tuple[str, ...]
    data_rows: int  # rows looked at (below the header, not empty, not a total row)
    skips: RowSkips
    issues: tuple[RowIssue, ...]  # errors and duplicates, by row
    valid: tuple[Any, ...]  # CustomerCandidate / VisitCandidate / ComplaintCandidate, ready to write
    seconds: float = 0.0
    unused: tuple[tuple[str, str], ...] = ()  # (letter, header) of the columns not imported
    other_sheets: tuple[str, ...] = ()  # the workbook's other sheets (not in this check)
    unknown_owners: tuple[tuple[str, int], ...] = ()  # 负责人 names that are no user → rows
    create_owners: bool = False  # the unknown 负责人 will be created as clerks (else left unassigned)
    unassigned: int = 0  # valid rows in use (not archived) that will have no 负责人
    plans: int = 0  # visit plans the import brings (routine from today, open purchase windows)
    purchases: int = 0  # valid rows with a 购买/交车日期 (kept as purchase history)
    archived: int = 0  # valid rows with 状态 已归档: written as archived files (no plans, no 负责人 needed)

    @property
    def error_rows(self) -> int:
        return len({i.row for i in self.issues if i.kind is IssueKind.ERROR})

    @property
    def duplicate_rows(self) -> int:
        errors = {i.row for i in self.issues if i.kind is IssueKind.ERROR}
        return len({i.row for i in self.issues if i.kind is IssueKind.DUPLICATE} - errors)

    @property
    def valid_count(self) -> int:
        return len(self.valid)

    @property
    def clean(self) -> bool:
        return not self.issues

    @property
    def groups(self) -> list[IssueGroup]:
        """The problems by kind: count, first rows, how to fix."""
        return group_issues(self.issues)

    def summary(self) -> str:
        parts = [f"共 {self.data_rows} 行数据：可导入 {self.valid_count} 行"]
        if self.error_rows:
            parts.append(f"有问题 {self.error_rows} 行")
        if self.duplicate_rows:
            parts.append(f"重复 {self.duplicate_rows} 行")
        skipped = []
        if self.skips.empty:
            skipped.append(f"空行 {self.skips.empty} 行")
        if self.skips.totals:
            skipped.append(f"合计行 {self.skips.totals} 行")
        if self.skips.repeated_headers:
            skipped.append(f"重复的表头 {self.skips.repeated_headers} 行")
        if self.skips.hidden:
            skipped.append(f"隐藏行 {self.skips.hidden} 行")
        text = "，".join(parts) + "。"
        if skipped:
            text += f"已跳过{'、'.join(skipped)}。"
        return text

    def notes(self) -> list[str]:
        """What else the user should know before writing, one line each (CLI and wizard)."""
        out = []
        if self.unused:
            out.append(
                "未导入的列："
                + "、".join(f"{letter}列“{h}”" for letter, h in self.unused)
                + "（如需导入，请在列对应中选择对应的字段）"
            )
        if self.other_sheets:
            out.append(
                f"本文件还有其他工作表：{'、'.join(self.other_sheets)}（未检查；可用 --sheet 名称 或 "
                "--all-sheets 导入，向导中可选择工作表）"
            )
        if self.skips.hidden:
            shown = "、".join(str(r) for r in self.skips.hidden_rows[:10])
            more = f" 等 {self.skips.hidden} 行" if self.skips.hidden > 10 else ""
            out.append(
                f"隐藏的行已跳过：第 {shown} 行{more}（如需导入，加 --include-hidden，或在向导中勾选“包括隐藏行”）"
            )
        if self.unknown_owners:
            names = "、".join(f"{n}（{k} 行）" for n, k in self.unknown_owners)
            if self.create_owners:
                out.append(f"以下负责人不是本系统用户，导入时将创建为客服专员账号：{names}")
            else:
                out.append(
                    f"注意：以下负责人不是本系统用户：{names}。这些客户将暂不指定负责人（照常导入）；"
                    "可加 --owners create 创建为客服专员，或用 --owner 姓名=用户名 对应到已有用户，"
                    "或先在 工具 → 用户与部门 中添加这些用户"
                )
        if self.unassigned:
            out.append(
                f"{self.unassigned} 位客户没有负责人：导入后请在客户档案中指定负责人，指定前不安排回访计划"
            )
        if self.archived:
            out.append(
                f"{self.archived} 行状态为“已归档”：导入为已归档的客户档案（不安排回访计划，可在客户档案中恢复）"
            )
        if self.purchases:
            out.append(f"{self.purchases} 行有购买/交车日期：记为购买记录，只为尚未过期的回访安排计划")
        if self.target is ImportTarget.CUSTOMERS and self.valid:
            out.append(f"导入后将生成回访计划 {self.plans} 条（例行回访从导入之日起算，不补排过期的计划）")
        return out


def validate(
    ctx: ServiceContext,
    path: Path | str,
    sheet: str | None,
    target: ImportTarget,
    mapping: ColumnMapping,
    *,
    include_hidden: bool = False,
    owners: Mapping[str, int] | None = None,
    create_owners: bool = False,
) -> ValidationReport:
    """Check every row of the sheet; nothing is written. Problems name the sheet row and column; every
    problem of every row is reported in this one pass. ``include_hidden``: rows hidden in Excel are
    checked too (skipped and listed otherwise). ``owners``: 负责人 name as written → user id, for names
    that are no user; ``create_owners``: such names will be created as clerks by :func:`run_import` (the
    plan count counts them as assigned)."""
    ctx.require(Permission.EDIT_CUSTOMERS, f"导入{target.value}")
    started = time.perf_counter()
    rules = load_import_rules(ctx)
    wb = read_workbook(path, sheet=sheet, rules=rules)
    sh = wb.sheet(sheet)
    if not sh.rows:
        raise ValidationError(FieldError("sheet", "工作表", f"工作表“{sh.name}”是空的"))
    if sh.truncated:
        raise WorkbookError(
            f"工作表“{sh.name}”超过 {rules.max_rows} 行，一次导入不了这么多。请把它分成几个文件"
            "（每个不超过这个行数）分别导入。"
        )
    if not 1 <= mapping.header_row <= len(sh.rows):
        raise ValidationError(FieldError("header_row", "表头行", f"应在 1–{len(sh.rows)} 之间"))
    headers = tuple(cell_text(v) for v in sh.rows[mapping.header_row - 1])
    missing = missing_required(target, mapping.columns)
    if missing:
        raise ValidationError([FieldError(f.key, f.label, "请选择对应的列（必填）") for f in missing])
    width = max(len(r) for r in sh.rows)
    bad = [k for k, c in mapping.columns.items() if not 0 <= c < max(width, len(headers))]
    if bad:
        raise ValidationError([FieldError(k, target_field(target, k).label, "所选的列不在表中") for k in bad])
    cols = Columns(target, dict(mapping.columns), headers)
    rows, skips = data_rows(sh.rows, mapping.header_row, hidden=sh.hidden, include_hidden=include_hidden)
    with ctx.sessions() as s:
        checker = _CHECKERS[target](ctx, s, cols, rules)
        checker.owner_map = {_name_key(k): v for k, v in (owners or {}).items()}
        candidates, issues = checker.interpret(rows)
        kept, dups = sheet_duplicates(candidates, checker.keys, checker.column_for)
        kept, db_dups = checker.db_duplicates(kept)
    extra: dict[str, Any] = {}
    if target is ImportTarget.CUSTOMERS:
        unknown: dict[str, int] = {}
        for c in candidates:
            if c.owner_name:
                unknown[c.owner_name] = unknown.get(c.owner_name, 0) + 1
        in_use = [c for c in kept if not c.archived]
        owned = [c for c in in_use if c.clean.owner_id is not None or (create_owners and c.owner_name)]
        extra = {
            "unknown_owners": tuple(unknown.items()),
            "create_owners": create_owners,
            "unassigned": len(in_use) - len(owned),
            "plans": _plan_estimate(ctx, owned),
            "purchases": sum(1 for c in kept if c.purchase_on is not None),
            "archived": len(kept) - len(in_use),
        }
    return ValidationReport(
        str(Path(path)),
        wb.file_name,
        sh.name,
        target,
        mapping.header_row,
        dict(mapping.columns),
        headers,
        len(rows),
        skips,
        sort_issues([*issues, *dups, *db_dups]),
        tuple(kept),
        time.perf_counter() - started,
        unused_columns(headers, mapping.columns),
        tuple(n for n in wb.sheet_names if n != sh.name),
        **extra,
    )


def _plan_estimate(ctx: ServiceContext, owned: Sequence[CustomerCandidate]) -> int:
    """How many visit plans the start-of-day catch-up will make for these (assigned) customers once
    imported: the routine (and technical) visit counted from today, and the windows of their purchases
    that are still open — the same rules as ``services.visits.plan_catch_up`` for imported customers."""
    from huifang_desktop.domain.schedule import plans_for_trigger, routine_plans
    from huifang_desktop.services.policy import work_calendar
    from huifang_desktop.services.visits import load_options, load_rules
    from huifang_desktop.services.visits.planning import _purchase_triggers

    if not owned:
        return 0
    rules, cal, opts = load_rules(ctx), work_calendar(ctx), load_options(ctx)
    today = ctx.today()
    since = today - timedelta(days=opts.trigger_lookback_days)
    count = 0
    for c in owned:
        if c.clean.status not in opts.active_statuses:
            continue
        count += len(routine_plans(c.grade, None, None, today, rules, cal))
        if c.purchase_on is not None and since <= c.purchase_on <= today:
            for trigger in _purchase_triggers(
                c.row, c.purchase_on, c.purchase_kind, 1, None, c.clean.category, opts
            ):
                count += sum(1 for p in plans_for_trigger(trigger, rules, cal) if p.due >= today)
    return count
