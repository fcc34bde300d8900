"""The visit record form (回访记录表): prefill, record, correct, transfers, the record list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.schedule import (
    ROUTINE_RULE,
    TECHNICAL_RULE,
    Assignee,
    PlannedVisit,
    follow_up,
    satisfies,
)
from huifang_desktop.domain.validation import (
    already,
    clean_text,
    format_phone,
    normalize_phone,
    optional_text,
    parse_date,
    require_text,
    to_halfwidth,
)
from huifang_desktop.domain.visits import (
    VisitMethod,
    VisitResult,
    VisitType,
    format_visit_number,
    needs_signature,
    phone_script,
    signature_substitute,
)
from huifang_desktop.services.context import ServiceContext, audit, diff, recent_changes
from huifang_desktop.services.errors import ConflictError, LockedError, NotFound, PermissionDenied
from huifang_desktop.services.policy import check_visible, customer_scope, load_scale
from huifang_desktop.services.settings import get_value, load_settings
from huifang_desktop.services.visits.followups import chain_context
from huifang_desktop.services.visits.independence import check_visitor, complaint_handler
from huifang_desktop.services.visits.options import (
    _DONE,
    _PENDING,
    MANUAL_RULE,
    PAGE_SIZE,
    RECORD_HISTORY,
    RECORD_PENDING,
    RECORD_RETURNED,
    RECORD_SIGNED,
    SCRIPTS_KEY,
    _Config,
    _config,
    independence_on,
)
from huifang_desktop.services.visits.rows import (
    RecordDraftData,
    TransferRow,
    VisitRecordDraft,
    VisitRecordRow,
)
from huifang_desktop.services.visits.shared import _enum_field, _load_plan
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.models import Customer, User, VisitPlan, VisitRecord, VisitReport

# --- the visit record form (回访记录表) ------------------------------------------------------------------


def prefill_record(
    ctx: ServiceContext, plan_id: int | None, customer_id: int | None = None
) -> RecordDraftData:
    """The form filled from the plan and the customer file: contact, type, method, visitor, phone script."""
    office = load_settings(ctx)
    scale = load_scale(ctx)
    scripts = get_value(ctx, SCRIPTS_KEY)
    with ctx.sessions() as s:
        plan = _load_plan(s, plan_id) if plan_id is not None else None
        cid = plan.customer_id if plan is not None else customer_id
        if cid is None:
            raise ValidationError(FieldError("customer_id", "客户", "请选择客户"))
        c = s.get(Customer, cid)
        if c is None:
            raise NotFound(f"客户档案 {cid} 不存在。")
        check_visible(ctx, c, office)
        vt = plan.visit_type if plan is not None else VisitType.ROUTINE.value
        vm = plan.method if plan is not None else VisitMethod.PHONE.value
        return RecordDraftData(
            plan_id=plan.id if plan is not None else None,
            customer_id=c.id,
            customer_code=c.code,
            customer_name=c.name,
            grade=c.grade,
            contact_name=c.primary_contact,
            contact_phone=format_phone(c.primary_phone),
            visit_type=vt,
            method=vm,
            visited_at=ctx.now(),
            visitor_id=ctx.user.id or None,
            visitor=ctx.user.display_name if ctx.user.id else "",
            owner=c.owner.display_name if c.owner else "",
            attempt=plan.attempt if plan is not None else 1,
            due=plan.due if plan is not None else None,
            script=phone_script(vt, scripts if isinstance(scripts, dict) else None),
            needs_signature=needs_signature(vm),
            signature_text=signature_substitute(vm),
            satisfaction_levels=scale.levels,
        )


def _parse_moment(raw: datetime | date | str | None, errors: list[FieldError]) -> datetime | None:
    if isinstance(raw, datetime):
        return raw.replace(microsecond=0, tzinfo=None)
    if isinstance(raw, date):
        return datetime.combine(raw, datetime.min.time())
    text = to_halfwidth(clean_text(raw)).replace("/", "-").replace(".", "-")
    if not text:
        errors.append(FieldError("visited_at", "回访时间", "不能为空"))
        return None
    try:
        return datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text).replace(
            microsecond=0, tzinfo=None
        )
    except ValueError:
        pass
    try:
        day = parse_date(text, label="回访时间", field="visited_at", required=True)
        assert day is not None
        return datetime.combine(day, datetime.min.time())
    except ValidationError:
        errors.append(
            FieldError("visited_at", "回访时间", f"“{raw}”不是可识别的时间，请按 2026-11-24 09:30 填写")
        )
        return None


@dataclass(frozen=True, slots=True)
class _CleanRecord:
    contact_name: str
    contact_phone: str
    visit_type: VisitType
    method: VisitMethod
    visited_at: datetime
    visitor_id: int | None
    content: str
    feedback: str
    problems: str
    measures: str
    satisfaction: str
    satisfied: bool | None
    handling: str
    transfer_department: str
    next_visit_on: date | None
    result: VisitResult
    customer_signed: bool


def _validate_record(
    s: Session,
    ctx: ServiceContext,
    cfg: _Config,
    d: VisitRecordDraft,
    c: Customer,
    independent: bool,
    require_text: bool = False,
    handler_id: int | None = None,
) -> _CleanRecord:
    """Every field of the form; all problems are reported together, in Chinese, naming the field.
    ``require_text`` (office setting): a 成功 visit needs its 回访内容 and 客户意见/反馈 written down (001:
    "回访内容应记录留痕"). ``handler_id``: the complaint's handler for a closing visit (independence)."""
    errors: list[FieldError] = []
    vt = _enum_field(VisitType, d.visit_type, "visit_type", "回访类型", errors)
    vm = _enum_field(VisitMethod, d.method, "method", "回访方式", errors)
    result = None
    if not clean_text(d.result):
        errors.append(FieldError("result", "结果", "请选择回访结果"))
    else:
        result = _enum_field(VisitResult, d.result, "result", "结果", errors)
    visited_at = _parse_moment(d.visited_at, errors)
    if visited_at is not None and visited_at > ctx.now():
        errors.append(FieldError("visited_at", "回访时间", "不能晚于现在"))
    visitor_id = d.visitor_id if d.visitor_id is not None else (ctx.user.id or None)
    if visitor_id is None:
        errors.append(FieldError("visitor_id", "回访人", "请选择回访人"))
    else:
        u = s.get(User, visitor_id)
        if u is None or not u.active:
            errors.append(FieldError("visitor_id", "回访人", "所选回访人不存在或已停用"))
        elif independent and vt is not None and vt.value in cfg.options.independent_visit_types:
            refused = check_visitor(visitor_id, c.owner_id, handler_id, vt.value)
            if refused is not None:
                errors.append(FieldError("visitor_id", "回访人", refused))
    texts: dict[str, str] = {}
    for name, label, limit in (
        ("contact_name", "联系人", 50),
        ("content", "回访内容", 4000),
        ("feedback", "客户意见/反馈", 4000),
        ("problems", "问题点", 4000),
        ("measures", "改善对策", 4000),
        ("handling", "处理情况", 4000),
        ("transfer_department", "转交部门", 50),
    ):
        try:
            texts[name] = optional_text(getattr(d, name), label=label, field=name, max_len=limit)
        except ValidationError as exc:
            errors += exc.errors
            texts[name] = ""
    phone = ""
    if clean_text(d.contact_phone):
        try:
            phone = normalize_phone(d.contact_phone, label="联系电话", field="contact_phone")
        except ValidationError as exc:
            errors += exc.errors
    if texts["transfer_department"] and not texts["problems"]:
        errors.append(FieldError("problems", "问题点", "转交部门处理时请写明问题点"))
    satisfaction, satisfied = "", None
    if result is VisitResult.SUCCESS and require_text:
        for name, label in (("content", "回访内容"), ("feedback", "客户意见/反馈")):
            if not texts[name] and not any(e.field == name for e in errors):
                errors.append(FieldError(name, label, "回访成功时请填写（本单位设置要求）"))
    if result is VisitResult.SUCCESS:
        satisfaction = clean_text(d.satisfaction)
        if not satisfaction:
            errors.append(FieldError("satisfaction", "满意度", "回访成功时请选择满意度"))
        else:
            try:
                satisfied = cfg.scale.is_satisfied(satisfaction)
            except ValidationError as exc:
                errors += exc.errors
    if vm is not None and needs_signature(vm) and not d.customer_signed:
        errors.append(FieldError("customer_signed", "客户签字", "上门回访需客户签字"))
    try:
        next_on = parse_date(d.next_visit_on, label="下次回访时间", field="next_visit_on")
    except ValidationError as exc:
        errors += exc.errors
        next_on = None
    if next_on is not None and visited_at is not None and next_on <= visited_at.date():
        errors.append(FieldError("next_visit_on", "下次回访时间", "应晚于本次回访日期"))
    if errors:
        raise ValidationError(errors)
    assert vt is not None and vm is not None and result is not None and visited_at is not None
    return _CleanRecord(
        texts["contact_name"],
        phone,
        vt,
        vm,
        visited_at,
        visitor_id,
        texts["content"],
        texts["feedback"],
        texts["problems"],
        texts["measures"],
        satisfaction,
        satisfied,
        texts["handling"],
        texts["transfer_department"],
        next_on,
        result,
        bool(d.customer_signed) and needs_signature(vm),
    )


def _apply_record(rec: VisitRecord, clean: _CleanRecord, transfer_hours: int) -> None:
    rec.contact_name, rec.contact_phone = clean.contact_name, clean.contact_phone
    rec.visit_type, rec.method = clean.visit_type.value, clean.method.value
    rec.visited_at, rec.visitor_id = clean.visited_at, clean.visitor_id
    rec.content, rec.feedback, rec.problems, rec.measures = (
        clean.content,
        clean.feedback,
        clean.problems,
        clean.measures,
    )
    rec.satisfaction, rec.handling = clean.satisfaction, clean.handling
    rec.transfer_department = clean.transfer_department
    if not clean.transfer_department:
        rec.transfer_due, rec.transfer_done_at, rec.transfer_answer = None, None, ""
    elif rec.transfer_done_at is None:  # passed on: the department answers within transfer_hours
        rec.transfer_due = clean.visited_at + timedelta(hours=transfer_hours)
    rec.next_visit_on, rec.result, rec.customer_signed = (
        clean.next_visit_on,
        clean.result.value,
        clean.customer_signed,
    )


def _record_snapshot(rec: VisitRecord) -> dict[str, Any]:
    return {
        "contact_name": rec.contact_name,
        "contact_phone": rec.contact_phone,
        "visit_type": rec.visit_type,
        "method": rec.method,
        "visited_at": rec.visited_at.isoformat(sep=" ") if rec.visited_at else None,
        "visitor_id": rec.visitor_id,
        "content": rec.content,
        "feedback": rec.feedback,
        "problems": rec.problems,
        "measures": rec.measures,
        "satisfaction": rec.satisfaction,
        "handling": rec.handling,
        "transfer_department": rec.transfer_department,
        "next_visit_on": rec.next_visit_on.isoformat() if rec.next_visit_on else None,
        "result": rec.result,
        "customer_signed": rec.customer_signed,
    }


def _signature_text(method: str, signed: bool) -> str:
    substitute = signature_substitute(method) if method in {m.value for m in VisitMethod} else None
    if substitute is not None:
        return substitute
    return "已签字" if signed else "未签字"


def _record_row(s: Session, rec: VisitRecord, now: datetime, **extra: Any) -> VisitRecordRow:
    c = s.get(Customer, rec.customer_id)
    assert c is not None
    visitor = s.get(User, rec.visitor_id) if rec.visitor_id else None
    return _row_of(rec, c.code, c.name, c.grade, visitor.display_name if visitor else "", now, **extra)


def _row_of(
    rec: VisitRecord, code: str, name: str, grade: str, visitor: str, now: datetime, **extra: Any
) -> VisitRecordRow:
    """One record as the UI shows it: its customer's code, name and class and the visitor's name given."""
    overdue = bool(rec.transfer_due and rec.transfer_done_at is None and now > rec.transfer_due)
    return VisitRecordRow(
        rec.id,
        rec.number,
        rec.plan_id,
        rec.customer_id,
        code,
        name,
        grade,
        rec.contact_name,
        format_phone(rec.contact_phone),
        rec.visit_type,
        rec.method,
        rec.visited_at,
        rec.visitor_id,
        visitor,
        rec.content,
        rec.feedback,
        rec.problems,
        rec.measures,
        rec.satisfaction,
        rec.handling,
        rec.transfer_department,
        rec.transfer_due,
        rec.transfer_done_at,
        rec.transfer_answer,
        overdue,
        rec.next_visit_on,
        rec.result,
        rec.customer_signed,
        _signature_text(rec.method, rec.customer_signed),
        rec.status,
        rec.version,
        supervisor_comment=rec.supervisor_comment or "",
        **extra,
    )


def _add_plan(
    s: Session,
    ctx: ServiceContext,
    p: PlannedVisit,
    customer_id: int,
    owner_id: int | None,
    *,
    manual: bool = False,
) -> VisitPlan | None:
    """Insert one plan unless its key exists (idempotent); returns the new plan or None."""
    if s.execute(select(VisitPlan.id).where(VisitPlan.source_key == p.source_key)).first() is not None:
        return None
    plan = VisitPlan(
        customer_id=customer_id,
        source_key=p.source_key,
        rule_key=p.rule_key,
        visit_type=p.visit_type.value,
        method=p.method.value,
        earliest=p.earliest,
        due=p.due,
        owner_id=owner_id,
        attempt=p.attempt,
        state=_PENDING,
        cancel_reason="",
        manual=manual,
        created_at=ctx.now(),
    )
    s.add(plan)
    s.flush()
    return plan


def _plan_follow_ups(
    s: Session,
    ctx: ServiceContext,
    cfg: _Config,
    rec: VisitRecord,
    clean: _CleanRecord,
    plan: VisitPlan | None,
    customer: Customer,
) -> tuple[VisitPlan | None, VisitPlan | None]:
    """The next attempt (再次回访) when the visit did not reach or satisfy, and the plan for 下次回访时间.
    When both are asked for, the follow-up takes the day the visitor chose. Idempotent keys."""
    previous = None
    if plan is not None:
        previous = PlannedVisit(
            rule_key=plan.rule_key,
            visit_type=VisitType(plan.visit_type),
            method=VisitMethod(plan.method),
            earliest=plan.earliest,
            due=plan.due,
            who=Assignee.OWNER,
            source_key=plan.source_key,
            attempt=plan.attempt,
        )
    attempt = plan.attempt if plan is not None else 1
    context = chain_context(s, plan, rec.id)
    nxt = follow_up(
        clean.result,
        clean.satisfied,
        attempt,
        clean.visited_at.date(),
        cfg.rules,
        cfg.cal,
        previous=previous,
        origin=f"record:{rec.id}",
        first_method=clean.method if attempt <= 1 else None,
        severity=context.severity,
        refusals=context.refusals,
    )
    owner = plan.owner_id if plan is not None and plan.owner_id else (clean.visitor_id or customer.owner_id)
    chosen = cfg.cal.next_workday(clean.next_visit_on) if clean.next_visit_on else None
    follow_plan = next_plan = None
    if nxt is not None:
        if chosen is not None:
            nxt = replace(nxt, due=chosen, earliest=min(nxt.earliest, chosen))
        follow_plan = _add_plan(s, ctx, nxt, customer.id, owner, manual=chosen is not None)
    elif chosen is not None:
        p = PlannedVisit(
            rule_key=MANUAL_RULE,
            visit_type=clean.visit_type,
            method=clean.method,
            earliest=chosen,
            due=chosen,
            who=Assignee.OWNER,
            source_key=f"record:{rec.id}#next",
            origin=f"record:{rec.id}",
        )
        next_plan = _add_plan(s, ctx, p, customer.id, clean.visitor_id or customer.owner_id, manual=True)
    return follow_plan, next_plan


def _close_periodic_plans(
    s: Session, cfg: _Config, rec: VisitRecord, clean: _CleanRecord, plan: VisitPlan | None
) -> list[VisitPlan]:
    """A successful visit of a type that counts (``RuleSet.satisfies``: 例行 for the routine plan, 技术 for
    the technical one) completes the customer's open routine/technical plans already open on the visit day,
    late or not — so a late visit stays late in the 考核. A greeting, reminder or SMS completes none."""
    if clean.result is not VisitResult.SUCCESS:
        return []
    keys = [k for k in (ROUTINE_RULE, TECHNICAL_RULE) if satisfies(clean.visit_type, k, cfg.rules)]
    if not keys:
        return []
    day = clean.visited_at.date()
    q = select(VisitPlan).where(
        VisitPlan.customer_id == rec.customer_id,
        VisitPlan.state == _PENDING,
        VisitPlan.rule_key.in_(keys),
        VisitPlan.earliest <= day,
    )
    if plan is not None:
        q = q.where(VisitPlan.id != plan.id)
    closed = list(s.execute(q.order_by(VisitPlan.due, VisitPlan.id)).scalars())
    for p in closed:
        p.state, p.done_on, p.record_id = _DONE, day, rec.id
    if closed and rec.plan_id is None:
        rec.plan_id = closed[0].id
    return closed


@dataclass(frozen=True, slots=True)
class PlannedVisitDone:
    """A visit just recorded against a plan, as the step that follows it in the same transaction sees it
    (:func:`record_visit`'s ``then``): a complaint's closing visit settles the complaint."""

    plan_key: str  # the plan's ``source_key`` (``complaint:<id>#…`` for a complaint's closing visit)
    record_id: int
    reached: bool  # the visit reached the customer (结果 成功)
    satisfied: bool | None  # None when not reached
    satisfaction: str
    visited_at: datetime
    note: str  # 客户意见/反馈 and 回访内容
    next_plan: VisitPlan | None  # the next attempt planned now (再次回访), if any


AfterVisit = Callable[[Session, ServiceContext, PlannedVisitDone], object]


def record_visit(
    ctx: ServiceContext, draft: VisitRecordDraft, *, then: AfterVisit | None = None
) -> VisitRecordRow:
    """Save a 回访记录表 in one transaction: the record (编号 HF+date+serial), the plan marked 已回访,
    the follow-up or next plan, the transfer deadline, the audit row. Invalid input writes nothing.

    ``then`` runs inside the transaction after a visit made against a plan (before the audit row): the
    step another workflow takes on it. The program records visits through
    :func:`huifang_desktop.services.workflow.record_visit`, which passes the complaint's settlement."""
    ctx.require(Permission.EDIT_CUSTOMERS, "填写回访记录")
    cfg = _config(ctx)
    independent = independence_on(ctx)
    office = load_settings(ctx)
    with ctx.sessions() as s, s.begin():
        c = s.get(Customer, draft.customer_id)
        if c is None:
            raise NotFound(f"客户档案 {draft.customer_id} 不存在。")
        check_visible(ctx, c, office)
        plan = None
        if draft.plan_id is not None:
            plan = _load_plan(s, draft.plan_id)
            if plan.customer_id != c.id:
                raise ValidationError(FieldError("plan_id", "回访计划", "计划不属于该客户"))
            if plan.state != _PENDING:
                raise ValidationError(
                    FieldError("plan_id", "回访计划", f"该计划{already(plan.state)}，不能再登记")
                )
        handler = complaint_handler(s, plan.source_key) if plan is not None else None
        clean = _validate_record(s, ctx, cfg, draft, c, independent, office.require_visit_text, handler)
        if plan is not None and not satisfies(clean.visit_type, plan.rule_key, cfg.rules):
            raise ValidationError(
                FieldError(
                    "visit_type",
                    "回访类型",
                    f"{clean.visit_type.value}回访不能完成{plan.visit_type}回访计划"
                    "（只有设置中“计入哪些计划”所列的回访类型才算，如例行回访计划只认例行回访）",
                )
            )
        serial = next_serial(s, f"visit:{clean.visited_at:%Y%m%d}")
        rec = VisitRecord(
            number=format_visit_number(clean.visited_at.date(), serial),
            plan_id=draft.plan_id,
            customer_id=c.id,
            status=RECORD_PENDING,
            supervisor_comment="",
            content_hash="",
            revision=0,
            transfer_answer="",
            created_at=ctx.now(),
        )
        _apply_record(rec, clean, cfg.options.transfer_hours)
        s.add(rec)
        s.flush()
        if plan is not None:
            plan.state, plan.done_on, plan.record_id = _DONE, clean.visited_at.date(), rec.id
        closed = _close_periodic_plans(s, cfg, rec, clean, plan)
        follow_plan, next_plan = _plan_follow_ups(s, ctx, cfg, rec, clean, plan, c)
        if plan is not None and then is not None:
            said = "；".join(t for t in (clean.feedback, clean.content) if t)
            then(
                s,
                ctx,
                PlannedVisitDone(
                    plan.source_key,
                    rec.id,
                    clean.result is VisitResult.SUCCESS,
                    clean.satisfied,
                    clean.satisfaction,
                    clean.visited_at,
                    said,
                    follow_plan,
                ),
            )
        note = [f"完成{p.visit_type}回访计划（到期 {p.due:%Y-%m-%d}）" for p in closed]
        if follow_plan is not None:
            note.append(f"再次回访（第{follow_plan.attempt}次）{follow_plan.due:%Y-%m-%d}")
        if next_plan is not None:
            note.append(f"下次回访 {next_plan.due:%Y-%m-%d}")
        audit(
            s,
            ctx,
            "填写回访记录",
            "visit_record",
            rec.id,
            f"{rec.number} {c.code} {c.name}",
            new=_record_snapshot(rec),
            note="；".join(note),
        )
        s.flush()
        return _record_row(
            s,
            rec,
            ctx.now(),
            offer_complaint=clean.satisfied is False,
            follow_up_plan_id=follow_plan.id if follow_plan else None,
            next_plan_id=next_plan.id if next_plan else None,
        )


def get_record(ctx: ServiceContext, record_id: int) -> VisitRecordRow:
    with ctx.sessions() as s:
        rec = s.get(VisitRecord, record_id)
        if rec is None:
            raise NotFound(f"回访记录 {record_id} 不存在。")
        c = s.get(Customer, rec.customer_id)
        assert c is not None
        check_visible(ctx, c)
        return _record_row(s, rec, ctx.now())


def update_record(
    ctx: ServiceContext, record_id: int, draft: VisitRecordDraft, expected_version: int
) -> VisitRecordRow:
    """Correct a record before it is signed. Signed records are locked (LockedError); a record saved by
    someone else since it was opened raises ConflictError. A returned (退回) record goes back for review."""
    ctx.require(Permission.EDIT_CUSTOMERS, "修改回访记录")
    cfg = _config(ctx)
    independent = independence_on(ctx)
    office = load_settings(ctx)
    try:
        with ctx.sessions() as s, s.begin():
            rec = s.get(VisitRecord, record_id)
            if rec is None:
                raise NotFound(f"回访记录 {record_id} 不存在。")
            c = s.get(Customer, rec.customer_id)
            assert c is not None
            check_visible(ctx, c, office)
            if rec.status == RECORD_SIGNED:
                raise LockedError(f"回访记录 {rec.number} 已由主管签字，不能修改；如需更正请主管撤回签字。")
            if rec.status == RECORD_HISTORY:
                raise LockedError(
                    f"回访记录 {rec.number} 是从 Excel 导入的历史记录，不能修改；如需更正请撤销该次导入。"
                )
            signed_report = _signed_report_covering(s, rec)
            if signed_report is not None:
                raise LockedError(
                    f"回访记录 {rec.number} 已汇总在主管签字的回访报告 {signed_report} 中，不能修改；"
                    "如需更正请主管撤回该报告的签字。"
                )
            if rec.version != expected_version:
                what = recent_changes(s, "visit_record", rec.id, rec.version - expected_version, ctx.user.id)
                raise ConflictError(
                    f"回访记录 {rec.number} 已被其他人修改（版本 {expected_version} → {rec.version}），"
                    "您的修改未保存。请重新打开后再修改。" + (f"\n对方的修改：\n{what}" if what else "")
                )
            if ctx.user.id and rec.visitor_id != ctx.user.id and not can(ctx.user.role, Permission.SIGN_OFF):
                raise PermissionDenied("只能修改自己填写的回访记录。")
            if draft.customer_id != rec.customer_id:
                raise ValidationError(FieldError("customer_id", "客户", "不能把记录改到其他客户名下"))
            plan = s.get(VisitPlan, rec.plan_id) if rec.plan_id else None
            handler = complaint_handler(s, plan.source_key) if plan is not None else None
            clean = _validate_record(s, ctx, cfg, draft, c, independent, office.require_visit_text, handler)
            before = _record_snapshot(rec)
            _apply_record(rec, clean, cfg.options.transfer_hours)
            if rec.status == RECORD_RETURNED:
                rec.status = RECORD_PENDING
            if plan is not None and plan.record_id == rec.id:
                plan.done_on = clean.visited_at.date()
            follow_plan, next_plan = _plan_follow_ups(s, ctx, cfg, rec, clean, plan, c)
            old, new = diff(before, _record_snapshot(rec))
            if new or follow_plan or next_plan:
                audit(
                    s,
                    ctx,
                    "修改回访记录",
                    "visit_record",
                    rec.id,
                    f"{rec.number} {c.code} {c.name}",
                    old=old,
                    new=new,
                )
            s.flush()
            return _record_row(
                s,
                rec,
                ctx.now(),
                offer_complaint=clean.satisfied is False,
                follow_up_plan_id=follow_plan.id if follow_plan else None,
                next_plan_id=next_plan.id if next_plan else None,
            )
    except StaleDataError:
        raise ConflictError("该回访记录刚被其他人修改，请重新打开后再修改。") from None


def _signed_report_covering(s: Session, rec: VisitRecord) -> str | None:
    """The number of a signed 回访报告表 that summarises this record (same clerk, period covers the visit)."""
    day = rec.visited_at.date()
    return s.execute(
        select(VisitReport.number)
        .where(
            VisitReport.clerk_id == rec.visitor_id,
            VisitReport.status == RECORD_SIGNED,
            VisitReport.period_start <= day,
            VisitReport.period_end >= day,
        )
        .limit(1)
    ).scalar()


def mark_transfer_answered(ctx: ServiceContext, record_id: int, answer: str) -> VisitRecordRow:
    """The department answered a transferred problem (the answer is told back to the customer)."""
    ctx.require(Permission.EDIT_CUSTOMERS, "登记处理结果")
    text = require_text(answer, label="处理结果", field="transfer_answer", max_len=4000)
    with ctx.sessions() as s, s.begin():
        rec = s.get(VisitRecord, record_id)
        if rec is None:
            raise NotFound(f"回访记录 {record_id} 不存在。")
        c = s.get(Customer, rec.customer_id)
        assert c is not None
        check_visible(ctx, c)  # another department's transfer is theirs to answer
        if not rec.transfer_department:
            raise ValidationError(
                FieldError("transfer_department", "转交部门", "该记录没有转交部门处理的问题")
            )
        if rec.status in (RECORD_SIGNED, RECORD_HISTORY):
            raise LockedError(f"回访记录 {rec.number} 已由主管签字或为导入的历史记录，不能修改。")
        old = {
            "transfer_answer": rec.transfer_answer,
            "transfer_done_at": rec.transfer_done_at.isoformat(sep=" ") if rec.transfer_done_at else None,
        }
        rec.transfer_answer, rec.transfer_done_at = text, ctx.now()
        late = rec.transfer_due is not None and rec.transfer_done_at > rec.transfer_due
        audit(
            s,
            ctx,
            "登记转交处理结果",
            "visit_record",
            rec.id,
            rec.number,
            old=old,
            new={"transfer_answer": text, "transfer_done_at": rec.transfer_done_at.isoformat(sep=" ")},
            note="超过处理时限" if late else "",
        )
        s.flush()
        return _record_row(s, rec, ctx.now())


def overdue_transfers(ctx: ServiceContext, now: datetime | None = None) -> list[TransferRow]:
    """Problems passed to a department whose answer is past its deadline (24 hours by default)."""
    now = now or ctx.now()
    visitor = aliased(User)
    scope = customer_scope(ctx)
    with ctx.sessions() as s:
        q = (
            select(
                VisitRecord.id.label("record_id"),
                VisitRecord.number,
                Customer.code.label("customer_code"),
                Customer.name.label("customer_name"),
                VisitRecord.transfer_department.label("department"),
                VisitRecord.problems,
                VisitRecord.transfer_due.label("due"),
                visitor.display_name.label("visitor"),
            )
            .join(Customer, Customer.id == VisitRecord.customer_id)
            .outerjoin(visitor, visitor.id == VisitRecord.visitor_id)
            .where(
                VisitRecord.transfer_due.is_not(None),
                VisitRecord.transfer_done_at.is_(None),
                VisitRecord.transfer_due < now,
            )
            .order_by(VisitRecord.transfer_due, VisitRecord.id)
        )
        q = scope.where(q)
        return [TransferRow(**{**r._mapping, "visitor": r.visitor or ""}, overdue=True) for r in s.execute(q)]


def list_records(
    ctx: ServiceContext,
    *,
    start: date | None = None,
    end: date | None = None,
    visitor_id: int | None = None,
    customer_id: int | None = None,
    status: str | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
    descending: bool = True,
) -> list[VisitRecordRow]:
    """One page of the visit ledger, keyset-paged on (visited_at, id): pass the last row's
    ``(visited_at, id)`` as ``after`` for the next page."""
    now = ctx.now()
    scope = customer_scope(ctx)
    visitor = aliased(User)
    q = (
        select(VisitRecord, Customer.code, Customer.name, Customer.grade, visitor.display_name)
        .join(Customer, Customer.id == VisitRecord.customer_id)
        .outerjoin(visitor, visitor.id == VisitRecord.visitor_id)
    )
    if start is not None:
        q = q.where(VisitRecord.visited_at >= datetime.combine(start, datetime.min.time()))
    if end is not None:
        q = q.where(VisitRecord.visited_at < datetime.combine(end + timedelta(days=1), datetime.min.time()))
    if visitor_id is not None:
        q = q.where(VisitRecord.visitor_id == visitor_id)
    if customer_id is not None:
        q = q.where(VisitRecord.customer_id == customer_id)
    if status:
        q = q.where(VisitRecord.status == status)
    q = scope.where(q)
    key = tuple_(VisitRecord.visited_at, VisitRecord.id)
    if after is not None:
        q = q.where(key < tuple_(*after) if descending else key > tuple_(*after))
    if descending:
        q = q.order_by(VisitRecord.visited_at.desc(), VisitRecord.id.desc())
    else:
        q = q.order_by(VisitRecord.visited_at, VisitRecord.id)
    with ctx.sessions() as s:
        out = []
        for rec, code, name, grade, vname in s.execute(q.limit(limit)):
            out.append(_row_of(rec, code, name, grade, vname or "", now))
        return out
