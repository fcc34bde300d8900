"""The office's holidays: a year entered from the State Council's notice, single days by hand, and which
years planning and deadlines reach without data (issue 19 item 10, domain.md §4).

The data is ``OfficeSettings.holidays`` (``{"2027": {"holidays": [...], "workdays": [...], "names": {...}}}``,
read by :meth:`WorkCalendar.china`); only this module writes it — :func:`settings.save_settings` keeps the
stored value, so a settings page opened before a notice was saved cannot undo it. Every change needs
``Permission.MANAGE_SETTINGS`` and is audited with the year's holidays and 调休 working days before and after.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.holiday_notice import HolidayNotice
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.visits import PlanState
from huifang_desktop.domain.workcal import HOLIDAY, WORKDAY, WorkCalendar, package_names, years_ahead
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.policy import work_calendar
from huifang_desktop.services.settings import SETTINGS_KEY, load_settings, settings_in
from huifang_desktop.storage.models import Complaint, Setting, VisitPlan

# Where a year's days come from
FROM_OFFICE = "office"  # entered from a notice or by hand
FROM_PACKAGE = "package"  # the calendar that comes with the program (chinesecalendar)
FROM_NOWHERE = "none"  # nobody knows it yet: only weekends are skipped


@dataclass(frozen=True, slots=True)
class HolidayDay:
    day: date
    kind: str  # HOLIDAY (放假) or WORKDAY (上班, a 调休 working weekend day)
    name: str = ""  # the holiday it belongs to, when known


@dataclass(frozen=True, slots=True)
class YearHolidays:
    year: int
    days: tuple[HolidayDay, ...]
    source: str  # FROM_OFFICE / FROM_PACKAGE / FROM_NOWHERE
    known: bool  # the whole year is known (a year only started by hand days is not)

    def of_kind(self, kind: str) -> list[HolidayDay]:
        return [d for d in self.days if d.kind == kind]


def office_calendar(ctx: ServiceContext) -> WorkCalendar:
    """The calendar every deadline uses (the services' cached one)."""
    return work_calendar(ctx)


def year_holidays(ctx: ServiceContext, year: int) -> YearHolidays:
    """Every holiday and 调休 working day of ``year`` and where they come from (for ``holidays list`` and
    设置 → 节假日)."""
    entered = load_settings(ctx).holidays
    spec = _spec_of(entered, year)
    cal = WorkCalendar.china(entered)
    if spec is not None:
        source = FROM_OFFICE
        names = {date.fromisoformat(k): str(v) for k, v in dict(spec.get("names", {})).items()}
    else:
        names = package_names(year)
        source = FROM_PACKAGE if names else FROM_NOWHERE
    days = tuple(HolidayDay(d, kind, names.get(d, "")) for d, kind in cal.days_of(year))
    return YearHolidays(year, days, source, cal.covers(year))


def entered_years(ctx: ServiceContext) -> list[int]:
    """The years the office entered (from a notice or by hand), in order."""
    return sorted(int(k) for k in load_settings(ctx).holidays if str(k).strip().isdigit())


def save_notice(ctx: ServiceContext, notice: HolidayNotice) -> YearHolidays:
    """Store a notice's year, replacing whatever the office had for it (audited)."""
    ctx.require(Permission.MANAGE_SETTINGS, "录入节假日")
    names = {d.isoformat(): name for d, name in sorted(notice.names().items())}
    spec = {
        "holidays": sorted(d.isoformat() for d in notice.holiday_dates()),
        "workdays": sorted(d.isoformat() for d in notice.workday_dates()),
        "names": names,
    }
    _write(ctx, notice.year, spec, action="录入节假日", label=f"{notice.year} 年节假日（国务院通知）")
    return year_holidays(ctx, notice.year)


def set_day(ctx: ServiceContext, day: date, kind: str | None, name: str = "") -> YearHolidays:
    """One day by hand: ``kind`` HOLIDAY (放假) or WORKDAY (上班); None makes it an ordinary day again (a
    weekday works, a weekend rests). A year the program already knows is copied first, so the rest of it
    stays; a year nobody knows yet is started with this day but still warned about as not entered."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改节假日")
    if kind not in (HOLIDAY, WORKDAY, None):
        raise ValidationError(FieldError("kind", "类别", f"应为“{HOLIDAY}”或“{WORKDAY}”"))
    current = year_holidays(ctx, day.year)
    spec = _editable(current)
    before = {d.day: d.kind for d in current.days}
    if kind is None and day not in before:
        raise ValidationError(FieldError("day", "日期", f"{day.isoformat()} 不是节假日，也不是调休上班日"))
    if kind == WORKDAY and day.weekday() < 5:
        raise ValidationError(
            FieldError(
                "day", "日期", f"{day.isoformat()} 是周一至周五，本来就上班；调休上班日只能是周六或周日"
            )
        )
    if kind is not None and before.get(day) == kind and not name:
        raise ValidationError(FieldError("day", "日期", f"{day.isoformat()} 已经是{kind}日"))
    iso = day.isoformat()
    for key in ("holidays", "workdays"):
        spec[key] = [d for d in spec[key] if d != iso]
    names: dict[str, str] = spec["names"]
    names.pop(iso, None)
    if kind is not None:
        spec["holidays" if kind == HOLIDAY else "workdays"].append(iso)
        spec[("holidays" if kind == HOLIDAY else "workdays")].sort()
        old_name = next((d.name for d in current.days if d.day == day), "")
        if name.strip() or old_name:
            names[iso] = name.strip() or old_name
    what = f"{iso} 改为{kind}" if kind else f"{iso} 恢复为平常日"
    _write(ctx, day.year, spec, action="修改节假日", label=what)
    return year_holidays(ctx, day.year)


def clear_year(ctx: ServiceContext, year: int) -> YearHolidays:
    """Drop what the office entered for ``year``: the program's own calendar (or weekends only) again."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改节假日")
    _write(ctx, year, None, action="修改节假日", label=f"{year} 年节假日恢复为程序自带")
    return year_holidays(ctx, year)


def unknown_years(
    ctx: ServiceContext, today: date | None = None, *, near_only: bool = False
) -> tuple[int, ...]:
    """The years without holiday data that planning or a deadline reaches from ``today``: this year, the
    years of the last pending visit plan and of the last open complaint deadline, and from November the
    next year (:func:`~huifang_desktop.domain.workcal.years_ahead`). Empty when all are known.

    ``near_only`` (the start-up reminder): only this year and, from November, the next — a plan due in two
    years' time is no reason to remind anybody every morning before the State Council has published."""
    today = today or ctx.today()
    if near_only:
        return office_calendar(ctx).unknown_years(years_ahead(today))
    with ctx.sessions() as s:
        last_plan = s.execute(
            select(func.max(VisitPlan.due)).where(VisitPlan.state == PlanState.PENDING.value)
        ).scalar()
        last_deadline = s.execute(select(func.max(Complaint.deadline))).scalar()
    reached = [last_plan, last_deadline.date() if last_deadline is not None else None]
    return office_calendar(ctx).unknown_years(years_ahead(today, *reached))


# --- storage ------------------------------------------------------------------------------------------------
def _spec_of(entered: dict[str, Any], year: int) -> dict[str, Any] | None:
    spec = next((v for k, v in entered.items() if str(k).strip() == str(year)), None)
    return dict(spec) if isinstance(spec, dict) else None


def _editable(current: YearHolidays) -> dict[str, Any]:
    """The year's data as stored, to change one day (a packaged year copied with its names)."""
    spec: dict[str, Any] = {
        "holidays": [d.day.isoformat() for d in current.of_kind(HOLIDAY)],
        "workdays": [d.day.isoformat() for d in current.of_kind(WORKDAY)],
        "names": {d.day.isoformat(): d.name for d in current.days if d.name},
    }
    if current.source == FROM_NOWHERE or (current.source == FROM_OFFICE and not current.known):
        spec["partial"] = True
    return spec


def _write(ctx: ServiceContext, year: int, spec: dict[str, Any] | None, *, action: str, label: str) -> None:
    with ctx.sessions() as s, s.begin():
        settings = settings_in(s)
        entered = {str(k): v for k, v in settings.holidays.items()}
        old = entered.get(str(year))
        if spec is None:
            entered.pop(str(year), None)
        else:
            entered[str(year)] = spec
        data = asdict(settings) | {"holidays": entered}
        row = s.get(Setting, SETTINGS_KEY)
        value = json.dumps(data, ensure_ascii=False)
        if row is None:
            s.add(Setting(key=SETTINGS_KEY, value=value))
        else:
            row.value = value
        audit(
            s,
            ctx,
            action,
            "setting",
            None,
            label,
            old={"holidays": _spans(old, "holidays"), "workdays": _spans(old, "workdays")},
            new={"holidays": _spans(spec, "holidays"), "workdays": _spans(spec, "workdays")},
        )


def _spans(spec: Any, key: str) -> str:
    """A year's days of one kind for the audit log, consecutive days joined: "2027-01-01至01-03、…"."""
    if not isinstance(spec, dict):
        return ""
    days = sorted(date.fromisoformat(str(d)) for d in spec.get(key, ()))
    return "、".join(_span_text(first, last) for first, last in _runs(days))


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and runs[-1][1] + timedelta(days=1) == d:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _span_text(first: date, last: date) -> str:
    if first == last:
        return first.isoformat()
    return f"{first.isoformat()}至{last.isoformat()[5 if last.year == first.year else 0 :]}"
