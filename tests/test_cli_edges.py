"""Hostile command-line input: every case gets a Chinese message naming the argument or field, a non-zero
exit, no traceback, and changes nothing saved (no row, no audit entry, no output file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from huifang_desktop import app
from huifang_desktop.config import AppPaths
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import users

TABLES = ("visit_plan", "audit_log", "user_account", "customer", "setting", "import_run")


@pytest.fixture
def run(run_main: Any) -> Any:
    return run_main


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A migrated office with its administrator and one clerk."""
    folder = tmp_path / "data"
    ctx = app.open_context(AppPaths(folder))
    try:
        admin = users.create_user(ctx, "admin", "管理员", Role.ADMIN, "secret-123", first_admin=True)
        users.create_user(ctx.as_user(admin), "xiaowang", "小王", Role.CLERK, "secret-123", "客服部")
    finally:
        ctx.engine.dispose()
    return folder


def _state(folder: Path) -> dict[str, object]:
    conn = sqlite3.connect(str(folder / "huifang.db"))
    try:
        counts: dict[str, object] = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES
        }
        counts["settings"] = conn.execute("SELECT value FROM setting ORDER BY key").fetchall()
        return counts
    finally:
        conn.close()


def _refused(result: tuple[int, str, str], *needles: str, code: int = 1) -> str:
    got, _out, err = result
    assert got == code, err
    assert "Traceback" not in err
    assert err.startswith("错误：") or "：错误：" in err, err
    for needle in needles:
        assert needle in err, err
    return err


# --- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_plan_for_a_day_outside_the_usable_range_is_refused(run: Any, data: Path, day: str) -> None:
    before = _state(data)
    _refused(run(["--data-dir", str(data), "plan", "--today", day]), "补排日期", "1900-01-01", "2200-12-31")
    assert _state(data) == before


def test_plan_with_an_empty_day_is_refused_not_run_for_today(run: Any, data: Path) -> None:
    before = _state(data)
    _refused(run(["--data-dir", str(data), "plan", "--today", ""]), "补排日期：不能为空")
    assert _state(data) == before


def test_an_empty_period_bound_of_an_export_is_refused(run: Any, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "v.xlsx"
    _refused(run(["--data-dir", str(data), "export", "visits", str(out), "--from", ""]), "开始日期：不能为空")
    assert not out.exists()


def test_stats_of_a_year_past_the_range_is_refused(run: Any, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.xlsx"
    _refused(run(["--data-dir", str(data), "stats", "--quarter", "9999Q4", str(out)]), "统计期间", "2200")
    assert not out.exists()


# --- numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["99999999999999999999999", "2147483648", "0", "-5"])
def test_an_id_out_of_range_is_refused_before_the_query(
    run: Any, data: Path, tmp_path: Path, capsys: Any, number: str
) -> None:
    """A plan is named by its id: refused by the argument check, before any query."""
    out = tmp_path / "x.pdf"
    with pytest.raises(SystemExit) as info:
        run(["--data-dir", str(data), "print", "blank", number, str(out)])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "参数 id：应为 1 到 2147483647 之间的整数 ID" in err and number in err
    assert not out.exists()


@pytest.mark.parametrize("what", [("record", "回访记录"), ("report", "回访报告")])
@pytest.mark.parametrize("number", ["99999999999999999999999", "2147483648", "0", "-5"])
def test_a_record_number_out_of_range_is_not_found(
    run: Any, data: Path, tmp_path: Path, what: tuple[str, str], number: str
) -> None:
    """Records and reports are named by their 编号 (or their id): a number no id can be is simply not found,
    with the same message as any unknown number, and no query with it."""
    out = tmp_path / "x.pdf"
    _refused(
        run(["--data-dir", str(data), "print", what[0], number, str(out)]), f"没有编号为 {number} 的{what[1]}"
    )
    assert not out.exists()


def test_a_complaint_number_too_large_for_an_id_is_not_found(run: Any, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    _refused(
        run(["--data-dir", str(data), "print", "complaint", "99999999999999999999999", str(out)]),
        "没有编号为 99999999999999999999999 的投诉",
    )
    assert not out.exists()


def test_undo_of_an_import_number_out_of_range_is_refused(run: Any, data: Path, capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        run(["--data-dir", str(data), "imports", "undo", "99999999999999999999999"])
    assert info.value.code == 2
    assert "参数 N：应为 1 到 2147483647 之间的整数 ID" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--customers", "-3"],
        ["demo", "--seed", "abc"],
        ["import", "customers", "x.xlsx", "--header-row", "0"],
    ],
)
def test_bad_numbers_of_other_commands_are_refused_in_chinese(
    run: Any, data: Path, capsys: Any, args: list[str]
) -> None:
    before = _state(data)
    with pytest.raises(SystemExit) as info:
        run(["--data-dir", str(data), *args])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"参数 {args[-2]}：应为" in err and args[-1] in err
    assert _state(data) == before


# --- argparse in Chinese -----------------------------------------------------------------------------


def test_argparse_speaks_chinese(run: Any, data: Path, capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        run(["--data-dir", str(data), "print", "blank", "abc", "x.pdf"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith("用法：huifang-desktop print blank")
    assert "huifang-desktop print blank：错误：参数 id：应为整数 ID，收到“abc”" in err
    assert "usage" not in err and "error" not in err and "invalid" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["print"], "缺少必需的参数：WHAT"),
        (["nosuch"], "无效的选择：'nosuch'"),
        (["stats", "out.xlsx"], "参数 --month --quarter --period 必须给出其中一个"),
        (["users", "list", "--bogus"], "无法识别的参数：--bogus"),
        (["users", "add", "x", "--name", "张三", "--role", "boss"], "参数 --role：无效的选择：'boss'"),
    ],
)
def test_argparse_mistakes_are_chinese(
    run: Any, data: Path, capsys: Any, args: list[str], needle: str
) -> None:
    with pytest.raises(SystemExit) as info:
        run(["--data-dir", str(data), *args])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert needle in err and "用法：" in err and "error:" not in err


def test_help_is_chinese_and_pytest_keeps_its_own_english(run: Any, capsys: Any) -> None:
    import argparse

    with pytest.raises(SystemExit) as info:
        run(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert (
        out.startswith("用法：") and "显示本帮助并退出" in out and "显示版本号并退出" in out and "选项" in out
    )
    assert "and exit" not in out and "usage" not in out
    assert argparse.ArgumentParser(prog="x").format_usage().startswith("usage: ")  # restored afterwards


# --- the database address ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("mysql://u:p@host/db", "不支持数据库“mysql”"),
        ("not a url", "无法识别数据库地址"),
        ("", "无法识别数据库地址"),
        ("postgresql+nodriver://u@host/db", "驱动“nodriver”不可用"),
        ("sqlite://", "没有给出 SQLite 文件的路径"),
    ],
)
def test_a_bad_database_url_lists_the_supported_forms(
    run: Any, tmp_path: Path, url: str, needle: str
) -> None:
    err = _refused(
        run(["--data-dir", str(tmp_path / "d"), "--database-url", url, "settings", "show"]), needle
    )
    assert "postgresql+psycopg://用户名:密码@服务器[:端口]/数据库名" in err and "SQLite 文件（默认）" in err


def test_a_wrong_postgresql_password_is_named_as_such() -> None:
    """psycopg's words for a refused log-in start like a network failure ("connection to server … failed")."""
    from huifang_desktop.storage.db import explain_db_error

    exc = Exception(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
        'password authentication failed for user "huifang"'
    )
    message = explain_db_error(exc)
    assert message is not None and message.startswith("用户名或密码错误（PostgreSQL 拒绝登录）")
    assert "网络" not in message and "备份" not in message


# --- outputs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "suffix"),
    [
        (["export", "visits"], ".xlsx"),
        (["export", "complaints"], ".xlsx"),
        (["export", "audit"], ".xlsx"),
        (["export", "customers"], ".xlsx"),
        (["export", "services"], ".xlsx"),
        (["export", "endcustomers"], ".xlsx"),
        (["print", "visits"], ".pdf"),
        (["print", "day", "2026-11-24"], ".pdf"),
    ],
)
@pytest.mark.parametrize("name", ["out.txt", "out", "out.xls"])
def test_an_output_file_with_the_wrong_extension_is_refused(
    run: Any, data: Path, tmp_path: Path, args: list[str], suffix: str, name: str
) -> None:
    out = tmp_path / name
    before = _state(data)
    _refused(run(["--data-dir", str(data), *args, str(out)]), f"应以 {suffix} 结尾")
    assert not out.exists() and not list(tmp_path.glob("out*"))
    assert _state(data) == before


def test_the_right_extension_in_capitals_is_accepted(run: Any, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "回访台账.XLSX"
    code, _out, err = run(["--data-dir", str(data), "export", "visits", str(out)])
    assert code == 0, err
    assert out.exists()


# --- long values -------------------------------------------------------------------------------------


def test_a_display_name_over_40_characters_is_refused(run: Any, data: Path) -> None:
    before = _state(data)
    _refused(
        run(
            [
                "--data-dir",
                str(data),
                "users",
                "add",
                "longname",
                "--name",
                "张" * 41,
                "--role",
                "clerk",
                "--password",
                "secret-123",
            ]
        ),
        "姓名：不能超过 40 个字",
    )
    assert _state(data) == before


def test_a_long_customer_code_prefix_is_refused(run: Any, data: Path) -> None:
    before = _state(data)
    _refused(
        run(["--data-dir", str(data), "settings", "set", "customer_code_prefix", "K" * 11]),
        "客户编号前缀：不能超过 10 个字",
    )
    assert _state(data) == before


# --- files and folders -------------------------------------------------------------------------------


@pytest.mark.parametrize("make", ["missing", "folder", "garbage"])
def test_a_hostile_import_file_is_refused(run: Any, data: Path, tmp_path: Path, make: str) -> None:
    path = tmp_path / "in.xlsx"
    if make == "folder":
        path.mkdir()
    elif make == "garbage":
        path.write_bytes("\u202e垃圾\x00\xff".encode("utf-8", "surrogatepass") * 100)
    before = _state(data)
    _refused(run(["--data-dir", str(data), "import", "customers", str(path)]))
    assert _state(data) == before


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("retention_years", "99999999999999999999", "保存年限：不能超过 100 年"),
        ("grading_window_days", "99999999999999999999", "分级统计天数：应为 1 到 3650 天"),
        ("grading_window_days", "-5", "分级统计天数：应为 1 到 3650 天"),
        ("grade_a", "99999999999999999999", "分级标准"),
    ],
)
def test_settings_out_of_the_dialogs_range_are_refused(
    run: Any, data: Path, key: str, value: str, needle: str
) -> None:
    """The settings dialog's fields could not show them (a Qt spin box ends at 2**31 - 1)."""
    before = _state(data)
    _refused(run(["--data-dir", str(data), "settings", "set", key, value]), needle)
    assert _state(data) == before


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        ("folder", "这是一个文件夹"),
        ("missing", "文件不存在"),
        ("not json", "不是有效的 JSON（第 1 行"),
        ("latin-1", "不是 UTF-8 编码"),
    ],
)
def test_a_hostile_mapping_file_is_refused_in_chinese(
    run: Any, data: Path, tmp_path: Path, make: str, needle: str
) -> None:
    from openpyxl import Workbook

    book = tmp_path / "c.xlsx"
    wb = Workbook()
    wb.active.append(["客户名称", "联系人", "电话"])
    wb.save(book)
    mapping = tmp_path / "m.json"
    if make == "folder":
        mapping.mkdir()
    elif make == "not json":
        mapping.write_text("{客户名称: 单位", encoding="utf-8")
    elif make == "latin-1":
        mapping.write_bytes('{"客户名称": "单位"}'.encode("gb18030"))
    before = _state(data)
    err = _refused(
        run(["--data-dir", str(data), "import", "customers", str(book), "--mapping", str(mapping)]), needle
    )
    assert "Errno" not in err
    assert _state(data) == before


LONG = "x" * 300  # longer than a file name may be (255 bytes on Linux, 260 characters on Windows)


@pytest.mark.parametrize(
    "args",
    [
        ["export", "complaints", f"{LONG}.xlsx"],
        ["print", "visits", f"{LONG}.pdf"],
        ["stats", "--month", "2026-10", f"{LONG}.xlsx"],
        ["import", "customers", f"{LONG}.xlsx"],
    ],
)
def test_a_file_name_too_long_is_refused_in_chinese(
    run: Any, data: Path, tmp_path: Path, args: list[str]
) -> None:
    args = [*args[:-1], str(tmp_path / args[-1])]
    before = _state(data)
    _refused(run(["--data-dir", str(data), *args]), "文件名太长")
    assert _state(data) == before


def test_an_empty_data_folder_is_refused_not_taken_as_the_current_folder(
    run: Any, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        run(["--data-dir", "", "settings", "show"])
    assert info.value.code == 2
    assert "参数 --data-dir：不能为空" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_data_folder_that_is_a_file_is_named_in_chinese(run: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder", encoding="utf-8")
    _refused(run(["--data-dir", str(blocker), "settings", "show"]), "无法写入数据文件夹", "已有同名的文件")
