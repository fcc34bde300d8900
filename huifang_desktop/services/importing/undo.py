"""撤销导入: the past imports (:func:`list_import_runs`) and undoing one as one step (:func:`undo_import`),
refused — nothing deleted — when any of its records has had later work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.importing import (
    ImportTarget,
    chunks,
)
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.importing.common import UNDO_ACTION
from huifang_desktop.storage import phone_index
from huifang_desktop.storage.models import (
    Complaint,
    ComplaintEvent,
    ComplaintOccurrence,
    Contact,
    Customer,
    ImportItem,
    ImportRun,
    Purchase,
    ServiceFollowUp,
    ServiceRecord,
    User,
    VisitPlan,
    VisitRecord,
)


@dataclass(frozen=True)
class ImportRunInfo:
    """One past import, as 导入记录 lists it."""

    id: int
    target: ImportTarget
    file_name: str
    sheet: str
    rows: int
    created_by: str
    created_at: datetime
    undone_at: datetime | None
    undone_by: str

    @property
    def state(self) -> str:
        return "已撤销" if self.undone_at is not None else "有效"


@dataclass(frozen=True)
class UndoResult:
    run_id: int
    target: ImportTarget
    file_name: str
    removed: int  # the run's records deleted
    plans_removed: int  # pending visit plans made for imported customers since (customers only)

    def summary(self) -> str:
        text = f"已撤销第 {self.run_id} 次导入（“{self.file_name}”）：删除{self.target.value}记录 {self.removed} 条"
        if self.plans_removed:
            text += f"，以及为这些客户生成的待回访计划 {self.plans_removed} 条"
        return text + "。已用过的编号不再重复使用。"


def list_import_runs(ctx: ServiceContext, limit: int = 100) -> list[ImportRunInfo]:
    """The newest imports first."""
    ctx.require(Permission.EDIT_CUSTOMERS, "查看导入记录")
    creator, undoer = User.__table__.alias("creator"), User.__table__.alias("undoer")
    with ctx.sessions() as s:
        rows = s.execute(
            select(ImportRun, creator.c.display_name, undoer.c.display_name)
            .outerjoin(creator, creator.c.id == ImportRun.created_by_id)
            .outerjoin(undoer, undoer.c.id == ImportRun.undone_by_id)
            .order_by(ImportRun.id.desc())
            .limit(limit)
        ).all()
    return [
        ImportRunInfo(
            r.id,
            ImportTarget(r.target),
            r.file_name,
            r.sheet,
            r.rows,
            made or "",
            r.created_at,
            r.undone_at,
            undone or "",
        )
        for r, made, undone in rows
    ]


def _first(s: Session, query: Callable[[Sequence[int]], Any], ids: Sequence[int]) -> Any | None:
    """The value of the first row ``query(part)`` finds over the ids (a select of one column, never null),
    read in chunks (SQLite's parameter limit)."""
    for part in chunks(ids, 500):
        value = s.execute(query(part).limit(1)).scalar()
        if value is not None:
            return value
    return None


def _undo_blocker(
    s: Session, target: ImportTarget, ids: Sequence[int], run_at: datetime | None = None
) -> str | None:
    """Why the run's records cannot simply be deleted: the first one that has had later work, or None.
    ``run_at``: when the run wrote (the purchases it made from a 购买日期 column carry that moment)."""
    if target is ImportTarget.CUSTOMERS:
        checks: list[tuple[Callable[[Sequence[int]], Any], str]] = [
            (lambda p: select(Customer.code).where(Customer.id.in_(p), Customer.version > 1), "导入后已修改"),
            (
                lambda p: (
                    select(Customer.code)
                    .join(Purchase, Purchase.customer_id == Customer.id)
                    .where(Customer.id.in_(p), Purchase.created_at != run_at)
                ),
                "已有购买记录",
            ),
            (
                lambda p: (
                    select(Customer.code)
                    .join(VisitRecord, VisitRecord.customer_id == Customer.id)
                    .where(Customer.id.in_(p))
                ),
                "已有回访记录",
            ),
            (
                lambda p: (
                    select(Customer.code)
                    .join(Complaint, Complaint.customer_id == Customer.id)
                    .where(Customer.id.in_(p))
                ),
                "已关联投诉",
            ),
            (
                lambda p: (
                    select(Customer.code)
                    .join(ServiceRecord, ServiceRecord.customer_id == Customer.id)
                    .where(Customer.id.in_(p))
                ),
                "已有售后服务记录",
            ),
            (
                lambda p: (
                    select(Customer.code)
                    .join(VisitPlan, VisitPlan.customer_id == Customer.id)
                    .where(Customer.id.in_(p), or_(VisitPlan.state != "待回访", VisitPlan.manual.is_(True)))
                ),
                "回访计划已处理或是手工安排的",
            ),
        ]
        what = "客户"
    elif target is ImportTarget.VISITS:
        checks = [
            (
                lambda p: select(VisitRecord.number).where(VisitRecord.id.in_(p), VisitRecord.version > 1),
                "导入后已修改或重新审阅",
            ),
            (
                lambda p: (
                    select(VisitRecord.number)
                    .join(Complaint, Complaint.visit_record_id == VisitRecord.id)
                    .where(VisitRecord.id.in_(p))
                ),
                "已作为投诉的回访记录",
            ),
            (
                lambda p: (
                    select(VisitRecord.number)
                    .join(VisitPlan, VisitPlan.record_id == VisitRecord.id)
                    .where(VisitRecord.id.in_(p))
                ),
                "已关联回访计划",
            ),
        ]
        what = "回访记录"
    elif target is ImportTarget.SERVICES:
        checks = [
            (
                lambda p: select(ServiceRecord.number).where(
                    ServiceRecord.id.in_(p), ServiceRecord.version > 1
                ),
                "导入后已修改或已跟进",
            ),
            (
                lambda p: (
                    select(ServiceRecord.number)
                    .join(ServiceFollowUp, ServiceFollowUp.record_id == ServiceRecord.id)
                    .where(ServiceRecord.id.in_(p))
                ),
                "已有跟进记录",
            ),
        ]
        what = "服务记录"
    else:
        linked = Complaint.__table__.alias("linked")
        checks = [
            (
                lambda p: select(Complaint.number).where(Complaint.id.in_(p), Complaint.version > 1),
                "导入后已处理或修改",
            ),
            (
                lambda p: (
                    select(Complaint.number)
                    .join(linked, linked.c.linked_to_id == Complaint.id)
                    .where(Complaint.id.in_(p))
                ),
                "已有重新打开的投诉关联到它",
            ),
        ]
        what = "投诉"
    for query, reason in checks:
        number = _first(s, query, ids)  # 客户编号 or the record's number
        if number is not None:
            return f"{what} {number} {reason}"
    return None


def undo_import(ctx: ServiceContext, run_id: int) -> UndoResult:
    """撤销导入: delete every record the run created, in one transaction, if none has had later work (then
    nothing is deleted and the message names the first such record). By the importer or a supervisor."""
    ctx.require(Permission.EDIT_CUSTOMERS, "撤销导入")
    with ctx.sessions() as s, s.begin():
        run = s.get(ImportRun, run_id)
        if run is None:
            raise ServiceError(f"没有第 {run_id} 次导入的记录。")
        if run.undone_at is not None:
            raise ServiceError(
                f"第 {run_id} 次导入（“{run.file_name}”）已在 {run.undone_at:%Y-%m-%d %H:%M} 撤销过。"
            )
        if run.created_by_id != (ctx.user.id or None) and not ctx.may(Permission.WORK_FOR_OTHERS):
            raise ServiceError("只有导入的人或主管可以撤销这次导入。")
        target = ImportTarget(run.target)
        ids = list(
            s.execute(
                select(ImportItem.entity_id).where(ImportItem.run_id == run_id).order_by(ImportItem.entity_id)
            ).scalars()
        )
        blocker = _undo_blocker(s, target, ids, run.created_at)
        if blocker is not None:
            raise ServiceError(
                f"不能撤销第 {run_id} 次导入：{blocker}。这次导入的记录已有后续工作，"
                "请逐条处理（没有删除任何数据）。"
            )
        plans = 0
        for part in chunks(ids, 500):
            if target is ImportTarget.CUSTOMERS:
                plans += (
                    cast(
                        CursorResult[Any], s.execute(delete(VisitPlan).where(VisitPlan.customer_id.in_(part)))
                    ).rowcount
                    or 0
                )
                s.execute(
                    delete(Purchase).where(Purchase.customer_id.in_(part))
                )  # the run's own (see blocker)
                s.execute(delete(Contact).where(Contact.customer_id.in_(part)))
                phone_index.delete_for(s, part)
                s.execute(delete(Customer).where(Customer.id.in_(part)))
            elif target is ImportTarget.VISITS:
                s.execute(delete(VisitRecord).where(VisitRecord.id.in_(part)))
            elif target is ImportTarget.SERVICES:
                s.execute(delete(ServiceRecord).where(ServiceRecord.id.in_(part)))
            else:
                s.execute(delete(ComplaintEvent).where(ComplaintEvent.complaint_id.in_(part)))
                s.execute(delete(ComplaintOccurrence).where(ComplaintOccurrence.complaint_id.in_(part)))
                s.execute(delete(Complaint).where(Complaint.id.in_(part)))
        run.undone_at, run.undone_by_id = ctx.now(), ctx.user.id or None
        audit(
            s,
            ctx,
            UNDO_ACTION,
            "import_run",
            run_id,
            f"第 {run_id} 次导入 {run.file_name}"[:200],
            old={"台账": target.value, "行数": len(ids)},
            new={"状态": "已撤销", "删除待回访计划": plans},
            note=run.file_name,
        )
        file_name = run.file_name
    return UndoResult(run_id, target, file_name, len(ids), plans)
