"""Reading one item's row: its status, owner, visibility, hashes and title; the item as the UI gets it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.orm import Session, aliased

from huifang_desktop.domain.signoff import (
    HASH_FIELDS,
    Integrity,
    ReviewAction,
    ReviewKind,
    ReviewRules,
    ReviewStatus,
    SignOff,
    StoredSignature,
    check_integrity,
    due_function,
    is_review_overdue,
    self_review_barred,
)
from huifang_desktop.services import signing
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext
from huifang_desktop.services.errors import ConflictError, NotFound, PermissionDenied
from huifang_desktop.services.review.model import (
    _CHUNK,
    _MODELS,
    PENDING,
    QueueGroup,
    ReviewItem,
    ReviewQueue,
    _calendar,
    load_review_rules,
)
from huifang_desktop.storage.models import (
    Attachment,
    AuditLog,
    Complaint,
    ComplaintAttachment,
    Customer,
    User,
    VisitRecord,
    VisitReport,
)

# --- helpers -----------------------------------------------------------------------------------------


def _status(kind: ReviewKind, row: Any) -> str:
    return str(row.review_status if kind is ReviewKind.COMPLAINT else row.status)


def _set_status(kind: ReviewKind, row: Any, value: ReviewStatus) -> None:
    if kind is ReviewKind.COMPLAINT:
        row.review_status = value.value
    else:
        row.status = value.value


_OWNER_ATTR = {
    ReviewKind.RECORD: "visitor_id",
    ReviewKind.REPORT: "clerk_id",
    ReviewKind.COMPLAINT: "handler_id",
}


def _owner_id(kind: ReviewKind, row: Any) -> int | None:
    """The clerk an item belongs to: the visitor, the report's writer, the complaint's handler."""
    owner: int | None = getattr(row, _OWNER_ATTR[kind])
    return owner


def _status_col(kind: ReviewKind) -> Any:
    return Complaint.review_status if kind is ReviewKind.COMPLAINT else _MODELS[kind].status


def _owner_col(kind: ReviewKind) -> Any:
    return getattr(_MODELS[kind], _OWNER_ATTR[kind])


def _names(s: Session | Connection) -> dict[int, str]:
    return {uid: name for uid, name in s.execute(select(User.id, User.display_name))}


def _person(ctx: ServiceContext, what: str) -> None:
    if ctx.user is SYSTEM_USER or not ctx.user.id:
        raise PermissionDenied(f"{what}须由登录的主管或经理本人操作。")


def _limited(ctx: ServiceContext) -> bool:
    from huifang_desktop.services.policy import customer_scope

    return customer_scope(ctx).limited


def _visible(ctx: ServiceContext, kind: ReviewKind, q: Any, limited: bool) -> Any:
    """Department visibility (same setting as the customer files and the complaint register)."""
    if not limited:
        return q
    dep = ctx.user.department_id
    if kind is ReviewKind.RECORD:
        cond = Customer.department_id.is_(None) if dep is None else Customer.department_id == dep
        return q.where(VisitRecord.customer_id.in_(select(Customer.id).where(cond)))
    if kind is ReviewKind.REPORT:
        cond = User.department_id.is_(None) if dep is None else User.department_id == dep
        colleagues = select(User.id).where(cond)
        return q.where(or_(VisitReport.clerk_id == ctx.user.id, VisitReport.clerk_id.in_(colleagues)))
    from huifang_desktop.services.policy import complaint_visibility

    cond = complaint_visibility(ctx)
    return q if cond is None else q.where(cond)


def _load(
    s: Session, ctx: ServiceContext, kind: ReviewKind, item_id: int, limited: bool | None = None
) -> Any:
    """The item's row, refused outside the acting user's department scope (``limited``: the scope worked out
    once by a caller that loads many, :func:`_limited`; ``None``: read now)."""
    row = s.get(_MODELS[kind], item_id)
    if row is None:
        raise NotFound(f"{kind.short} {item_id} 不存在。")
    if _limited(ctx) if limited is None else limited:
        q = _visible(ctx, kind, select(_MODELS[kind].id).where(_MODELS[kind].id == item_id), True)
        if s.execute(q).first() is None:
            raise PermissionDenied(f"{kind.short} {row.number} 属于其他部门，需经理授权才能查看。")
    return row


def _attachments(s: Session, complaint_ids: Sequence[int]) -> dict[int, list[list[str]]]:
    out: dict[int, list[list[str]]] = {cid: [] for cid in complaint_ids}
    ids = list(complaint_ids)
    for i in range(0, len(ids), _CHUNK):
        q = (
            select(ComplaintAttachment.complaint_id, Attachment.sha256, Attachment.name, Attachment.kind)
            .join(Attachment, Attachment.id == ComplaintAttachment.attachment_id)
            .where(ComplaintAttachment.complaint_id.in_(ids[i : i + _CHUNK]))
        )
        for cid, sha, name, kind in s.execute(q):
            out[cid].append([sha, name, kind])
    return {cid: sorted(v) for cid, v in out.items()}


def _values(kind: ReviewKind, row: Any, attachments: list[list[str]] | None = None) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in HASH_FIELDS[kind] if name != "attachments"}
    if kind is ReviewKind.COMPLAINT:
        values["attachments"] = attachments or []
    return values


def _stored(kind: ReviewKind, row: Any) -> StoredSignature:
    return StoredSignature(
        _status(kind, row),
        row.content_hash or "",
        row.signature_hash or "",
        SignOff(
            row.signed_by_id,
            row.signed_role or "",
            row.signed_at,
            row.supervisor_comment or "",
            row.revision or 0,
        ),
        row.signature or "",
        row.signed_seq,
    )


def _checked(
    s: Session | Connection,
    kind: ReviewKind,
    row: Any,
    attachments: list[list[str]] | None = None,
    keys: signing.SignerKeys | None = None,
) -> Integrity:
    """The full check of one row: hashes, and the signature against the signer's key in the audit chain
    (``keys``: the signers' keys kept across sessions, :func:`signing.shared_keys`)."""
    return check_integrity(
        kind,
        _values(kind, row, attachments),
        _stored(kind, row),
        row.id,
        signing.verifier(s, keys),
        signing.legacy_checker(s, kind),
    )


def _integrity(s: Session, kind: ReviewKind, row: Any, keys: signing.SignerKeys | None = None) -> Integrity:
    attachments = _attachments(s, [row.id])[row.id] if kind is ReviewKind.COMPLAINT else None
    return _checked(s, kind, row, attachments, keys)


def _title(kind: ReviewKind, row: Any, customer: str = "") -> str:
    if kind is ReviewKind.RECORD:
        return f"{customer} · {row.visit_type}回访（{row.method}）"
    if kind is ReviewKind.REPORT:
        if row.period_start == row.period_end:
            return f"{row.period_start:%Y-%m-%d}"
        return f"{row.period_start:%Y-%m-%d}～{row.period_end:%Y-%m-%d}"
    return str(row.subject)


def _day(kind: ReviewKind, row: Any) -> date:
    day: date
    if kind is ReviewKind.RECORD:
        day = row.visited_at.date()
    elif kind is ReviewKind.REPORT:
        day = row.period_end
    else:
        day = (row.closed_at or row.updated_at).date()
    return day


def _due_basis(kind: ReviewKind, row: Any) -> date:
    return row.due_on if kind is ReviewKind.REPORT else _day(kind, row)


def _label(kind: ReviewKind, row: Any, customer: str = "") -> str:
    return f"{row.number} {_title(kind, row, customer)}"[:200]


def _customer_name(s: Session, kind: ReviewKind, row: Any) -> str:
    if kind is not ReviewKind.RECORD:
        return ""
    return s.execute(select(Customer.name).where(Customer.id == row.customer_id)).scalar() or ""


def _item(
    s: Session,
    ctx: ServiceContext,
    kind: ReviewKind,
    row: Any,
    names: Mapping[int, str],
    rules: ReviewRules | None = None,
    *,
    integrity: Integrity | None = None,
    customer: str | None = None,
) -> ReviewItem:
    """The row as a review item (``customer``: its customer's name when the caller has it)."""
    rules = rules or load_review_rules(ctx)
    status = _status(kind, row)
    owner = _owner_id(kind, row)
    due = overdue = None
    if status == PENDING:
        due = due_function(kind, rules, _calendar(ctx))(_due_basis(kind, row))
        overdue = is_review_overdue(due, ctx.today())
    return ReviewItem(
        kind,
        row.id,
        row.number,
        _title(kind, row, _customer_name(s, kind, row) if customer is None else customer),
        owner,
        names.get(owner, "") if owner else "",
        _day(kind, row),
        due,
        bool(overdue),
        status,
        row.version,
        row.revision or 0,
        row.supervisor_comment or "",
        names.get(row.signed_by_id, "") if row.signed_by_id else "",
        row.signed_at,
        integrity if integrity is not None else _integrity(s, kind, row),
    )


def _group(items: Iterable[ReviewItem], presorted: bool = False) -> ReviewQueue:
    """Group by clerk, then by type in the order 记录 / 报告 / 投诉; clerks with the oldest item first; items
    oldest first (``presorted``: they come in that order already)."""
    buckets: dict[tuple[int | None, ReviewKind], list[ReviewItem]] = {}
    oldest: dict[int | None, tuple[date, str]] = {}
    names: dict[int | None, str] = {}
    for item in items:
        buckets.setdefault((item.owner_id, item.kind), []).append(item)
        names[item.owner_id] = item.owner or "（未指定）"
        key = (item.day, item.owner)
        if item.owner_id not in oldest or key < oldest[item.owner_id]:
            oldest[item.owner_id] = key
    order = sorted(oldest, key=lambda o: (oldest[o], names[o]))
    kinds = list(ReviewKind)
    groups = []
    for owner in order:
        for kind in kinds:
            bucket = buckets.get((owner, kind))
            if bucket:
                if not presorted:
                    bucket.sort(key=lambda i: (i.day, i.number))
                groups.append(QueueGroup(owner, names[owner], kind, tuple(bucket)))
    return ReviewQueue(tuple(groups))


def group_items(items: Iterable[ReviewItem]) -> ReviewQueue:
    """Any items as a queue: by clerk (the one with the oldest item first), then by type, oldest first."""
    return _group(items)


def _last_returns(s: Session, kind: ReviewKind, ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    out: dict[int, tuple[str, datetime]] = {}
    who = aliased(User)
    for i in range(0, len(ids), _CHUNK):
        q = (
            select(AuditLog.entity_id, func.coalesce(who.display_name, AuditLog.username), AuditLog.at)
            .outerjoin(who, who.id == AuditLog.user_id)
            .where(
                AuditLog.entity == kind.entity,
                AuditLog.entity_id.in_(ids[i : i + _CHUNK]),
                AuditLog.action.in_([ReviewAction.RETURN.value, ReviewAction.REOPEN.value]),
            )
            .order_by(AuditLog.id)
        )
        for eid, name, at in s.execute(q):
            if eid is not None:
                out[eid] = (name, at)
    return out


def _self_check(
    ctx: ServiceContext, kind: ReviewKind, row: Any, rules: ReviewRules, what: str, own_top: bool = False
) -> None:
    """Refuse acting on one's own item unless the office allows it; ``own_top``: one's own complaint file at
    the top of the ladder, which only oneself can sign."""
    mine = bool(ctx.user.id) and _owner_id(kind, row) == ctx.user.id and not own_top
    if self_review_barred(mine=mine, allow_self_sign=rules.allow_self_sign):
        raise PermissionDenied(f"不能{what}自己的{kind.short} {row.number}，请由其他主管或经理审阅。")


def _check_version(kind: ReviewKind, row: Any, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise ConflictError(f"{kind.short} {row.number} 在您阅读之后已被修改，请重新阅读后再操作。")
