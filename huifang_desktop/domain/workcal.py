"""Working-day calendar for mainland China: holidays and 调休 working weekends (domain.md §4).

The ``chinesecalendar`` package knows the years the State Council had published when it was released. The
office enters a later year from the State Council's notice (设置 → 节假日, or ``holidays import``; read by
:mod:`huifang_desktop.domain.holiday_notice`) and may add or remove single days by hand: the ``overrides``,
``{"2027": {"holidays": [...], "workdays": [...], "names": {...}}}``, each replacing the package's data
for its year. A year only started by hand (``"partial": true``) is used but not counted as known. Beyond
every known year the calendar falls back to plain weekends and says so through :meth:`WorkCalendar.covers`
and :meth:`WorkCalendar.unknown_years`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# From this month on the next year is near: its deadlines are weeks away and the State Council has usually
# published its holidays (October–November), so a missing next year is warned about.
NEXT_YEAR_FROM_MONTH = 11
HOLIDAY, WORKDAY = "放假", "上班"  # the two kinds of days a year's data holds (调休 working days: 上班)

# chinesecalendar's names of the holidays, as the notices call them
_PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # 调休: weekend days that are worked
    known_years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def weekends_only(cls) -> WorkCalendar:
        return cls()

    @classmethod
    def china(cls, overrides: Mapping[Any, Mapping[str, Any]] | None = None) -> WorkCalendar:
        """The packaged mainland calendar plus the office's years (``{2027: {"holidays": [...],
        "workdays": [...]}}``; an entered year replaces the package's data for that year)."""
        holidays = set(_package()[0])
        workdays = set(_package()[1])
        years = {d.year for d in holidays}
        for key, spec in (overrides or {}).items():
            year = int(key)
            holidays = {d for d in holidays if d.year != year}
            workdays = {d for d in workdays if d.year != year}
            holidays.update(_as_date(d) for d in spec.get("holidays", ()))
            workdays.update(_as_date(d) for d in spec.get("workdays", ()))
            if spec.get("partial"):
                years.discard(year)
            else:
                years.add(year)
        return cls(frozenset(holidays), frozenset(workdays), frozenset(years))

    def covers(self, year: int) -> bool:
        """True when the holidays of ``year`` are known (else only weekends are skipped)."""
        return year in self.known_years

    def unknown_years(self, years: Iterable[int]) -> tuple[int, ...]:
        """The ``years`` whose holidays are not known, in order (see :func:`years_ahead`)."""
        return tuple(sorted({y for y in years if not self.covers(y)}))

    def days_of(self, year: int) -> list[tuple[date, str]]:
        """Every holiday and 调休 working day of ``year``, in date order, with 放假 or 上班."""
        out = [(d, HOLIDAY) for d in self.holidays if d.year == year]
        out += [(d, WORKDAY) for d in self.workdays if d.year == year]
        return sorted(out)

    def covered_range(self) -> tuple[int, int] | None:
        if not self.known_years:
            return None
        return min(self.known_years), max(self.known_years)

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_workday(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (n=0: ``day`` moved to a working day)."""
        if n <= 0:
            return self.next_workday(day)
        while n:
            day += timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days ``end`` is after ``start``."""
        if end <= start:
            return -self.workdays_between(end, start) if end < start else 0
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count


def years_ahead(today: date, *reached: date | None) -> range:
    """The years that planning and deadlines reach from ``today``: this year, the years of the furthest
    ``reached`` dates (the last pending visit, the last open deadline), and from November the next year."""
    last = today.year + (1 if today.month >= NEXT_YEAR_FROM_MONTH else 0)
    last = max([last, *(d.year for d in reached if d is not None)])
    return range(today.year, last + 1)


def package_names(year: int) -> dict[date, str]:
    """The packaged calendar's holiday name of each holiday and 调休 working day of ``year`` (empty for a
    year it does not know)."""
    names = {}
    for table in _package():
        for d, name in table.items():
            if d.year == year:
                names[d] = _PACKAGE_NAMES.get(str(name), str(name))
    return names


def _package() -> tuple[Mapping[date, Any], Mapping[date, Any]]:
    """chinesecalendar's (holidays, 调休 working days), each date → its holiday's name."""
    try:
        from chinese_calendar import constants
    except ImportError:  # pragma: no cover - the dependency is declared; keep working without it
        return {}, {}
    return constants.holidays, constants.workdays


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
