"""The Excel writers leave either the whole new file or nothing: never a half-written file or a .part."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from huifang_desktop.exports.files import through_part_file
from huifang_desktop.exports.ledger_xlsx import XlsxColumn, write_ledger


class Cancelled(Exception):
    pass


def _rows_then_cancel(n: int, width: int) -> Iterator[list[Any]]:
    for i in range(n):
        yield [f"HF{i:03d}", *([""] * (width - 1))]
    raise Cancelled()  # the user pressed 取消 half-way


def test_a_cancelled_visit_ledger_leaves_the_old_file_and_no_part(tmp_path: Path) -> None:
    out = tmp_path / "回访台账.xlsx"
    cols = [XlsxColumn("编号"), XlsxColumn("客户编号"), XlsxColumn("客户名称")]
    written = write_ledger(
        [["HF001", "", ""]], out, title="回访台账", company="本公司", period_text="2026-11", columns=cols
    )
    assert written.rows == 1
    before = out.read_bytes()
    with pytest.raises(Cancelled):
        write_ledger(
            _rows_then_cancel(5, 3),
            out,
            title="回访台账",
            company="本公司",
            period_text="2026-11",
            columns=cols,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["回访台账.xlsx"]
    assert out.read_bytes() == before


def test_a_cancelled_ledger_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "客户台账.xlsx"
    with pytest.raises(Cancelled):
        write_ledger(
            _rows_then_cancel(5, 2),
            out,
            title="客户台账",
            company="本公司",
            period_text="全部",
            columns=[XlsxColumn("客户编号"), XlsxColumn("客户名称")],
        )
    assert list(tmp_path.iterdir()) == []


def test_a_written_ledger_replaces_the_target_whole(tmp_path: Path) -> None:
    out = tmp_path / "客户台账.xlsx"
    out.write_bytes(b"old")
    written = write_ledger(
        [["KH000001", "杭州远纳运输有限公司"]],
        out,
        title="客户台账",
        company="本公司",
        period_text="全部",
        columns=[XlsxColumn("客户编号"), XlsxColumn("客户名称")],
    )
    assert written.rows == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["客户台账.xlsx"]
    assert "杭州远纳运输有限公司" in [
        c.value for row in load_workbook(out).worksheets[0].iter_rows() for c in row
    ]


def test_an_unwritable_folder_fails_before_any_work(tmp_path: Path) -> None:
    worked = []
    with pytest.raises(OSError), through_part_file(tmp_path / "missing" / "a.xlsx"):
        worked.append(True)
    assert worked == []
