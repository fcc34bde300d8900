"""The State Council's holiday notice read into holiday ranges and 调休 working days (issue 19 item 10).

The notices of 2024, 2025 and 2026 (tests/domain/notices.py, in their official wording) give exactly
chinesecalendar's data for their year; the wording variants of earlier notices, a pasted text's broken lines
and full-width characters are read alike; text that cannot be read is refused whole, naming what failed."""

from __future__ import annotations

from datetime import date

import pytest
from chinese_calendar import constants  # type: ignore[import-untyped]

from huifang_desktop.domain.holiday_notice import (
    HolidayRange,
    NoticeError,
    SwapWorkday,
    parse_notice,
)
from huifang_desktop.domain.workcal import WorkCalendar, package_names, years_ahead
from tests.domain.notices import NOTICE_2025, NOTICES


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_each_real_notice_gives_chinesecalendars_year(year: int) -> None:
    notice = parse_notice(NOTICES[year])
    assert notice.year == year
    assert notice.holiday_dates() == {d for d in constants.holidays if d.year == year}
    assert notice.workday_dates() == {d for d in constants.workdays if d.year == year}


def test_the_2025_notice_item_by_item() -> None:
    notice = parse_notice(NOTICE_2025)
    assert notice.ranges == (
        HolidayRange("元旦", date(2025, 1, 1), date(2025, 1, 1)),  # 放假1天，不调休
        HolidayRange("春节", date(2025, 1, 28), date(2025, 2, 4)),  # （农历除夕、周二）…, across months
        HolidayRange("清明节", date(2025, 4, 4), date(2025, 4, 6)),  # "至6日": the month of the first day
        HolidayRange("劳动节", date(2025, 5, 1), date(2025, 5, 5)),
        HolidayRange("端午节", date(2025, 5, 31), date(2025, 6, 2)),
        HolidayRange("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8)),
    )
    assert notice.workdays == (
        SwapWorkday(date(2025, 1, 26), "春节"),
        SwapWorkday(date(2025, 2, 8), "春节"),
        SwapWorkday(date(2025, 4, 27), "劳动节"),
        SwapWorkday(date(2025, 9, 28), "国庆节、中秋节"),
        SwapWorkday(date(2025, 10, 11), "国庆节、中秋节"),
    )
    assert [r.length for r in notice.ranges] == [1, 8, 3, 5, 3, 8]
    assert notice.names()[date(2025, 2, 8)] == "春节"


def test_2024_encouraged_new_years_eve_is_not_a_holiday() -> None:
    """2024's 春节 item says "安排职工在除夕（2月9日）休息" — a wish, not a holiday (chinesecalendar agrees)."""
    notice = parse_notice(NOTICES[2024])
    assert date(2024, 2, 9) not in notice.holiday_dates()
    assert notice.ranges[0] == HolidayRange("元旦", date(2024, 1, 1), date(2024, 1, 1))  # 与周末连休


NOTICE_2023 = """国务院办公厅关于2023年部分节假日安排的通知
一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。
二、春节：1月21日至27日放假调休，共7天。1月28日（星期六）、1月29日（星期日）上班。
三、清明节：4月5日放假，共1天。
四、劳动节：4月29日至5月3日放假调休，共5天。4月23日（星期日）、5月6日（星期六）上班。
五、端午节：6月22日至24日放假调休，共3天。6月25日（星期日）上班。
六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。
国务院办公厅
2022年12月8日"""


def test_a_range_from_the_year_before_and_across_months() -> None:
    """The 2023 notice's 元旦 starts on 2022-12-31 ("2022年12月31日至2023年1月2日"); 中秋节、国庆节 runs
    9月29日至10月6日. chinesecalendar has the same days (its 2023-12-30/31 come from the 2024 notice)."""
    notice = parse_notice(NOTICE_2023)
    assert notice.ranges[0] == HolidayRange("元旦", date(2022, 12, 31), date(2023, 1, 2))
    assert notice.ranges[-1] == HolidayRange("中秋节、国庆节", date(2023, 9, 29), date(2023, 10, 6))
    from_package = {d for d in constants.holidays if date(2022, 12, 31) <= d <= date(2023, 10, 31)}
    assert notice.holiday_dates() == from_package
    assert notice.workday_dates() == {d for d in constants.workdays if d.year == 2023}


def test_a_day_off_in_lieu() -> None:
    """2017: "1月1日放假，1月2日（星期一）补休" — the Monday is a holiday too."""
    notice = parse_notice(
        "国务院办公厅关于2017年部分节假日安排的通知\n一、元旦：1月1日放假，1月2日（星期一）补休。\n"
        "二、春节：1月27日至2月2日放假调休，共7天。1月22日（星期日）、2月4日（星期六）上班。"
    )
    assert {d for d in notice.holiday_dates() if d.month == 1 and d.day < 3} == {
        date(2017, 1, 1),
        date(2017, 1, 2),
    }
    assert notice.holiday_dates() | notice.workday_dates() <= set(constants.holidays) | set(
        constants.workdays
    )
    assert notice.workday_dates() == {date(2017, 1, 22), date(2017, 2, 4)}


def test_a_paste_with_broken_lines_full_width_digits_and_spaces_reads_the_same() -> None:
    messy = (
        "国务院办公厅关于２０２５年部分节假日安排的通知\r\n\r\n  一、元旦：１月１日（周三）放假１天，\n不调休。\n"
        "二、春节：1月28日（农历除\n夕、周二）至 2 月 4 日（农历正月初七、周二）放假调休，共８天。\t1月26日（周日）、\n"
        "2月8日（周六）上班。\n三、清明节：4月4日（周五）至6日（周日）放假，共3天。\u3000\n"
        "四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。\n"
        "五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。\n"
        "六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。"
    )
    assert parse_notice(messy) == parse_notice(NOTICE_2025)


def test_a_copy_of_the_whole_web_page_reads_the_same() -> None:
    """Copied from the government website: the document's data table, the page's own lines, the signature."""
    page = (
        "首页 > 政策 > 国务院政策文件库\n索 引 号：000014349/2024-00122\t主题分类：综合政务\\其他\n"
        "发文机关：国务院办公厅\t成文日期：2024年11月12日\n标　　题：国务院办公厅关于2025年部分节假日安排的通知\n"
        "发文字号：国办发明电〔2024〕12号\t发布日期：2024年11月12日\n"
        f"{NOTICE_2025}\n（此件公开发布）\n【我要纠错】 责任编辑：张三\n扫一扫在手机打开当前页"
    )
    assert parse_notice(page) == parse_notice(NOTICE_2025)


def test_items_without_a_title_need_the_year() -> None:
    items = NOTICE_2025.split("如下。", 1)[1]
    with pytest.raises(NoticeError, match="没有读到年份"):
        parse_notice(items)
    assert parse_notice(items, year=2025) == parse_notice(NOTICE_2025)
    with pytest.raises(NoticeError, match="通知是 2025 年的，不是 2026 年的"):
        parse_notice(NOTICE_2025, year=2026)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今年放假安排另行通知。", "没有读到年份"),
        ("国务院办公厅关于2027年部分节假日安排的通知\n请各单位做好安排。", "没有读到任何节日的安排"),
        (
            "国务院办公厅关于2025年部分节假日安排的通知\n一、元旦：1月1日（周四）放假1天，不调休。",
            "“元旦”：1月1日 标注为“周四”，但 2025年1月1日 是周三",
        ),
        (
            "国务院办公厅关于2025年部分节假日安排的通知\n二、春节：1月28日至2月4日放假调休，共9天。",
            "“春节”：1月28日至2月4日 是 8 天，通知写的是 9 天",
        ),
        (
            "国务院办公厅关于2025年部分节假日安排的通知\n一、元旦：2月30日放假1天。",
            "“元旦”：2月30日 不是有效的日期",
        ),
        (
            "国务院办公厅关于2025年部分节假日安排的通知\n一、元旦：1月1日（周三）另行安排。",
            "“元旦”一项没有读到放假日期：1月1日(周三)另行安排。",
        ),
        (
            "国务院办公厅关于2025年部分节假日安排的通知\n二、春节：1月28日至2月4日放假调休，共8天。1月29日（周三）上班。",
            "“春节”：2025年1月29日 既放假又上班",
        ),
        (
            "国务院办公厅关于2025年部分节假日安排的通知\n四、劳动节：5月1日至5日放假调休，共5天。5月6日上班。",
            "“劳动节”：2025年5月6日（周二）本来就是工作日",
        ),
        (
            "国务院办公厅关于2025年部分节假日安排的通知\n四、劳动节：5月1日至5日放假调休，共5天。另行上班。",
            "“劳动节”：没有读到哪天上班",
        ),
    ],
)
def test_text_that_cannot_be_read_is_refused_naming_the_problem(text: str, expected: str) -> None:
    with pytest.raises(NoticeError) as caught:
        parse_notice(text)
    assert expected in str(caught.value)
    assert str(caught.value).startswith("放假通知：")


def test_every_problem_is_named_at_once() -> None:
    bad = NOTICE_2025.replace("1月1日（周三）", "1月1日（周四）").replace("共5天", "共6天")
    with pytest.raises(NoticeError) as caught:
        parse_notice(bad)
    assert len(caught.value.problems) == 2


def test_an_entered_year_replaces_the_package_and_a_partial_year_stays_unknown() -> None:
    notice = parse_notice(NOTICES[2026])
    spec = {
        "holidays": sorted(d.isoformat() for d in notice.holiday_dates()),
        "workdays": sorted(d.isoformat() for d in notice.workday_dates()),
    }
    cal = WorkCalendar.china({"2027": {"holidays": ["2027-01-01"], "partial": True}, "2026": spec})
    assert cal.covers(2026) and not cal.covers(2027)
    assert not cal.is_workday(date(2027, 1, 1))  # a partial year's days are used all the same
    assert cal.days_of(2026) == WorkCalendar.china().days_of(2026)
    assert cal.unknown_years(range(2025, 2029)) == (2027, 2028)


def test_years_ahead_reach_the_next_year_from_november() -> None:
    assert list(years_ahead(date(2027, 10, 31))) == [2027]
    assert list(years_ahead(date(2027, 11, 1))) == [2027, 2028]
    assert list(years_ahead(date(2027, 3, 1), date(2029, 1, 5), None)) == [2027, 2028, 2029]


def test_package_names_in_chinese() -> None:
    names = package_names(2025)
    assert names[date(2025, 1, 28)] == "春节" and names[date(2025, 1, 26)] == "春节"
    assert names[date(2025, 10, 6)] == "中秋节"
    assert package_names(2099) == {}
