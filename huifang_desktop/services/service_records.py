"""售后服务台账 (after-sales service ledger, domain.md §6): service records with their follow-ups.

* :func:`add_service_record` numbers a record ``FW`` + service date + the day's serial (a counter per day, so
  two PCs never hand out one number); :func:`update_service_record` saves an edited record only when nobody
  saved it since it was opened (version column, :class:`ConflictError` naming who changed what);
  :func:`add_follow_up` appends a 跟进 entry (跟进时间, 跟进人员, 跟进结果 未解决/已解决/客户放弃). Every write is one
  transaction with its audit row.
* **Repair follow-up visit.** A record of a repair kind (``ServiceOptions.repair_kinds``, default 维修) saved
  as 已完成 is a triggering record of the 维修回访 rule (``TriggerKind.REPAIR_DONE``, source key
  ``service:<id>``): after the record is committed, :func:`huifang_desktop.services.visits.on_trigger` plans
  the visit (the rule's window, method and sample rate: 30 % by default, 100 % in after-sales offices). The
  key makes it idempotent: saving the record again never plans a second visit. The plan's id is linked to
  the record (``visit_plan_id``) for the ledger's 回访 column.
* **Lists**: :class:`ServiceFilter` conditions in SQL (:func:`service_conditions`, also used by the 台账
  service) and keyset paging on ``(served_on, id)`` or ``(number, id)``, both indexed.

Who may write: the people who keep customer files (clerks and up). A clerk edits the records they handle or
entered; supervisors and managers edit any. With the department visibility setting, a limited user sees and
writes only records of their department's customers (the same rule as the customer files).

Settings (JSON, key ``service_options``): :class:`ServiceOptions` (the 服务类型 list, which kinds are repairs,
the follow-up results, the number prefix).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, func, or_, select, tuple_, union_all, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, business_roles, can
from huifang_desktop.domain.schedule import Trigger, TriggerKind
from huifang_desktop.domain.validation import (
    CONTROL_CHARS,
    CONTROL_MESSAGE,
    clean_text,
    parse_date,
    to_halfwidth,
)
from huifang_desktop.domain.visits import display_state, format_visit_number
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit, diff, recent_changes
from huifang_desktop.services.errors import ConflictError, NotFound, PermissionDenied, ServiceError
from huifang_desktop.services.policy import check_visible, customer_scope
from huifang_desktop.services.service_record_model import (
    SERVICE_SORTS,
    STATUSES,
    FollowUpRow,
    ServiceChoices,
    ServiceDraft,
    ServiceFilter,
    ServiceOptions,
    ServiceRecordDetail,
    ServiceRow,
    ServiceStatus,
)
from huifang_desktop.services.settings import get_value, set_value
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.models import Customer, ServiceFollowUp, ServiceRecord, User, VisitPlan
from huifang_desktop.storage.queries import TEXT_PROBE_CAP, customer_text_condition, customer_text_probe

log = logging.getLogger("huifang.services.service_records")

OPTIONS_KEY = "service_options"
PAGE_SIZE = 500
ENTITY = "service_record"
_NUMBER_PREFIX = re.compile(r"^[A-Za-z]{1,4}\d{4,}")  # the start of a 服务单号: FW202611


def load_options(ctx: ServiceContext) -> ServiceOptions:
    data = get_value(ctx, OPTIONS_KEY)
    return ServiceOptions.from_dict(data) if isinstance(data, dict) else ServiceOptions()


def save_options(ctx: ServiceContext, options: ServiceOptions) -> None:
    """Store the office's service-ledger settings (supervisor and up; audited by ``set_value``)."""
    set_value(ctx, OPTIONS_KEY, options.to_dict(), what="售后服务设置")


# --- scope, rights, numbers ---------------------------------------------------------------------------


def visibility_condition(ctx: ServiceContext) -> Any | None:
    """The department visibility setting on ``Customer`` (joined): None when the user sees every file."""
    scope = customer_scope(ctx)
    return scope.condition() if scope.limited else None


def _check_customer(s: Session, ctx: ServiceContext, customer_id: int) -> Customer:
    c = s.get(Customer, customer_id)
    if c is None:
        raise NotFound(f"客户档案 {customer_id} 不存在。")
    check_visible(ctx, c)
    return c


def _load(s: Session, ctx: ServiceContext, record_id: int) -> ServiceRecord:
    rec = s.get(ServiceRecord, record_id)
    if rec is None:
        raise NotFound(f"服务记录 {record_id} 不存在。")
    _check_customer(s, ctx, rec.customer_id)
    return rec


def _check_can_edit(ctx: ServiceContext, rec: ServiceRecord, what: str) -> None:
    if ctx.user is SYSTEM_USER:
        return
    ctx.require(Permission.EDIT_CUSTOMERS, what)
    if ctx.may(Permission.WORK_FOR_OTHERS):
        return
    if ctx.user.id in (rec.handler_id, rec.created_by_id) or rec.handler_id is None:
        return
    raise PermissionDenied(f"服务记录 {rec.number} 由其他人负责，您不能{what}；如需修改请联系主管。")


def format_service_number(day: date, serial: int, prefix: str = "FW") -> str:
    """服务单号: prefix + service date + ``-`` + the day's serial, at least 3 digits (``FW20261124-003``)."""
    return format_visit_number(day, serial, prefix)


def _label(rec: ServiceRecord, c: Customer | None = None) -> str:
    who = f" {c.code} {c.name}" if c is not None else ""
    return f"{rec.number} {rec.kind}{who}"[:200]


# --- validation ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clean:
    customer_id: int
    served_on: date
    kind: str
    status: str
    place: str
    product: str
    serial_no: str
    problem: str
    content: str
    parts: str
    parts_quantity: int
    parts_amount: Decimal | None
    cost: Decimal | None
    result: str
    feedback: str
    satisfaction: str
    technician: str
    handler_id: int | None
    completed_on: date | None
    notes: str


def _text(raw: str | None, label: str, name: str, limit: int, errors: list[FieldError]) -> str:
    text = (raw or "").strip()
    if CONTROL_CHARS.search(text):
        errors.append(FieldError(name, label, CONTROL_MESSAGE))
    if len(text) > limit:
        errors.append(FieldError(name, label, f"不能超过 {limit} 个字（现在 {len(text)} 个）"))
    return text


def _money(raw: Decimal | str | None, label: str, name: str, errors: list[FieldError]) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        text = to_halfwidth(str(raw)).strip().removesuffix("元").replace(",", "").replace("¥", "").strip()
        value = Decimal(text)
        if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
            raise InvalidOperation
    except InvalidOperation:
        errors.append(FieldError(name, label, f"“{raw}”不是有效金额"))
        return None
    return value.quantize(Decimal("0.01"))


def _count(raw: int | str | None, label: str, name: str, errors: list[FieldError]) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 0
    try:
        value = int(to_halfwidth(str(raw)).strip())
        if value < 0:
            raise ValueError
    except ValueError:
        errors.append(FieldError(name, label, f"“{raw}”不是非负整数"))
        return 0
    return value


def _validate(s: Session, ctx: ServiceContext, d: ServiceDraft, options: ServiceOptions) -> _Clean:
    """Every field of the form; all problems together, in Chinese, naming the field."""
    errors: list[FieldError] = []
    today = ctx.today()
    if d.customer_id is None:
        errors.append(FieldError("customer_id", "客户", "请选择客户"))
    served_on = None
    try:
        served_on = parse_date(d.served_on, label="服务日期", field="served_on", required=True)
    except ValidationError as exc:
        errors += exc.errors
    if served_on is not None and served_on > today:
        errors.append(FieldError("served_on", "服务日期", "不能晚于今天"))
    kind = clean_text(d.kind)
    if kind not in options.kinds:
        errors.append(
            FieldError("kind", "服务类型", f"“{d.kind}”不在服务类型列表中（{'、'.join(options.kinds)}）")
        )
    status = clean_text(d.status)
    if status not in STATUSES:
        errors.append(FieldError("status", "状态", f"“{d.status}”不是有效状态（{'、'.join(STATUSES)}）"))
    completed_on = None
    try:
        completed_on = parse_date(d.completed_on, label="完成日期", field="completed_on")
    except ValidationError as exc:
        errors += exc.errors
    if status == ServiceStatus.DONE.value:
        completed_on = completed_on or served_on
        if completed_on is not None and served_on is not None and completed_on < served_on:
            errors.append(FieldError("completed_on", "完成日期", "不能早于服务日期"))
        if completed_on is not None and completed_on > today:
            errors.append(FieldError("completed_on", "完成日期", "不能晚于今天"))
        if not clean_text(d.content):
            errors.append(FieldError("content", "服务内容", "已完成的服务请填写服务内容"))
    else:
        completed_on = None
    handler_id = d.handler_id if d.handler_id is not None else (ctx.user.id or None)
    if handler_id is not None:
        row = s.execute(select(User.active, User.role).where(User.id == handler_id)).one_or_none()
        if row is None or not row.active or not can(Role(row.role), Permission.EDIT_CUSTOMERS):
            errors.append(FieldError("handler_id", "负责人", "所选负责人不存在、已停用或不能负责服务"))
    clean = _Clean(
        customer_id=d.customer_id or 0,
        served_on=served_on or today,
        kind=kind,
        status=status,
        place=_text(d.place, "服务地点/项目", "place", 200, errors),
        product=_text(d.product, "产品", "product", 100, errors),
        serial_no=_text(to_halfwidth(d.serial_no or "").upper(), "序列号", "serial_no", 60, errors),
        problem=_text(d.problem, "故障/问题", "problem", 4000, errors),
        content=_text(d.content, "服务内容", "content", 4000, errors),
        parts=_text(d.parts, "更换配件", "parts", 200, errors),
        parts_quantity=_count(d.parts_quantity, "配件数量", "parts_quantity", errors),
        parts_amount=_money(d.parts_amount, "配件金额", "parts_amount", errors),
        cost=_money(d.cost, "服务费用", "cost", errors),
        result=_text(d.result, "服务结果", "result", 4000, errors),
        feedback=_text(d.feedback, "客户反馈", "feedback", 4000, errors),
        satisfaction=_text(d.satisfaction, "满意度", "satisfaction", 20, errors),
        technician=_text(d.technician, "服务人员", "technician", 50, errors),
        handler_id=handler_id,
        completed_on=completed_on,
        notes=_text(d.notes, "备注", "notes", 4000, errors),
    )
    if errors:
        raise ValidationError(errors)
    return clean


def _user_name(s: Session, user_id: int | None) -> str:
    if user_id is None:
        return ""
    return s.execute(select(User.display_name).where(User.id == user_id)).scalar() or ""


def _apply(rec: ServiceRecord, c: _Clean) -> None:
    for f in fields(_Clean):
        setattr(rec, f.name, getattr(c, f.name))


def _snapshot(rec: ServiceRecord, s: Session) -> dict[str, Any]:
    handler = _user_name(s, rec.handler_id) or None
    return {
        "客户": rec.customer_id,
        "服务日期": rec.served_on.isoformat(),
        "服务类型": rec.kind,
        "状态": rec.status,
        "服务地点": rec.place,
        "产品": rec.product,
        "序列号": rec.serial_no,
        "故障": rec.problem,
        "服务内容": rec.content,
        "更换配件": rec.parts,
        "配件数量": rec.parts_quantity,
        "配件金额": None if rec.parts_amount is None else str(rec.parts_amount),
        "服务费用": None if rec.cost is None else str(rec.cost),
        "服务结果": rec.result,
        "客户反馈": rec.feedback,
        "满意度": rec.satisfaction,
        "服务人员": rec.technician,
        "负责人": handler,
        "完成日期": rec.completed_on.isoformat() if rec.completed_on else None,
        "备注": rec.notes,
    }


# --- reading ------------------------------------------------------------------------------------------


def _detail(s: Session, ctx: ServiceContext, rec: ServiceRecord, visit_note: str = "") -> ServiceRecordDetail:
    c = s.get(Customer, rec.customer_id)
    assert c is not None
    handler = _user_name(s, rec.handler_id)
    visit_state, visit_due = "", None
    if rec.visit_plan_id is not None:
        plan = s.execute(
            select(VisitPlan.state, VisitPlan.due).where(VisitPlan.id == rec.visit_plan_id)
        ).one_or_none()
        if plan is not None:
            visit_state, visit_due = display_state(plan.state, plan.due, ctx.today()), plan.due
    follow = (
        s.execute(
            select(ServiceFollowUp)
            .where(ServiceFollowUp.record_id == rec.id)
            .order_by(ServiceFollowUp.at, ServiceFollowUp.id)
        )
        .scalars()
        .all()
    )
    return ServiceRecordDetail(
        rec.id,
        rec.number,
        c.id,
        c.code,
        c.name,
        rec.served_on,
        rec.kind,
        rec.status,
        rec.place,
        rec.product,
        rec.serial_no,
        rec.problem,
        rec.content,
        rec.parts,
        rec.parts_quantity,
        rec.parts_amount,
        rec.cost,
        rec.result,
        rec.feedback,
        rec.satisfaction,
        rec.technician,
        rec.handler_id,
        handler or "",
        rec.completed_on,
        rec.notes,
        rec.visit_plan_id,
        visit_state,
        visit_due,
        tuple(FollowUpRow(f.id, f.at, f.person, f.result, f.note) for f in follow),
        rec.version,
        visit_note,
    )


def get_service_record(ctx: ServiceContext, record_id: int) -> ServiceRecordDetail:
    with ctx.sessions() as s:
        return _detail(s, ctx, _load(s, ctx, record_id))


def find_id(ctx: ServiceContext, number: str) -> int:
    """The id of a record by its 服务单号; one the acting user may not see is not found either."""
    q = select(ServiceRecord.id).where(ServiceRecord.number == number.strip().upper())
    scope = visibility_condition(ctx)
    if scope is not None:
        q = q.join(Customer, Customer.id == ServiceRecord.customer_id).where(scope)
    with ctx.sessions() as s:
        rid = s.execute(q).scalar()
    if rid is None:
        raise NotFound(f"服务单号 {number} 不存在。")
    return int(rid)


def _text_options(text: str, customer_ids: Sequence[int] | None) -> list[Any]:
    """What the search text may match: the 服务单号 (or its start), the serial number or product, the
    customer (name, 编号, phone, pinyin initials; by the ids a customer probe found when it found all)."""
    upper = text.upper()
    options: list[Any] = [
        ServiceRecord.number == upper,
        or_(
            ServiceRecord.serial_no.contains(upper, autoescape=True),  # stored upper-case
            ServiceRecord.product.contains(text, autoescape=True),
        ),
    ]  # one narrow index scan
    if _NUMBER_PREFIX.match(text):
        options.append(and_(ServiceRecord.number >= upper, ServiceRecord.number < upper + "\U0010ffff"))
    if customer_ids is not None:
        options.append(ServiceRecord.customer_id.in_(customer_ids))
    else:
        cust = customer_text_condition(text)
        if cust is not None:
            options.append(cust)
    return options


def text_ids(conn: Connection, text: str) -> list[int] | None:
    """Every record id the search text matches when they are few (at most ``TEXT_PROBE_CAP``), else None.

    A text condition (an OR over the number, serial number, product and customer) can use no index: in date
    order it costs a customer look-up per record. The probe instead reads the matching customers from their
    indexes, their records by the customer index, and scans only the narrow number, serial and product
    columns; fewer than the cap means every match was found (the ledger reads just those ids), the cap
    means the text is common and the ordered scan stops early by itself."""
    text = to_halfwidth(clean_text(text))
    if not text:
        return None
    probe = customer_text_probe(text)
    if probe is None:  # a 客户编号 prefix (an index range) or nothing a customer could match
        cust = customer_text_condition(text)
        probe = select(Customer.id).where(cust).limit(TEXT_PROBE_CAP) if cust is not None else None
    customer_ids: list[int] | None = []
    if probe is not None:
        found = conn.execute(probe).scalars().all()
        customer_ids = None if len(found) >= TEXT_PROBE_CAP else list(dict.fromkeys(found))
    if customer_ids is None:  # a common text: the ordered scan with the condition finds a page at once
        return None
    q = union_all(*(select(ServiceRecord.id).where(o) for o in _text_options(text, customer_ids)))
    ids = conn.execute(q.limit(TEXT_PROBE_CAP)).scalars().all()
    return None if len(ids) >= TEXT_PROBE_CAP else list(dict.fromkeys(ids))


def service_conditions(ctx: ServiceContext, f: ServiceFilter, ids: Sequence[int] | None = None) -> list[Any]:
    """The filter as SQL conditions on ``ServiceRecord`` and the joined ``Customer`` (visibility included).
    ``ids``: the records a complete :func:`text_ids` probe found; they replace the text condition."""
    conds: list[Any] = []
    scope = visibility_condition(ctx)
    if scope is not None:
        conds.append(scope)
    if f.start is not None:
        conds.append(ServiceRecord.served_on >= f.start)
    if f.end is not None:
        conds.append(ServiceRecord.served_on <= f.end)
    if f.kinds:
        conds.append(ServiceRecord.kind.in_(sorted(f.kinds)))
    if f.statuses:
        conds.append(ServiceRecord.status.in_(sorted(f.statuses)))
    if f.follow_up_results:
        conds.append(ServiceRecord.follow_up_result.in_(sorted(f.follow_up_results)))
    if f.mine:
        conds.append(ServiceRecord.handler_id == (ctx.user.id or -1))
    elif f.handler_id is not None:
        conds.append(ServiceRecord.handler_id == f.handler_id)
    if f.customer_id is not None:
        conds.append(ServiceRecord.customer_id == f.customer_id)
    if f.grade:
        conds.append(Customer.grade == f.grade)
    text = to_halfwidth(clean_text(f.text))
    if ids is not None:
        conds.append(ServiceRecord.id.in_(ids))
    elif text:
        conds.append(or_(*_text_options(text, None)))
    return conds


def list_service_records(
    ctx: ServiceContext,
    f: ServiceFilter = ServiceFilter(),
    after: tuple[Any, int] | None = None,
    limit: int = PAGE_SIZE,
) -> list[ServiceRow]:
    """One page of records after the keyset ``(sort value, id)``, filtered and sorted in SQL."""
    sort_col = SERVICE_SORTS.get(f.sort, ServiceRecord.served_on)
    handler = aliased(User)
    q = (
        select(
            ServiceRecord.id,
            ServiceRecord.number,
            ServiceRecord.served_on,
            Customer.id,
            Customer.code,
            Customer.name,
            ServiceRecord.kind,
            ServiceRecord.product,
            ServiceRecord.serial_no,
            ServiceRecord.status,
            handler.display_name,
            ServiceRecord.technician,
            ServiceRecord.cost,
            ServiceRecord.follow_up_result,
            sort_col,
        )
        .join(Customer, Customer.id == ServiceRecord.customer_id)
        .outerjoin(handler, handler.id == ServiceRecord.handler_id)
    )
    if after is not None:
        key = tuple_(sort_col, ServiceRecord.id)
        q = q.where(key < tuple_(*after) if f.descending else key > tuple_(*after))
    if f.descending:
        q = q.order_by(sort_col.desc(), ServiceRecord.id.desc())
    else:
        q = q.order_by(sort_col, ServiceRecord.id)
    with ctx.sessions() as s:
        conn = s.connection()
        q = q.where(*service_conditions(ctx, f, text_ids(conn, f.text)))
        rows = conn.execute(q.limit(limit)).all()
    return [
        ServiceRow(
            rid,
            number,
            served_on,
            customer_id,
            code,
            name,
            kind,
            product,
            serial_no,
            status,
            handler_name or "",
            technician,
            cost,
            follow_up,
            sort_key,
        )
        for (
            rid,
            number,
            served_on,
            customer_id,
            code,
            name,
            kind,
            product,
            serial_no,
            status,
            handler_name,
            technician,
            cost,
            follow_up,
            sort_key,
        ) in rows
    ]


def count_service_records(ctx: ServiceContext, f: ServiceFilter = ServiceFilter()) -> int:
    with ctx.sessions() as s:
        conn = s.connection()
        q = (
            select(func.count(ServiceRecord.id))
            .join(Customer, Customer.id == ServiceRecord.customer_id)
            .where(*service_conditions(ctx, f, text_ids(conn, f.text)))
        )
        return int(conn.execute(q).scalar() or 0)


def choices(ctx: ServiceContext) -> ServiceChoices:
    from huifang_desktop.services.policy import load_scale

    options = load_options(ctx)
    with ctx.sessions() as s:
        people = s.execute(
            select(User.id, User.display_name)
            .where(User.active.is_(True), User.role.in_(business_roles()))
            .order_by(User.role, User.display_name)
        ).all()
    return ServiceChoices(
        options.kinds,
        STATUSES,
        options.follow_up_results,
        tuple(load_scale(ctx).levels),
        tuple((uid, name) for uid, name in people),
    )


# --- writing ------------------------------------------------------------------------------------------


def add_service_record(ctx: ServiceContext, draft: ServiceDraft) -> ServiceRecordDetail:
    """New record with an automatic 服务单号; a completed repair plans its follow-up visit (see module doc)."""
    ctx.require(Permission.EDIT_CUSTOMERS, "登记售后服务")
    options = load_options(ctx)
    with ctx.sessions() as s, s.begin():
        clean = _validate(s, ctx, draft, options)
        c = _check_customer(s, ctx, clean.customer_id)
        serial = next_serial(s, f"service:{clean.served_on:%Y%m%d}")
        now = ctx.now()
        rec = ServiceRecord(
            number=format_service_number(clean.served_on, serial, options.number_prefix),
            created_by_id=ctx.user.id or None,
            created_at=now,
            updated_at=now,
        )
        _apply(rec, clean)
        s.add(rec)
        s.flush()
        audit(s, ctx, "登记售后服务", ENTITY, rec.id, _label(rec, c), new=_snapshot(rec, s))
        rec_id = rec.id
    note = _plan_repair_visit(ctx, rec_id, options)
    return _reload(ctx, rec_id, note)


def update_service_record(
    ctx: ServiceContext, record_id: int, draft: ServiceDraft, expected_version: int
) -> ServiceRecordDetail:
    """Save an edited record; refused with ConflictError when someone saved it since it was opened."""
    ctx.require(Permission.EDIT_CUSTOMERS, "修改服务记录")
    options = load_options(ctx)
    try:
        with ctx.sessions() as s, s.begin():
            rec = _load(s, ctx, record_id)
            _check_can_edit(ctx, rec, "修改服务记录")
            if rec.version != expected_version:
                what = recent_changes(s, ENTITY, rec.id, rec.version - expected_version, ctx.user.id)
                raise ConflictError(
                    f"服务记录 {rec.number} 已被其他人修改（版本 {expected_version} → {rec.version}），您的修改未保存。"
                    "请重新打开后再修改。" + (f"\n对方的修改：\n{what}" if what else "")
                )
            clean = _validate(s, ctx, draft, options)
            c = _check_customer(s, ctx, clean.customer_id)
            before = _snapshot(rec, s)
            _apply(rec, clean)
            rec.updated_at = ctx.now()
            old, new = diff(before, _snapshot(rec, s))
            if new:
                audit(s, ctx, "修改服务记录", ENTITY, rec.id, _label(rec, c), old=old, new=new)
            s.flush()
    except StaleDataError:
        raise ConflictError("该服务记录刚被其他人修改，请重新打开后再修改。") from None
    note = _plan_repair_visit(ctx, record_id, options)
    return _reload(ctx, record_id, note)


def add_follow_up(
    ctx: ServiceContext,
    record_id: int,
    *,
    at: datetime | str | None = None,
    person: str = "",
    result: str,
    note: str = "",
    expected_version: int | None = None,
) -> ServiceRecordDetail:
    """Append a 跟进 entry (跟进时间 default now, 跟进人员 default the acting user); the newest one shows in
    the ledger. Version-checked when ``expected_version`` is given (the dialog passes the one it shows)."""
    ctx.require(Permission.EDIT_CUSTOMERS, "登记服务跟进")
    options = load_options(ctx)
    errors: list[FieldError] = []
    when = _moment(at, ctx.now(), errors)
    if when is not None and when > ctx.now():
        errors.append(FieldError("at", "跟进时间", "不能晚于现在"))
    who = clean_text(person) or ctx.user.display_name
    if len(who) > 50:
        errors.append(FieldError("person", "跟进人员", "不能超过 50 个字"))
    if result not in options.follow_up_results:
        errors.append(FieldError("result", "跟进结果", f"请选择：{'、'.join(options.follow_up_results)}"))
    text = _text(note, "备注", "note", 4000, errors)
    if errors:
        raise ValidationError(errors)
    assert when is not None
    try:
        with ctx.sessions() as s, s.begin():
            rec = _load(s, ctx, record_id)
            _check_can_edit(ctx, rec, "登记服务跟进")
            if expected_version is not None and rec.version != expected_version:
                raise ConflictError(
                    f"服务记录 {rec.number} 已被其他人修改（版本 {expected_version} → {rec.version}），"
                    "跟进未保存。请重新打开后再登记。"
                )
            s.add(
                ServiceFollowUp(
                    record_id=rec.id,
                    at=when,
                    person=who,
                    result=result,
                    note=text,
                    created_by_id=ctx.user.id or None,
                    created_at=ctx.now(),
                )
            )
            if rec.follow_up_at is None or when >= rec.follow_up_at:
                rec.follow_up_at, rec.follow_up_by, rec.follow_up_result = when, who, result
            rec.updated_at = ctx.now()
            audit(
                s,
                ctx,
                "服务跟进",
                ENTITY,
                rec.id,
                _label(rec),
                new={"跟进时间": when.isoformat(sep=" "), "跟进人员": who, "跟进结果": result, "备注": text},
            )
            s.flush()
            return _detail(s, ctx, rec)
    except StaleDataError:
        raise ConflictError("该服务记录刚被其他人修改，请重新打开后再登记跟进。") from None


def _moment(raw: datetime | str | None, default: datetime, errors: list[FieldError]) -> datetime | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    if isinstance(raw, datetime):
        return raw.replace(microsecond=0, tzinfo=None)
    text = to_halfwidth(clean_text(raw)).replace("/", "-")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        try:
            day = parse_date(text, label="跟进时间", field="at", required=True)
            assert day is not None
            return datetime.combine(day, datetime.min.time())
        except ValidationError:
            errors.append(
                FieldError("at", "跟进时间", f"“{raw}”不是可识别的时间，请按 2026-11-24 09:30 填写")
            )
            return None


def _reload(ctx: ServiceContext, record_id: int, note: str) -> ServiceRecordDetail:
    with ctx.sessions() as s:
        return _detail(s, ctx, _load(s, ctx, record_id), note)


def _plan_repair_visit(ctx: ServiceContext, record_id: int, options: ServiceOptions) -> str:
    """After a committed save: a completed repair triggers the 维修回访 rule (idempotent, ``service:<id>``) and
    the record is linked to its plan. Returns what happened, for the dialog ('' when nothing applies)."""
    from huifang_desktop.services import visits

    with ctx.sessions() as s:
        row = s.execute(
            select(
                ServiceRecord.customer_id,
                ServiceRecord.kind,
                ServiceRecord.status,
                ServiceRecord.completed_on,
                ServiceRecord.served_on,
                ServiceRecord.visit_plan_id,
            ).where(ServiceRecord.id == record_id)
        ).one()
    customer_id, kind, status, completed_on, served_on, linked = row
    if status != ServiceStatus.DONE.value or kind not in options.repair_kinds:
        return ""
    source = f"service:{record_id}"
    try:
        planned = visits.on_trigger(
            ctx, customer_id, Trigger(TriggerKind.REPAIR_DONE, source, day=completed_on or served_on)
        )
    except (ServiceError, ValidationError) as exc:  # the record is saved; say why no visit was planned
        log.warning("repair follow-up visit for %s not planned: %s", source, exc)
        return f"服务记录已保存，但维修回访计划未能生成：{exc}"
    plan_id = planned[0].id if planned else linked
    if plan_id is None:
        with ctx.sessions() as s:
            plan_id = s.execute(
                select(VisitPlan.id)
                .where(VisitPlan.source_key >= source + "#", VisitPlan.source_key < source + "#\U0010ffff")
                .order_by(VisitPlan.due, VisitPlan.id)
                .limit(1)
            ).scalar()
    if plan_id is not None and plan_id != linked:
        # A plain UPDATE: linking the plan is bookkeeping, it must not bump the version the dialog holds.
        with ctx.sessions() as s, s.begin():
            table = cast(Table, ServiceRecord.__table__)
            s.execute(update(table).where(table.c.id == record_id).values(visit_plan_id=plan_id))
    if planned:
        return f"已安排维修回访：{planned[0].due:%Y-%m-%d} 前，{planned[0].owner or '负责人待定'}。"
    if plan_id is None:
        rule = next((r for r in visits.load_rules(ctx).rules if r.trigger == TriggerKind.REPAIR_DONE), None)
        if rule is None or not rule.enabled:
            return "维修回访规则未启用，未安排回访。"
        return f"本次维修未抽中回访（维修回访抽样比例 {rule.sample_rate:.0%}）。"
    return ""


__all__ = [
    "ENTITY",
    "OPTIONS_KEY",
    "SERVICE_SORTS",
    "STATUSES",
    "FollowUpRow",
    "ServiceChoices",
    "ServiceDraft",
    "ServiceFilter",
    "ServiceOptions",
    "ServiceRecordDetail",
    "ServiceRow",
    "ServiceStatus",
    "add_follow_up",
    "add_service_record",
    "choices",
    "count_service_records",
    "find_id",
    "format_service_number",
    "get_service_record",
    "list_service_records",
    "load_options",
    "save_options",
    "service_conditions",
    "text_ids",
    "update_service_record",
    "visibility_condition",
]
