"""Working-day calendar for mainland China: holidays and 调休 working weekends (domain.md §4).

The ``chinesecalendar`` package knows the years the State Council has published so far. An admin can add
a year's holidays and 调休 working days in Settings (``overrides``); beyond every known year the calendar
falls back to plain weekends and says so through :meth:`WorkCalendar.covers`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # 调休: weekend days that are worked
    known_years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def weekends_only(cls) -> WorkCalendar:
        return cls()

    @classmethod
    def china(cls, overrides: Mapping[str | int, Mapping[str, Iterable[str | date]]] | None = None
              ) -> WorkCalendar:
        """The packaged mainland calendar plus admin-entered years (``{2027: {"holidays": [...],
        "workdays": [...]}}``; an entered year replaces the package's data for that year)."""
        try:
            from chinese_calendar import constants
        except ImportError:  # pragma: no cover - the dependency is declared; keep working without it
            holidays: set[date] = set()
            workdays: set[date] = set()
        else:
            holidays = set(constants.holidays)
            workdays = set(constants.workdays)
        years = {d.year for d in holidays}
        for key, spec in (overrides or {}).items():
            year = int(key)
            holidays = {d for d in holidays if d.year != year}
            workdays = {d for d in workdays if d.year != year}
            holidays.update(_as_date(d) for d in spec.get("holidays", ()))
            workdays.update(_as_date(d) for d in spec.get("workdays", ()))
            years.add(year)
        return cls(frozenset(holidays), frozenset(workdays), frozenset(years))

    def covers(self, year: int) -> bool:
        """True when the holidays of ``year`` are known (else only weekends are skipped)."""
        return year in self.known_years

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


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
