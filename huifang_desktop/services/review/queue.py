"""The review queue (待审阅), the signed and returned items, the tamper scan and the integrity checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, or_, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaint_rules import own_file_signable
from huifang_desktop.domain.complaints import Severity
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.signoff import (
    Integrity,
    ReviewKind,
    ReviewRules,
    check_integrity,
    due_function,
    is_review_overdue,
)
from huifang_desktop.services import signing
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext
from huifang_desktop.services.errors import NotFound
from huifang_desktop.services.review.model import (
    _CHUNK,
    _MODELS,
    PENDING,
    RETURNED,
    SIGNED,
    PendingCounts,
    QueueGroup,
    ReviewItem,
    ReviewQueue,
    _calendar,
    load_review_rules,
)
from huifang_desktop.services.review.rows import (
    _attachments,
    _checked,
    _day,
    _group,
    _integrity,
    _last_returns,
    _limited,
    _load,
    _names,
    _owner_col,
    _owner_id,
    _status,
    _status_col,
    _stored,
    _title,
    _values,
    _visible,
)
from huifang_desktop.storage.models import Complaint, Customer, VisitRecord, VisitReport

# --- the queue ---------------------------------------------------------------------------------------


def _pending_select(kind: ReviewKind) -> Any:
    if kind is ReviewKind.RECORD:
        return (
            select(
                VisitRecord.id,
                VisitRecord.number,
                VisitRecord.visitor_id,
                VisitRecord.visited_at,
                VisitRecord.version,
                VisitRecord.revision,
                VisitRecord.supervisor_comment,
                Customer.name,
                VisitRecord.visit_type,
                VisitRecord.method,
            )
            .join(Customer, Customer.id == VisitRecord.customer_id)
            .where(VisitRecord.status == PENDING)
        )
    if kind is ReviewKind.REPORT:
        return select(
            VisitReport.id,
            VisitReport.number,
            VisitReport.clerk_id,
            VisitReport.period_start,
            VisitReport.period_end,
            VisitReport.due_on,
            VisitReport.version,
            VisitReport.revision,
            VisitReport.supervisor_comment,
        ).where(VisitReport.status == PENDING)
    return select(
        Complaint.id,
        Complaint.number,
        Complaint.handler_id,
        Complaint.closed_at,
        Complaint.updated_at,
        Complaint.version,
        Complaint.revision,
        Complaint.supervisor_comment,
        Complaint.subject,
    ).where(Complaint.review_status == PENDING)


@dataclass(frozen=True, slots=True)
class _QueueScope:
    rules: ReviewRules
    cal: Any
    today: date
    limited: bool
    me: int | None
    own_top: tuple[
        str, ...
    ] = ()  # severities of his own complaint files only he can sign (top of the ladder)


def _queue_scope(ctx: ServiceContext) -> _QueueScope:
    ctx.require(Permission.SIGN_OFF, "审阅签字")
    own_top: tuple[str, ...] = ()
    if ctx.user.id:
        from huifang_desktop.services.complaints.rules import load_complaint_rules
        from huifang_desktop.services.review.item import _others_at_top

        complaint_rules = load_complaint_rules(ctx)
        own_top = tuple(
            s.value for s in Severity if own_file_signable(ctx.user.role, s, complaint_rules, others_at_top=0)
        )
        if own_top and _others_at_top(ctx):
            own_top = ()  # another manager signs them
    return _QueueScope(
        load_review_rules(ctx), _calendar(ctx), ctx.today(), _limited(ctx), ctx.user.id or None, own_top
    )


def _pending_where(ctx: ServiceContext, kind: ReviewKind, q: Any, scope: _QueueScope) -> Any:
    """Waiting for review, visible to the acting user, not their own work (unless the office allows it, or
    it is a complaint file at the top of the ladder, which only he can sign)."""
    q = _visible(ctx, kind, q.where(_status_col(kind) == PENDING), scope.limited)
    if scope.me is not None and not scope.rules.allow_self_sign:
        owner = _owner_col(kind)
        if kind is ReviewKind.COMPLAINT and scope.own_top:
            q = q.where(or_(owner.is_(None), owner != scope.me, Complaint.severity.in_(scope.own_top)))
        else:
            q = q.where(or_(owner.is_(None), owner != scope.me))
    return q


def _pending_items(
    conn: Connection,
    ctx: ServiceContext,
    kind: ReviewKind,
    scope: _QueueScope,
    names: Mapping[int, str],
    owner: int | None | bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> list[ReviewItem]:
    """The pending items of one kind (of one clerk when ``owner`` is given; None: no clerk), oldest first
    (by the day, then the number: a stable order to page in)."""
    due = due_function(kind, scope.rules, scope.cal)
    q = _pending_where(ctx, kind, _pending_select(kind), scope)
    if owner is not False:
        col = _owner_col(kind)
        q = q.where(col.is_(None) if owner is None else col == owner)
    q = q.order_by(_day_col(kind), _MODELS[kind].number).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    items = []
    for r in conn.execute(q).all():
        if kind is ReviewKind.RECORD:
            item_id, number, who, at, version, revision, comment, customer, vtype, method = r
            day = basis = at.date()
            title = f"{customer} · {vtype}回访（{method}）"
        elif kind is ReviewKind.REPORT:
            item_id, number, who, start, end, basis, version, revision, comment = r
            day = end
            title = f"{start:%Y-%m-%d}～{end:%Y-%m-%d}" if start != end else f"{start:%Y-%m-%d}"
        else:
            item_id, number, who, closed_at, updated_at, version, revision, comment, title = r
            day = basis = (closed_at or updated_at).date()
        d = due(basis)
        items.append(
            ReviewItem(
                kind,
                item_id,
                number,
                title,
                who,
                names.get(who, "") if who else "",
                day,
                d,
                is_review_overdue(d, scope.today),
                PENDING,
                version,
                revision or 0,
                comment or "",
            )
        )
    return items


def review_queue(ctx: ServiceContext) -> ReviewQueue:
    """Everything waiting for the acting supervisor's review (待审阅), grouped by clerk and type, oldest first,
    with the review due day and overdue marks. Three indexed queries; no hashing. For a long queue the tab
    shows :func:`queue_summary` first and loads a group's items (:func:`queue_group`) when it is opened."""
    scope = _queue_scope(ctx)
    items: list[ReviewItem] = []
    with ctx.engine.connect() as conn:  # plain rows: no ORM bookkeeping for thousands of them
        names = _names(conn)
        for kind in ReviewKind:
            items += _pending_items(conn, ctx, kind, scope, names)
    return _group(items, presorted=True)


def _basis_before(kind: ReviewKind, cutoff: date) -> Any:
    """The SQL condition ``review basis day <= cutoff`` (overdue when ``cutoff`` is the overdue cut-off)."""
    nxt = datetime.combine(cutoff + timedelta(days=1), time.min)
    if kind is ReviewKind.RECORD:
        return VisitRecord.visited_at < nxt
    if kind is ReviewKind.REPORT:
        return VisitReport.due_on <= cutoff
    return func.coalesce(Complaint.closed_at, Complaint.updated_at) < nxt


def _day_col(kind: ReviewKind) -> Any:
    if kind is ReviewKind.RECORD:
        return VisitRecord.visited_at
    if kind is ReviewKind.REPORT:
        return VisitReport.period_end
    return func.coalesce(Complaint.closed_at, Complaint.updated_at)


def queue_summary(ctx: ServiceContext) -> ReviewQueue:
    """The review queue's groups (clerk × type) with their counts and overdue counts, items not loaded: one
    aggregate query per type, so the tab paints at once however long the queue is."""
    scope = _queue_scope(ctx)
    counts: dict[tuple[int | None, ReviewKind], tuple[int, int]] = {}
    oldest: dict[int | None, date] = {}
    with ctx.engine.connect() as conn:
        names = _names(conn)
        for kind in ReviewKind:
            owner = _owner_col(kind)
            late = _basis_before(kind, _overdue_cutoff(kind, scope.rules, scope.cal, scope.today))
            q = _pending_where(
                ctx,
                kind,
                select(
                    owner, func.count(), func.sum(case((late, 1), else_=0)), func.min(_day_col(kind))
                ).select_from(_MODELS[kind]),
                scope,
            )
            for who, n, n_late, first in conn.execute(q.group_by(owner)):
                counts[(who, kind)] = (int(n), int(n_late or 0))
                day = first.date() if isinstance(first, datetime) else first
                if isinstance(day, str):  # SQLite: coalesce() of two datetimes comes back as text
                    day = datetime.fromisoformat(day).date()
                if who not in oldest or day < oldest[who]:
                    oldest[who] = day

    def name(who: int | None) -> str:
        return (names.get(who, "") if who else "") or "（未指定）"

    groups = []
    for who in sorted(oldest, key=lambda o: (oldest[o], name(o))):
        for kind in ReviewKind:
            if (who, kind) in counts:
                n, n_late = counts[(who, kind)]
                groups.append(QueueGroup(who, name(who), kind, (), n, n_late))
    return ReviewQueue(tuple(groups))


def queue_group(
    ctx: ServiceContext,
    owner_id: int | None,
    kind: ReviewKind | str,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> QueueGroup:
    """One clerk's items of one type waiting for review, oldest first (a group of :func:`queue_summary`);
    ``offset`` / ``limit`` page through a long one."""
    kind = ReviewKind.parse(kind)
    scope = _queue_scope(ctx)
    with ctx.engine.connect() as conn:
        names = _names(conn)
        items = _pending_items(conn, ctx, kind, scope, names, owner=owner_id, offset=offset, limit=limit)
    return QueueGroup(
        owner_id, (names.get(owner_id, "") if owner_id else "") or "（未指定）", kind, tuple(items)
    )


def _overdue_cutoff(kind: ReviewKind, rules: ReviewRules, cal: Any, today: date) -> date:
    """The latest basis day whose review is overdue today (due is monotonic in the basis day)."""
    due = due_function(kind, rules, cal)
    day = today
    while not is_review_overdue(due(day), today):
        day -= timedelta(days=1)
    return day


def pending_counts(ctx: ServiceContext) -> PendingCounts:
    """Counts for the start-up reminder (count queries only): items waiting for my review and how many of
    them are overdue (supervisors and managers), and my items returned to me (everyone)."""
    me = ctx.user.id or None
    pending = overdue = 0
    if can(ctx.user.role, Permission.SIGN_OFF) or ctx.user is SYSTEM_USER:
        summary = queue_summary(ctx)
        pending, overdue = summary.total, summary.overdue
    by_kind: list[tuple[ReviewKind, int]] = []
    if me is not None:
        with ctx.sessions() as s:
            for kind in ReviewKind:
                model = _MODELS[kind]
                n = int(
                    s.execute(
                        select(func.count(model.id)).where(
                            _status_col(kind) == RETURNED, _owner_col(kind) == me
                        )
                    ).scalar()
                    or 0
                )
                if n:
                    by_kind.append((kind, n))
    return PendingCounts(pending, overdue, sum(n for _k, n in by_kind), tuple(by_kind))


def _rows_where(
    s: Session,
    ctx: ServiceContext,
    kind: ReviewKind,
    *conds: Any,
    order: Any = None,
    limit: int | None = None,
) -> list[Any]:
    model = _MODELS[kind]
    q = _visible(ctx, kind, select(model).where(*conds), _limited(ctx))
    if order is not None:
        q = q.order_by(order)
    if limit is not None:
        q = q.limit(limit)
    return list(s.execute(q).scalars())


def _items_with_integrity(
    s: Session,
    ctx: ServiceContext,
    kind: ReviewKind,
    rows: Sequence[Any],
    names: Mapping[int, str],
    rules: ReviewRules,
) -> list[ReviewItem]:
    attachments = _attachments(s, [r.id for r in rows]) if kind is ReviewKind.COMPLAINT else {}
    customers: dict[int, str] = {}
    if kind is ReviewKind.RECORD and rows:
        ids = sorted({r.customer_id for r in rows})
        for i in range(0, len(ids), _CHUNK):
            q = select(Customer.id, Customer.name).where(Customer.id.in_(ids[i : i + _CHUNK]))
            customers.update({cid: name for cid, name in s.execute(q)})
    out = []
    for r in rows:
        integrity = _checked(s, kind, r, attachments.get(r.id))
        owner = _owner_id(kind, r)
        out.append(
            ReviewItem(
                kind,
                r.id,
                r.number,
                _title(kind, r, customers.get(getattr(r, "customer_id", 0), "")),
                owner,
                names.get(owner, "") if owner else "",
                _day(kind, r),
                None,
                False,
                _status(kind, r),
                r.version,
                r.revision or 0,
                r.supervisor_comment or "",
                names.get(r.signed_by_id, "") if r.signed_by_id else "",
                r.signed_at,
                integrity,
            )
        )
    return out


def signed_queue(ctx: ServiceContext, since: date | None = None) -> ReviewQueue:
    """Items signed since ``since`` (default: ``ReviewRules.signed_days`` ago), each checked against its
    hashes: a changed one is marked 签字后被修改. For reopening (撤回签字)."""
    ctx.require(Permission.SIGN_OFF, "查看已签字的表单")
    rules = load_review_rules(ctx)
    start = datetime.combine(since or ctx.today() - timedelta(days=rules.signed_days), time.min)
    items: list[ReviewItem] = []
    with ctx.sessions() as s:
        names = _names(s)
        for kind in ReviewKind:
            model = _MODELS[kind]
            rows = _rows_where(s, ctx, kind, _status_col(kind) == SIGNED, model.signed_at >= start)
            items += _items_with_integrity(s, ctx, kind, rows, names, rules)
    return _group(items)


@dataclass(frozen=True, slots=True)
class ScanCursor:
    """Where the tamper scan goes on: the kind (index into ReviewKind) and the last id read."""

    kind_index: int = 0
    after_id: int = 0


def scan_tampered(
    ctx: ServiceContext, cursor: ScanCursor = ScanCursor(), limit: int = _CHUNK
) -> tuple[list[ReviewItem], ScanCursor | None]:
    """One step of the tamper scan: up to ``limit`` rows that are (or were) signed, checked against their
    hashes. Returns the tampered ones and the cursor of the next step (None when the scan is complete), so
    the GUI can scan a large database in small steps without a thread."""
    ctx.require(Permission.SIGN_OFF, "校验签字")
    kinds = list(ReviewKind)
    rules = load_review_rules(ctx)
    with ctx.sessions() as s:
        names = _names(s)
        index, after = cursor.kind_index, cursor.after_id
        while index < len(kinds):
            kind = kinds[index]
            model = _MODELS[kind]
            rows = _rows_where(
                s,
                ctx,
                kind,
                or_(_status_col(kind) == SIGNED, model.content_hash != "", model.signature_hash != ""),
                model.id > after,
                order=model.id,
                limit=limit,
            )
            if rows:
                found = [i for i in _items_with_integrity(s, ctx, kind, rows, names, rules) if i.tampered]
                nxt = ScanCursor(index, rows[-1].id) if len(rows) == limit else ScanCursor(index + 1, 0)
                return found, (nxt if nxt.kind_index < len(kinds) else None)
            index, after = index + 1, 0
    return [], None


def tampered_items(ctx: ServiceContext) -> list[ReviewItem]:
    """Every stored item that no longer matches its signature: signed rows whose hashes differ, and unsigned
    rows still carrying a hash (signature removed outside the program)."""
    out: list[ReviewItem] = []
    cursor: ScanCursor | None = ScanCursor()
    while cursor is not None:
        found, cursor = scan_tampered(ctx, cursor)
        out += found
    return out


def verify(ctx: ServiceContext, kind: ReviewKind | str, item_id: int) -> Integrity:
    """签字有效 / 签字后被修改 / 未签字 for one stored item (recomputed from the row as stored now)."""
    kind = ReviewKind.parse(kind)
    with ctx.sessions() as s:
        return _integrity(s, kind, _load(s, ctx, kind, item_id))


def integrity_of(
    s: Session, kind: ReviewKind | str, item_id: int, keys: signing.SignerKeys | None = None
) -> Integrity:
    """The same check inside a caller's session (e.g. the printout); the caller has checked visibility.
    ``keys``: the signers' keys kept across sessions (:func:`signing.shared_keys`)."""
    kind = ReviewKind.parse(kind)
    row = s.get(_MODELS[kind], item_id)
    if row is None:
        raise NotFound(f"{kind.short} {item_id} 不存在。")
    return _integrity(s, kind, row, keys)


def row_integrity(
    kind: ReviewKind | str,
    row: Any,
    s: Session | Connection | None = None,
    keys: signing.SignerKeys | None = None,
) -> Integrity:
    """The same check of a record or report read as columns (any object with the table's column names as
    attributes, e.g. a Core row); a complaint also needs its attachments: use :func:`integrity_of`. With the
    session ``s`` the signature is checked too (its keys are cached in the session, or in ``keys`` across
    sessions: cheap per form)."""
    kind = ReviewKind.parse(kind)
    if kind is ReviewKind.COMPLAINT:
        raise ValueError("a complaint's integrity needs its attachments")
    if s is None:
        return check_integrity(kind, _values(kind, row), _stored(kind, row))
    return _checked(s, kind, row, keys=keys)


def returned_queue(ctx: ServiceContext, *, mine: bool = True) -> ReviewQueue:
    """Items returned (退回, also after a reopen) with the reason, who returned it and when: the acting
    user's own (``mine``), or all the supervisor may see."""
    if not mine:
        ctx.require(Permission.SIGN_OFF, "查看退回的表单")
    me = ctx.user.id or -1
    rules = load_review_rules(ctx)
    items: list[ReviewItem] = []
    with ctx.sessions() as s:
        names = _names(s)
        for kind in ReviewKind:
            conds = [_status_col(kind) == RETURNED]
            if mine:
                conds.append(_owner_col(kind) == me)
            if mine:  # one's own items are always visible
                rows = list(s.execute(select(_MODELS[kind]).where(*conds)).scalars())
            else:
                rows = _rows_where(s, ctx, kind, *conds)
            returns = _last_returns(s, kind, [r.id for r in rows])
            for item in _items_with_integrity(s, ctx, kind, rows, names, rules):
                by, at = returns.get(item.id, ("", None))
                items.append(replace(item, returned_by=by, returned_at=at))
    return _group(items)


def returned_items(ctx: ServiceContext) -> list[ReviewItem]:
    """The acting user's items returned for rework, with the supervisor's comment (oldest first)."""
    return sorted(returned_queue(ctx, mine=True).items(), key=lambda i: (i.day, i.number))
