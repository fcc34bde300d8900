"""The 回访报告表: a saved report, or a draft from the report dialog."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.visits import VisitResult, VisitType
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import NotFound, PermissionDenied
from huifang_desktop.services.policy import customer_scope
from huifang_desktop.services.printing.documents import (
    _CANCELLED,
    VISIT_REPORT_FORM,
    PrintedDocument,
    load_print_options,
)
from huifang_desktop.services.printing.record_form import _review_comment
from huifang_desktop.services.printing.rendering import _form_document, _signature, _tampered
from huifang_desktop.services.visits import RECORD_SIGNED, ReportDraft
from huifang_desktop.storage.models import User, VisitPlan, VisitRecord, VisitReport

# --- 回访报告表 -------------------------------------------------------------------------------------------

# The 回访统计 columns of forms/visit_report.toml (key) and the results each one counts.
_RESULT_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("success", (VisitResult.SUCCESS.value,)),
    ("no_answer", (VisitResult.NO_ANSWER.value,)),
    ("refused", (VisitResult.REFUSED.value, VisitResult.UNREACHABLE.value)),
    ("again", (VisitResult.CALL_AGAIN.value,)),
)


def _report_counts(s: Session, clerk_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """回访统计 rows per visit type: planned (the clerk's plans due in the period), done, and by result."""
    lo = datetime.combine(start, datetime.min.time())
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time())
    done: dict[str, dict[str, int]] = {}
    for vt, result, n in s.execute(
        select(VisitRecord.visit_type, VisitRecord.result, func.count())
        .where(VisitRecord.visitor_id == clerk_id, VisitRecord.visited_at >= lo, VisitRecord.visited_at < hi)
        .group_by(VisitRecord.visit_type, VisitRecord.result)
    ):
        done.setdefault(vt, {})[result] = int(n)
    planned = {
        vt: int(n)
        for vt, n in s.execute(
            select(VisitPlan.visit_type, func.count())
            .where(
                VisitPlan.owner_id == clerk_id,
                VisitPlan.due >= start,
                VisitPlan.due <= end,
                VisitPlan.state != _CANCELLED,
            )
            .group_by(VisitPlan.visit_type)
        )
    }
    order = [t.value for t in VisitType]
    types = sorted(set(done) | set(planned), key=lambda t: (order.index(t) if t in order else len(order), t))
    rows = []
    for vt in types:
        by_result = done.get(vt, {})
        row: dict[str, Any] = {
            "type": f"{vt}回访",
            "planned": planned.get(vt, 0),
            "done": sum(by_result.values()),
        }
        for key, results in _RESULT_COLUMNS:
            row[key] = sum(by_result.get(r, 0) for r in results)
        rows.append(row)
    return rows


def _satisfaction_text(summary: Mapping[str, Any]) -> str:
    levels = summary.get("satisfaction") or {}
    if not levels:
        return ""
    answered = sum(int(n) for n in levels.values())
    text = "、".join(f"{k} {n} 次" for k, n in levels.items())
    satisfied = summary.get("satisfied")
    if satisfied is not None and answered:
        text += f"；满意率 {int(satisfied) / answered * 100:.1f}%（{satisfied}/{answered}）"
    average = summary.get("average_score")
    if average is not None:
        text += f"；平均 {float(average):.1f} 分"
    return text


def _period_text(start: date, end: date) -> str:
    return f"{start:%Y-%m-%d}" if start == end else f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"


def _check_report_visible(ctx: ServiceContext, s: Session, clerk_id: int) -> None:
    """Own reports; a supervisor or manager sees the clerks' (their department's under limited visibility)."""
    if not ctx.user.id or clerk_id == ctx.user.id:
        return
    if not (can(ctx.user.role, Permission.SIGN_OFF) or can(ctx.user.role, Permission.VIEW_ALL_DEPARTMENTS)):
        raise PermissionDenied("只能打印自己的回访报告。")
    if customer_scope(ctx).limited:
        dep = s.execute(select(User.department_id).where(User.id == clerk_id)).scalar()
        if dep != ctx.user.department_id:
            raise PermissionDenied("该回访报告属于其他部门，需经理授权才能查看。")


def visit_report_pdf(
    ctx: ServiceContext, report_id: int, out: str | Path | None = None, *, forms_dir: Path | None = None
) -> PrintedDocument:
    """A saved 回访报告表: the submitted summary and texts, 回访统计 by type; signed or 草稿."""
    from huifang_desktop.printing import FormJob

    options = load_print_options(ctx)
    signer_user = aliased(User)
    clerk_user = aliased(User)
    with ctx.sessions() as s:
        row = s.execute(
            select(VisitReport, clerk_user.display_name, signer_user.display_name)
            .join(clerk_user, clerk_user.id == VisitReport.clerk_id)
            .outerjoin(signer_user, signer_user.id == VisitReport.signed_by_id)
            .where(VisitReport.id == report_id)
        ).one_or_none()
        if row is None:
            raise NotFound(f"回访报告 {report_id} 不存在。")
        r, clerk, signer = row
        _check_report_visible(ctx, s, r.clerk_id)
        try:
            summary = json.loads(r.summary or "{}")
        except ValueError:
            summary = {}
        signed = r.status == RECORD_SIGNED and signer is not None
        values = {
            "number": r.number,
            "clerk": clerk,
            "period": _period_text(r.period_start, r.period_end),
            "counts": _report_counts(s, r.clerk_id, r.period_start, r.period_end),
            "satisfaction": _satisfaction_text(summary),
            "problems": r.problems,
            "actions": r.actions,
            "evaluation": r.evaluation,
            "supervisor_comment": _review_comment(r.status, r.supervisor_comment, signed),
            "supervisor": signer if signed else None,
            "signed_at": r.signed_at if signed else None,
            "status": r.status,
            "due_on": r.due_on,
        }
        job = FormJob(
            values,
            draft=options.watermark_unsigned and not signed,
            signed=_signature(options, signer, r.signed_at, r.signed_role) if signed else None,
            revision=r.revision or 0,
            tampered=_tampered(s, "回访报告表", r.id),
        )
        number = r.number
        label = f"{r.number} {clerk}"
    return _form_document(
        ctx,
        VISIT_REPORT_FORM,
        [job],
        entity="visit_report",
        entity_id=report_id,
        label=label,
        title=f"回访报告表 {number}",
        file_name=f"回访报告表_{number}.pdf",
        forms_dir=forms_dir,
        out=out,
    )


def report_draft_pdf(
    ctx: ServiceContext,
    draft: ReportDraft,
    evaluation: str = "",
    problems: str = "",
    actions: str = "",
    *,
    forms_dir: Path | None = None,
) -> PrintedDocument:
    """A 回访报告表 not yet submitted (from the report dialog): no number, always the 草稿 watermark."""
    from huifang_desktop.printing import FormJob

    with ctx.sessions() as s:
        _check_report_visible(ctx, s, draft.clerk_id)
        counts = _report_counts(s, draft.clerk_id, draft.start, draft.end)
    values = {
        "number": "",
        "clerk": draft.clerk,
        "period": _period_text(draft.start, draft.end),
        "counts": counts,
        "satisfaction": _satisfaction_text(draft.summary()),
        "problems": problems,
        "actions": actions,
        "evaluation": evaluation,
    }
    period = _period_text(draft.start, draft.end)
    return _form_document(
        ctx,
        VISIT_REPORT_FORM,
        [FormJob(values, draft=True)],
        entity="visit_report",
        entity_id=None,
        label=f"草稿 {draft.clerk} {period}",
        title=f"回访报告表（草稿）{period}",
        file_name=f"回访报告表_草稿_{draft.start:%Y%m%d}.pdf",
        detail={"clerk_id": draft.clerk_id, "period": period},
        forms_dir=forms_dir,
    )
