"""Reading the State Council's yearly holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知).

:func:`parse_notice` takes the notice's text as an administrator pastes it — the title, the numbered items
(``一、元旦：…``), the closing paragraph and signature, with any line breaks, spaces, full-width digits or
punctuation — and returns each holiday range (its name, first and last day) and each 调休 working day.

The wordings of the notices since 2012 are understood::

    一、元旦：1月1日（周三）放假1天，不调休。
    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、
        2月8日（周六）上班。
    一、元旦：1月1日放假，与周末连休。                 (one day, nothing else)
    七、国庆节：10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。
    一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。   (a range reaching into the year before)
    一、元旦：1月1日放假，1月2日（星期一）补休。          (a day off in lieu)

Everything read is checked before anything is returned: each date exists, a range does not end before it
starts, "共N天" / "放假N天" equals the range's length, a "（周二）" / "（星期日）" note is that date's weekday in
the notice's year, a 上班 day is a Saturday or Sunday outside every holiday range. Text that fails a check
or has no item to read raises :class:`NoticeError` naming what could not be read; there is no partial
result.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from huifang_desktop.domain.errors import FieldError, ValidationError

FIELD = "notice"
LABEL = "放假通知"
TITLE = "国务院办公厅关于{0}年部分节假日安排的通知"
WEEKDAYS = "一二三四五六日"


class NoticeError(ValidationError):
    """The notice could not be read; ``str()`` names every problem found (in Chinese)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__([FieldError(FIELD, LABEL, p) for p in problems])
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class HolidayRange:
    """One holiday as the notice gives it: ``first`` to ``last`` (inclusive), weekends within included."""

    name: str
    first: date
    last: date

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.length)]


@dataclass(frozen=True, slots=True)
class SwapWorkday:
    """A 调休 working day: a weekend day worked to lengthen the holiday ``name``."""

    day: date
    name: str


@dataclass(frozen=True, slots=True)
class HolidayNotice:
    year: int
    ranges: tuple[HolidayRange, ...]
    workdays: tuple[SwapWorkday, ...]

    def holiday_dates(self) -> frozenset[date]:
        return frozenset(d for r in self.ranges for d in r.days())

    def workday_dates(self) -> frozenset[date]:
        return frozenset(w.day for w in self.workdays)

    def names(self) -> dict[date, str]:
        """Each holiday and 调休 working day → the holiday it belongs to."""
        out = {d: r.name for r in self.ranges for d in r.days()}
        out.update((w.day, w.name) for w in self.workdays)
        return out


# --- the text's pieces (after normalize(): half-width digits and punctuation, no whitespace) --------------
_YEAR = (
    re.compile(r"关于(\d{4})年(?:部分)?节假日"),
    re.compile(r"现将(\d{4})年"),
    re.compile(r"(\d{4})年(?:部分)?节假日安排"),
)
# An item's heading: optional numbering, a holiday's name (several joined by 、), a colon, then a date.
# (Names have no numeral: "四、劳动节" after a title that a paste ran into it is the heading "劳动节".)
_NAME = r"(?:(?![一二三四五六七八九十])[\u4e00-\u9fff]){2,8}"
_HEAD = re.compile(
    r"(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十\d]+\)|\d{1,2}[.、])?"
    rf"(?P<name>{_NAME}(?:[、和与及]{_NAME})*):(?=(?:\d{{4}}年)?\d{{1,2}}月)"
)
FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
_END_OF_ITEMS = re.compile(r"节假日期间|国务院办公厅")
_NOTE = r"(?:\((?P<{0}>[^()]*)\))?"
_DATE = r"(?:(?P<y1>\d{4})年)?(?P<m1>\d{1,2})月(?P<d1>\d{1,2})日" + _NOTE.format("n1")
_TO = r"(?:至|到|~|-|—|–)"
_UNTIL = r"(?:(?:(?P<y2>\d{4})年)?(?P<m2>\d{1,2})月)?(?P<d2>\d{1,2})日" + _NOTE.format("n2")
_OFF = re.compile(_DATE + rf"(?:{_TO}{_UNTIL})?放假")
_ONE_DAY = re.compile(r"(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})日(?:\((?P<n>[^()]*)\))?")
_COUNT = re.compile(r"^(?:调休)?(?P<a>\d{1,2})天|共(?P<b>\d{1,2})天")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_CLAUSE_BREAK = re.compile(r"[。.;,:!]")
_SENTENCE_END = re.compile(r"[。.;]")


def normalize(text: str) -> str:
    """Full-width digits and punctuation made half-width (NFKC), every kind of whitespace removed: the
    notice's wording does not depend on where a paste broke its lines."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def parse_notice(text: str, year: int | None = None) -> HolidayNotice:
    """The holidays and 调休 working days of a notice's text. ``year`` is needed only when the text has no
    title (or other sentence) naming the year; when both are given they must agree."""
    flat = normalize(text)
    problems: list[str] = []
    found = _notice_year(flat)
    if year is None and found is None:
        raise NoticeError(["没有读到年份：请连同标题“国务院办公厅关于YYYY年部分节假日安排的通知”一起粘贴"])
    if year is not None and found is not None and year != found:
        raise NoticeError([f"通知是 {found} 年的，不是 {year} 年的"])
    the_year = int(year if year is not None else cast(int, found))  # one of them is given (checked above)

    heads = list(_HEAD.finditer(flat))
    if not heads:
        raise NoticeError(["没有读到任何节日的安排（应有“一、元旦：1月1日……放假”这样的条目）"])
    ranges: list[HolidayRange] = []
    workdays: list[SwapWorkday] = []
    for i, head in enumerate(heads):
        name = _clean_name(head.group("name"))
        body = flat[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(flat)]
        cut = _END_OF_ITEMS.search(body)
        if cut:
            body = body[: cut.start()]
        item_ranges, item_workdays = _read_item(name, body, the_year, problems)
        if not item_ranges and not item_workdays and not any(f in name for f in FESTIVALS):
            continue  # not an item: a web page's "成文日期：2024年11月12日" and the like
        if not item_ranges and not any(p.startswith(f"“{name}”") for p in problems):
            problems.append(f"“{name}”一项没有读到放假日期：{_excerpt(body)}")
        ranges.extend(item_ranges)
        workdays.extend(item_workdays)
    _check_together(ranges, workdays, problems)
    if problems:
        raise NoticeError(problems)
    return HolidayNotice(
        the_year, tuple(sorted(ranges, key=lambda r: r.first)), tuple(sorted(workdays, key=lambda w: w.day))
    )


def _clean_name(name: str) -> str:
    """A heading's name without words a paste ran into it ("…安排的通知元旦" → "元旦")."""
    parts = []
    for part in re.split(r"([、和与及])", name):
        known = next((f for f in FESTIVALS if part.endswith(f)), None)
        parts.append(known or part)
    return "".join(parts)


def _notice_year(flat: str) -> int | None:
    for pattern in _YEAR:
        m = pattern.search(flat)
        if m:
            return int(m.group(1))
    return None


def _read_item(
    name: str, body: str, year: int, problems: list[str]
) -> tuple[list[HolidayRange], list[SwapWorkday]]:
    ranges: list[HolidayRange] = []
    for m in _OFF.finditer(body):
        text = m.group(0)[:-2]
        first = _day(m.group("y1"), m.group("m1"), m.group("d1"), year, name, text, problems)
        if first is None:
            continue
        last = first
        if m.group("d2") is not None:
            explicit = m.group("y1") is not None or m.group("y2") is not None
            until = _day(
                m.group("y2") or (str(first.year) if explicit else None),
                m.group("m2") or str(first.month),
                m.group("d2"),
                year,
                name,
                text,
                problems,
            )
            if until is None:
                continue
            last = until
            if last < first and not explicit and last.replace(year=last.year + 1) >= first:
                last = last.replace(year=last.year + 1)  # "12月31日至1月2日": into the next year
        if not (
            _weekday_ok(first, m.group("n1"), name, problems)
            and (m.group("d2") is None or _weekday_ok(last, m.group("n2"), name, problems))
        ):
            continue
        if last < first:
            problems.append(f"“{name}”：{text} 结束日早于开始日")
            continue
        r = HolidayRange(name, first, last)
        count = _COUNT.search(_sentence_after(body, m.end()))
        if count:
            stated = int(count.group("a") or count.group("b"))
            if stated != r.length:
                problems.append(f"“{name}”：{text} 是 {r.length} 天，通知写的是 {stated} 天")
                continue
        ranges.append(r)
    extra_days: list[date] = []
    workdays: list[SwapWorkday] = []
    for word, into in (("上班", workdays), ("补休", extra_days)):
        for at in (m.start() for m in re.finditer(word, body)):
            clause = _clause_before(body, at)
            days = list(_ONE_DAY.finditer(clause))
            if not days:
                problems.append(f"“{name}”：没有读到哪天{word}：{_excerpt(clause + word)}")
            for d in days:
                day = _day(d.group("y"), d.group("m"), d.group("d"), year, name, d.group(0), problems)
                if day is None or not _weekday_ok(day, d.group("n"), name, problems):
                    continue
                if into is workdays:
                    workdays.append(SwapWorkday(day, name))
                else:
                    extra_days.append(day)
    ranges.extend(HolidayRange(name, d, d) for d in extra_days)
    return ranges, workdays


def _day(y: str | None, m: str, d: str, year: int, name: str, text: str, problems: list[str]) -> date | None:
    the_year = int(y) if y else year
    try:
        day = date(the_year, int(m), int(d))
    except ValueError:
        problems.append(f"“{name}”：{text} 不是有效的日期")
        return None
    if abs(day.year - year) > 1:
        problems.append(f"“{name}”：{text} 不在 {year} 年前后")
        return None
    return day


def _weekday_ok(day: date, note: str | None, name: str, problems: list[str]) -> bool:
    """A "（周二）" / "（农历除夕、星期二）" note must be the date's weekday (a wrong year or a typo shows)."""
    m = _WEEKDAY.search(note or "")
    if m is None:
        return True
    said = WEEKDAYS.index("日" if m.group(1) == "天" else m.group(1))
    if said == day.weekday():
        return True
    problems.append(
        f"“{name}”：{day.month}月{day.day}日 标注为“周{WEEKDAYS[said]}”，"
        f"但 {day.year}年{day.month}月{day.day}日 是周{WEEKDAYS[day.weekday()]}"
    )
    return False


def _sentence_after(body: str, at: int) -> str:
    end = _SENTENCE_END.search(body, at)
    return body[at:] if end is None else body[at : end.start()]


def _clause_before(body: str, at: int) -> str:
    """The words just before ``at`` back to the last sentence or clause break (outside brackets)."""
    depth = 0
    for i in range(at - 1, -1, -1):
        ch = body[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            depth = max(0, depth - 1)
        elif depth == 0 and _CLAUSE_BREAK.match(ch):
            return body[i + 1 : at]
    return body[:at]


def _check_together(ranges: list[HolidayRange], workdays: list[SwapWorkday], problems: list[str]) -> None:
    taken: dict[date, str] = {}
    for r in ranges:
        for d in r.days():
            if d in taken and taken[d] != r.name:
                problems.append(f"{_md(d)} 同时属于“{taken[d]}”和“{r.name}”")
            taken.setdefault(d, r.name)
    for w in workdays:
        if w.day in taken:
            problems.append(f"“{w.name}”：{_md(w.day)} 既放假又上班")
        elif w.day.weekday() < 5:
            problems.append(
                f"“{w.name}”：{_md(w.day)}（周{WEEKDAYS[w.day.weekday()]}）本来就是工作日，不是调休上班的周末"
            )


def _md(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _excerpt(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "……"
