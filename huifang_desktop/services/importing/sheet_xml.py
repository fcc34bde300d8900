"""The rows of one worksheet part of an .xlsx, read straight from its XML (:func:`sheet_rows`).

openpyxl's own sheet parser (``openpyxl.worksheet._reader.WorkSheetParser``) builds a dictionary for every
cell and parses every other element of the sheet (column widths, merged cells, page setup, conditional
formats) into objects; the importer needs none of that, only each row's number, whether it is hidden and
its cell values. This reader walks the same XML with the same parser (``openpyxl.xml.functions.iterparse``:
defusedxml's when it is installed) and gives the values openpyxl gives in read-only, ``data_only`` mode:

* ``t="s"``: the shared string; ``t="inlineStr"``: the text of ``<is>`` (its ``<t>`` and the ``<t>`` of
  its rich-text runs, without phonetic guides, as ``openpyxl.cell.text.Text.content``);
* ``t="str"`` (a formula's cached text) and ``t="e"`` (an error such as ``#N/A``): the text as stored;
* ``t="b"``: ``True``/``False``; ``t="d"``: the ISO 8601 date or time;
* numbers: ``int`` or ``float``; a number in a date style (the workbook's ``_date_formats``) is the
  ``datetime`` (``timedelta`` for a duration style) of its serial in the workbook's epoch, a serial out of
  range ``"#VALUE!"`` — as openpyxl converts it;
* an empty ``<v/>`` and a cell without a value: ``None``. Formulas are not read (their cached value is).

Columns come from the cell references (``C7`` → the third); a cell without one follows the one before.
A row's number comes from its ``r`` (the one after the previous row without it); ``hidden="1"`` or
``"true"`` marks it hidden.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import IO, Any

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE = f"{_NS}row", f"{_NS}c", f"{_NS}v"
_INLINE, _TEXT, _RUN = f"{_NS}is", f"{_NS}t", f"{_NS}r"
_DIGITS = "0123456789"


def _column_index(letters: str) -> int:
    """``A`` → 1, ``AA`` → 27 (1-based, as a cell reference counts); 0 for anything that is not letters."""
    n = 0
    for ch in letters:
        if not "A" <= ch <= "Z":
            return 0
        n = n * 26 + ord(ch) - 64
    return n


def _number(text: str) -> int | float:
    return float(text) if "." in text or "e" in text or "E" in text else int(text)


def _row_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        value = float(text)  # "3.0", as some writers put it; openpyxl accepts whole floats only
        if not value.is_integer():
            raise ValueError(f"{text} is not a valid row number") from None
        return int(value)


def _inline_text(inline: Any) -> str:
    """The text of an ``<is>``: its ``<t>`` then the ``<t>`` of each rich-text run ``<r>`` (phonetic
    guides ``<rPh>`` left out)."""
    if len(inline) == 1 and inline[0].tag == _TEXT:  # the usual plain text, first
        return inline[0].text or ""
    text = inline.findtext(_TEXT) or ""
    for run in inline:
        if run.tag == _RUN:
            text += run.findtext(_TEXT) or ""
    return text


def sheet_rows(
    source: IO[bytes],
    shared_strings: Sequence[Any],
    *,
    epoch: Any,
    date_styles: Collection[int],
    duration_styles: Collection[int],
) -> Iterator[tuple[int, list[Any], bool]]:
    """(sheet row number, cell values by column from A, hidden) of every ``<row>`` of the sheet, in order.
    The values list ends at the row's last cell (``None`` where no cell is); a row without cells gives
    ``[]``. ``epoch``, ``date_styles`` and ``duration_styles``: the workbook's, as openpyxl's reader
    gives them (``wb.epoch``, ``wb._date_formats``, ``wb._timedelta_formats``)."""
    from openpyxl.utils.datetime import from_excel, from_ISO8601
    from openpyxl.xml.functions import iterparse

    columns: dict[str, int] = {}  # the letters of a reference → its column (a sheet has a few)
    number = 0
    for _event, element in iterparse(source):
        if element.tag != _ROW:
            continue
        r = element.get("r")
        number = _row_number(r) if r else number + 1
        hidden = element.get("hidden") in ("1", "true")
        values: list[Any] = []
        column = 0
        for cell in element:
            if cell.tag != _CELL:
                continue
            ref = cell.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                got = columns.get(letters)
                if got is None:
                    got = columns[letters] = _column_index(letters)
                column = got or column + 1
            else:
                column += 1
            kind = cell.get("t", "n")
            value: Any = None
            if kind == "inlineStr":
                inline = cell.find(_INLINE)
                if inline is not None:
                    value = _inline_text(inline)
            else:
                text = cell.findtext(_VALUE)
                if text:
                    if kind == "n":
                        value = _number(text)
                        style = cell.get("s")
                        if style and int(style) in date_styles:
                            try:
                                value = from_excel(value, epoch, timedelta=int(style) in duration_styles)
                            except (OverflowError, ValueError):
                                value = "#VALUE!"
                    elif kind == "s":
                        value = shared_strings[int(text)]
                    elif kind == "b":
                        value = bool(int(text))
                    elif kind == "d":
                        value = from_ISO8601(text)  # type: ignore[no-untyped-call]
                    else:  # "str" (a formula's text), "e" (an error value)
                        value = text
            if column > len(values):
                if column > len(values) + 1:
                    values.extend([None] * (column - len(values) - 1))
                values.append(value)
            else:  # a cell given twice (the later counts, as in openpyxl) or out of order (kept in its column)
                values[column - 1] = value
        element.clear()
        yield number, values, hidden
