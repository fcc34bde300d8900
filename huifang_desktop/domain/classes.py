"""Customer class over time (客户等级): the volume window, the class it gives, VIP by rank (domain.md §3).

Pure: no database, no clock (``today`` is an argument), no Qt.

* 001 篇1 §1.4 grades dealers by yearly volume (年销量): A ≥ 100, B 50–99, C 10–49, D < 10. The year is the
  last 12 months up to the day of the recompute (a *rolling* window, the default) or, as an office may
  choose, the calendar year: the previous complete calendar year, or this year so far when that is more
  (so nobody falls to D on 1 January while this year is still young).
* 004 第二篇 (大客户服务计划 "识别20%的大客户"): under the VIP scheme the top ``vip_share`` of the customers by
  value (金额 in the same window) are VIP, customers without purchases in the window 小客户, the rest 普通.
* A class can come from an Excel import (the sheet's 等级 or 年采购量): it stands for 12 months after the
  import day unless the recorded purchases give a higher class; after that the purchases alone decide.
* A supervisor may pin a class (with a reason); a pinned class is never recomputed until unpinned.
* A class change starts a new routine cadence on the change day — never before it (domain.md §9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from huifang_desktop.domain.customers import GradeThresholds, grade_by_volume, grade_vip, vip_cutoff
from huifang_desktop.domain.schedule import add_months

SCHEME_ABCD = "ABCD"  # 001: A/B/C/D by yearly volume (units)
SCHEME_VIP = "VIP"  # 004: VIP / 普通 / 小客户 by value rank
PERIOD_ROLLING = "rolling"  # the last ``window_days`` days
PERIOD_CALENDAR = "calendar"  # the calendar year (see the module docstring)

#: where a class came from, as the class history shows it
SOURCE_AUTO = "自动"  # recomputed from the purchases
SOURCE_PIN = "指定"  # pinned by a supervisor
SOURCE_UNPIN = "取消指定"
SOURCE_IMPORT = "导入"  # the class an Excel import gave
SOURCE_START = "建档"  # the class the file had before history was kept

IMPORTED_CLASS_MONTHS = 12  # an imported class stands this long unless purchases give more

_RANK = {"A": 4, "B": 3, "C": 2, "D": 1, "VIP": 3, "普通": 2, "小客户": 1}


@dataclass(frozen=True, slots=True)
class ClassPolicy:
    """How the office computes classes (settings: 客户分级)."""

    scheme: str = SCHEME_ABCD
    period: str = PERIOD_ROLLING
    window_days: int = 365
    thresholds: GradeThresholds = field(default_factory=GradeThresholds)
    vip_share: float = 0.2


def volume_windows(today: date, policy: ClassPolicy) -> tuple[tuple[date, date], ...]:
    """The spans of purchase days that count on ``today``, each ``start < day <= end``; a customer's volume
    (and value) is the largest sum over them. Rolling: the last ``window_days`` days. Calendar year: the
    previous complete calendar year and this year up to ``today``."""
    if policy.period == PERIOD_CALENDAR:
        return (
            (date(today.year - 2, 12, 31), date(today.year - 1, 12, 31)),
            (date(today.year - 1, 12, 31), today),
        )
    return ((today - timedelta(days=policy.window_days), today),)


def better(a: str, b: str) -> str:
    """The higher of two classes (A > B > C > D; VIP > 普通 > 小客户); an unknown class ranks lowest."""
    return a if _RANK.get(a, 0) >= _RANK.get(b, 0) else b


@dataclass(frozen=True, slots=True)
class Imported:
    """The class an Excel import gave a customer, the import day and the sheet's 年采购量."""

    grade: str
    day: date
    volume: int = 0


def imported_class_applies(imported: Imported | None, today: date) -> bool:
    """Whether an imported class still stands on ``today`` (for :data:`IMPORTED_CLASS_MONTHS` from the import)."""
    return imported is not None and today < add_months(imported.day, IMPORTED_CLASS_MONTHS)


def shown_volume(volume: int, today: date, imported: Imported | None) -> int:
    """The yearly volume the file shows: the purchases' volume, or the sheet's while the import stands."""
    if imported is not None and imported_class_applies(imported, today):
        return max(volume, imported.volume)
    return volume


def decide_class(
    volume: int | Decimal,
    value: Decimal,
    cutoff: Decimal | None,
    policy: ClassPolicy,
    *,
    today: date,
    imported: Imported | None = None,
) -> str:
    """The class the figures give on ``today`` (not minding a pin: the caller skips pinned customers)."""
    if policy.scheme == SCHEME_VIP:
        computed = grade_vip(value, cutoff)
    else:
        computed = grade_by_volume(volume, policy.thresholds)
    if imported is not None and imported_class_applies(imported, today):
        return better(computed, imported.grade)
    return computed


def vip_cutoff_of(values: list[Decimal], policy: ClassPolicy) -> Decimal | None:
    """The value a customer needs to be VIP: the smallest of the top ``vip_share`` (004 §二.2 "识别20%")."""
    return vip_cutoff(values, policy.vip_share)


@dataclass(frozen=True, slots=True)
class ClassChange:
    """One customer's class moving from ``old`` to ``new`` on ``day``."""

    customer_id: int
    old: str
    new: str
    day: date
    volume: int
    value: Decimal


def cadence_start(created_on: date, class_since: date | None, onboard: date | None = None) -> date:
    """The day a customer's routine cadence counts from when no visit came after it: the latest of the
    file's 建档日期, the day its current class began and the import day — never an earlier day, so a
    class change cannot make a plan fall due before it (domain.md §9)."""
    start = created_on
    for day in (class_since, onboard):
        if day is not None and day > start:
            start = day
    return start


def month_key(day: date) -> str:
    """``YYYY-MM``: the month a monthly recompute is done for."""
    return f"{day:%Y-%m}"


__all__ = [
    "IMPORTED_CLASS_MONTHS",
    "PERIOD_CALENDAR",
    "PERIOD_ROLLING",
    "SCHEME_ABCD",
    "SCHEME_VIP",
    "SOURCE_AUTO",
    "SOURCE_IMPORT",
    "SOURCE_PIN",
    "SOURCE_START",
    "SOURCE_UNPIN",
    "ClassChange",
    "ClassPolicy",
    "Imported",
    "better",
    "cadence_start",
    "decide_class",
    "imported_class_applies",
    "month_key",
    "shown_volume",
    "vip_cutoff_of",
    "volume_windows",
]
