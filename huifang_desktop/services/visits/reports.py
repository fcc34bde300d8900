"""The visit report (回访报告表): drafted from a clerk's records, saved into the review queue."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.validation import optional_text, require_text
from huifang_desktop.domain.visits import VisitResult, VisitType, format_visit_number, ordered_counts
from huifang_desktop.services.context import ServiceContext, audit, diff
from huifang_desktop.services.errors import LockedError, NotFound, PermissionDenied
from huifang_desktop.services.policy import load_scale
from huifang_desktop.services.visits.options import RECORD_RETURNED, RECORD_SIGNED, REPORT_PENDING, _config
from huifang_desktop.services.visits.rows import ReportDraft, ReportProblem, ReportRow
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.models import Customer, User, VisitRecord, VisitReport

# --- reports (回访报告表) -----------------------------------------------------------------------------

_ordered = ordered_counts


def draft_report(ctx: ServiceContext, clerk_id: int, start: date, end: date) -> ReportDraft:
    """The report of one clerk's visits in [start, end]: counts by type and result, satisfaction, problems."""
    if end < start:
        raise ValidationError(FieldError("end", "报告期间", "结束日期不能早于开始日期"))
    scale = load_scale(ctx)
    lo = datetime.combine(start, datetime.min.time())
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time())
    conds = (VisitRecord.visitor_id == clerk_id, VisitRecord.visited_at >= lo, VisitRecord.visited_at < hi)
    with ctx.sessions() as s:
        clerk = s.get(User, clerk_id)
        if clerk is None:
            raise NotFound(f"用户 {clerk_id} 不存在。")

        def grouped(col: Any, *extra: Any) -> dict[str, int]:
            q = select(col, func.count()).where(*conds, *extra).group_by(col)
            return {k: int(n) for k, n in s.execute(q)}

        by_type = grouped(VisitRecord.visit_type)
        by_result = grouped(VisitRecord.result)
        sat = grouped(VisitRecord.satisfaction, VisitRecord.satisfaction != "")
        problems = tuple(
            ReportProblem(**r._mapping)
            for r in s.execute(
                select(
                    VisitRecord.id.label("record_id"),
                    VisitRecord.number,
                    Customer.name.label("customer_name"),
                    VisitRecord.problems,
                    VisitRecord.measures,
                    VisitRecord.transfer_department.label("department"),
                )
                .join(Customer, Customer.id == VisitRecord.customer_id)
                .where(*conds, VisitRecord.problems != "")
                .order_by(VisitRecord.visited_at, VisitRecord.id)
            )
        )
    on_scale = {k: n for k, n in sat.items() if k in scale.levels}
    answered = sum(on_scale.values())
    average = sum(scale.score(k) * n for k, n in on_scale.items()) / answered if answered else None
    return ReportDraft(
        clerk_id=clerk_id,
        clerk=clerk.display_name,
        start=start,
        end=end,
        total=sum(by_type.values()),
        by_type=_ordered(by_type, (t.value for t in VisitType)),
        by_result=_ordered(by_result, (r.value for r in VisitResult)),
        satisfaction=_ordered(sat, scale.levels),
        satisfied=sum(n for k, n in on_scale.items() if k in scale.satisfied),
        average_score=average,
        problems=problems,
        scale_key=scale.key,
    )


def save_report(
    ctx: ServiceContext, draft: ReportDraft, evaluation: str, problems: str, actions: str
) -> ReportRow:
    """Save the completed report (编号 BG+date+serial) into the supervisor's review queue (待审阅).
    Due the working day after the period (``VisitOptions.report_delay_workdays``). A returned (退回) report
    of the same period is corrected in place (same number, back to 待审阅); a signed one is locked."""
    ctx.require(Permission.EDIT_CUSTOMERS, "填写回访报告")
    if ctx.user.id and draft.clerk_id != ctx.user.id and not can(ctx.user.role, Permission.SIGN_OFF):
        raise PermissionDenied("只能填写自己的回访报告。")
    errors: list[FieldError] = []
    try:
        evaluation_text = require_text(evaluation, label="评价", field="evaluation", max_len=4000)
    except ValidationError as exc:
        errors += exc.errors
        evaluation_text = ""
    texts = {}
    for name, value, label in (("problems", problems, "发现的问题"), ("actions", actions, "采取的措施")):
        try:
            texts[name] = optional_text(value, label=label, field=name, max_len=8000)
        except ValidationError as exc:
            errors += exc.errors
    if draft.end > ctx.today():
        errors.append(FieldError("end", "报告期间", "不能晚于今天"))
    if errors:
        raise ValidationError(errors)
    cfg = _config(ctx)
    due_on = cfg.cal.add_workdays(draft.end, cfg.options.report_delay_workdays)
    today = ctx.today()
    with ctx.sessions() as s, s.begin():
        same = s.execute(
            select(VisitReport)
            .where(
                VisitReport.clerk_id == draft.clerk_id,
                VisitReport.period_start == draft.start,
                VisitReport.period_end == draft.end,
            )
            .order_by(VisitReport.id.desc())
            .limit(1)
        ).scalar()
        if same is not None and same.status == RECORD_SIGNED:
            raise LockedError(
                f"该期间的回访报告 {same.number} 已由主管签字，不能重新提交；如需更正请主管撤回签字。"
            )
        if same is not None and same.status != RECORD_RETURNED:
            raise ValidationError(FieldError("period", "报告期间", f"该期间已有报告 {same.number}"))
        if same is not None:  # returned (退回): the corrected report replaces it, same number, back to review
            before = {
                "summary": same.summary,
                "problems": same.problems,
                "actions": same.actions,
                "evaluation": same.evaluation,
                "status": same.status,
            }
            same.summary = json.dumps(draft.summary(), ensure_ascii=False)
            same.problems, same.actions, same.evaluation = (
                texts["problems"],
                texts["actions"],
                evaluation_text,
            )
            same.status = REPORT_PENDING
            s.flush()
            old, new = diff(
                before,
                {
                    "summary": same.summary,
                    "problems": same.problems,
                    "actions": same.actions,
                    "evaluation": same.evaluation,
                    "status": same.status,
                },
            )
            audit(
                s,
                ctx,
                "修改回访报告",
                "visit_report",
                same.id,
                f"{same.number} {draft.clerk}",
                old=old,
                new=new,
            )
            return ReportRow(
                same.id,
                same.number,
                same.clerk_id,
                draft.clerk,
                same.period_start,
                same.period_end,
                same.status,
                same.due_on,
                same.evaluation,
                same.problems,
                same.actions,
                draft.summary(),
                same.created_at.date() > same.due_on,
                same.version,
            )
        serial = next_serial(s, f"report:{today:%Y%m%d}")
        report = VisitReport(
            number=format_visit_number(today, serial, prefix="BG"),
            clerk_id=draft.clerk_id,
            period_start=draft.start,
            period_end=draft.end,
            summary=json.dumps(draft.summary(), ensure_ascii=False),
            problems=texts["problems"],
            actions=texts["actions"],
            evaluation=evaluation_text,
            status=REPORT_PENDING,
            due_on=due_on,
            supervisor_comment="",
            content_hash="",
            revision=0,
            created_at=ctx.now(),
        )
        s.add(report)
        s.flush()
        audit(
            s,
            ctx,
            "填写回访报告",
            "visit_report",
            report.id,
            f"{report.number} {draft.clerk}",
            new={
                "period": f"{draft.start:%Y-%m-%d}~{draft.end:%Y-%m-%d}",
                "total": draft.total,
                "due_on": due_on.isoformat(),
            },
        )
        return ReportRow(
            report.id,
            report.number,
            report.clerk_id,
            draft.clerk,
            report.period_start,
            report.period_end,
            report.status,
            report.due_on,
            report.evaluation,
            report.problems,
            report.actions,
            draft.summary(),
            today > due_on,
            report.version,
        )
