"""What the ledgers are made of: the five ledgers, their columns (named, each with its getter), the filter, the
rows and pages they return, the office's ledger settings."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.domain.visits import OVERDUE
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.settings import get_value, set_value

PAGE_SIZE = 200
OPTIONS_KEY = "ledger_options"
PREFS_KEY = "ledger_prefs:{user}"
ALL = "全部"
ARCHIVED = "已归档"
UNARCHIVED = (
    "未归档"  # a state choice of the 客户台账: the files in use (the ledger without the archived ones)
)
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


_SLUGS = {
    Ledger.CUSTOMERS: "customers",
    Ledger.VISITS: "visits",
    Ledger.COMPLAINTS: "complaints",
    Ledger.SERVICES: "services",
    Ledger.END_CUSTOMERS: "endcustomers",
}
_ALIASES = {
    Ledger.SERVICES: ("service",),
    Ledger.END_CUSTOMERS: ("end-customers", "endcustomer", "end-customer"),
}


class ColumnType(StrEnum):
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    INT = "int"
    MONEY = "money"


Getter = Callable[[Any, "ReadAt"], Any]


@dataclass(frozen=True, slots=True)
class ReadAt:
    """The moment a ledger is read: what 逾期, 在保 and the like are decided against."""

    today: date
    now: datetime


@dataclass(frozen=True, slots=True)
class LedgerColumn:
    """One column, by name. ``width``: Excel characters (also the print weight); ``total``: summed in the 合计
    row; ``sort``: the sort key when the column is sortable (an indexed column), else ''; ``visible``: shown by
    default (the column chooser changes it per user); ``get(row, at)``: the cell from the ledger's query row
    (its fields are named), default the row's field named ``key`` as it is."""

    key: str
    label: str
    type: ColumnType = ColumnType.TEXT
    width: float = 12.0
    total: bool = False
    sort: str = ""
    visible: bool = True
    get: Getter | None = field(default=None, compare=False, repr=False)

    @property
    def numeric(self) -> bool:
        return self.type in (ColumnType.INT, ColumnType.MONEY)

    def value(self, row: Any, at: ReadAt) -> Any:
        return getattr(row, self.key) if self.get is None else self.get(row, at)


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


TOP_SECRET = ("customers", "endcustomers")  # the ledgers graded 绝密 unless the office says otherwise (002)


@dataclass(frozen=True, slots=True)
class LedgerOptions:
    """Office settings of the ledgers (key ``ledger_options``). ``top_secret``: ledgers (slugs) graded 绝密,
    whose export needs a supervisor (002: customer files are 绝密)."""

    top_secret: tuple[str, ...] = TOP_SECRET

    def to_dict(self) -> dict[str, Any]:
        return {"top_secret": list(self.top_secret)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LedgerOptions:
        raw = data.get("top_secret", TOP_SECRET)
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


def month_filter(today: date) -> LedgerFilter:
    """The calendar month of ``today``."""
    return LedgerFilter(
        start=today.replace(day=1), end=today.replace(day=calendar.monthrange(today.year, today.month)[1])
    )
