"""Writing a checked sheet (:func:`run_import`): one transaction for all rows or none, in batches with one audit
row each; the 负责人 who are not users created as clerks when asked (:func:`create_owner_accounts`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from huifang_desktop.domain.importing import (
    ImportTarget,
    chunks,
)
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.importing.common import (
    IMPORT_ACTION,
    ImportCancelled,
    ProgressFn,
    insert_rows,
    load_import_rules,
    table_of,
)
from huifang_desktop.services.importing.record_writers import _ComplaintWriter, _ServiceWriter, _VisitWriter
from huifang_desktop.services.importing.validation import ValidationReport
from huifang_desktop.services.importing.writers import _CustomerWriter, _Writer
from huifang_desktop.storage.models import (
    ImportItem,
    ImportRun,
    User,
)


@dataclass(frozen=True, slots=True)
class ImportResult:
    target: ImportTarget
    file_name: str
    sheet: str
    imported: int  # rows written (0 when cancelled)
    skipped_errors: int  # rows with problems, not written
    skipped_duplicates: int  # duplicates found by the check, not written
    late_duplicates: int  # rows that became duplicates after the check (someone saved them meanwhile)
    batches: int
    cancelled: bool
    seconds: float
    first_number: str = ""
    last_number: str = ""
    run_id: int | None = None  # the import run (撤销导入 undoes it as one step)
    created_users: tuple[tuple[str, str, str], ...] = ()  # (name, user name, temporary password)
    purchases: int = 0  # purchase records written from a 购买/交车日期 column

    def summary(self) -> str:
        if self.cancelled:
            return f"导入已取消：没有写入任何{self.target.value}数据（已写入的批次全部撤回）。"
        text = f"已从“{self.file_name}”导入 {self.imported} 行到{self.target.value}"
        if self.first_number:
            text += (
                f"（编号 {self.first_number}–{self.last_number}）"
                if self.first_number != self.last_number
                else f"（编号 {self.first_number}）"
            )
        text += f"，用时 {self.seconds:.1f} 秒。"
        skipped = []
        if self.skipped_errors:
            skipped.append(f"有问题 {self.skipped_errors} 行")
        if self.skipped_duplicates + self.late_duplicates:
            skipped.append(f"重复 {self.skipped_duplicates + self.late_duplicates} 行")
        if skipped:
            text += f"未导入：{'、'.join(skipped)}。"
        if self.purchases:
            text += f"记入购买记录 {self.purchases} 条。"
        for name, username, password in self.created_users:
            text += f"\n已创建负责人账号：{name}（用户名 {username}，临时密码 {password}，首次登录须修改）"
        return text


def run_import(
    ctx: ServiceContext,
    report: ValidationReport,
    *,
    only_valid: bool = True,
    progress: ProgressFn | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportResult:
    """Write the report's valid rows: one transaction (all of them or, when cancelled or on any error,
    none), in batches with one audit row each. ``only_valid=False`` refuses (writes nothing) when the report
    has any problem row. ``progress(done, total)`` after each batch; ``cancelled()`` is asked before each."""
    ctx.require(Permission.EDIT_CUSTOMERS, f"导入{report.target.value}")
    started = time.perf_counter()
    if not only_valid and report.issues:
        raise ServiceError(
            f"有 {report.error_rows + report.duplicate_rows} 行未通过检查（有问题或重复），"
            "没有导入任何数据。请修改后重试，或选择只导入有效行。"
        )
    rules = load_import_rules(ctx)
    created: list[tuple[str, str, str]] = []
    if report.create_owners and report.unknown_owners:
        created = create_owner_accounts(ctx, [n for n, _k in report.unknown_owners])
    writer = _WRITERS[report.target](ctx, report)
    if created:
        ids = _owner_ids(ctx, [u for _n, u, _p in created])
        writer.owner_ids = {n: ids[u] for n, u, _p in created}
    done = batches = 0
    try:
        with ctx.sessions() as s, s.begin():
            fresh, late = writer.recheck(s, list(report.valid))
            run = ImportRun(
                target=report.target.value,
                file_name=report.file_name[:200],
                sheet=report.sheet[:100],
                rows=0,
                created_by_id=ctx.user.id or None,
                created_at=writer.now,
            )
            s.add(run)
            s.flush()
            run_id = run.id
            if progress is not None:
                progress(0, len(fresh))
            for batch in chunks(fresh, rules.batch_size):
                if cancelled is not None and cancelled():
                    raise ImportCancelled("导入已取消")
                numbers = writer.write(s, batch)
                if writer.ids:
                    insert_rows(
                        s, table_of(ImportItem), [{"run_id": run_id, "entity_id": i} for i in writer.ids]
                    )
                    writer.ids = []
                batches += 1
                audit(
                    s,
                    ctx,
                    IMPORT_ACTION,
                    writer.entity,
                    None,
                    f"{report.file_name} 第 {batches} 批"[:200],
                    new={
                        "台账": report.target.value,
                        "工作表": report.sheet,
                        "行数": len(batch),
                        "首行": batch[0].row,
                        "末行": batch[-1].row,
                        "编号": f"{numbers[0]}–{numbers[-1]}" if numbers else "",
                        "导入批号": run_id,
                    },
                    note=report.file_name,
                )
                done += len(batch)
                if progress is not None:
                    progress(done, len(fresh))
            writer.finish(s)
            s.execute(update(ImportRun).where(ImportRun.id == run_id).values(rows=done))
    except ImportCancelled:
        return ImportResult(
            report.target,
            report.file_name,
            report.sheet,
            0,
            report.error_rows,
            report.duplicate_rows,
            0,
            0,
            True,
            time.perf_counter() - started,
        )
    return ImportResult(
        report.target,
        report.file_name,
        report.sheet,
        done,
        report.error_rows,
        report.duplicate_rows,
        len(late),
        batches,
        False,
        time.perf_counter() - started,
        writer.first_number,
        writer.last_number,
        run_id,
        tuple(created),
        writer.purchases,
    )


def create_owner_accounts(ctx: ServiceContext, names: Sequence[str]) -> list[tuple[str, str, str]]:
    """Create each 负责人 name of a sheet as a clerk (客服专员) account: a user name from the name's pinyin
    initials (numbered when taken), a generated password to be changed at the first log-in. Needs the
    right to manage users. Returns (name, user name, temporary password) each."""
    import secrets

    from huifang_desktop.domain.customers import pinyin_initials
    from huifang_desktop.domain.roles import Role
    from huifang_desktop.services import users

    ctx.require(Permission.MANAGE_USERS, "导入时创建负责人账号")
    with ctx.sessions() as s:
        taken = set(s.execute(select(User.username)).scalars())
    out = []
    for name in names:
        base = re.sub(r"[^a-z0-9_.]", "", pinyin_initials(name).lower()) or "user"
        username, n = base, 1
        while username in taken:
            n += 1
            username = f"{base}{n}"
        taken.add(username)
        password = secrets.token_urlsafe(9)
        users.create_user(ctx, username, name, Role.CLERK, password, must_change=True)
        out.append((name, username, password))
    return out


def _owner_ids(ctx: ServiceContext, usernames: Sequence[str]) -> dict[str, int]:
    with ctx.sessions() as s:
        return dict(s.execute(select(User.username, User.id).where(User.username.in_(list(usernames)))).all())


_WRITERS: dict[ImportTarget, type[_Writer]] = {
    ImportTarget.CUSTOMERS: _CustomerWriter,
    ImportTarget.VISITS: _VisitWriter,
    ImportTarget.COMPLAINTS: _ComplaintWriter,
    ImportTarget.SERVICES: _ServiceWriter,
}
