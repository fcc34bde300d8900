"""The workflow 待受理 → 处理中 → 待回访 → 已关闭 (or 已撤销): accept, handling, finish, close, withdraw, the reply
that closes a 咨询 / 建议, 催办 and 转交."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_rules import report_back_due
from huifang_desktop.domain.complaints import (
    ComplaintState,
    MessageKind,
    Severity,
    check_transition,
    closing_visit_due,
    handler_role,
    needs_chase,
    needs_closing_visit,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, higher_level, reaches_level
from huifang_desktop.domain.validation import (
    already,
    clean_text,
    require_text,
)
from huifang_desktop.services.complaints.closing import _plan_closing_visit
from huifang_desktop.services.complaints.common import (
    _actor_role,
    _check_can_work,
    _check_unlocked,
    _check_version,
    _choice,
    _event,
    _facts,
    _guarded,
    _label,
    _load,
    _move,
    _parse_moment,
    _plain,
    _require_complaint,
    _text,
    _user_name,
)
from huifang_desktop.services.complaints.model import (
    REPLY_WAYS,
    ComplaintDetail,
    HandlingDraft,
    load_policy,
)
from huifang_desktop.services.complaints.reading import _detail
from huifang_desktop.services.complaints.rules import load_complaint_rules
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import (
    LockedError,
)
from huifang_desktop.services.policy import work_calendar
from huifang_desktop.storage.models import (
    Complaint,
    User,
    VisitPlan,
)


@_guarded
def accept(ctx: ServiceContext, complaint_id: int, expected_version: int | None = None) -> ComplaintDetail:
    """待受理 → 处理中: the handler has taken the complaint on (the handling deadline applies from now)."""
    policy = load_policy(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "受理")
        _require_complaint(c, "受理")
        c.accepted_at = ctx.now()
        if c.handler_id is None and ctx.user.id and reaches_level(ctx.user.role, Role(c.handler_role)):
            c.handler_id = ctx.user.id
        _move(s, ctx, c, ComplaintState.IN_PROGRESS, policy, action="受理")
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def save_handling(
    ctx: ServiceContext, complaint_id: int, draft: HandlingDraft, expected_version: int | None = None
) -> ComplaintDetail:
    """Record investigation, cause, measures, result and the reply to the customer (time and way)."""
    errors: list[FieldError] = []
    texts = {
        name: _text(getattr(draft, name), label, name, errors)
        for name, label in (
            ("investigation", "调查情况"),
            ("cause", "原因"),
            ("measures", "处理措施"),
            ("result", "处理结果"),
            ("reply_text", "答复内容"),
        )
    }
    replied = _parse_moment(draft.replied_at, "答复时间", "replied_at", errors)
    way = clean_text(draft.reply_way)
    if way and way not in REPLY_WAYS:
        errors.append(
            FieldError("reply_way", "答复方式", f"“{way}”不是有效的选项（可选：{'、'.join(REPLY_WAYS)}）")
        )
    if replied is not None and not way:
        errors.append(FieldError("reply_way", "答复方式", "填写了答复时间，请选择答复方式"))
    if way and replied is None:
        errors.append(FieldError("replied_at", "答复时间", "选择了答复方式，请填写答复时间"))
    if replied is not None and replied > ctx.now() + timedelta(minutes=5):
        errors.append(FieldError("replied_at", "答复时间", "不能晚于现在"))
    if errors:
        raise ValidationError(errors)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "填写处理情况")
        _check_unlocked(c, "处理情况不能再修改")
        if replied is not None and replied < c.received_at:
            raise ValidationError(FieldError("replied_at", "答复时间", "不能早于受理时间"))
        before = {k: getattr(c, k) for k in (*texts, "replied_at", "reply_way")}
        for k, v in texts.items():
            setattr(c, k, v)
        c.replied_at, c.reply_way = replied, way
        _start_report_back(ctx, c)
        after = {k: getattr(c, k) for k in before}
        changed = [k for k in after if after[k] != before[k]]
        if not changed:
            return _detail(s, ctx, c)
        c.updated_at = ctx.now()
        if ComplaintState(c.state) is ComplaintState.PENDING and c.kind == MessageKind.COMPLAINT.value:
            c.accepted_at = ctx.now()  # writing down the handling takes the complaint on
            _move(s, ctx, c, ComplaintState.IN_PROGRESS, load_policy(ctx), action="受理")
        labels = {
            "investigation": "调查情况",
            "cause": "原因",
            "measures": "处理措施",
            "result": "处理结果",
            "reply_text": "答复内容",
            "replied_at": "答复时间",
            "reply_way": "答复方式",
        }
        if "replied_at" in changed and replied is not None:
            _event(s, ctx, c, "答复客户", note=f"{replied:%Y-%m-%d %H:%M} {way}")
        _event(s, ctx, c, "处理记录", note="修改：" + "、".join(labels[k] for k in changed))
        audit(
            s,
            ctx,
            "填写处理情况",
            "complaint",
            c.id,
            _label(c),
            old={k: _plain(before[k]) for k in changed},
            new={k: _plain(after[k]) for k in changed},
        )
        s.flush()
        return _detail(s, ctx, c)


def _start_report_back(ctx: ServiceContext, c: Complaint) -> None:
    """002 制度5 §5 “相关部门将问题处理妥善后，须于2小时内反馈客户中心”: the first time an urgent complaint's
    result is written down, the department has N clock hours to finish the handling (办结, the report back
    that starts the verification and the closing visit)."""
    if not c.urgent or c.report_back_due is not None or not c.result:
        return
    timings = load_complaint_rules(ctx).urgent
    if timings is not None:
        c.report_back_due = report_back_due(ctx.now(), timings)


@_guarded
def finish_handling(
    ctx: ServiceContext, complaint_id: int, expected_version: int | None = None
) -> ComplaintDetail:
    """处理中 → 待回访: the handling is done; the closing visit is planned (within 3 days, at the level the
    severity asks). A closing visit still pending from an unsatisfied round is re-dated, not duplicated."""
    policy = load_policy(ctx)
    cal = work_calendar(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "办结")
        _require_complaint(c, "办结")
        now = ctx.now()
        due = closing_visit_due(now, policy, cal)
        check_transition(
            ComplaintState(c.state),
            ComplaintState.AWAITING_VISIT,
            actor_role=_actor_role(ctx),
            severity=Severity(c.severity),
            facts=_facts(s, c),
            policy=policy,
        )
        c.handled_at = now
        c.visit_due = due
        c.visit_satisfied, c.visited_at, c.satisfaction = None, None, ""
        c.visit_round += 1
        plan = _plan_closing_visit(s, ctx, c, policy, due)
        note = f"结案回访 {due:%Y-%m-%d} 前"
        if plan is not None:
            note += f"，回访人：{_user_name(s, plan.owner_id)}"
        elif c.customer_id is None:
            note += "（投诉人无客户档案，回访在投诉处理表中登记）"
        _move(s, ctx, c, ComplaintState.AWAITING_VISIT, policy, action="办结转回访", note=note)
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def close(ctx: ServiceContext, complaint_id: int, expected_version: int | None = None) -> ComplaintDetail:
    """→ 已关闭: needs the satisfied closing visit (or, anonymous / reply-only, the reply letter attached) and
    the level the severity asks. Every refusal is a ValidationError naming what is missing."""
    policy = load_policy(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "关闭投诉")
        _require_complaint(c, "关闭")
        note = "结案回访满意" if needs_closing_visit(c.anonymous, c.reply_only) else "已附答复函"
        _move(s, ctx, c, ComplaintState.CLOSED, policy, action="关闭", note=note)
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def withdraw(
    ctx: ServiceContext, complaint_id: int, reason: str, expected_version: int | None = None
) -> ComplaintDetail:
    """→ 已撤销 with a reason (the complainant withdrew it, logged twice by mistake …)."""
    policy = load_policy(ctx)
    text = clean_text(reason)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "撤销投诉")
        c.withdraw_reason = text[:200]
        if c.kind != MessageKind.COMPLAINT.value:
            if not text:
                raise ValidationError(FieldError("withdraw_reason", "撤销原因", "撤销须填写撤销原因"))
            before = c.state
            c.state, c.deadline, c.updated_at = ComplaintState.WITHDRAWN.value, None, ctx.now()
            _event(s, ctx, c, "撤销", from_state=before, to_state=c.state, note=text)
            audit(
                s,
                ctx,
                "撤销",
                "complaint",
                c.id,
                _label(c),
                old={"state": before},
                new={"state": c.state},
                note=text,
            )
        else:
            _move(
                s,
                ctx,
                c,
                ComplaintState.WITHDRAWN,
                policy,
                action="撤销",
                note=text,
                facts=_facts(s, c, withdraw_reason=text),
            )
        _cancel_open_plan(s, ctx, c, f"投诉已撤销：{text}")
        s.flush()
        return _detail(s, ctx, c)


def _cancel_open_plan(s: Session, ctx: ServiceContext, c: Complaint, reason: str) -> None:
    plan = s.get(VisitPlan, c.visit_plan_id) if c.visit_plan_id else None
    if plan is not None and plan.state == "待回访":
        plan.state, plan.cancel_reason = "已取消", reason[:200]
        audit(s, ctx, "取消回访计划", "visit_plan", plan.id, c.number, new={"reason": reason})


@_guarded
def reply_message(
    ctx: ServiceContext,
    complaint_id: int,
    reply_text: str,
    way: str,
    replied_at: datetime | str | None = None,
    expected_version: int | None = None,
) -> ComplaintDetail:
    """Answer a 咨询 or 建议: the reply is the whole handling, so it closes the message."""
    errors: list[FieldError] = []
    text = ""
    try:
        text = require_text(reply_text, label="答复内容", field="reply_text", max_len=4000)
    except ValidationError as exc:
        errors += exc.errors
    way = _choice(way, REPLY_WAYS, "答复方式", "reply_way", errors)
    when = _parse_moment(replied_at, "答复时间", "replied_at", errors) or ctx.now()
    if errors:
        raise ValidationError(errors)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        _check_can_work(ctx, c, "答复")
        if c.kind == MessageKind.COMPLAINT.value:
            raise ValidationError(
                FieldError("kind", "类型", "投诉须按流程处理、回访后关闭，不能直接答复关闭")
            )
        if ComplaintState(c.state).is_final:
            raise LockedError(f"{c.kind} {c.number} {already(c.state)}。")
        before = c.state
        c.reply_text, c.reply_way, c.replied_at, c.result = text, way, when, text
        c.state, c.closed_at, c.deadline, c.updated_at = (
            ComplaintState.CLOSED.value,
            ctx.now(),
            None,
            ctx.now(),
        )
        _event(s, ctx, c, "答复", from_state=before, to_state=c.state, note=f"{way}：{text[:80]}")
        audit(
            s,
            ctx,
            f"答复{c.kind}",
            "complaint",
            c.id,
            _label(c),
            old={"state": before},
            new={"state": c.state, "reply_way": way},
        )
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def chase(ctx: ServiceContext, complaint_id: int, note: str = "") -> ComplaintDetail:
    """催办: an overdue open complaint is chased (logged, counted, the handler sees it in the history)."""
    ctx.require(Permission.SIGN_OFF, "催办投诉")
    text = clean_text(note)[:500]
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        if not needs_chase(ComplaintState(c.state), c.deadline, ctx.now()):
            raise ValidationError(FieldError("state", "状态", f"投诉 {c.number} 未逾期，不需要催办"))
        c.chase_count += 1
        c.escalation_seen = False  # the handler sees it at next start
        c.updated_at = ctx.now()
        _event(s, ctx, c, "催办", note=f"第 {c.chase_count} 次催办" + (f"：{text}" if text else ""))
        audit(s, ctx, "催办", "complaint", c.id, _label(c), new={"chase_count": c.chase_count}, note=text)
        s.flush()
        return _detail(s, ctx, c)


@_guarded
def reassign(
    ctx: ServiceContext, complaint_id: int, handler_id: int, expected_version: int | None = None
) -> ComplaintDetail:
    """A supervisor hands the complaint to someone else of (at least) the level its severity asks."""
    ctx.require(Permission.REASSIGN, "转交投诉")
    policy = load_policy(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, ctx, complaint_id)
        _check_version(c, expected_version, s, ctx.user.id)
        if ComplaintState(c.state).is_final:
            raise LockedError(f"投诉 {c.number} {already(c.state)}，不能转交。")
        u = s.get(User, handler_id)
        if u is None or not u.active:
            raise ValidationError(FieldError("handler_id", "负责人", "所选负责人不存在或已停用"))
        needed = Role(c.handler_role) if c.kind == MessageKind.COMPLAINT.value else Role.CLERK
        needed = (
            higher_level(needed, handler_role(Severity(c.severity), policy))
            if c.kind == MessageKind.COMPLAINT.value
            else needed
        )
        if not reaches_level(Role(u.role), needed):
            raise ValidationError(
                FieldError(
                    "handler_id",
                    "负责人",
                    f"该投诉须由{needed.label}或更高级别负责，{u.display_name}是{Role(u.role).label}",
                )
            )
        old = _user_name(s, c.handler_id)
        c.handler_id, c.escalation_seen, c.updated_at = u.id, u.id == ctx.user.id, ctx.now()
        _event(s, ctx, c, "转交", note=f"{old or '（无）'} → {u.display_name}")
        audit(
            s,
            ctx,
            "转交投诉",
            "complaint",
            c.id,
            _label(c),
            old={"handler": old},
            new={"handler": u.display_name},
        )
        s.flush()
        return _detail(s, ctx, c)
