"""What every ledger shares: the query sources read in index order, the spec a ledger is described by, and
small helpers (visibility, owner, search text, money)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, tuple_

from huifang_desktop.domain.customers import GRADES_ABCD, GRADES_VIP
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import business_roles
from huifang_desktop.services import service_records
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.ledgers.model import (
    ColumnType,
    Cursor,
    Getter,
    Ledger,
    LedgerColumn,
    LedgerFilter,
    LedgerRow,
    LedgerTotals,
    ReadAt,
)
from huifang_desktop.services.policy import customer_scope
from huifang_desktop.storage.models import Customer, User
from huifang_desktop.storage.queries import TEXT_PROBE_CAP, customer_text_condition, customer_text_probe

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
        rows = s.execute(
            select(User.id, User.display_name)
            .where(User.active.is_(True), User.role.in_(business_roles()))
            .order_by(User.display_name)
        ).all()
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
    """What one ledger is made of; subclasses define the columns, choices, sources and totals. A source's
    query names its fields (``.label``) as the columns' getters read them."""

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
        for value, allowed, label in (
            (f.state, self.states(ctx), self.state_label),
            (f.kind, self.kinds(ctx), self.kind_label),
            (f.grade, self.grades(ctx), self.grade_label),
        ):
            if value and value not in allowed:
                raise _bad_choice(label, value, allowed)

    def _plan(self, fields: tuple[str, ...]) -> tuple[tuple[int, bool, Getter | None], ...]:
        """How each column is read from a row of ``fields``: a plain column by its position in the row (a
        Row's attribute look-up costs many times an index, and a ledger export reads 100,000 rows), the rest
        by their getters. Found once per query shape."""
        plans: dict[tuple[str, ...], tuple[tuple[int, bool, Getter | None], ...]] = self.__dict__.setdefault(
            "_plans", {}
        )
        plan = plans.get(fields)
        if plan is None:
            steps: list[tuple[int, bool, Getter | None]] = []
            for c in self.columns:
                get = _plain(c.key) if c.get is None else c.get
                name = getattr(get, "field", None)
                if name is not None and name in fields:
                    steps.append((fields.index(name), bool(getattr(get, "or_empty", False)), None))
                else:
                    steps.append((-1, False, get))
            plan = plans[fields] = tuple(steps)
        return plan

    def reader(self, query: Any) -> Callable[[Any, ReadAt], tuple[Any, ...]]:
        """The cells of :attr:`columns` from a row of ``query`` (a select naming its fields), its plan found
        once for the query rather than per row."""
        plan = self._plan(tuple(query.selected_columns.keys()))

        def read(row: Any, at: ReadAt) -> tuple[Any, ...]:
            return tuple(
                [
                    (row[i] or "" if empty else row[i]) if get is None else get(row, at)
                    for i, empty, get in plan
                ]
            )

        return read


def _read_at(ctx: ServiceContext) -> ReadAt:
    return ReadAt(ctx.today(), ctx.now())


def _plain(name: str) -> Getter:
    """The row's field ``name`` as it is."""

    def get(row: Any, at: ReadAt) -> Any:
        return getattr(row, name)

    get.field = name  # type: ignore[attr-defined]  # read by position where the row has it (values)
    return get


def _text(name: str) -> Getter:
    """The row's field ``name``, '' when empty."""

    def get(row: Any, at: ReadAt) -> Any:
        return getattr(row, name) or ""

    get.field, get.or_empty = name, True  # type: ignore[attr-defined]
    return get


def _ordered(q: Any, order: tuple[Any, ...], descending: bool) -> Any:
    return q.order_by(*(c.desc() for c in order)) if descending else q.order_by(*order)


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
