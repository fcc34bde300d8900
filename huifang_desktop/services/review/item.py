"""One item for the review pane: its form's fields, its history and what the acting user may do."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_rules import own_file_signable, sign_refusal
from huifang_desktop.domain.roles import Permission, Role, can, roles_at_top
from huifang_desktop.domain.signoff import ReviewKind, ReviewRules, review_actions
from huifang_desktop.domain.validation import format_phone
from huifang_desktop.services.audit import entity_history
from huifang_desktop.services.audit import plain_text as _text
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.review.model import PENDING, RETURNED, ReviewDetail, load_review_rules
from huifang_desktop.services.review.rows import (
    _attachments,
    _item,
    _last_returns,
    _load,
    _names,
    _owner_id,
    _status,
    _title,
)
from huifang_desktop.storage.models import Customer, User

if TYPE_CHECKING:  # for the annotation; get_report imports it at call time
    from huifang_desktop.services.visits import ReportRow

# --- one item ----------------------------------------------------------------------------------------


def _summary_text(raw: str) -> str:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return raw

    def pairs(d: Any) -> str:
        return "，".join(f"{k} {v}" for k, v in dict(d or {}).items()) or "—"

    avg = data.get("average_score")
    average = "—" if avg is None else f"{float(avg):.1f} 分"
    return (
        f"共回访 {data.get('total', 0)} 次。按类型：{pairs(data.get('by_type'))}。"
        f"按结果：{pairs(data.get('by_result'))}。"
        f"满意度：{pairs(data.get('satisfaction'))}（满意 {data.get('satisfied', 0)}，平均 {average}）。"
    )


def _fields(s: Session, kind: ReviewKind, row: Any, names: Mapping[int, str]) -> tuple[tuple[str, str], ...]:
    def name(uid: int | None) -> str:
        return names.get(uid, "") if uid else ""

    if kind is ReviewKind.RECORD:
        c = s.get(Customer, row.customer_id)
        customer = f"{c.name}（{c.code}，{c.grade} 级）" if c is not None else ""
        from huifang_desktop.services.visits.records import _signature_text

        transfer = row.transfer_department
        if transfer and row.transfer_answer:
            transfer += f"（已答复 {_text(row.transfer_done_at)}：{row.transfer_answer}）"
        elif transfer and row.transfer_due:
            transfer += f"（须在 {_text(row.transfer_due)} 前答复）"
        out = [
            ("编号", row.number),
            ("客户", customer),
            ("联系人", f"{row.contact_name}　{format_phone(row.contact_phone)}".strip()),
            ("回访类型", row.visit_type),
            ("回访方式", row.method),
            ("回访时间", _text(row.visited_at)),
            ("回访人", name(row.visitor_id)),
            ("回访内容", row.content),
            ("客户意见/反馈", row.feedback),
            ("问题点", row.problems),
            ("改善对策", row.measures),
            ("满意度", row.satisfaction),
            ("结果", row.result),
            ("处理情况", row.handling),
            ("转交部门", transfer),
            ("下次回访时间", _text(row.next_visit_on)),
            ("客户签字", _signature_text(row.method, row.customer_signed)),
        ]
    elif kind is ReviewKind.REPORT:
        out = [
            ("编号", row.number),
            ("回访人", name(row.clerk_id)),
            ("报告期间", _title(kind, row)),
            ("应交日期", _text(row.due_on)),
            ("提交时间", _text(row.created_at)),
            ("回访汇总", _summary_text(row.summary)),
            ("发现的问题", row.problems),
            ("处理措施", row.actions),
            ("评价", row.evaluation),
        ]
    else:
        customer = (
            (s.execute(select(Customer.name).where(Customer.id == row.customer_id)).scalar() or "")
            if row.customer_id
            else ""
        )
        files = _attachments(s, [row.id])[row.id]
        visit = "" if row.visit_satisfied is None else ("满意" if row.visit_satisfied else "不满意")
        reply = f"{_text(row.replied_at)} {row.reply_way}".strip()
        if row.reply_text:
            reply += f"：{row.reply_text}"
        out = [
            ("投诉编号", row.number),
            ("受理时间", _text(row.received_at)),
            ("渠道", row.channel),
            ("投诉人", "匿名" if row.anonymous else row.complainant),
            ("联系方式", format_phone(row.phone)),
            ("客户", customer or ""),
            ("投诉主题", row.subject),
            ("投诉内容", row.content),
            ("类别", row.category),
            ("严重程度", row.severity),
            ("负责人", name(row.handler_id)),
            ("调查情况", row.investigation),
            ("原因", row.cause),
            ("处理措施", row.measures),
            ("处理结果", row.result),
            ("答复客户", reply),
            ("结案回访", f"{_text(row.visited_at)} {visit} {row.satisfaction}".strip()),
            ("回访说明", row.visit_note),
            ("状态", row.state),
            ("关闭时间", _text(row.closed_at)),
            ("附件", "；".join(f"{k}：{n}" for _sha, n, k in files)),
        ]
    return tuple((label, _text(value)) for label, value in out)


def _complaint_sign_refusal(ctx: ServiceContext, severity: str) -> str:
    """Why the acting user may not sign a complaint file of ``severity`` (核决权限, 002 制度3 §6); "" if he may."""
    from huifang_desktop.services.complaints.rules import load_complaint_rules

    if not can(ctx.user.role, Permission.SIGN_OFF):
        return ""  # not a signer at all: SIGN_OFF refuses him first
    return sign_refusal(ctx.user.role, severity, load_complaint_rules(ctx))


def _others_at_top(ctx: ServiceContext) -> int:
    """Active people at the top of the ladder besides the acting user (:func:`own_file_signable`)."""
    with ctx.sessions() as s:
        q = select(func.count(User.id)).where(
            User.role.in_(roles_at_top()), User.active.is_(True), User.id != (ctx.user.id or 0)
        )
        return int(s.execute(q).scalar_one())


def _own_top(ctx: ServiceContext, kind: ReviewKind, row: Any) -> bool:
    """The acting user's own complaint file at the top of the ladder with nobody else there
    (:func:`own_file_signable`): he may sign it, nobody else can."""
    from huifang_desktop.services.complaints.rules import load_complaint_rules

    if kind is not ReviewKind.COMPLAINT or not ctx.user.id or _owner_id(kind, row) != ctx.user.id:
        return False
    rules = load_complaint_rules(ctx)
    if not own_file_signable(ctx.user.role, row.severity, rules, others_at_top=0):
        return False  # not his level's file to sign alone: no need to count the others
    return own_file_signable(ctx.user.role, row.severity, rules, others_at_top=_others_at_top(ctx))


def _sign_blocked(ctx: ServiceContext, kind: ReviewKind, row: Any) -> str:
    """Why the sign button stays disabled for an item the acting user could otherwise sign ("" if none)."""
    if kind is ReviewKind.COMPLAINT and _status(kind, row) == PENDING:
        return _complaint_sign_refusal(ctx, row.severity)
    return ""


def _actions(ctx: ServiceContext, kind: ReviewKind, row: Any, rules: ReviewRules) -> frozenset[str]:
    """What the acting person may do with the item (:func:`huifang_desktop.domain.signoff.review_actions`);
    nothing for the system context, which acts for nobody."""
    me = ctx.user.id or None
    if me is None:
        return frozenset()
    return review_actions(
        ctx.user.role,
        kind,
        _status(kind, row),
        mine=_owner_id(kind, row) == me,
        allow_self_sign=rules.allow_self_sign,
        refusal=_sign_blocked(ctx, kind, row),
        own_top=_own_top(ctx, kind, row),
    )


def detail(ctx: ServiceContext, kind: ReviewKind | str, item_id: int) -> ReviewDetail:
    """One item for the review pane: every field of its form, its status and signature (checked against the
    hashes), its audit trail, and what the acting user may do with it."""
    kind = ReviewKind.parse(kind)
    rules = load_review_rules(ctx)
    with ctx.sessions() as s:
        row = _load(s, ctx, kind, item_id)
        names = _names(s)
        item = _item(s, ctx, kind, row, names, rules)
        if item.status == RETURNED:
            by, at = _last_returns(s, kind, [row.id]).get(row.id, ("", None))
            item = replace(item, returned_by=by, returned_at=at)
        trail = entity_history(s, kind.entity, row.id)
        role = Role(row.signed_role).label if row.signed_role in {r.value for r in Role} else row.signed_role
        return ReviewDetail(
            item,
            _fields(s, kind, row, names),
            trail,
            role or "",
            _actions(ctx, kind, row, rules),
            _sign_blocked(ctx, kind, row),
        )


def get_report(ctx: ServiceContext, report_id: int) -> ReportRow:
    """A saved 回访报告表 as :class:`huifang_desktop.services.visits.ReportRow` (for correcting a returned one)."""
    from huifang_desktop.services.visits import ReportRow

    with ctx.sessions() as s:
        r = _load(s, ctx, ReviewKind.REPORT, report_id)
        clerk = s.execute(select(User.display_name).where(User.id == r.clerk_id)).scalar() or ""
        try:
            summary = json.loads(r.summary or "{}")
        except ValueError:
            summary = {}
        return ReportRow(
            r.id,
            r.number,
            r.clerk_id,
            clerk,
            r.period_start,
            r.period_end,
            r.status,
            r.due_on,
            r.evaluation,
            r.problems,
            r.actions,
            summary,
            r.created_at.date() > r.due_on,
            r.version,
        )
