"""``holidays import / list / set`` and the warning of ``plan`` (issue 19 item 10), run in-process through
``huifang_desktop.app.main`` with the clock fixed at 2026-11-24."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from chinese_calendar import constants  # type: ignore[import-untyped]

from huifang_desktop.domain.holiday_notice import parse_notice
from tests.domain.notices import NOTICE_2027_EXAMPLE, NOTICES

NOW = datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def run(run_main: Any) -> Any:
    run_main.clock = lambda: NOW
    return run_main


def _notice(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "notice.txt"
    path.write_bytes(text.encode(encoding))
    return path


def _expected_lines(text: str) -> list[str]:
    notice = parse_notice(text)
    names = notice.names()
    kinds = {**{d: "放假" for d in notice.holiday_dates()}, **{d: "上班" for d in notice.workday_dates()}}
    return [f"{d.isoformat()}\t{kinds[d]}\t{names[d]}" for d in sorted(kinds)]


def test_import_dry_run_then_save_then_list_round_trips(run: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = _notice(tmp_path, NOTICE_2027_EXAMPLE)
    code, out, err = run(["--data-dir", str(data), "holidays", "import", str(path), "--dry-run"])
    assert (code, err) == (0, "")
    assert out.splitlines()[:3] == [
        "读到 2027 年的放假安排：",
        "放假：",
        "  元旦  2027-01-01 至 2027-01-03  共 3 天",
    ]
    assert "  春节  2027-02-05 至 2027-02-12  共 8 天" in out
    assert "  端午节  2027-06-09  共 1 天" in out
    assert "调休上班：\n  2027-02-14（周日）  春节\n  2027-02-20（周六）  春节\n" in out
    assert out.endswith("未保存（--dry-run）。\n")
    code, out, err = run(["--data-dir", str(data), "holidays", "list", "2027"])
    assert (code, out) == (1, "") and "2027 年的节假日尚未录入" in err

    code, out, err = run(["--data-dir", str(data), "holidays", "import", str(path)])
    assert (code, err) == (0, "")
    assert out.endswith("已保存 2027 年：放假 28 天，调休上班 6 天。\n")
    code, out, err = run(["--data-dir", str(data), "holidays", "list", "2027"])
    assert (code, err) == (0, "")
    assert out.splitlines() == _expected_lines(NOTICE_2027_EXAMPLE)
    assert out.splitlines()[0] == "2027-01-01\t放假\t元旦"

    code, out, _err = run(["--data-dir", str(data), "holidays", "import", str(path)])
    assert out.endswith("已保存 2027 年：放假 28 天，调休上班 6 天，替换了本单位原先录入的数据。\n")


def test_list_a_packaged_year_and_a_real_notice_in_gbk(run: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, _err = run(["--data-dir", str(data), "holidays", "list", "2025"])
    assert code == 0
    lines = (
        out.splitlines()
    )  # (the package calls 2025's combined holiday 国庆节 and 中秋节, the notice 国庆节、中秋节)
    assert [line.rsplit("\t", 1)[0] for line in lines] == [
        e.rsplit("\t", 1)[0] for e in _expected_lines(NOTICES[2025])
    ]
    assert {line.split("\t")[0] for line in lines} == {
        d.isoformat() for d in {*constants.holidays, *constants.workdays} if d.year == 2025
    }
    assert "2025-01-26\t上班\t春节" in lines
    path = _notice(tmp_path, NOTICES[2025], "gb18030")  # Notepad's ANSI on a Chinese Windows
    code, out, err = run(["--data-dir", str(data), "holidays", "import", str(path)])
    assert (code, err) == (0, "") and "替换了程序自带的数据" in out
    code, again, _err = run(["--data-dir", str(data), "holidays", "list", "2025"])
    assert again.splitlines() == _expected_lines(NOTICES[2025])


def test_a_notice_that_cannot_be_read_saves_nothing(run: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = NOTICE_2027_EXAMPLE.replace("共8天", "共9天")
    code, out, err = run(["--data-dir", str(data), "holidays", "import", str(_notice(tmp_path, bad))])
    assert (code, out) == (1, "")
    assert err.startswith(
        "错误：放假通知：“春节”：2月5日(农历除夕、周五)至12日(农历正月初七、周五) 是 8 天，通知写的是 9 天"
    )
    code, out, err = run(["--data-dir", str(data), "holidays", "import", str(tmp_path / "missing.txt")])
    assert code == 1 and err.startswith("错误：无法读取 ")
    assert run(["--data-dir", str(data), "holidays", "list", "2027"])[0] == 1  # still nothing entered


def test_set_one_day_by_hand(run: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, err = run(["--data-dir", str(data), "holidays", "set", "2026-12-31", "放假", "--name", "年会"])
    assert (code, err) == (0, "") and out == "已将 2026-12-31 改为放假日。\n"
    code, out, _err = run(["--data-dir", str(data), "holidays", "list", "2026"])
    assert out.splitlines()[-1] == "2026-12-31\t放假\t年会"
    code, out, err = run(["--data-dir", str(data), "holidays", "set", "2026-12-30", "上班"])
    assert code == 1 and "调休上班日只能是周六或周日" in err
    code, out, err = run(["--data-dir", str(data), "holidays", "set", "2026-12-31", "平常"])
    assert (code, out) == (0, "已将 2026-12-31 改为平常日。\n")


def test_demo_office_plan_warns_of_the_years_without_data(run: Any, tmp_path: Path) -> None:
    """Done when (issue 19): on the demo office ``plan --today 2027-12-01`` warns that 2028 is unknown; once
    2027's notice is imported only 2028 is named; an import/list round trip on the same office."""
    data = tmp_path / "demo"
    code, _out, err = run(["--data-dir", str(data), "demo", "--customers", "40", "--seed", "3"])
    assert code == 0, err
    code, out, err = run(["--data-dir", str(data), "plan", "--today", "2027-12-01"])
    assert (code, err) == (0, "")
    assert "注意：2027、2028 年的节假日尚未录入" in out
    code, out, _err = run(
        ["--data-dir", str(data), "holidays", "import", str(_notice(tmp_path, NOTICE_2027_EXAMPLE))]
    )
    assert code == 0
    code, out, _err = run(["--data-dir", str(data), "holidays", "list", "2027"])
    assert out.splitlines() == _expected_lines(NOTICE_2027_EXAMPLE)
    code, out, _err = run(["--data-dir", str(data), "plan", "--today", "2027-12-01"])
    assert "注意：2028 年的节假日尚未录入" in out and "2027、" not in out
    code, out, _err = run(["--data-dir", str(data), "plan", "--today", "2026-06-01"])
    assert "注意：2028 年的节假日尚未录入" in out  # the plans made for 2027-12-01 fall due in 2028
