"""Issue 21 item 10: the importer reads a sheet's XML itself (``services/importing/sheet_xml.py``) — the
values must be the ones openpyxl's read-only mode gives for every kind of cell, and the hidden rows the
ones Excel hides."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from huifang_desktop.services import importing
from huifang_desktop.services.importing.reading import _trim


def _openpyxl_rows(path: Path) -> tuple[tuple[object, ...], ...]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [_trim(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    while rows and not rows[-1]:
        rows.pop()
    return tuple(rows)


def _hidden_rows(path: Path) -> frozenset[int]:
    book = load_workbook(path)
    ws = book.worksheets[0]
    return frozenset(n for n, dim in ws.row_dimensions.items() if dim.hidden)


def _every_kind_of_cell(path: Path, *, epoch_1904: bool = False) -> Path:
    wb = Workbook()  # styles for dates and durations
    if epoch_1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["客户名称", "数量", "金额", "建档日期", "时间", "时长", "是否", "公式", "备注"])
    ws.append(
        [
            "张三",
            12,
            3.25,
            datetime(2026, 3, 5),
            time(14, 30),
            timedelta(hours=36),
            True,
            "=1+1",
            CellRichText("重要", TextBlock(InlineFont(b=True), "客户")),
        ]
    )
    ws.append(
        ["李四", -7, 1e-7, date(1999, 12, 31), datetime(2026, 3, 5, 8, 15), None, False, None, "  空格  "]
    )
    ws["A5"] = "中间空一行"
    ws["E5"] = "隔开几列"
    ws["C6"] = "#N/A"
    ws["A7"] = "隐藏的行"
    ws.row_dimensions[7].hidden = True
    ws.row_dimensions[8].hidden = True  # hidden and empty
    ws["B9"] = 1.5
    ws["B9"].number_format = "yyyy-mm-dd"  # a date serial with a fraction
    ws["A10"] = "＝全角"
    wb.save(path)
    return path


@pytest.mark.parametrize("epoch_1904", [False, True])
def test_every_kind_of_cell_reads_as_openpyxl_reads_it(tmp_path, epoch_1904):
    path = _every_kind_of_cell(tmp_path / "cells.xlsx", epoch_1904=epoch_1904)
    sheet = importing.read_workbook(path).sheets[0]
    assert sheet.rows == _openpyxl_rows(path)
    assert sheet.hidden == _hidden_rows(path) - {8}  # an empty row is not kept, hidden or not
    assert sheet.rows[1][:7] == (
        "张三",
        12,
        3.25,
        datetime(2026, 3, 5),
        time(14, 30),
        timedelta(hours=36),
        True,
    )
    assert sheet.rows[1][8] == "重要客户" and sheet.rows[2][8] == "  空格  "
    assert sheet.rows[3] == () and sheet.rows[4] == ("中间空一行", None, None, None, "隔开几列")


_SST = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">'
    "<si><t>甲</t></si><si><t>乙</t></si>"
    '<si><r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r><rPh sb="0" eb="1"><t>fu</t></rPh></si></sst>'
).encode()


def _with_sheet_xml(path: Path, sheet_data: bytes) -> Path:
    """A workbook made by openpyxl whose first sheet's ``<sheetData>`` is replaced, as other programs
    write it, with a shared-string table (0: 甲, 1: 乙, 2: 富文本 in two runs and a phonetic guide)."""
    wb = Workbook()
    wb.active.append(["甲", "乙"])
    base = path.with_suffix(".base.xlsx")
    wb.save(base)
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                start, end = data.index(b"<sheetData>"), data.index(b"</sheetData>") + len(b"</sheetData>")
                data = data[:start] + b"<sheetData>" + sheet_data + b"</sheetData>" + data[end:]
                data = re.sub(rb"<dimension [^>]*/>", b"", data)  # openpyxl would read only A1:B1
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings"
                    b'+xml"/></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSst" Type="http://schemas.'
                    b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                    b'Target="sharedStrings.xml"/></Relationships>',
                )
            zout.writestr(info, data)
        zout.writestr("xl/sharedStrings.xml", _SST)
    base.unlink()
    return path


def test_cells_as_other_programs_write_them(tmp_path):
    """Shared strings, rows and cells without references, formula text (``str``),
    errors, ISO dates (``d``), booleans, empty ``<v/>``, rich-text and phonetic runs (shared and inline),
    whole floats as row numbers."""
    sheet_data = (
        '<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c><v>42</v></c><c t="s"><v>2</v></c></row>'  # A-D
        '<row r="3" hidden="true"><c r="A3" t="e"><v>#DIV/0!</v></c><c t="b"><v>0</v></c>'  # A3, B3
        '<c r="C3" t="str"><f>A1&amp;B1</f><v>甲乙</v></c></row>'
        '<row r="4.0"><c r="B4" t="d"><v>2026-03-05T08:30:00</v></c><c r="D4"><v/></c><c r="E4"><v>1E3</v></c></row>'
        '<row><c r="A5" t="inlineStr"><is><r><t>多</t></r><r><rPr><b/></rPr><t>段</t></r>'
        '<rPh sb="0" eb="1"><t>duo</t></rPh></is></c><c r="B5" t="inlineStr"><is><t xml:space="preserve"> 空 </t>'
        '</is></c><c r="C5" t="inlineStr"/></row>'
        '<row r="7" hidden="1"><c r="AA7"><v>-0.5</v></c></row>'
    ).encode()
    path = _with_sheet_xml(tmp_path / "other.xlsx", sheet_data)
    sheet = importing.read_workbook(path).sheets[0]
    assert sheet.rows == _openpyxl_rows(path)
    assert sheet.rows[0] == ("甲", "乙", 42, "富文本")
    assert sheet.rows[2] == ("#DIV/0!", False, "甲乙")
    assert sheet.rows[3] == (None, datetime(2026, 3, 5, 8, 30), None, None, 1000.0)
    assert sheet.rows[4] == ("多段", " 空 ")
    assert sheet.rows[6] == (None,) * 26 + (-0.5,)
    assert sheet.hidden == frozenset({3, 7})


def test_a_cell_out_of_order_keeps_its_column(tmp_path):
    """Not valid, yet written by some programs: openpyxl's read-only rows drop a cell written before one
    of a lower column (the row ends at the last cell written); here each cell keeps its column."""
    path = _with_sheet_xml(
        tmp_path / "order.xlsx",
        b'<row r="1"><c r="C1"><v>3</v></c><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c></row>',
    )
    assert importing.read_workbook(path).sheets[0].rows == ((2, None, 3),)


def test_a_damaged_sheet_is_named_as_damaged(tmp_path):
    path = _with_sheet_xml(tmp_path / "bad.xlsx", b'<row r="x"><c r="A1"><v>1</v></c></row>')
    with pytest.raises(importing.WorkbookError, match="“bad.xlsx”不是有效的 Excel 文件或已损坏"):
        importing.read_workbook(path)
