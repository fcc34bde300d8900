"""台账 (ledgers, domain.md §8): the five ledgers behind one API — 客户台账, 回访台账, 投诉台账, 售后服务台账 and
终端客户信息台帐.

Every ledger is described by its :func:`columns` (key, label, type, width, summed or not, sortable or not,
shown by default) and read with one :class:`LedgerFilter` (text, a date range, 负责人 or "mine", a state, a
kind and a grade — each ledger names what they mean in :func:`choices`):

* :func:`page` — one page of rows after a keyset cursor (the last row's ``key``); filters and sorting run
  in SQL on indexed columns, so the first page of a million-row ledger costs as much as of a small one.
  The 回访台账 holds two kinds of rows — planned visits (with their record once made) and visits made
  without a plan (计划外) — read as two index-ordered queries merged by date.
* :func:`totals` — the 合计 row: the row count and the sums of the summed columns, computed in SQL.
* :func:`stream` — every row in order (a server cursor), for :func:`export` and :func:`print_document`.
* :func:`export` — the ledger as an .xlsx workbook (:mod:`huifang_desktop.exports.ledger_xlsx`): title with
  company and period, frozen header, widths, real dates and numbers, auto-filter, 合计 row and a 说明 sheet
  with the filter and who exported when; progress and cancel for the GUI's worker thread; audited.
* :func:`print_document` — a landscape table (header on every page, 本页合计 and 总计 of the summed columns).
* Saved filters and the column choice are kept **per user** (setting ``ledger_prefs:<user id>``); the
  built-in filters (本月, 上月, 本年, 我的…, 逾期 …) are computed from today.

Visibility is the customer files' rule (whole office or own department). Exporting a ledger the office
marked 绝密 (``LedgerOptions.top_secret``, by default the two customer ledgers, 002) needs a supervisor.
"""

from __future__ import annotations

import calendar
import io
import json
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from heapq import merge
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, tuple_
from sqlalchemy.orm import aliased

from huifang_desktop.domain.complaints import OPEN_STATES, ComplaintState, is_overdue
from huifang_desktop.domain.customers import CUSTOMER_STATUSES, GRADES_ABCD, GRADES_VIP
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, business_roles, can
from huifang_desktop.domain.validation import clean_text, format_phone
from huifang_desktop.domain.visits import OVERDUE, PlanState, VisitType, display_state, signed_form_state
from huifang_desktop.exports.ledger_xlsx import INTEGER_FORMAT, MONEY_FORMAT, XlsxColumn, write_ledger
from huifang_desktop.services import service_records
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import PermissionDenied, ServiceError
from huifang_desktop.services.outputs import checked_target, write_failed
from huifang_desktop.services.policy import customer_scope
from huifang_desktop.services.settings import get_value, load_settings, set_value
from huifang_desktop.storage.models import (
    Complaint,
    Customer,
    Department,
    Purchase,
    ServiceRecord,
    Setting,
    User,
    VisitPlan,
    VisitRecord,
)
from huifang_desktop.storage.queries import (
    CUSTOMER_SORTS,
    TEXT_PROBE_CAP,
    CustomerFilter,
    customer_conditions,
    customer_text_condition,
    customer_text_probe,
)

PAGE_SIZE = 200
OPTIONS_KEY = "ledger_options"
PREFS_KEY = "ledger_prefs:{user}"
ALL = "全部"
ARCHIVED = "已归档"
UNPLANNED = "计划外"
HISTORY = "历史导入"  # a visit record imported from an old ledger (services.visits.RECORD_HISTORY)
OVERDUE_STATE = OVERDUE  # 逾期, a state choice of the 回访台账 and 投诉台账
IN_WARRANTY, OUT_OF_WARRANTY, NO_WARRANTY = "在保", "已过保", "无质保"
_STREAM_BATCH = 2000
_CANCEL_EVERY = 500

Cursor = tuple[Any, ...]
ProgressFn = Callable[[int, int], Any]
CancelledFn = Callable[[], bool]


class Ledger(StrEnum):
    CUSTOMERS = "客户台账"
    VISITS = "回访台账"
    COMPLAINTS = "投诉台账"
    SERVICES = "售后服务台账"
    END_CUSTOMERS = "终端客户信息台帐"

    @property
    def slug(self) -> str:
        """The command-line and settings name."""
        return _SLUGS[self]

    @classmethod
    def parse(cls, name: str) -> Ledger:
        """A ledger by its slug (``customers``, ``service``/``services``, ``end-customers``…) or its name."""
        key = clean_text(name).lower().replace("_", "-")
        for ledger in cls:
            if key in (ledger.slug, ledger.value) or key in _ALIASES.get(ledger, ()):
                return ledger
        names = "、".join(ledger.slug for ledger in cls)
        raise ValidationError(FieldError("ledger", "台账", f"没有“{name}”这本台账，可选：{names}"))


_SLUGS = {Ledger.CUSTOMERS: "customers", Ledger.VISITS: "visits", Ledger.COMPLAINTS: "complaints",
          Ledger.SERVICES: "services", Ledger.END_CUSTOMERS: "endcustomers"}
_ALIASES = {Ledger.SERVICES: ("service",),
            Ledger.END_CUSTOMERS: ("end-customers", "endcustomer", "end-customer")}


class ColumnType(StrEnum):
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    INT = "int"
    MONEY = "money"


@dataclass(frozen=True, slots=True)
class LedgerColumn:
    """One column. ``width``: Excel characters (also the print weight); ``total``: summed in the 合计 row;
    ``sort``: the sort key when the column is sortable (an indexed column), else ''; ``visible``: shown by
    default (the column chooser changes it per user)."""

    key: str
    label: str
    type: ColumnType = ColumnType.TEXT
    width: float = 12.0
    total: bool = False
    sort: str = ""
    visible: bool = True

    @property
    def numeric(self) -> bool:
        return self.type in (ColumnType.INT, ColumnType.MONEY)


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    """What a ledger shows. ``state``, ``kind`` and ``grade`` take the values :func:`choices` lists ('': all);
    ``mine`` overrides ``owner_id`` with the acting user; ``sort`` '' is the ledger's default order."""

    text: str = ""
    start: date | None = None
    end: date | None = None
    owner_id: int | None = None
    mine: bool = False
    state: str = ""
    kind: str = ""
    grade: str = ""
    sort: str = ""
    descending: bool | None = None  # None: the ledger's default direction

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            out[f.name] = value.isoformat() if isinstance(value, date) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LedgerFilter:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key in ("start", "end") and isinstance(value, str):
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    continue
            values[key] = value
        return cls(**values)


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """What the filter bar offers for one ledger (labels and values)."""

    date_label: str
    owner_label: str
    owners: tuple[tuple[int, str], ...]
    state_label: str
    states: tuple[str, ...]
    kind_label: str
    kinds: tuple[str, ...]
    grade_label: str
    grades: tuple[str, ...]
    sorts: tuple[tuple[str, str], ...]  # (sort key, column label)
    default_sort: str
    default_descending: bool
    can_add: bool = False  # the ledger takes new rows here (售后服务台账)
    can_export: bool = True
    export_note: str = ""  # why export is refused, for the button's tooltip


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One row: ``values`` in the order of :func:`columns` (real dates and numbers, '' or None when empty);
    ``key`` is the keyset cursor to read the rows after it; ``flag`` is '' / 'overdue' / 'muted'."""

    id: int
    values: tuple[Any, ...]
    key: Cursor
    flag: str = ""
    entity: str = ""


@dataclass(frozen=True, slots=True)
class LedgerPage:
    rows: tuple[LedgerRow, ...]
    more: bool  # another page follows (read it with ``after=rows[-1].key``)


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """The 合计 row: ``count`` rows; ``values`` per summed column key; ``summary`` one line for people."""

    count: int
    values: Mapping[str, Any]
    summary: str


@dataclass(frozen=True, slots=True)
class SavedFilter:
    name: str
    filter: LedgerFilter
    builtin: bool


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    rows: int


@dataclass(frozen=True, slots=True)
class LedgerOptions:
    """Office settings of the ledgers (key ``ledger_options``). ``top_secret``: ledgers (slugs) graded 绝密,
    whose export needs a supervisor (002: customer files are 绝密)."""

    top_secret: tuple[str, ...] = ("customers", "endcustomers")

    def to_dict(self) -> dict[str, Any]:
        return {"top_secret": list(self.top_secret)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LedgerOptions:
        raw = data.get("top_secret", cls.top_secret)
        if not isinstance(raw, list | tuple):
            return cls()
        return cls(tuple(Ledger.parse(str(v)).slug for v in raw))


class LedgerError(ServiceError):
    """A ledger file that cannot be written (folder missing, no permission, disk full, open in Excel)."""


class ExportCancelled(ServiceError):
    """The user cancelled an export; no file was written."""


def load_options(ctx: ServiceContext) -> LedgerOptions:
    data = get_value(ctx, OPTIONS_KEY)
    return LedgerOptions.from_dict(data) if isinstance(data, dict) else LedgerOptions()


def save_options(ctx: ServiceContext, options: LedgerOptions) -> None:
    set_value(ctx, OPTIONS_KEY, options.to_dict(), what="台账设置")


# --- helpers ------------------------------------------------------------------------------------------

_T, _D, _DT, _I, _M = ColumnType.TEXT, ColumnType.DATE, ColumnType.DATETIME, ColumnType.INT, ColumnType.MONEY
_NO_TIME = datetime.min
_NO_DAY = date(1900, 1, 1)


def _scope(ctx: ServiceContext) -> Any | None:
    return service_records.visibility_condition(ctx)


def _customer_scope(ctx: ServiceContext) -> tuple[bool, int | None]:
    """(limited, department): the customer files' visibility rule, as ``CustomerFilter`` takes it."""
    scope = customer_scope(ctx)
    return scope.limited, scope.department_id


def _owner(ctx: ServiceContext, f: LedgerFilter) -> int | None:
    return (ctx.user.id or -1) if f.mine else f.owner_id


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min)


def _text_ids(conn: Connection, text: str) -> list[int] | None:
    """Every customer id the search text matches when they are few (see ``customer_text_probe``); None when
    there is no text or it is common (then the ordered scan with the text condition stops early)."""
    probe = customer_text_probe(text)
    if probe is None:  # a 客户编号 prefix: an index range, read the ids from it too
        cond = customer_text_condition(text)
        if cond is None:
            return None
        probe = select(Customer.id).where(cond).limit(TEXT_PROBE_CAP)
    found = conn.execute(probe).scalars().all()
    return None if len(found) >= TEXT_PROBE_CAP else list(dict.fromkeys(found))


def _people(ctx: ServiceContext) -> tuple[tuple[int, str], ...]:
    with ctx.sessions() as s:
        rows = s.execute(select(User.id, User.display_name).where(
            User.active.is_(True), User.role.in_(business_roles())).order_by(User.display_name)).all()
    return tuple((uid, name) for uid, name in rows)


def _bad_choice(label: str, value: str, allowed: Sequence[str]) -> ValidationError:
    return ValidationError(FieldError(label, label, f"“{value}”不是可选值（{'、'.join(allowed)}）"))


@dataclass(frozen=True)
class _Source:
    """One index-ordered query of a ledger. ``order``: ORDER BY expressions (ascending; the last unique);
    ``after(cursor, descending)``: the conditions for rows after a cursor; ``convert(row)``: a LedgerRow."""

    query: Any
    order: tuple[Any, ...]
    convert: Callable[[Any], LedgerRow]
    after: Callable[[Cursor, bool], list[Any]]
    # (conditions after the cursor, descending, limit) -> the page's query, when the plain one is slow
    page_query: Callable[[list[Any], bool, int], Any] | None = None


def _keyset_after(order: tuple[Any, ...]) -> Callable[[Cursor, bool], list[Any]]:
    def after(cursor: Cursor, descending: bool) -> list[Any]:
        key, value = tuple_(*order), tuple_(*cursor)
        return [key < value if descending else key > value]
    return after


class _Spec(ABC):
    """What one ledger is made of; subclasses define the columns, choices, sources and totals."""

    ledger: Ledger
    columns: tuple[LedgerColumn, ...]
    entity: str
    date_label = "日期"
    owner_label = "负责人"
    state_label = "状态"
    kind_label = "类别"
    grade_label = "客户等级"
    default_sort = "date"
    default_descending = False

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return ()

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        return ()

    def grades(self, ctx: ServiceContext) -> tuple[str, ...]:
        return GRADES_ABCD + GRADES_VIP

    @abstractmethod
    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        """The ledger's index-ordered queries under the filter (one per table the ledger reads)."""

    @abstractmethod
    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        """The 合计 row and the summary line under the filter, counted in SQL."""

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return []

    def sort_of(self, f: LedgerFilter) -> tuple[str, bool]:
        sorts = {c.sort for c in self.columns if c.sort}
        key = f.sort if f.sort in sorts else self.default_sort
        return key, self.default_descending if f.descending is None else f.descending

    def check(self, ctx: ServiceContext, f: LedgerFilter) -> None:
        if f.start is not None and f.end is not None and f.end < f.start:
            raise ValidationError(FieldError("end", "截止日期", "不能早于开始日期"))
        for value, allowed, label in ((f.state, self.states(ctx), self.state_label),
                                      (f.kind, self.kinds(ctx), self.kind_label),
                                      (f.grade, self.grades(ctx), self.grade_label)):
            if value and value not in allowed:
                raise _bad_choice(label, value, allowed)


# --- 客户台账 ---------------------------------------------------------------------------------------------

class _Customers(_Spec):
    ledger = Ledger.CUSTOMERS
    entity = "customer"
    date_label = "建档日期"
    kind_label = "类别"
    grade_label = "等级"
    default_sort = "code"
    columns = (
        LedgerColumn("code", "客户编号", _T, 11, sort="code"),
        LedgerColumn("name", "客户名称", _T, 28, sort="name"),
        LedgerColumn("kind", "类型", _T, 6, visible=False),
        LedgerColumn("category", "类别", _T, 9, sort="category"),
        LedgerColumn("grade", "等级", _T, 6, sort="grade"),
        LedgerColumn("contact", "联系人", _T, 10),
        LedgerColumn("phone", "电话", _T, 16),
        LedgerColumn("address", "地址", _T, 30, visible=False),
        LedgerColumn("region", "区域", _T, 9, sort="region"),
        LedgerColumn("source", "来源", _T, 9, visible=False),
        LedgerColumn("industry", "行业", _T, 10, visible=False),
        LedgerColumn("owner", "负责人", _T, 9),
        LedgerColumn("status", "状态", _T, 7, sort="status"),
        LedgerColumn("created_on", "建档日期", _D, 12, sort="created_on"),
        LedgerColumn("annual_volume", "年采购量", _I, 10, total=True),
        LedgerColumn("notes", "备注", _T, 30, visible=False),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return CUSTOMER_STATUSES + (ARCHIVED,)

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        return tuple(load_settings(ctx).categories)

    def _filter(self, ctx: ServiceContext, f: LedgerFilter) -> tuple[CustomerFilter, list[Any]]:
        """No state or a status (正常, 流失…): the customers not archived; 已归档: only the archived ones
        (the title and the 说明 sheet say so: :func:`archived_note`)."""
        limited, dep = _customer_scope(ctx)
        key, desc = self.sort_of(f)
        cf = CustomerFilter(text=f.text, grade=f.grade, category=f.kind, owner_id=_owner(ctx, f),
                            status="" if f.state == ARCHIVED else f.state, department_id=dep,
                            department_scoped=limited, include_archived=f.state == ARCHIVED, sort=key,
                            descending=desc)
        extra: list[Any] = []
        if f.state == ARCHIVED:
            extra.append(Customer.archived.is_(True))
        if f.start is not None:
            extra.append(Customer.created_on >= f.start)
        if f.end is not None:
            extra.append(Customer.created_on <= f.end)
        return cf, extra

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        cf, extra = self._filter(ctx, f)
        sort_col = CUSTOMER_SORTS.get(cf.sort, Customer.code)
        order = (sort_col, Customer.id)
        q = (select(Customer.id, Customer.code, Customer.name, Customer.kind, Customer.category,
                    Customer.grade, Customer.primary_contact, Customer.primary_phone, Customer.address,
                    Customer.region, Customer.source, Customer.industry, User.display_name, Customer.status,
                    Customer.created_on, Customer.annual_volume, Customer.notes, Customer.archived, sort_col)
             .outerjoin(User, User.id == Customer.owner_id)
             .where(*customer_conditions(cf, _text_ids(conn, cf.text)), *extra))

        def convert(r: Any) -> LedgerRow:
            muted = r[17] or r[13] in ("流失", "注销")
            values = (r[1], r[2], r[3], r[4], r[5], r[6], format_phone(r[7]), r[8], r[9], r[10], r[11],
                      r[12] or "", ARCHIVED if r[17] else r[13], r[14], r[15], r[16])
            return LedgerRow(r[0], values, (r[18], r[0]), "muted" if muted else "", "customer")

        return [_Source(q, order, convert, _keyset_after(order))]

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        cf, extra = self._filter(ctx, f)
        q = (select(func.count(Customer.id), func.coalesce(func.sum(Customer.annual_volume), 0))
             .where(*customer_conditions(cf, _text_ids(conn, cf.text)), *extra))
        n, volume = conn.execute(q).one()
        return LedgerTotals(int(n), {"annual_volume": int(volume or 0)},
                            f"共 {n:,} 位客户，年采购量合计 {int(volume or 0):,}")

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [("我的客户", LedgerFilter(mine=True)), ("本月新建档", _month(ctx.today()))]


# --- 回访台账 ---------------------------------------------------------------------------------------------

class _Visits(_Spec):
    ledger = Ledger.VISITS
    entity = "visit_plan"
    date_label = "计划日期"
    kind_label = "回访类型"
    columns = (
        LedgerColumn("number", "编号", _T, 17),
        LedgerColumn("customer_code", "客户编号", _T, 11),
        LedgerColumn("customer_name", "客户名称", _T, 28),
        LedgerColumn("grade", "等级", _T, 6),
        LedgerColumn("visit_type", "回访类型", _T, 9),
        LedgerColumn("method", "回访方式", _T, 9),
        LedgerColumn("due", "计划日期", _D, 12, sort="date"),
        LedgerColumn("visited_at", "回访时间", _DT, 18),
        LedgerColumn("visitor", "回访人", _T, 9),
        LedgerColumn("result", "结果", _T, 11),
        LedgerColumn("satisfaction", "满意度", _T, 9),
        LedgerColumn("state", "状态", _T, 14),
        LedgerColumn("owner", "负责人", _T, 9),
        LedgerColumn("problems", "问题点", _T, 36, visible=False),
        LedgerColumn("transfer", "转交部门", _T, 12, visible=False),
        LedgerColumn("signed_form", "签字单", _T, 8),
        LedgerColumn("done", "已回访", _I, 8, total=True, visible=False),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return (PlanState.PENDING.value, OVERDUE, PlanState.DONE.value, PlanState.CANCELLED.value, UNPLANNED)

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        return tuple(t.value for t in VisitType)

    def _plan_conditions(self, ctx: ServiceContext, f: LedgerFilter, today: date,
                         customer_ids: list[int] | None) -> tuple[list[Any], bool]:
        """The plan conditions, and whether they need ``Customer`` joined."""
        conds: list[Any] = []
        scope = _scope(ctx)
        joined = scope is not None or bool(f.grade)
        if scope is not None:
            conds.append(scope)
        if f.start is not None:
            conds.append(VisitPlan.due >= f.start)
        if f.end is not None:
            conds.append(VisitPlan.due <= f.end)
        owner = _owner(ctx, f)
        if owner is not None:
            conds.append(VisitPlan.owner_id == owner)
        if f.state == OVERDUE:
            conds += [VisitPlan.state == PlanState.PENDING.value, VisitPlan.due < today]
        elif f.state == PlanState.PENDING.value:
            conds += [VisitPlan.state == PlanState.PENDING.value, VisitPlan.due >= today]
        elif f.state:
            conds.append(VisitPlan.state == f.state)
        if f.kind:
            conds.append(VisitPlan.visit_type == f.kind)
        if f.grade:
            conds.append(Customer.grade == f.grade)
        text = clean_text(f.text)
        if text:
            # by the record's number through its unique index (an OR of indexed terms stays indexed)
            numbered = select(VisitRecord.plan_id).where(VisitRecord.number == text.upper())
            options = [VisitPlan.id.in_(numbered)]
            if customer_ids is not None:
                options.append(VisitPlan.customer_id.in_(customer_ids))
            else:
                cust = customer_text_condition(text)
                if cust is not None:
                    options.append(cust)
                    joined = True
            conds.append(or_(*options))
        return conds, joined

    def _loose_conditions(self, ctx: ServiceContext, f: LedgerFilter, customer_ids: list[int] | None
                          ) -> list[Any]:
        conds: list[Any] = [VisitRecord.plan_id.is_(None)]
        scope = _scope(ctx)
        if scope is not None:
            conds.append(scope)
        if f.start is not None:
            conds.append(VisitRecord.visited_at >= _day_start(f.start))
        if f.end is not None:
            conds.append(VisitRecord.visited_at < _day_start(f.end + timedelta(days=1)))
        owner = _owner(ctx, f)
        if owner is not None:
            conds.append(Customer.owner_id == owner)
        if f.kind:
            conds.append(VisitRecord.visit_type == f.kind)
        if f.grade:
            conds.append(Customer.grade == f.grade)
        text = clean_text(f.text)
        if text:
            options = [VisitRecord.number == text.upper()]
            cust = (customer_text_condition(text) if customer_ids is None
                    else VisitRecord.customer_id.in_(customer_ids))
            if cust is not None:
                options.append(cust)
            conds.append(or_(*options))
        return conds

    def _parts(self, f: LedgerFilter) -> tuple[bool, bool]:
        """(read plans, read visits without a plan)."""
        if f.state == UNPLANNED:
            return False, True
        if f.state:
            return True, False
        return True, True

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        today = ctx.today()
        with_plans, with_loose = self._parts(f)
        ids = _text_ids(conn, f.text) if clean_text(f.text) else None
        out: list[_Source] = []
        rec, visitor, owner = aliased(VisitRecord), aliased(User), aliased(User)
        if with_plans:
            conds, joined = self._plan_conditions(ctx, f, today, ids)
            base = (select(VisitPlan.id, rec.number, Customer.code, Customer.name, Customer.grade,
                        func.coalesce(rec.visit_type, VisitPlan.visit_type),
                        func.coalesce(rec.method, VisitPlan.method),
                        VisitPlan.due, rec.visited_at, visitor.display_name, rec.result, rec.satisfaction,
                        VisitPlan.state, VisitPlan.cancel_reason, owner.display_name, rec.problems,
                        rec.transfer_department, rec.method, rec.signed_form_received_at)
                 .join(Customer, Customer.id == VisitPlan.customer_id)
                 .outerjoin(rec, rec.id == VisitPlan.record_id)
                 .outerjoin(visitor, visitor.id == rec.visitor_id)
                 .outerjoin(owner, owner.id == VisitPlan.owner_id))
            order = (VisitPlan.due, VisitPlan.id)

            def plan_page(after: list[Any], descending: bool, limit: int) -> Any:
                # The page's plan ids first, from the narrow due index (many plans share a due day: sorting
                # them by id with every join done would cost ~90 ms at 1,000,000 plans), then their rows.
                inner = select(VisitPlan.id)
                if joined:
                    inner = inner.join(Customer, Customer.id == VisitPlan.customer_id)
                inner = _ordered(inner.where(*conds, *after), order, descending).limit(limit)
                return _ordered(base.where(VisitPlan.id.in_(inner)), order, descending)

            def plan_row(r: Any) -> LedgerRow:
                state = display_state(r[12], r[7], today)
                cancelled = r[12] == PlanState.CANCELLED.value
                flag = "overdue" if state == OVERDUE else "muted" if cancelled else ""
                if cancelled and r[13]:
                    state = f"{state}（{r[13]}）"
                done = 1 if r[12] == PlanState.DONE.value else 0
                values = (r[1] or "", r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9] or "", r[10] or "",
                          r[11] or "", state, r[14] or "", r[15] or "", r[16] or "",
                          signed_form_state(r[17], r[18] is not None), done)
                return LedgerRow(r[0], values, (r[7], 0, _NO_TIME, r[0]), flag, "visit_plan")

            def plan_after(cursor: Cursor, descending: bool) -> list[Any]:
                day, tag, _moment, pid = cursor
                key = tuple_(VisitPlan.due, VisitPlan.id)
                if tag == 0:
                    return [key < tuple_(day, pid) if descending else key > tuple_(day, pid)]
                return [VisitPlan.due <= day if descending else VisitPlan.due > day]

            out.append(_Source(base.where(*conds), order, plan_row, plan_after, plan_page))
        if with_loose:
            q2 = (select(VisitRecord.id, VisitRecord.number, Customer.code, Customer.name, Customer.grade,
                         VisitRecord.visit_type, VisitRecord.method, VisitRecord.visited_at,
                         visitor.display_name, VisitRecord.result, VisitRecord.satisfaction,
                         owner.display_name, VisitRecord.problems, VisitRecord.transfer_department,
                         VisitRecord.status, VisitRecord.signed_form_received_at)
                  .join(Customer, Customer.id == VisitRecord.customer_id)
                  .outerjoin(visitor, visitor.id == VisitRecord.visitor_id)
                  .outerjoin(owner, owner.id == Customer.owner_id)
                  .where(*self._loose_conditions(ctx, f, ids)))

            def loose_row(r: Any) -> LedgerRow:
                state = HISTORY if r[14] == HISTORY else UNPLANNED  # imported history shows as such
                values = (r[1], r[2], r[3], r[4], r[5], r[6], None, r[7], r[8] or "", r[9] or "", r[10] or "",
                          state, r[11] or "", r[12] or "", r[13] or "", signed_form_state(r[6], r[15] is not None), 1)
                return LedgerRow(r[0], values, (r[7].date(), 1, r[7], r[0]), "", "visit_record")

            def loose_after(cursor: Cursor, descending: bool) -> list[Any]:
                day, tag, moment, rid = cursor
                if tag == 1:
                    key = tuple_(VisitRecord.visited_at, VisitRecord.id)
                    return [key < tuple_(moment, rid) if descending else key > tuple_(moment, rid)]
                start = _day_start(day)
                return [VisitRecord.visited_at < start if descending else VisitRecord.visited_at >= start]

            out.append(_Source(q2, (VisitRecord.visited_at, VisitRecord.id), loose_row, loose_after))
        return out

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        today = ctx.today()
        with_plans, with_loose = self._parts(f)
        ids = _text_ids(conn, f.text) if clean_text(f.text) else None
        n = done = late = loose = 0
        if with_plans:
            conds, joined = self._plan_conditions(ctx, f, today, ids)
            q = (select(func.count(VisitPlan.id),
                        func.sum(case((VisitPlan.state == PlanState.DONE.value, 1), else_=0)),
                        func.sum(case((and_(VisitPlan.state == PlanState.PENDING.value,
                                            VisitPlan.due < today), 1), else_=0)))
                 .select_from(VisitPlan))
            if joined:
                q = q.join(Customer, Customer.id == VisitPlan.customer_id)
            a, b, c = conn.execute(q.where(*conds)).one()
            n, done, late = int(a or 0), int(b or 0), int(c or 0)
        if with_loose:
            q2 = (select(func.count(VisitRecord.id)).select_from(VisitRecord)
                  .join(Customer, Customer.id == VisitRecord.customer_id)
                  .where(*self._loose_conditions(ctx, f, ids)))
            loose = int(conn.execute(q2).scalar() or 0)
        summary = f"共 {n + loose:,} 条：已回访 {done + loose:,}（其中计划外 {loose:,}），逾期 {late:,}"
        return LedgerTotals(n + loose, {"done": done + loose}, summary)

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [("我的回访", LedgerFilter(mine=True)), ("逾期", LedgerFilter(state=OVERDUE)),
                ("本月待回访", replace(_month(ctx.today()), state=PlanState.PENDING.value))]


# --- 投诉台账 ---------------------------------------------------------------------------------------------

class _Complaints(_Spec):
    ledger = Ledger.COMPLAINTS
    entity = "complaint"
    date_label = "投诉日期"
    state_label = "处理状态"
    kind_label = "类别"
    grade_label = "严重程度"
    default_descending = True
    columns = (
        LedgerColumn("number", "投诉编号", _T, 16, sort="number"),
        LedgerColumn("kind", "类型", _T, 6, visible=False),
        LedgerColumn("received_at", "投诉日期", _DT, 17, sort="date"),
        LedgerColumn("channel", "渠道", _T, 8, visible=False),
        LedgerColumn("subject", "投诉主题", _T, 28),
        LedgerColumn("content", "投诉内容", _T, 40),
        LedgerColumn("complainant", "投诉人", _T, 10),
        LedgerColumn("phone", "联系方式", _T, 15),
        LedgerColumn("customer", "客户名称", _T, 24, visible=False),
        LedgerColumn("category", "类别", _T, 10),
        LedgerColumn("severity", "严重程度", _T, 8),
        LedgerColumn("handler", "负责人", _T, 9),
        LedgerColumn("department", "责任部门", _T, 10, visible=False),
        LedgerColumn("handling_due", "处理期限", _DT, 17, visible=False),
        LedgerColumn("state", "处理状态", _T, 8),
        LedgerColumn("overdue", "是否逾期", _T, 8),
        LedgerColumn("result", "处理结果", _T, 30, visible=False),
        LedgerColumn("replied_at", "答复时间", _DT, 17, visible=False),
        LedgerColumn("visit", "回访结果", _T, 10, visible=False),
        LedgerColumn("satisfaction", "满意度", _T, 8, visible=False),
        LedgerColumn("closed_at", "关闭时间", _DT, 17, visible=False),
        LedgerColumn("occurrences", "重复次数", _I, 8, total=True, visible=False),
        LedgerColumn("escalations", "升级次数", _I, 8, total=True, visible=False),
        LedgerColumn("chases", "催办次数", _I, 8, total=True, visible=False),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return tuple(s.value for s in ComplaintState) + (OVERDUE,)

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        from huifang_desktop.services.complaints import load_policy

        return tuple(load_policy(ctx).categories)

    def grades(self, ctx: ServiceContext) -> tuple[str, ...]:
        from huifang_desktop.domain.complaints import Severity

        return tuple(s.value for s in Severity)

    def _where(self, ctx: ServiceContext, q: Any, f: LedgerFilter, now: datetime) -> Any:
        # The register's own filter (visibility included), so the ledger and the 投诉登记 tab agree.
        from huifang_desktop.services.complaints import ComplaintFilter
        from huifang_desktop.services.complaints import _filtered as complaint_filtered

        state = f.state if f.state and f.state != OVERDUE else ""
        cf = ComplaintFilter(text=f.text, states=frozenset({state} if state else ()),
                             overdue_only=f.state == OVERDUE,
                             categories=frozenset({f.kind} if f.kind else ()),
                             severities=frozenset({f.grade} if f.grade else ()), handler_id=f.owner_id,
                             mine=f.mine, start=f.start, end=f.end)
        return complaint_filtered(ctx, q, cf, now)

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        now = ctx.now()
        key, _desc = self.sort_of(f)
        sort_col = Complaint.number if key == "number" else Complaint.received_at
        handler = aliased(User)
        q = (select(Complaint.id, Complaint.number, Complaint.kind, Complaint.received_at, Complaint.channel,
                    Complaint.subject, Complaint.content, Complaint.complainant, Complaint.anonymous,
                    Complaint.phone, Customer.name, Complaint.category, Complaint.severity,
                    handler.display_name, Department.name, Complaint.handling_due, Complaint.state,
                    Complaint.deadline, Complaint.result, Complaint.replied_at, Complaint.visit_satisfied,
                    Complaint.satisfaction, Complaint.closed_at, Complaint.occurrences,
                    Complaint.escalation_level, Complaint.chase_count, sort_col)
             .outerjoin(Customer, Customer.id == Complaint.customer_id)
             .outerjoin(handler, handler.id == Complaint.handler_id)
             .outerjoin(Department, Department.id == Complaint.department_id))
        q = self._where(ctx, q, f, now)
        order = (sort_col, Complaint.id)

        def convert(r: Any) -> LedgerRow:
            late = is_overdue(ComplaintState(r[16]), r[17], now)
            visit = "" if r[20] is None else ("满意" if r[20] else "不满意")
            who = "匿名" if r[8] else (r[7] or "")
            values = (r[1], r[2], r[3], r[4], r[5], r[6] or "", who, format_phone(r[9]), r[10] or "",
                      r[11] or "", r[12], r[13] or "", r[14] or "", r[15], r[16], "是" if late else "否",
                      r[18] or "", r[19], visit, r[21] or "", r[22], r[23], r[24], r[25])
            flag = "overdue" if late else "muted" if r[16] == ComplaintState.WITHDRAWN.value else ""
            return LedgerRow(r[0], values, (r[26], r[0]), flag, "complaint")

        return [_Source(q, order, convert, _keyset_after(order))]

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        now = ctx.now()
        is_open = Complaint.state.in_(sorted(s.value for s in OPEN_STATES))
        q = select(func.count(Complaint.id),
                   func.sum(case((Complaint.state == ComplaintState.CLOSED.value, 1), else_=0)),
                   func.sum(case((and_(is_open, Complaint.deadline < now), 1), else_=0)),
                   func.coalesce(func.sum(Complaint.occurrences), 0),
                   func.coalesce(func.sum(Complaint.escalation_level), 0),
                   func.coalesce(func.sum(Complaint.chase_count), 0)).select_from(Complaint)
        n, closed, late, occ, esc, chase = conn.execute(self._where(ctx, q, f, now)).one()
        n, closed, late = int(n or 0), int(closed or 0), int(late or 0)
        rate = f"，处理率 {closed / n:.0%}" if n else ""
        return LedgerTotals(n, {"occurrences": int(occ), "escalations": int(esc), "chases": int(chase)},
                            f"共 {n:,} 件：已关闭 {closed:,}，逾期 {late:,}{rate}")

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [("我负责的", LedgerFilter(mine=True)), ("逾期", LedgerFilter(state=OVERDUE)),
                ("处理中", LedgerFilter(state=ComplaintState.IN_PROGRESS.value))]


# --- 售后服务台账 ------------------------------------------------------------------------------------------

class _Services(_Spec):
    ledger = Ledger.SERVICES
    entity = "service_record"
    date_label = "服务日期"
    kind_label = "服务类型"
    default_descending = True
    columns = (
        LedgerColumn("number", "服务单号", _T, 16, sort="number"),
        LedgerColumn("served_on", "服务日期", _D, 12, sort="date"),
        LedgerColumn("customer_code", "客户编号", _T, 11, visible=False),
        LedgerColumn("customer_name", "客户名称", _T, 24),
        LedgerColumn("kind", "服务类型", _T, 8),
        LedgerColumn("place", "服务地点/项目", _T, 20, visible=False),
        LedgerColumn("product", "产品", _T, 16),
        LedgerColumn("serial_no", "序列号", _T, 14),
        LedgerColumn("problem", "故障/问题", _T, 28),
        LedgerColumn("content", "服务内容", _T, 32),
        LedgerColumn("parts", "更换配件", _T, 18, visible=False),
        LedgerColumn("parts_quantity", "配件数量", _I, 8, total=True, visible=False),
        LedgerColumn("parts_amount", "配件金额", _M, 12, total=True),
        LedgerColumn("cost", "服务费用", _M, 12, total=True),
        LedgerColumn("technician", "服务人员", _T, 9),
        LedgerColumn("handler", "负责人", _T, 9, visible=False),
        LedgerColumn("result", "服务结果", _T, 20),
        LedgerColumn("feedback", "客户反馈", _T, 20, visible=False),
        LedgerColumn("satisfaction", "满意度", _T, 8, visible=False),
        LedgerColumn("status", "状态", _T, 8),
        LedgerColumn("completed_on", "完成日期", _D, 12, visible=False),
        LedgerColumn("follow_up_at", "跟进时间", _DT, 17, visible=False),
        LedgerColumn("follow_up_by", "跟进人员", _T, 9, visible=False),
        LedgerColumn("follow_up_result", "跟进结果", _T, 9),
        LedgerColumn("visit", "维修回访", _T, 18),
        LedgerColumn("notes", "备注", _T, 24, visible=False),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return service_records.STATUSES

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        return service_records.load_options(ctx).kinds

    def _filter(self, ctx: ServiceContext, f: LedgerFilter) -> service_records.ServiceFilter:
        key, desc = self.sort_of(f)
        return service_records.ServiceFilter(
            text=f.text, start=f.start, end=f.end, kinds=frozenset({f.kind} if f.kind else ()),
            statuses=frozenset({f.state} if f.state else ()), handler_id=f.owner_id, mine=f.mine,
            grade=f.grade, sort="number" if key == "number" else "served_on", descending=desc)

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        today = ctx.today()
        sf = self._filter(ctx, f)
        sort_col = service_records.SERVICE_SORTS[sf.sort]
        handler = aliased(User)
        q = (select(ServiceRecord.id, ServiceRecord.number, ServiceRecord.served_on, Customer.code,
                    Customer.name, ServiceRecord.kind, ServiceRecord.place, ServiceRecord.product,
                    ServiceRecord.serial_no, ServiceRecord.problem, ServiceRecord.content,
                    ServiceRecord.parts, ServiceRecord.parts_quantity, ServiceRecord.parts_amount,
                    ServiceRecord.cost, ServiceRecord.technician, handler.display_name, ServiceRecord.result,
                    ServiceRecord.feedback, ServiceRecord.satisfaction, ServiceRecord.status,
                    ServiceRecord.completed_on, ServiceRecord.follow_up_at, ServiceRecord.follow_up_by,
                    ServiceRecord.follow_up_result, VisitPlan.state, VisitPlan.due, ServiceRecord.notes,
                    sort_col)
             .join(Customer, Customer.id == ServiceRecord.customer_id)
             .outerjoin(handler, handler.id == ServiceRecord.handler_id)
             .outerjoin(VisitPlan, VisitPlan.id == ServiceRecord.visit_plan_id)
             .where(*service_records.service_conditions(ctx, sf, service_records.text_ids(conn, sf.text))))
        order = (sort_col, ServiceRecord.id)

        def convert(r: Any) -> LedgerRow:
            visit = ""
            if r[25] is not None:
                state = display_state(r[25], r[26], today)
                visit = state if state == PlanState.DONE.value else f"{state}（{r[26]:%Y-%m-%d}）"
            values = (*r[1:16], r[16] or "", *r[17:25], visit, r[27])
            flag = "muted" if r[20] == service_records.ServiceStatus.CANCELLED.value else ""
            return LedgerRow(r[0], values, (r[28], r[0]), flag, "service_record")

        return [_Source(q, order, convert, _keyset_after(order))]

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        sf = self._filter(ctx, f)
        conds = service_records.service_conditions(ctx, sf, service_records.text_ids(conn, sf.text))
        q = (select(func.count(ServiceRecord.id),
                    func.sum(case((ServiceRecord.status == service_records.ServiceStatus.DONE.value, 1),
                                  else_=0)),
                    func.coalesce(func.sum(ServiceRecord.parts_quantity), 0),
                    func.sum(ServiceRecord.parts_amount), func.sum(ServiceRecord.cost))
             .select_from(ServiceRecord).where(*conds))
        if _uses(conds, Customer):  # the join only for a condition on the customer (visibility, grade, text)
            q = q.join(Customer, Customer.id == ServiceRecord.customer_id)
        n, done, qty, parts, cost = conn.execute(q).one()
        parts = _money(parts)
        cost = _money(cost)
        sums = {"parts_quantity": int(qty or 0), "parts_amount": parts, "cost": cost}
        return LedgerTotals(int(n or 0), sums,
                            f"共 {int(n or 0):,} 次服务：已完成 {int(done or 0):,}，配件金额 {parts:,.2f} 元，"
                            f"服务费用 {cost:,.2f} 元")

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [("我负责的", LedgerFilter(mine=True)),
                ("处理中", LedgerFilter(state=service_records.ServiceStatus.OPEN.value)),
                ("本月维修", replace(_month(ctx.today()), kind=service_records.load_options(ctx).repair_kinds[0]
                                     if service_records.load_options(ctx).repair_kinds else ""))]


def _uses(conds: Sequence[Any], model: Any) -> bool:
    """Whether any of the SQL conditions reads a column of ``model``'s table: a count over one table need
    not join another only to drop the join's rows again (the 售后服务台账's 合计 joined every service record
    to its customer: 376 ms on 200,000 records, growing faster than the data)."""
    from sqlalchemy.sql.util import find_tables

    table = model.__table__
    return any(table in find_tables(c, check_columns=True) for c in conds)


def _money(value: Any) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))


# --- 终端客户信息台帐 --------------------------------------------------------------------------------------

class _EndCustomers(_Spec):
    ledger = Ledger.END_CUSTOMERS
    entity = "purchase"
    date_label = "购买日期"
    state_label = "质保状态"
    kind_label = "客户类别"
    grade_label = "等级"
    default_sort = "code"
    columns = (
        LedgerColumn("customer_code", "客户编号", _T, 11, sort="code"),
        LedgerColumn("customer_name", "客户名称", _T, 24, sort="name"),
        LedgerColumn("contact", "联系人", _T, 10),
        LedgerColumn("phone", "电话", _T, 16),
        LedgerColumn("address", "地址", _T, 28, visible=False),
        LedgerColumn("region", "区域", _T, 9),
        LedgerColumn("owner", "负责人", _T, 9),
        LedgerColumn("grade", "等级", _T, 6, visible=False),
        LedgerColumn("day", "购买日期", _D, 12),
        LedgerColumn("purchase_kind", "购货/交货", _T, 8, visible=False),
        LedgerColumn("product", "产品", _T, 18),
        LedgerColumn("spec", "规格型号", _T, 14),
        LedgerColumn("quantity", "数量", _I, 7, total=True),
        LedgerColumn("amount", "金额", _M, 15, total=True),
        LedgerColumn("warranty_end", "质保到期", _D, 12),
        LedgerColumn("warranty", "质保状态", _T, 8),
        LedgerColumn("units", "客户总台数", _I, 9),
    )

    def states(self, ctx: ServiceContext) -> tuple[str, ...]:
        return (IN_WARRANTY, OUT_OF_WARRANTY, NO_WARRANTY)

    def kinds(self, ctx: ServiceContext) -> tuple[str, ...]:
        from huifang_desktop.services.visits import load_options as visit_options

        return tuple(visit_options(ctx).end_customer_categories)

    def _conditions(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[Any]:
        today = ctx.today()
        cats = [f.kind] if f.kind else list(self.kinds(ctx))
        conds: list[Any] = [Customer.category.in_(cats), Customer.archived.is_not(True)]
        scope = _scope(ctx)
        if scope is not None:
            conds.append(scope)
        owner = _owner(ctx, f)
        if owner is not None:
            conds.append(Customer.owner_id == owner)
        if f.grade:
            conds.append(Customer.grade == f.grade)
        if f.start is not None:
            conds.append(Purchase.day >= f.start)
        if f.end is not None:
            conds.append(Purchase.day <= f.end)
        if f.state == IN_WARRANTY:
            conds.append(Purchase.warranty_end >= today)
        elif f.state == OUT_OF_WARRANTY:
            conds.append(Purchase.warranty_end < today)
        elif f.state == NO_WARRANTY:
            conds.append(Purchase.warranty_end.is_(None))
        text = clean_text(f.text)
        if text:
            ids = _text_ids(conn, text)
            cust = customer_text_condition(text) if ids is None else Customer.id.in_(ids)
            options = [Purchase.product.icontains(text, autoescape=True)]
            if cust is not None:
                options.append(cust)
            conds.append(or_(*options))
        return conds

    def sources(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> list[_Source]:
        today = ctx.today()
        key, _desc = self.sort_of(f)
        # A customer's purchases by day (then as entered); a customer without purchases keeps one empty row.
        day, pid = func.coalesce(Purchase.day, _NO_DAY), func.coalesce(Purchase.id, 0)
        order: tuple[Any, ...] = ((Customer.initials, Customer.id, day, pid) if key == "name"
                                  else (Customer.code, day, pid))
        other = aliased(Purchase)
        units = (select(func.coalesce(func.sum(other.quantity), 0)).where(other.customer_id == Customer.id)
                 .scalar_subquery())
        q = (select(Customer.id, Customer.code, Customer.name, Customer.primary_contact,
                    Customer.primary_phone, Customer.address, Customer.region, User.display_name,
                    Customer.grade, Purchase.day, Purchase.kind, Purchase.product, Purchase.spec,
                    Purchase.quantity, Purchase.amount, Purchase.warranty_end, units, *order)
             .select_from(Customer)
             .outerjoin(Purchase, Purchase.customer_id == Customer.id)
             .outerjoin(User, User.id == Customer.owner_id)
             .where(*self._conditions(ctx, f, conn)))
        width = len(order)

        def convert(r: Any) -> LedgerRow:
            end = r[15]
            warranty = "" if r[9] is None else NO_WARRANTY if end is None else (
                IN_WARRANTY if end >= today else OUT_OF_WARRANTY)
            values = (r[1], r[2], r[3], format_phone(r[4]), r[5], r[6], r[7] or "", r[8], r[9], r[10] or "",
                      r[11] or "", r[12] or "", r[13], r[14], end, warranty, int(r[16] or 0))
            return LedgerRow(r[0], values, tuple(r[-width:]), "muted" if warranty == OUT_OF_WARRANTY else "",
                             "customer")

        return [_Source(q, order, convert, _keyset_after(order))]

    def totals(self, ctx: ServiceContext, f: LedgerFilter, conn: Connection) -> LedgerTotals:
        today = ctx.today()
        q = (select(func.count(), func.count(func.distinct(Customer.id)),
                    func.coalesce(func.sum(Purchase.quantity), 0), func.sum(Purchase.amount),
                    func.sum(case((Purchase.warranty_end >= today, 1), else_=0)))
             .select_from(Customer).outerjoin(Purchase, Purchase.customer_id == Customer.id)
             .where(*self._conditions(ctx, f, conn)))
        n, customers, qty, amount, warranty = conn.execute(q).one()
        amount = _money(amount)
        return LedgerTotals(int(n or 0), {"quantity": int(qty or 0), "amount": amount},
                            f"共 {int(n or 0):,} 行，终端客户 {int(customers or 0):,} 位，合计 {int(qty or 0):,} 台，"
                            f"金额 {amount:,.2f} 元，在保 {int(warranty or 0):,} 行")

    def presets(self, ctx: ServiceContext) -> list[tuple[str, LedgerFilter]]:
        return [("我的客户", LedgerFilter(mine=True)), ("在保", LedgerFilter(state=IN_WARRANTY)),
                ("本月购买", _month(ctx.today()))]


_SPECS: dict[Ledger, _Spec] = {spec.ledger: spec for spec in (
    _Customers(), _Visits(), _Complaints(), _Services(), _EndCustomers())}


def _month(today: date) -> LedgerFilter:
    return LedgerFilter(start=today.replace(day=1),
                        end=today.replace(day=calendar.monthrange(today.year, today.month)[1]))


# --- reading ------------------------------------------------------------------------------------------

def columns(ledger: Ledger) -> tuple[LedgerColumn, ...]:
    return _SPECS[ledger].columns


def _read_allowed(ctx: ServiceContext, ledger: Ledger) -> None:
    ctx.require(Permission.EDIT_CUSTOMERS, f"查看{ledger.value}")


def choices(ctx: ServiceContext, ledger: Ledger) -> FilterChoices:
    spec = _SPECS[ledger]
    export_note = ""
    try:
        _check_export(ctx, ledger)
    except ServiceError as exc:
        export_note = str(exc)
    return FilterChoices(
        spec.date_label, spec.owner_label, _people(ctx), spec.state_label, spec.states(ctx), spec.kind_label,
        spec.kinds(ctx), spec.grade_label, spec.grades(ctx),
        tuple((c.sort, c.label) for c in spec.columns if c.sort), spec.default_sort, spec.default_descending,
        can_add=ledger is Ledger.SERVICES and can(ctx.user.role, Permission.EDIT_CUSTOMERS),
        can_export=not export_note, export_note=export_note)


def _ordered(q: Any, order: tuple[Any, ...], descending: bool) -> Any:
    return q.order_by(*(c.desc() for c in order)) if descending else q.order_by(*order)


def page(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter = LedgerFilter(), after: Cursor | None = None,
         limit: int = PAGE_SIZE) -> LedgerPage:
    """One page of rows after the cursor (``None``: the first page), filtered and sorted in SQL."""
    _read_allowed(ctx, ledger)
    spec = _SPECS[ledger]
    spec.check(ctx, f)
    _key, descending = spec.sort_of(f)
    with ctx.sessions() as s:
        conn = s.connection()
        lists = []
        for src in spec.sources(ctx, f, conn):
            conds = [] if after is None else src.after(after, descending)
            if src.page_query is not None:
                q = src.page_query(conds, descending, limit + 1)
            else:
                q = _ordered(src.query.where(*conds), src.order, descending).limit(limit + 1)
            result = conn.execute(q)
            lists.append([src.convert(r) for r in result])
    rows = lists[0] if len(lists) == 1 else list(merge(*lists, key=lambda r: r.key, reverse=descending))
    return LedgerPage(tuple(rows[:limit]), len(rows) > limit)


def totals(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter = LedgerFilter()) -> LedgerTotals:
    """The 合计 row of the filtered ledger, computed in SQL."""
    _read_allowed(ctx, ledger)
    spec = _SPECS[ledger]
    spec.check(ctx, f)
    with ctx.sessions() as s:
        return spec.totals(ctx, f, s.connection())


def stream(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter = LedgerFilter()) -> Iterator[LedgerRow]:
    """Every row of the filtered ledger in its order, read with a server cursor (closed when the reader
    stops early)."""
    _read_allowed(ctx, ledger)
    spec = _SPECS[ledger]
    spec.check(ctx, f)
    _key, descending = spec.sort_of(f)
    with ctx.engine.connect() as conn:
        srcs = spec.sources(ctx, f, conn)
        streamed = conn.execution_options(yield_per=_STREAM_BATCH)
        results = [streamed.execute(_ordered(src.query, src.order, descending)) for src in srcs]
        try:
            streams = [map(src.convert, res) for src, res in zip(srcs, results, strict=True)]
            if len(streams) == 1:
                yield from streams[0]
            else:
                yield from merge(*streams, key=lambda r: r.key, reverse=descending)
        finally:
            for res in results:
                res.close()


# --- saved filters and columns (per user) -------------------------------------------------------------

def _prefs_key(ctx: ServiceContext) -> str:
    return PREFS_KEY.format(user=ctx.user.id)


def _load_prefs(ctx: ServiceContext) -> dict[str, Any]:
    with ctx.sessions() as s:
        row = s.get(Setting, _prefs_key(ctx))
    data = json.loads(row.value) if row is not None else {}
    return data if isinstance(data, dict) else {}


def _store_prefs(ctx: ServiceContext, data: dict[str, Any], action: str, label: str, new: Any) -> None:
    """A user's own preferences: no settings right needed (they change nothing for anyone else); audited."""
    key = _prefs_key(ctx)
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, key)
        value = json.dumps(data, ensure_ascii=False, sort_keys=True)
        if row is None:
            s.add(Setting(key=key, value=value))
        else:
            row.value = value
        audit(s, ctx, action, "setting", None, label[:200], new=new)


def saved_filters(ctx: ServiceContext, ledger: Ledger) -> list[SavedFilter]:
    """The built-in filters (全部, 本月, 上月, 本年 and the ledger's own) then the user's saved ones by name."""
    today = ctx.today()
    month = _month(today)
    last = _month(month.start - timedelta(days=1) if month.start else today)
    year = LedgerFilter(start=date(today.year, 1, 1), end=date(today.year, 12, 31))
    builtin = [(ALL, LedgerFilter()), ("本月", month), ("上月", last), ("本年", year),
               *_SPECS[ledger].presets(ctx)]
    out = [SavedFilter(name, f, True) for name, f in builtin]
    mine = _load_prefs(ctx).get("filters", {}).get(ledger.slug, {})
    for name in sorted(mine):
        out.append(SavedFilter(name, LedgerFilter.from_dict(mine[name]), False))
    return out


def save_filter(ctx: ServiceContext, ledger: Ledger, name: str, f: LedgerFilter) -> list[SavedFilter]:
    """Keep the current filter under ``name`` for this user (replacing one of the same name)."""
    title = clean_text(name)
    if not title or len(title) > 30:
        raise ValidationError(FieldError("name", "筛选名称", "请填写 1–30 个字的名称"))
    if title in {s.name for s in saved_filters(ctx, ledger) if s.builtin}:
        raise ValidationError(FieldError("name", "筛选名称", f"“{title}”是内置筛选的名称，请换一个"))
    _SPECS[ledger].check(ctx, f)
    data = _load_prefs(ctx)
    data.setdefault("filters", {}).setdefault(ledger.slug, {})[title] = f.to_dict()
    _store_prefs(ctx, data, "保存台账筛选", f"{ledger.value}：{title}", f.to_dict())
    return saved_filters(ctx, ledger)


def delete_filter(ctx: ServiceContext, ledger: Ledger, name: str) -> list[SavedFilter]:
    data = _load_prefs(ctx)
    mine = data.get("filters", {}).get(ledger.slug, {})
    if name in mine:
        del mine[name]
        _store_prefs(ctx, data, "删除台账筛选", f"{ledger.value}：{name}", None)
    return saved_filters(ctx, ledger)


def visible_columns(ctx: ServiceContext, ledger: Ledger) -> tuple[str, ...]:
    """The keys of the columns this user shows (the defaults until they choose)."""
    cols = columns(ledger)
    keys = {c.key for c in cols}
    chosen = _load_prefs(ctx).get("columns", {}).get(ledger.slug)
    if isinstance(chosen, list):
        picked = tuple(k for k in chosen if k in keys)
        if picked:
            return tuple(c.key for c in cols if c.key in picked)
    return tuple(c.key for c in cols if c.visible)


def save_visible_columns(ctx: ServiceContext, ledger: Ledger, keys: Sequence[str]) -> tuple[str, ...]:
    known = [c.key for c in columns(ledger)]
    picked = [k for k in known if k in set(keys)]
    if not picked:
        raise ValidationError(FieldError("columns", "显示列", "至少显示一列"))
    data = _load_prefs(ctx)
    if data.get("columns", {}).get(ledger.slug) == picked:
        return tuple(picked)
    data.setdefault("columns", {})[ledger.slug] = picked
    _store_prefs(ctx, data, "修改台账显示列", ledger.value, picked)
    return tuple(picked)


# --- description of a filter (说明 sheet, print subtitle) ---------------------------------------------

def period_text(f: LedgerFilter) -> str:
    if f.start is None and f.end is None:
        return ALL
    if f.start is not None and f.end is not None:
        return f"{f.start:%Y-%m-%d} 至 {f.end:%Y-%m-%d}"
    return f"{f.start:%Y-%m-%d} 起" if f.start is not None else f"至 {f.end:%Y-%m-%d}"


def archived_note(ledger: Ledger, f: LedgerFilter) -> str:
    """``不含已归档`` when the ledger leaves the archived customers out under ``f`` (the 客户台账 unless
    its state is 已归档, the 终端客户信息台帐 always), else ''."""
    if ledger is Ledger.END_CUSTOMERS or (ledger is Ledger.CUSTOMERS and f.state != ARCHIVED):
        return f"不含{ARCHIVED}客户"
    return ""


def _title_text(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter) -> str:
    """What the title says is included: the period, then every filter that narrows it and what the
    ledger leaves out (``全部；搜索：明达；状态：正常；不含已归档客户``)."""
    parts = [period_text(f)]
    for item, value in describe_filter(ctx, ledger, f)[1:-1]:  # not the date (said first) nor the order
        if value not in (ALL, "（无）"):
            parts.append(f"{item}：{value}")
    if archived_note(ledger, f):
        parts.append(archived_note(ledger, f))
    return "；".join(parts)


def describe_filter(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter) -> list[tuple[str, str]]:
    """The filter in words, one (item, value) per line; unset parts say 全部."""
    spec = _SPECS[ledger]
    people = dict(_people(ctx))
    if f.mine:
        owner = f"{ctx.user.display_name}（本人）"
    elif f.owner_id is not None:
        owner = people.get(f.owner_id, str(f.owner_id))
    else:
        owner = ALL
    key, desc = spec.sort_of(f)
    sort_label = next((c.label for c in spec.columns if c.sort == key), key)
    return [
        (spec.date_label, period_text(f)),
        ("搜索", clean_text(f.text) or "（无）"),
        (spec.owner_label, owner),
        (spec.state_label, f.state or ALL),
        (spec.kind_label, f.kind or ALL),
        (spec.grade_label, f.grade or ALL),
        ("排序", f"{sort_label}{'（降序）' if desc else '（升序）'}"),
    ]


# --- export and print ---------------------------------------------------------------------------------

def is_top_secret(ctx: ServiceContext, ledger: Ledger) -> bool:
    """The office grades ``ledger`` 绝密 (``LedgerOptions.top_secret``)."""
    return ledger.slug in load_options(ctx).top_secret


def _check_export(ctx: ServiceContext, ledger: Ledger, verb: str = "导出") -> None:
    """Export, print and print preview alike: the ledger's readers, and for a 绝密 ledger
    ``Permission.EXPORT_TOP_SECRET`` (what leaves the program on paper leaves it as surely as a file)."""
    ctx.require(Permission.EDIT_CUSTOMERS, f"{verb}{ledger.value}")
    if is_top_secret(ctx, ledger) and not ctx.may(Permission.EXPORT_TOP_SECRET):
        raise PermissionDenied(f"{ledger.value}属于绝密资料，{verb}需要主管或经理。")


def _chosen(ledger: Ledger, keys: Sequence[str] | None) -> list[int]:
    cols = columns(ledger)
    if keys is None:
        return [i for i, c in enumerate(cols) if c.visible]
    wanted = set(keys)
    picked = [i for i, c in enumerate(cols) if c.key in wanted]
    if not picked:
        raise ValidationError(FieldError("columns", "导出列", "至少选择一列"))
    return picked


def _xlsx_format(c: LedgerColumn) -> str:
    return MONEY_FORMAT if c.type is ColumnType.MONEY else INTEGER_FORMAT if c.type is ColumnType.INT else ""


def _user_label(ctx: ServiceContext) -> str:
    if ctx.user.id == 0:
        return "系统（命令行）"
    return f"{ctx.user.display_name}（{ctx.user.username}，{ctx.user.role.label}）"


def suggested_file_name(ledger: Ledger, f: LedgerFilter, suffix: str = ".xlsx") -> str:
    tag = period_text(f).replace(" 至 ", "_").replace(" ", "").replace("-", "")
    return f"{ledger.value}_{tag}{suffix}"


def export(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter, path: Path | str,
           progress: ProgressFn | None = None, cancelled: CancelledFn | None = None, *,
           columns_: Sequence[str] | None = None) -> ExportResult:
    """Write the filtered ledger (``columns_``: the keys to include; default the ledger's default columns) as
    an .xlsx workbook; ``progress(done, total)`` every few hundred rows; ``cancelled()`` True stops it with
    :class:`ExportCancelled` and no file. The export is logged (who, which ledger, filter, rows, file)."""
    _check_export(ctx, ledger)
    spec = _SPECS[ledger]
    spec.check(ctx, f)
    out = checked_target(path, LedgerError, suffix=".xlsx")
    picked = _chosen(ledger, columns_)
    cols = columns(ledger)
    total = totals(ctx, ledger, f).count if progress is not None else 0
    if progress is not None:
        progress(0, total)

    def rows() -> Iterator[tuple[Any, ...]]:
        source = stream(ctx, ledger, f)
        try:
            for n, row in enumerate(source, start=1):
                if n % _CANCEL_EVERY == 0:
                    if cancelled is not None and cancelled():
                        raise ExportCancelled("已取消导出，没有生成文件。")
                    if progress is not None:
                        progress(n, total)
                values = row.values
                yield tuple(values[i] for i in picked)
        finally:
            source.close()

    notes = [("台账", ledger.value), ("单位", load_settings(ctx).company),
             *[(f"筛选：{item}", value) for item, value in describe_filter(ctx, ledger, f)],
             *([("不含", archived_note(ledger, f))] if archived_note(ledger, f) else []),
             ("列", "、".join(cols[i].label for i in picked)),
             ("导出人", _user_label(ctx)), ("导出时间", ctx.now())]
    xlsx_columns = [XlsxColumn(cols[i].label, cols[i].width, _xlsx_format(cols[i]), cols[i].total)
                    for i in picked]
    try:
        written = write_ledger(rows(), out, title=ledger.value, company=load_settings(ctx).company,
                               period_text=_title_text(ctx, ledger, f), notes=notes, columns=xlsx_columns)
    except OSError as exc:
        raise write_failed(out, exc, LedgerError) from exc
    if progress is not None:
        progress(written.rows, max(total, written.rows))
    with ctx.sessions() as s, s.begin():
        audit(s, ctx, f"导出{ledger.value}", spec.entity, None, out.name,
              new={"rows": written.rows, "filter": f.to_dict(), "file": str(out)})
    return ExportResult(out, written.rows)


# --- print column widths: fitted to what is printed ---------------------------------------------------

PRINT_PAGE_WIDTH_MM = 297.0  # landscape A4
PRINT_SAMPLE_ROWS = 3000  # rows looked at to fit the columns
_PT_MM = 0.3528
_WRAP_FROM_MM = 45.0  # a text column wider than this may wrap (long text: problems, content, address)
_WRAP_MIN_MM = 24.0
_WRAP_MAX_MM = 80.0


def _text_mm(text: str, size_pt: float) -> float:
    """Printed width of ``text`` in the program's CJK font: full-width characters one em, others ~0.56 em."""
    em = size_pt * _PT_MM
    return sum(em if unicodedata.east_asian_width(ch) in "WF" else em * 0.56 for ch in text)


def _print_widths(columns_: Sequence[LedgerColumn], rows: Sequence[Sequence[Any]], totals_: Sequence[Any],
                  style: Any = None) -> list[float]:
    """Column widths (mm) for ``render_table``: every short column as wide as its widest value (dates,
    numbers, names on one line; the header may take two lines), long text columns share what is left and
    wrap. ``totals_``: the 总计 values, which must fit too."""
    from huifang_desktop.printing import TableStyle, format_value

    style = style or TableStyle()
    available = PRINT_PAGE_WIDTH_MM - 2 * style.margin
    pad = 2 * style.padding + 0.6
    needs: list[float] = []
    wraps: list[bool] = []
    sample = rows[:PRINT_SAMPLE_ROWS]
    for j, column in enumerate(columns_):
        widest = max((_text_mm(format_value(r[j]), style.font_size) for r in sample), default=0.0)
        if totals_[j] is not None:
            widest = max(widest, _text_mm(format_value(totals_[j]), style.font_size) * 1.08)  # bold
        half = column.label[:(len(column.label) + 1) // 2]  # the header may take two lines
        head = _text_mm(half, style.header_font_size) * 1.1
        wrap = column.type is ColumnType.TEXT and widest > _WRAP_FROM_MM
        width = min(widest, _WRAP_MAX_MM) if wrap else widest
        needs.append(max(width, head, _text_mm("四个", style.font_size)) + pad)
        wraps.append(wrap)
    fixed = sum(w for w, wrap in zip(needs, wraps, strict=True) if not wrap)
    wrapped = sum(w for w, wrap in zip(needs, wraps, strict=True) if wrap)
    if fixed + wrapped <= available or not wrapped:
        return needs  # render_table spreads the spare width (or squeezes, when nothing can wrap)
    room = available - fixed
    if room < _WRAP_MIN_MM * wraps.count(True):
        return [_WRAP_MIN_MM if wrap else w for w, wrap in zip(needs, wraps, strict=True)]
    return [max(_WRAP_MIN_MM, room * w / wrapped) if wrap else w for w, wrap in zip(needs, wraps, strict=True)]


def print_document(ctx: ServiceContext, ledger: Ledger, f: LedgerFilter = LedgerFilter(), *,
                   columns_: Sequence[str] | None = None, progress: ProgressFn | None = None,
                   cancelled: CancelledFn | None = None, out: Path | str | None = None) -> Any:
    """The filtered ledger as a landscape A4 table (header on every page, 本页合计 / 总计 of the summed
    columns), for the print preview; a ``PrintedDocument`` of :mod:`huifang_desktop.services.printing`.
    Longer than the office's ``ledger_max_rows`` is refused before anything is read."""
    from huifang_desktop.printing import RenderCancelled, render_table
    from huifang_desktop.services.printing import (
        PrintCancelled,
        PrintedDocument,
        load_print_options,
        save_pdf,
    )

    _check_export(ctx, ledger, "打印")
    spec = _SPECS[ledger]
    spec.check(ctx, f)
    picked = _chosen(ledger, columns_)
    cols = columns(ledger)
    summary = totals(ctx, ledger, f)
    limit = load_print_options(ctx).ledger_max_rows
    if summary.count > limit:
        raise ValidationError(FieldError("period", "打印范围",
                                         f"台账共 {summary.count} 行，超过打印上限 {limit} 行，请缩小筛选范围后分批打印"))
    rows: list[tuple[Any, ...]] = []
    source = stream(ctx, ledger, f)
    try:
        for n, row in enumerate(source, start=1):
            if n % _CANCEL_EVERY == 0 and cancelled is not None and cancelled():
                raise PrintCancelled("已取消打印，没有生成文件。")
            rows.append(tuple(row.values[i] for i in picked))
    finally:
        source.close()

    def step(done: int, pages: int) -> bool:
        if progress is not None:
            progress(done, pages)
        return not (cancelled is not None and cancelled())

    shown = [cols[i] for i in picked]
    widths = _print_widths(shown, rows, [summary.values.get(c.key) for c in shown])
    table_cols = [(c.label, w, "right" if c.numeric else "center" if c.type in (_D, _DT) else "left")
                  for c, w in zip(shown, widths, strict=True)]
    period = period_text(f)
    buffer = io.BytesIO()
    try:
        pages = render_table(ledger.value, table_cols, rows, buffer,
                             subtitle=f"{spec.date_label}：{period}　{summary.summary}",
                             totals_columns=[cols[i].label for i in picked if cols[i].total],
                             company=load_settings(ctx).company, printed_at=ctx.now(), progress=step)
    except RenderCancelled:
        raise PrintCancelled("已取消打印，没有生成文件。") from None
    doc = PrintedDocument(buffer.getvalue(), pages, ledger.value, f"{ledger.value}（{period}）",
                          suggested_file_name(ledger, f, ".pdf"), spec.entity, None,
                          f"{ledger.value} {period}", {"filter": f.to_dict(), "rows": len(rows)},
                          top_secret=is_top_secret(ctx, ledger))
    if out is not None:
        save_pdf(ctx, doc, out)
    return doc


__all__ = [
    "ALL", "ARCHIVED", "IN_WARRANTY", "NO_WARRANTY", "OUT_OF_WARRANTY", "OVERDUE_STATE", "PAGE_SIZE",
    "UNPLANNED", "ColumnType", "ExportCancelled", "ExportResult", "FilterChoices", "Ledger", "LedgerColumn",
    "LedgerError", "LedgerFilter", "LedgerOptions", "LedgerPage", "LedgerRow", "LedgerTotals", "SavedFilter",
    "choices", "columns", "delete_filter", "describe_filter", "export", "is_top_secret", "load_options", "page", "period_text",
    "print_document", "save_filter", "save_options", "save_visible_columns", "saved_filters", "stream",
    "suggested_file_name", "totals", "visible_columns",
]
