"""The 回访记录表: filled from a saved record, blank for a planned visit, as typed, a day's stack."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.validation import format_phone, parse_date
from huifang_desktop.domain.visits import DEFAULT_SCALE, VisitMethod, signature_substitute
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import NotFound
from huifang_desktop.services.outputs import check_suffix
from huifang_desktop.services.policy import check_visible, customer_scope
from huifang_desktop.services.printing.documents import (
    _CANCELLED,
    _CHUNK,
    VISIT_RECORD_FORM,
    CancelCheck,
    PrintedDocument,
    PrintError,
    PrintOptions,
    ProgressCallback,
    _print_settings_in,
    _scale_levels,
    load_print_options,
)
from huifang_desktop.services.printing.rendering import _form_document, _signature, _signer_keys, _template
from huifang_desktop.services.settings import load_settings
from huifang_desktop.services.visits import RECORD_RETURNED, RECORD_SIGNED, VisitRecordDraft, list_plans
from huifang_desktop.storage.models import Customer, User, VisitPlan, VisitRecord

# --- 回访记录表 -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CustomerBrief:
    """What a printed record shows of its customer, and what the visibility check needs."""

    code: str
    name: str
    grade: str
    address: str
    department_id: int | None


@dataclass(frozen=True, slots=True)
class _RecordData:
    record: Any  # the visit_record row's columns by name (a Core row: no ORM objects for a read-only form)
    customer: _CustomerBrief
    visitor: str
    signer: str | None
    planned_on: date | None


@functools.cache
def _record_select() -> Any:
    """Built once, the ids a bound parameter: building the select, or even its ``where``, and loading ORM
    objects cost more than the query itself for one form (bench/bench_print.py)."""
    visitor = aliased(User)
    signer = aliased(User)
    record = VisitRecord.__table__
    return (
        select(
            *record.c,
            Customer.code.label("customer_code"),
            Customer.name.label("customer_name"),
            Customer.grade.label("customer_grade"),
            Customer.address.label("customer_address"),
            Customer.department_id.label("customer_department_id"),
            visitor.display_name.label("visitor_name"),
            signer.display_name.label("signer_name"),
            VisitPlan.due.label("planned_on"),
        )
        .join(Customer, Customer.id == record.c.customer_id)
        .outerjoin(visitor, visitor.id == record.c.visitor_id)
        .outerjoin(signer, signer.id == record.c.signed_by_id)
        .outerjoin(VisitPlan, VisitPlan.id == record.c.plan_id)
        .where(record.c.id.in_(bindparam("ids", expanding=True)))
    )


def _customer_signature(method: str, signed: bool) -> str | None:
    """The 客户签字 box: 电话回访 etc. where no signature is needed, 已签字, or a blank line to sign on."""
    substitute = signature_substitute(method) if method in {m.value for m in VisitMethod} else None
    if substitute is not None:
        return substitute
    return "已签字" if signed else None


def _customer_signed_on(method: str, signed: bool, visited_at: Any) -> Any:
    """The date beside 已签字 (the visit's day); None leaves 年 月 日 to fill in (not signed yet, or no
    signature needed)."""
    if not signed or _customer_signature(method, signed) != "已签字":
        return None
    return visited_at.date() if isinstance(visited_at, datetime) else visited_at


def _review_comment(status: str, comment: str, signed: bool) -> str:
    """The 主管审阅意见 box: the signer's comment, or the reason a returned form came back."""
    if signed:
        return comment
    if status == RECORD_RETURNED and comment:
        return f"退回修改：{comment}"
    return ""


def _record_values(d: _RecordData, levels: Sequence[str] = DEFAULT_SCALE.levels) -> dict[str, Any]:
    r, c = d.record, d.customer
    signed = r.status == RECORD_SIGNED and d.signer is not None
    return {
        "number": r.number,
        "customer_name": c.name,
        "customer_code": c.code,
        "customer_grade": c.grade,
        "customer_address": c.address,
        "contact_name": r.contact_name,
        "contact_phone": format_phone(r.contact_phone),
        "visit_type": r.visit_type,
        "method": r.method,
        "visited_at": r.visited_at,
        "visitor": d.visitor,
        "visitor_sign": d.visitor,
        "planned_on": d.planned_on,
        "content": r.content,
        "feedback": r.feedback,
        "problems": r.problems,
        "measures": r.measures,
        "satisfaction": r.satisfaction,
        "handling": r.handling,
        "transfer_department": r.transfer_department,
        "transfer_answer": r.transfer_answer,
        "next_visit_on": r.next_visit_on,
        "result": r.result,
        "customer_signed": _customer_signature(r.method, r.customer_signed),
        "customer_signed_on": _customer_signed_on(r.method, r.customer_signed, r.visited_at),
        "supervisor_comment": _review_comment(r.status, r.supervisor_comment, signed),
        "supervisor": d.signer if signed else None,
        "signed_at": r.signed_at if signed else None,
        "status": r.status,
        "satisfaction_levels": list(levels),
    }


def _record_job(
    s: Session, d: _RecordData, options: PrintOptions, levels: Sequence[str] = DEFAULT_SCALE.levels
) -> Any:
    from huifang_desktop.domain.signoff import Integrity
    from huifang_desktop.printing import FormJob
    from huifang_desktop.services.review import row_integrity

    r = d.record
    signed = r.status == RECORD_SIGNED
    signature = _signature(options, d.signer, r.signed_at, r.signed_role) if signed else None
    return FormJob(
        _record_values(d, levels),
        draft=options.watermark_unsigned and not signed,
        signed=signature,
        revision=r.revision or 0,
        tampered=row_integrity("回访记录表", r, s, _signer_keys(s)) is Integrity.TAMPERED,
    )


def _record_label(d: _RecordData) -> str:
    return f"{d.record.number} {d.customer.code} {d.customer.name}"


def _load_records(s: Session, ids: Sequence[int]) -> dict[int, _RecordData]:
    found: dict[int, _RecordData] = {}
    conn = s.connection()  # a Core read: it sees what is committed or flushed, not a pending ORM change
    for i in range(0, len(ids), _CHUNK):
        for row in conn.execute(_record_select(), {"ids": list(ids[i : i + _CHUNK])}):
            customer = _CustomerBrief(
                row.customer_code,
                row.customer_name,
                row.customer_grade,
                row.customer_address,
                row.customer_department_id,
            )
            found[row.id] = _RecordData(
                row, customer, row.visitor_name or "", row.signer_name, row.planned_on
            )
    return found


def visit_record_pdf(
    ctx: ServiceContext, record_id: int, out: str | Path | None = None, *, forms_dir: Path | None = None
) -> PrintedDocument:
    """The filled 回访记录表 of a saved record: signer and date when signed off, else the 草稿 watermark."""
    with ctx.sessions() as s:  # one connection for the settings and the record: a clerk prints one at a time
        options, office, levels = _print_settings_in(s)
        data = _load_records(s, [record_id]).get(record_id)
        if data is None:
            raise NotFound(f"回访记录 {record_id} 不存在。")
        check_visible(ctx, data.customer, office)
        job = _record_job(s, data, options, levels)
        label = _record_label(data)
        number = data.record.number
    return _form_document(
        ctx,
        VISIT_RECORD_FORM,
        [job],
        entity="visit_record",
        entity_id=record_id,
        label=label,
        title=f"回访记录表 {number}",
        file_name=f"回访记录表_{number}.pdf",
        forms_dir=forms_dir,
        out=out,
        company=office.company,
    )


def visit_records_pdf(
    ctx: ServiceContext,
    record_ids: Sequence[int],
    out: str | Path | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
    forms_dir: Path | None = None,
) -> PrintedDocument:
    """Many filled 回访记录表 in one PDF (a filtered ledger's records), in the order given."""
    if not record_ids:
        raise ValidationError(FieldError("record_ids", "回访记录", "没有要打印的回访记录"))
    scope = customer_scope(ctx)
    with ctx.sessions() as s:
        options, _office, levels = _print_settings_in(s)
        found = _load_records(s, list(record_ids))
        missing = [i for i in record_ids if i not in found]
        if missing:
            raise NotFound(f"回访记录 {missing[0]} 不存在。")
        for d in found.values():
            scope.check(d.customer)
        jobs = [_record_job(s, found[i], options, levels) for i in record_ids]
        numbers = [found[i].record.number for i in record_ids]
    first, last = numbers[0], numbers[-1]
    return _form_document(
        ctx,
        VISIT_RECORD_FORM,
        jobs,
        entity="visit_record",
        entity_id=None,
        label=f"回访记录表 {len(jobs)} 份（{first} 等）",
        title=f"回访记录表 {len(jobs)} 份",
        file_name=f"回访记录表_{first}_{last}.pdf" if len(jobs) > 1 else f"回访记录表_{first}.pdf",
        detail={"records": list(record_ids)},
        forms_dir=forms_dir,
        progress=progress,
        cancelled=cancelled,
        out=out,
    )


def _blank_values(
    plan: VisitPlan | None, c: Customer, owner: str, levels: Sequence[str] = DEFAULT_SCALE.levels
) -> dict[str, Any]:
    """Pre-printed: customer, contact and phone, address, visit type, planned day. The rest stays blank."""
    return {
        "number": "",
        "customer_name": c.name,
        "customer_code": c.code,
        "customer_grade": c.grade,
        "customer_address": c.address,
        "contact_name": c.primary_contact,
        "contact_phone": format_phone(c.primary_phone),
        "visit_type": plan.visit_type if plan is not None else None,
        "method": plan.method if plan is not None else None,  # the planned method, ticked
        "planned_on": plan.due if plan is not None else None,
        "visitor": owner,
        "satisfaction_levels": list(levels),
    }


def _blank_job(
    plan: VisitPlan | None, c: Customer, owner: str, levels: Sequence[str] = DEFAULT_SCALE.levels
) -> Any:
    from huifang_desktop.printing import FormJob

    return FormJob(_blank_values(plan, c, owner, levels))


def blank_visit_record_pdf(
    ctx: ServiceContext,
    plan_id: int | None,
    out: str | Path | None = None,
    *,
    customer_id: int | None = None,
    forms_dir: Path | None = None,
) -> PrintedDocument:
    """A blank 回访记录表 for a planned visit (or, without a plan, for ``customer_id``), for an on-site visit:
    customer, contact, phone, address, visit type and planned day pre-printed; no watermark."""
    office, levels = load_settings(ctx), _scale_levels(ctx)
    with ctx.sessions() as s:
        plan = s.get(VisitPlan, plan_id) if plan_id is not None else None
        if plan_id is not None and plan is None:
            raise NotFound(f"回访计划 {plan_id} 不存在。")
        cid = plan.customer_id if plan is not None else customer_id
        if cid is None:
            raise ValidationError(FieldError("customer_id", "客户", "请选择客户"))
        c = s.get(Customer, cid)
        if c is None:
            raise NotFound(f"客户档案 {cid} 不存在。")
        check_visible(ctx, c, office)
        if plan is not None and plan.state == _CANCELLED:
            raise ValidationError(FieldError("plan_id", "回访计划", "该计划已取消，不能打印回访记录表"))
        owner_id = plan.owner_id if plan is not None else c.owner_id
        owner = s.get(User, owner_id) if owner_id else None
        job = _blank_job(plan, c, owner.display_name if owner else "", levels)
        day = plan.due if plan is not None else ctx.today()
        label = f"空白表 {c.code} {c.name} {day:%Y-%m-%d}"
        code = c.code
    return _form_document(
        ctx,
        VISIT_RECORD_FORM,
        [job],
        entity="visit_plan" if plan_id else "customer",
        entity_id=plan_id if plan_id else cid,
        label=label,
        title=f"回访记录表（空白）{code} {day:%Y-%m-%d}",
        file_name=f"回访记录表_空白_{code}_{day:%Y%m%d}.pdf",
        forms_dir=forms_dir,
        out=out,
    )


def _typed_time(value: datetime | date | str | None) -> datetime | date | str | None:
    """A date or time as typed in an unsaved form: printed as the program reads it, or as typed when it
    does not read (the preview shows what is on screen; saving says what is wrong with it)."""
    if not isinstance(value, str):
        return value
    try:
        return parse_date(value, label="日期") or None
    except ValidationError:
        return value


def draft_visit_record_pdf(
    ctx: ServiceContext,
    draft: VisitRecordDraft,
    out: str | Path | None = None,
    *,
    forms_dir: Path | None = None,
) -> PrintedDocument:
    """The 回访记录表 as typed in the form, before it is saved: the plan's customer and planned day with every
    field on screen, no number, and the 草稿 watermark (nothing is stored, so it can be neither signed nor
    found again)."""
    office, levels = load_settings(ctx), _scale_levels(ctx)
    with ctx.sessions() as s:
        c = s.get(Customer, draft.customer_id)
        if c is None:
            raise NotFound(f"客户档案 {draft.customer_id} 不存在。")
        check_visible(ctx, c, office)
        plan = s.get(VisitPlan, draft.plan_id) if draft.plan_id is not None else None
        visitor = s.get(User, draft.visitor_id) if draft.visitor_id else None
        values = _blank_values(plan, c, "", levels)
        code = c.code
    values.update(
        {
            "contact_name": draft.contact_name,
            "contact_phone": draft.contact_phone,
            "visit_type": draft.visit_type,
            "method": draft.method,
            "visited_at": _typed_time(draft.visited_at),
            "visitor": visitor.display_name if visitor is not None else ctx.user.display_name,
            "visitor_sign": visitor.display_name if visitor is not None else ctx.user.display_name,
            "content": draft.content,
            "feedback": draft.feedback,
            "problems": draft.problems,
            "measures": draft.measures,
            "satisfaction": draft.satisfaction,
            "handling": draft.handling,
            "transfer_department": draft.transfer_department,
            "transfer_answer": "",
            "next_visit_on": _typed_time(draft.next_visit_on),
            "result": draft.result,
            "customer_signed": _customer_signature(draft.method, draft.customer_signed),
            "customer_signed_on": _customer_signed_on(
                draft.method, draft.customer_signed, _typed_time(draft.visited_at)
            ),
            "supervisor_comment": "",
            "supervisor": None,
            "signed_at": None,
            "status": "未保存",
        }
    )
    from huifang_desktop.printing import FormJob

    job = FormJob(values, draft=True)
    return _form_document(
        ctx,
        VISIT_RECORD_FORM,
        [job],
        entity="customer",
        entity_id=draft.customer_id,
        label=f"未保存的回访记录表 {code} {c.name}",
        title=f"回访记录表（未保存）{code}",
        file_name=f"回访记录表_未保存_{code}.pdf",
        forms_dir=forms_dir,
        out=out,
        company=office.company,
    )


def plan_form_pdf(
    ctx: ServiceContext, plan_id: int, out: str | Path | None = None, *, forms_dir: Path | None = None
) -> PrintedDocument:
    """The 回访记录表 of a plan: the filled record when the visit was recorded, else the blank form."""
    with ctx.sessions() as s:
        plan = s.get(VisitPlan, plan_id)
        if plan is None:
            raise NotFound(f"回访计划 {plan_id} 不存在。")
        record_id = plan.record_id
    if record_id is not None:
        return visit_record_pdf(ctx, record_id, out, forms_dir=forms_dir)
    return blank_visit_record_pdf(ctx, plan_id, out, forms_dir=forms_dir)


DAY_COVER_FORM = "day_cover"


def _by_owner(plans: Sequence[Any]) -> list[list[Any]]:
    """Consecutive plans of one owner (the list is sorted by owner)."""
    groups: list[list[Any]] = []
    for plan in plans:
        if groups and groups[-1][0].owner_id == plan.owner_id:
            groups[-1].append(plan)
        else:
            groups.append([plan])
    return groups


def day_plans_pdf(
    ctx: ServiceContext,
    day: date,
    owner_id: int | None = None,
    *,
    team: bool = False,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
    out: str | Path | None = None,
    forms_dir: Path | None = None,
) -> PrintedDocument:
    """One 回访记录表 per visit planned for ``day`` (cancelled ones left out), in one PDF: the filled record
    of a visit already made, a blank form for one still to make (回访人 = the plan's owner, the planned
    method ticked). Sorted and grouped by clerk, each clerk's forms after a 回访任务单 cover sheet listing
    their visits (customer, contact, phone, type, method), so the stack can be handed out as printed. ``owner_id`` / ``team`` as in
    :func:`~huifang_desktop.services.visits.list_plans` (the calendar's scope)."""
    if out is not None:
        check_suffix(Path(out), ".pdf", PrintError)
    plans = [
        p for p in list_plans(ctx, start=day, end=day, owner_id=owner_id, team=team) if p.state != _CANCELLED
    ]
    if not plans:
        raise ValidationError(FieldError("day", "日期", f"{day:%Y-%m-%d} 没有要打印的回访计划"))
    from huifang_desktop.domain.customers import pinyin_initials
    from huifang_desktop.printing import FormJob

    options, levels = load_print_options(ctx), _scale_levels(ctx)
    # the stack a supervisor hands out: grouped by clerk (by the pinyin of the name, unassigned last), each
    # clerk's visits by customer code
    plans.sort(
        key=lambda p: (
            p.owner_id is None,
            pinyin_initials(p.owner or ""),
            p.owner or "",
            p.owner_id or 0,
            p.customer_code,
            p.id,
        )
    )
    ids = [p.id for p in plans]
    cover = _template(DAY_COVER_FORM, forms_dir)
    with ctx.sessions() as s:
        rows: dict[int, tuple[VisitPlan, Customer, str]] = {}
        owner = aliased(User)
        for i in range(0, len(ids), _CHUNK):
            q = (
                select(VisitPlan, Customer, owner.display_name)
                .join(Customer, Customer.id == VisitPlan.customer_id)
                .outerjoin(owner, owner.id == VisitPlan.owner_id)
                .where(VisitPlan.id.in_(ids[i : i + _CHUNK]))
            )
            for plan, cust, name in s.execute(q):
                rows[plan.id] = (plan, cust, name or "")
        records = _load_records(s, [p.record_id for p, _, _ in rows.values() if p.record_id is not None])
        jobs = []
        done: list[int] = []
        clerks = 0
        for group in _by_owner(plans):
            listed = []
            for no, row in enumerate(group, start=1):
                plan, cust, name = rows[row.id]
                listed.append(
                    {
                        "no": no,
                        "code": cust.code,
                        "customer": cust.name,
                        "contact": cust.primary_contact,
                        "phone": format_phone(cust.primary_phone),
                        "type": plan.visit_type,
                        "method": plan.method,
                        "state": row.record_number or "待回访",
                    }
                )
            owner_name = group[0].owner or "（未指定回访人）"
            jobs.append(
                FormJob(
                    {"clerk": owner_name, "day": day, "count": f"{len(group)} 份", "visits": listed},
                    template=cover,
                )
            )
            clerks += 1
            for row in group:
                plan, cust, name = rows[row.id]
                data = records.get(plan.record_id) if plan.record_id is not None else None
                if data is not None:
                    jobs.append(_record_job(s, data, options, levels))
                    done.append(data.record.id)
                else:
                    jobs.append(_blank_job(plan, cust, name, levels))
    return _form_document(
        ctx,
        VISIT_RECORD_FORM,
        jobs,
        entity="visit_plan",
        entity_id=None,
        label=f"{day:%Y-%m-%d} 回访计划 {len(ids)} 份",
        title=f"回访记录表 {day:%Y-%m-%d}（{len(ids)} 份）",
        file_name=f"回访记录表_{day:%Y%m%d}.pdf",
        detail={
            "day": day.isoformat(),
            "plans": ids,
            "records": done,
            "blank": len(ids) - len(done),
            "clerks": clerks,
        },
        forms_dir=forms_dir,
        progress=progress,
        cancelled=cancelled,
        out=out,
    )
