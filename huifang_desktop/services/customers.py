"""Customer files (客户档案): register, edit, archive, grade, reassign, search (domain.md §2–§3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.classes import SOURCE_PIN, SOURCE_UNPIN
from huifang_desktop.domain.customers import (
    GRADES_ABCD,
    GRADES_VIP,
    CleanCustomer,
    CustomerDraft,
    format_customer_code,
    pinyin_initials,
    validate_customer,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.domain.validation import clean_text, format_phone, parse_date
from huifang_desktop.services.classes import apply_class, regrade_in
from huifang_desktop.services.context import ServiceContext, audit, diff, recent_changes
from huifang_desktop.services.errors import ConflictError, DuplicateWarning, NotFound
from huifang_desktop.services.handover import change_plan_owner
from huifang_desktop.services.policy import CustomerScope, check_visible, customer_scope
from huifang_desktop.services.settings import OfficeSettings, load_settings
from huifang_desktop.services.visits.independence import Visitors, complaint_handler
from huifang_desktop.services.visits.options import independence_on, load_options
from huifang_desktop.storage import phone_index
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.models import (
    AuditLog,
    Contact,
    Customer,
    CustomerClass,
    Purchase,
    User,
    VisitPlan,
)
from huifang_desktop.storage.queries import (
    TEXT_PROBE_CAP,
    CustomerFilter,
    customer_conditions,
    customer_page,
    customer_text_probe,
)

PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class CustomerRow:
    id: int
    code: str
    name: str
    kind: str
    category: str
    grade: str
    grade_pinned: bool
    contact: str
    phone: str  # formatted
    region: str
    status: str
    created_on: date
    archived: bool
    owner: str
    sort_key: Any


@dataclass(frozen=True, slots=True)
class ContactInfo:
    id: int
    name: str
    phone: str
    mobile: str
    email: str
    title: str
    is_primary: bool


@dataclass(frozen=True, slots=True)
class PurchaseInfo:
    id: int
    day: date
    kind: str
    product: str
    spec: str
    quantity: int
    amount: Decimal | None
    warranty_end: date | None


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    id: int
    code: str
    name: str
    kind: str
    category: str
    grade: str
    grade_pinned: bool
    grade_reason: str
    annual_volume: int
    address: str
    region: str
    source: str
    industry: str
    birthday: date | None
    created_on: date
    status: str
    notes: str
    owner_id: int | None
    owner: str
    archived: bool
    version: int
    contacts: tuple[ContactInfo, ...]
    purchases: tuple[PurchaseInfo, ...]


@dataclass(frozen=True, slots=True)
class DuplicateHit:
    id: int
    code: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: Any
    user: str
    action: str
    old: str
    new: str
    note: str


# --- scope and permissions ------------------------------------------------------------------------------


def _scoped_filter(ctx: ServiceContext, f: CustomerFilter, settings: OfficeSettings) -> CustomerFilter:
    scope = customer_scope(ctx, settings)
    return CustomerFilter(
        **{**asdict(f), "department_id": scope.department_id, "department_scoped": scope.limited}
    )


def _load(s: Session, customer_id: int) -> Customer:
    c = s.get(Customer, customer_id)
    if c is None:
        raise NotFound(f"客户档案 {customer_id} 不存在。")
    return c


# --- reads ----------------------------------------------------------------------------------------------


def list_customers(
    ctx: ServiceContext, f: CustomerFilter, after: tuple[Any, int] | None = None, limit: int = PAGE_SIZE
) -> list[CustomerRow]:
    settings = load_settings(ctx)
    scoped = _scoped_filter(ctx, f, settings)
    with ctx.sessions() as s:
        conn = s.connection()  # Core rows: the ORM adds nothing to a column select but its overhead
        rows = conn.execute(customer_page(scoped, after, limit, _text_ids(conn, scoped.text))).all()
    # unpacked into names in the for-clause: a page is up to 500 rows read as the user types, and a Row's
    # attribute look-up costs several times a tuple unpacking (code-prefix search p95 8.8 → 14.6 ms)
    return [
        CustomerRow(
            cid,
            code,
            name,
            kind,
            category,
            grade,
            pinned,
            contact,
            format_phone(phone),
            region,
            status,
            created_on,
            archived,
            owner or "",
            sort_key,
        )
        for (
            cid,
            code,
            name,
            kind,
            category,
            grade,
            pinned,
            contact,
            phone,
            region,
            status,
            created_on,
            archived,
            owner,
            sort_key,
        ) in rows
    ]


def _text_ids(conn: Connection, text: str) -> list[int] | None:
    """Every id the search text matches when they are few, else None (storage.queries.customer_text_probe)."""
    probe = customer_text_probe(text)
    if probe is None:
        return None
    found = conn.execute(probe).scalars().all()
    if len(found) >= TEXT_PROBE_CAP:
        return None
    return list(dict.fromkeys(found))


def count_customers(ctx: ServiceContext, f: CustomerFilter) -> int:
    settings = load_settings(ctx)
    scoped = _scoped_filter(ctx, f, settings)
    with ctx.sessions() as s:
        return int(
            s.execute(select(func.count(Customer.id)).where(*customer_conditions(scoped))).scalar() or 0
        )


def get_customer(ctx: ServiceContext, customer_id: int) -> CustomerDetail:
    settings = load_settings(ctx)
    with ctx.sessions() as s:
        c = _load(s, customer_id)
        check_visible(ctx, c, settings)
        purchases = (
            s.execute(
                select(Purchase)
                .where(Purchase.customer_id == c.id)
                .order_by(Purchase.day.desc(), Purchase.id.desc())
            )
            .scalars()
            .all()
        )
        return _detail(c, purchases)


def get_customer_by_code(ctx: ServiceContext, code: str) -> CustomerDetail:
    with ctx.sessions() as s:
        cid = s.execute(select(Customer.id).where(Customer.code == code.strip().upper())).scalar()
    if cid is None:
        raise NotFound(f"客户编号 {code} 不存在。")
    return get_customer(ctx, cid)


def _detail(c: Customer, purchases: Any = ()) -> CustomerDetail:
    return CustomerDetail(
        c.id,
        c.code,
        c.name,
        c.kind,
        c.category,
        c.grade,
        c.grade_pinned,
        c.grade_reason,
        c.annual_volume,
        c.address,
        c.region,
        c.source,
        c.industry,
        c.birthday,
        c.created_on,
        c.status,
        c.notes,
        c.owner_id,
        c.owner.display_name if c.owner else "",
        c.archived,
        c.version,
        tuple(
            ContactInfo(k.id, k.name, k.phone or "", k.mobile or "", k.email or "", k.title, k.is_primary)
            for k in c.contacts
        ),
        tuple(
            PurchaseInfo(p.id, p.day, p.kind, p.product, p.spec, p.quantity, p.amount, p.warranty_end)
            for p in purchases
        ),
    )


def find_duplicates(
    ctx: ServiceContext, clean: CleanCustomer, exclude_id: int | None = None
) -> list[DuplicateHit]:
    """Same phone, or same name and address (domain.md §2). A likely duplicate in a file the acting user may
    not see is reported without its id, code or name: only that the number (or the name and address) is
    already registered in another department's file, so the warning reveals no customer."""
    phones = {p for c in clean.contacts for p in (c.phone, c.mobile) if p}
    hits: dict[int, DuplicateHit] = {}
    scope = customer_scope(ctx)
    with ctx.sessions() as s:
        if phones:
            q = (
                select(
                    Customer.id,
                    Customer.code,
                    Customer.name,
                    Customer.department_id,
                    Contact.phone,
                    Contact.mobile,
                )
                .join(Contact, Contact.customer_id == Customer.id)
                .where(or_(Contact.phone.in_(phones), Contact.mobile.in_(phones)))
            )
            for cid, code, name, dep, phone, mobile in s.execute(q):
                same = phone if phone in phones else mobile
                hits.setdefault(
                    cid,
                    _hit(
                        scope,
                        cid,
                        code,
                        name,
                        dep,
                        f"电话 {format_phone(same)} 相同",
                        f"电话 {format_phone(same)} 已登记在其他部门的客户档案中",
                    ),
                )
        q2 = select(Customer.id, Customer.code, Customer.name, Customer.department_id).where(
            and_(Customer.name == clean.name, Customer.address == clean.address)
        )
        for cid, code, name, dep in s.execute(q2):
            hits.setdefault(
                cid,
                _hit(
                    scope,
                    cid,
                    code,
                    name,
                    dep,
                    "名称和地址相同",
                    "相同名称和地址的客户已登记在其他部门的档案中",
                ),
            )
    if exclude_id is not None:
        hits.pop(exclude_id, None)
    shown = sorted((h for h in hits.values() if h.id), key=lambda h: h.code)
    hidden = list(dict.fromkeys(h.reason for h in hits.values() if not h.id))
    return shown + [DuplicateHit(0, "", "", reason) for reason in hidden]


def _hit(
    scope: CustomerScope, cid: int, code: str, name: str, department_id: int | None, same: str, elsewhere: str
) -> DuplicateHit:
    if scope.limited and department_id != scope.department_id:
        return DuplicateHit(0, "", "", elsewhere)
    return DuplicateHit(cid, code, name, same)


def history(ctx: ServiceContext, customer_id: int) -> list[HistoryRow]:
    """The change log of one file: who, when, old → new."""
    get_customer(ctx, customer_id)  # visibility check
    with ctx.sessions() as s:
        rows = (
            s.execute(
                select(AuditLog)
                .where(AuditLog.entity == "customer", AuditLog.entity_id == customer_id)
                .order_by(AuditLog.at.desc(), AuditLog.id.desc())
            )
            .scalars()
            .all()
        )
    return [HistoryRow(r.at, r.username, r.action, _fmt_json(r.old), _fmt_json(r.new), r.note) for r in rows]


def _fmt_json(value: str | None) -> str:
    if not value:
        return ""
    data = json.loads(value)
    if isinstance(data, dict):
        return "；".join(f"{_FIELD_LABELS.get(k, k)}：{_fmt_value(v)}" for k, v in data.items())
    return _fmt_value(data)


def _fmt_value(v: Any) -> str:
    """A logged value as the user should read it: no Python ``None``/``True`` in a Chinese history view."""
    if v is None or v == "":
        return "（空）"
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v)


_FIELD_LABELS = {
    "name": "客户名称",
    "kind": "类型",
    "category": "类别",
    "grade": "等级",
    "address": "地址",
    "region": "区域",
    "source": "来源",
    "industry": "行业",
    "birthday": "生日",
    "created_on": "建档日期",
    "status": "状态",
    "notes": "备注",
    "owner": "负责人",
    "contacts": "联系人",
    "archived": "归档",
    "grade_reason": "等级原因",
    "pinned": "手动指定",
}


# --- writes ---------------------------------------------------------------------------------------------


def _snapshot(c: Customer) -> dict[str, Any]:
    return {
        "name": c.name,
        "kind": c.kind,
        "category": c.category,
        "address": c.address,
        "region": c.region,
        "source": c.source,
        "industry": c.industry,
        "birthday": c.birthday.isoformat() if c.birthday else None,
        "created_on": c.created_on.isoformat() if c.created_on else None,
        "status": c.status,
        "notes": c.notes,
        "owner": c.owner.display_name if c.owner else None,
        "contacts": "；".join(f"{k.name} {format_phone(k.mobile or k.phone)}" for k in c.contacts),
    }


def _apply(s: Session, c: Customer, clean: CleanCustomer) -> None:
    c.name = clean.name
    c.initials = pinyin_initials(clean.name)
    c.kind, c.category, c.address, c.region = clean.kind, clean.category, clean.address, clean.region
    c.source, c.industry, c.birthday, c.status, c.notes = (
        clean.source,
        clean.industry,
        clean.birthday,
        clean.status,
        clean.notes,
    )
    if clean.created_on:
        c.created_on = clean.created_on
    if clean.owner_id is not None:
        owner = s.get(User, clean.owner_id)
        if owner is None or not owner.active:
            raise ValidationError(FieldError("owner_id", "负责人", "所选负责人不存在或已停用"))
        c.owner = owner
        c.department_id = owner.department_id
    c.contacts.clear()
    s.flush()
    for k in clean.contacts:
        c.contacts.append(
            Contact(
                name=k.name,
                phone=k.phone,
                mobile=k.mobile,
                email=k.email,
                title=k.title,
                is_primary=k.is_primary,
            )
        )
    primary = next(k for k in clean.contacts if k.is_primary)
    c.primary_contact = primary.name
    c.primary_phone = primary.mobile or primary.phone or ""
    # c.id is known since the flush above (a new file is inserted there)
    phone_index.replace(
        s, c.id, c.code, [n for k in clean.contacts for n in (k.phone, k.mobile)] + [c.primary_phone]
    )


def validate_draft(ctx: ServiceContext, draft: CustomerDraft) -> CleanCustomer:
    settings = load_settings(ctx)
    return validate_customer(draft, today=ctx.today(), categories=settings.categories)


def register_customer(
    ctx: ServiceContext, draft: CustomerDraft, *, confirm_duplicates: bool = False
) -> CustomerDetail:
    """New customer file with an automatic 客户编号. Likely duplicates raise DuplicateWarning unless confirmed."""
    ctx.require(Permission.EDIT_CUSTOMERS, "建立客户档案")
    settings = load_settings(ctx)
    clean = validate_customer(draft, today=ctx.today(), categories=settings.categories)
    if clean.owner_id is None and ctx.user.id:
        clean = CleanCustomer(**{**_asdict(clean), "owner_id": ctx.user.id})
    if not confirm_duplicates:
        hits = find_duplicates(ctx, clean)
        if hits:
            raise DuplicateWarning(hits)
    with ctx.sessions() as s, s.begin():
        serial = next_serial(s, "customer")
        c = Customer(
            code=format_customer_code(serial, settings.customer_code_prefix),
            grade="D",
            created_on=clean.created_on or ctx.today(),
            updated_at=ctx.now(),
        )
        s.add(c)
        _apply(s, c, clean)
        s.flush()
        audit(
            s,
            ctx,
            "新建客户",
            "customer",
            c.id,
            f"{c.code} {c.name}",
            new=_snapshot(c),
            note="确认重复后建档" if confirm_duplicates else "",
        )
        return _detail(c)


def _asdict(clean: CleanCustomer) -> dict[str, Any]:
    return {f: getattr(clean, f) for f in clean.__dataclass_fields__}


def update_customer(
    ctx: ServiceContext,
    customer_id: int,
    draft: CustomerDraft,
    expected_version: int,
    *,
    confirm_duplicates: bool = False,
) -> CustomerDetail:
    """Save an edited file; refused with ConflictError when someone saved it since it was opened."""
    ctx.require(Permission.EDIT_CUSTOMERS, "修改客户档案")
    settings = load_settings(ctx)
    clean = validate_customer(draft, today=ctx.today(), categories=settings.categories)
    if not confirm_duplicates:
        hits = find_duplicates(ctx, clean, exclude_id=customer_id)
        if hits:
            raise DuplicateWarning(hits)
    try:
        with ctx.sessions() as s, s.begin():
            c = _load(s, customer_id)
            check_visible(ctx, c, settings)
            if c.version != expected_version:
                theirs = _snapshot(c)
                what = recent_changes(s, "customer", c.id, c.version - expected_version, ctx.user.id)
                raise ConflictError(
                    f"客户 {c.code} 已被其他人修改（版本 {expected_version} → {c.version}），您的修改未保存。"
                    "请重新载入后再修改。" + (f"\n对方的修改：\n{what}" if what else ""),
                    changes={k: (None, v) for k, v in theirs.items()},
                )
            if c.archived:
                raise ValidationError(FieldError("archived", "归档", "已归档的档案不能修改，请先恢复"))
            before = _snapshot(c)
            _apply(s, c, clean)
            c.updated_at = ctx.now()
            # Always write the row, so its version changes (and is checked) even when only contacts did.
            flag_modified(c, "updated_at")
            after = _snapshot(c)
            old, new = diff(before, after)
            if new:
                audit(s, ctx, "修改客户", "customer", c.id, f"{c.code} {c.name}", old=old, new=new)
            s.flush()
            return _detail(c, s.execute(select(Purchase).where(Purchase.customer_id == c.id)).scalars().all())
    except StaleDataError:
        raise ConflictError("该客户档案刚被其他人修改，请重新打开后再修改。") from None


def set_archived(ctx: ServiceContext, customer_id: int, archived: bool, reason: str = "") -> None:
    """Archive (归档) instead of delete; records are kept (domain.md §2)."""
    ctx.require(Permission.EDIT_CUSTOMERS, "归档客户档案")
    if archived and not clean_text(reason):
        raise ValidationError(FieldError("reason", "归档原因", "请填写归档原因"))
    with ctx.sessions() as s, s.begin():
        c = _load(s, customer_id)
        check_visible(ctx, c)
        if c.archived == archived:
            return
        c.archived = archived
        c.updated_at = ctx.now()
        audit(
            s,
            ctx,
            "归档客户" if archived else "恢复客户",
            "customer",
            c.id,
            f"{c.code} {c.name}",
            old={"archived": not archived},
            new={"archived": archived},
            note=clean_text(reason),
        )


PurchaseHook = Callable[[Session, ServiceContext, int], object]


def add_purchase(
    ctx: ServiceContext,
    customer_id: int,
    *,
    day: date | str,
    product: str,
    quantity: int | str,
    amount: Decimal | str | None = None,
    spec: str = "",
    kind: str = "购货",
    warranty_end: date | str | None = None,
    then: PurchaseHook | None = None,
) -> PurchaseInfo:
    """Record a purchase or delivery; the grade is recomputed unless pinned. ``then(session, ctx,
    purchase_id)`` runs in the same transaction: :func:`huifang_desktop.services.workflow.add_purchase`
    passes the visits the purchase triggers."""
    ctx.require(Permission.EDIT_CUSTOMERS, "登记购货记录")
    errors: list[FieldError] = []
    try:
        the_day = parse_date(day, label="日期", field="day", required=True)
    except ValidationError as exc:
        errors += exc.errors
        the_day = None
    if the_day and the_day > ctx.today():
        errors.append(FieldError("day", "日期", "不能晚于今天"))
    if not clean_text(product):
        errors.append(FieldError("product", "产品或服务", "不能为空"))
    try:
        qty = int(str(quantity).strip())
        if qty <= 0:
            raise ValueError
    except ValueError:
        errors.append(FieldError("quantity", "数量", f"“{quantity}”不是正整数"))
        qty = 0
    money: Decimal | None = None
    if amount not in (None, ""):
        try:
            money = Decimal(str(amount).replace(",", "").strip())
            if money < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(FieldError("amount", "金额", f"“{amount}”不是有效金额"))
    try:
        w_end = parse_date(warranty_end, label="质保到期", field="warranty_end")
    except ValidationError as exc:
        errors += exc.errors
        w_end = None
    if errors:
        raise ValidationError(errors)
    assert the_day is not None
    with ctx.sessions() as s, s.begin():
        c = _load(s, customer_id)
        check_visible(ctx, c)
        p = Purchase(
            customer_id=c.id,
            day=the_day,
            kind=kind,
            product=clean_text(product),
            spec=clean_text(spec),
            quantity=qty,
            amount=money,
            warranty_end=w_end,
            created_at=ctx.now(),
        )
        s.add(p)
        s.flush()
        audit(
            s,
            ctx,
            "登记" + kind,
            "customer",
            c.id,
            f"{c.code} {c.name}",
            new={"日期": the_day.isoformat(), "产品": p.product, "数量": qty, "金额": str(money or "")},
        )
        _regrade(s, ctx, c, load_settings(ctx))
        if then is not None:
            then(s, ctx, p.id)
        return PurchaseInfo(p.id, p.day, p.kind, p.product, p.spec, p.quantity, p.amount, p.warranty_end)


def _regrade(s: Session, ctx: ServiceContext, c: Customer, settings: OfficeSettings) -> None:
    """The class from the purchases (services.classes: rolling or calendar year, VIP rank, imports)."""
    regrade_in(s, ctx, c, settings)


def recompute_grade(ctx: ServiceContext, customer_id: int) -> str:
    ctx.require(Permission.EDIT_CUSTOMERS, "重新计算客户等级")
    settings = load_settings(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, customer_id)
        check_visible(ctx, c, settings)
        _regrade(s, ctx, c, settings)
        return c.grade


def pin_grade(ctx: ServiceContext, customer_id: int, grade: str | None, reason: str = "") -> None:
    """A supervisor fixes the class by hand (with a reason), or unpins it (grade None) so the purchases
    decide again. Both are audited and kept in the class history; a new class starts its routine cadence
    today."""
    ctx.require(Permission.PIN_GRADE, "手动指定客户等级")
    settings = load_settings(ctx)
    with ctx.sessions() as s, s.begin():
        c = _load(s, customer_id)
        check_visible(ctx, c, settings)
        old = {"grade": c.grade, "pinned": c.grade_pinned, "grade_reason": c.grade_reason}
        day = ctx.today()
        if grade is None:
            if not c.grade_pinned:
                return
            c.grade_pinned, c.grade_reason = False, ""
            before = c.grade
            _regrade(s, ctx, c, settings)
            if c.grade == before:  # unpinned, same class: noted in the history all the same
                s.add(
                    CustomerClass(
                        customer_id=c.id,
                        grade=c.grade,
                        since=day,
                        source=SOURCE_UNPIN,
                        reason=clean_text(reason),
                        volume=c.annual_volume,
                        value=None,
                        changed_by_id=ctx.user.id or None,
                        created_at=ctx.now(),
                    )
                )
        else:
            if grade not in GRADES_ABCD + GRADES_VIP:
                raise ValidationError(FieldError("grade", "等级", f"“{grade}”不是有效等级"))
            if not clean_text(reason):
                raise ValidationError(FieldError("grade_reason", "等级原因", "手动指定等级必须填写原因"))
            text = clean_text(reason)
            if not apply_class(s, ctx, c, grade, day, SOURCE_PIN, reason=text, quiet=True):
                s.add(
                    CustomerClass(
                        customer_id=c.id,
                        grade=grade,
                        since=day,
                        source=SOURCE_PIN,
                        reason=text,
                        volume=c.annual_volume,
                        value=None,
                        changed_by_id=ctx.user.id or None,
                        created_at=ctx.now(),
                    )
                )
            c.grade_pinned, c.grade_reason = True, text
        audit(
            s,
            ctx,
            "指定等级" if grade else "取消指定等级",
            "customer",
            c.id,
            f"{c.code} {c.name}",
            old=old,
            new={"grade": c.grade, "pinned": c.grade_pinned, "grade_reason": c.grade_reason},
        )


def reassign_customers(ctx: ServiceContext, from_user_id: int, to_user_ids: list[int], note: str = "") -> int:
    """When a clerk leaves: spread all their customers over ``to_user_ids`` in one step (domain.md §1), with
    the customers' pending visit plans the clerk held (:func:`_move_pending_plans`). Returns the customers."""
    ctx.require(Permission.REASSIGN, "移交客户")
    if not to_user_ids:
        raise ValidationError(FieldError("to_user_ids", "接收人", "至少选择一位接收人"))
    if from_user_id in to_user_ids:
        raise ValidationError(FieldError("to_user_ids", "接收人", "接收人不能是原负责人"))
    with ctx.sessions() as s, s.begin():
        source = s.get(User, from_user_id)
        targets = [s.get(User, uid) for uid in to_user_ids]
        if source is None:
            raise NotFound("原负责人不存在。")
        if any(
            t is None or not t.active or not can(Role(t.role), Permission.EDIT_CUSTOMERS) for t in targets
        ):
            raise ValidationError(FieldError("to_user_ids", "接收人", "接收人不存在、已停用或不能负责客户"))
        ids = (
            s.execute(select(Customer.id).where(Customer.owner_id == from_user_id).order_by(Customer.id))
            .scalars()
            .all()
        )
        stamp = ctx.today().isoformat()
        new_owner: dict[int, User] = {}
        for i, cid in enumerate(ids):
            target = targets[i % len(targets)]
            assert target is not None
            c = s.get(Customer, cid)
            assert c is not None
            c.owner_id, c.department_id = target.id, target.department_id
            new_owner[cid] = target
            line = f"{stamp} 由 {source.display_name} 移交给 {target.display_name}" + (
                f"（{note}）" if note else ""
            )
            c.notes = (c.notes + "\n" + line).strip()
            c.updated_at = ctx.now()
            audit(
                s,
                ctx,
                "移交客户",
                "customer",
                c.id,
                f"{c.code} {c.name}",
                old={"owner": source.display_name},
                new={"owner": target.display_name},
                note=note,
            )
        plans = _move_pending_plans(s, ctx, source, new_owner, note)
        audit(
            s,
            ctx,
            "批量移交",
            "user",
            source.id,
            source.display_name,
            new={"count": len(ids), "plans": plans, "to": [t.display_name for t in targets if t]},
            note=note,
        )
        return len(ids)


def _move_pending_plans(
    s: Session, ctx: ServiceContext, source: User, new_owner: dict[int, User], note: str
) -> int:
    """The pending plans ``source`` held on the moved customers go to each customer's new owner from today
    (a satisfaction or closing visit, when independence is on, to a colleague independent of the new 业务员
    and the complaint's handler). Each change is kept (``plan_owner_change``), so the 考核 still charges
    ``source`` for a window that had already closed (an overdue plan) and the new owner for the rest."""
    if not new_owner:
        return 0
    independent = set(load_options(ctx).independent_visit_types) if independence_on(ctx) else set()
    visitors = Visitors(s)
    plans = (
        s.execute(
            select(VisitPlan)
            .where(
                VisitPlan.customer_id.in_(sorted(new_owner)),
                VisitPlan.owner_id == source.id,
                VisitPlan.state == "待回访",
            )
            .order_by(VisitPlan.id)
        )
        .scalars()
        .all()
    )
    why = "客户移交" + (f"：{note}" if note else "")
    for p in plans:
        target = new_owner[p.customer_id]
        uid: int | None = target.id
        if p.visit_type in independent:
            handler = complaint_handler(s, p.source_key)
            uid = visitors.assign(
                target.id, target.department_id, target.id, handler if handler is not None else source.id
            )
        change_plan_owner(s, p, uid, on=ctx.today(), at=ctx.now(), reason=why)
    return len(plans)
