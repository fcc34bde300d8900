"""What every exported sheet shares: text that stays text, and a print setup that fits the paper.

**Text stays text.** openpyxl turns a string that starts with ``=`` into a live formula, and refuses a string
holding a C0 control character (``IllegalCharacterError``) — so a customer named ``=1+1`` showed as ``2``,
and one stored NUL broke every export of its ledger. :func:`risky` finds the few strings that need care in
one regular-expression search; :func:`text_cell` (write-only sheets) and :func:`set_text` (ordinary sheets)
write such a string as a plain string cell (``data_type`` "s") with Excel's quote prefix (the apostrophe
Excel shows for text typed as ``'=1+1``), so no spreadsheet evaluates it, even after the cell is edited.
The text is kept exactly as typed, except for control characters, which no .xlsx cell can hold: they are
dropped (the services refuse them on input; old data may still hold some).

**Printing.** :func:`print_setup`: A4, landscape when the sheet is wide, fitted to one page wide (as many
pages down as needed), title and header rows repeated on every page, a footer with the page number, the
page count and the print time, the header frozen (the caller sets ``freeze_panes``).

openpyxl is imported on first use: the program's start-up does not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# the C0 controls but tab, newline and carriage return: exactly openpyxl's ILLEGAL_CHARACTERS_RE
from huifang_desktop.domain.validation import CONTROL_CHARS

_ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
# A string a spreadsheet could take for a formula (= + - @, a leading tab or CR), an error code (#…), or one
# holding a control character. ``_SEP`` joins a row's strings so that one search checks the whole row.
_SEP = "\uffff"
_RISKY = re.compile("(?:^|\uffff)[=+\\-@\t\r#]|[\x00-\x08\x0b\x0c\x0e-\x1f]")
_RISKY_START = frozenset("=+-@\t\r")

WIDE_COLUMNS = 8  # a sheet with more columns prints landscape
FOOTER_PAGES = "第 &P 页 / 共 &N 页"
FOOTER_TIME = "打印时间：&D &T"
PAPER_A4 = "9"  # openpyxl's Worksheet.PAPERSIZE_A4


def risky(value: str) -> bool:
    """``value`` needs a protected cell: it could be read as a formula or error, or holds a control char."""
    return _RISKY.search(value) is not None


def row_risky(row: Sequence[Any]) -> bool:
    """Any string of ``row`` is :func:`risky` (one search over the row; a false alarm only costs time)."""
    strings = [v for v in row if type(v) is str]
    return bool(strings) and _RISKY.search(_SEP.join(strings)) is not None


def plain_text(value: str) -> str:
    """``value`` without the control characters an .xlsx cell cannot hold."""
    return CONTROL_CHARS.sub("", value)


def _needs_quote(text: str) -> bool:
    return bool(text) and (text[0] in _RISKY_START or text in _ERROR_CODES)


def text_cell(ws: Any, value: str, style: Any = None) -> Any:
    """A write-only cell holding ``value`` as plain text (see the module). ``style``: a cell whose look
    (font, alignment, number format) the new cell takes."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws)
    if style is not None and style.has_style:
        # openpyxl's own idiom: the whole style array in one copy (the stubs leave the attribute out)
        cell._style = style._style.__copy__()  # type: ignore[attr-defined]
    set_text(cell, value)
    return cell


def set_text(cell: Any, value: str) -> None:
    """Put ``value`` into ``cell`` (of any sheet) as plain text (see the module)."""
    text = plain_text(value)
    cell.value = text
    cell.data_type = "s"
    if _needs_quote(text):
        cell.quotePrefix = True


def footer_text(text: str) -> str:
    """``text`` for a header/footer section: ``&`` starts a field code there, so it is doubled."""
    return plain_text(text).replace("&", "&&")


def print_setup(ws: Any, *, columns: int, title_rows: str | None = None, footer_left: str = "") -> None:
    """A4, landscape when wider than :data:`WIDE_COLUMNS` columns, one page wide, ``title_rows`` (``"1:2"``)
    repeated on every page, footer: ``footer_left`` · page x of n · print time. On a write-only sheet, call
    it before the first row is appended (the sheet properties are written first)."""
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.orientation = "landscape" if columns > WIDE_COLUMNS else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom = 0.5, 0.6
    ws.page_margins.footer = 0.25
    if title_rows:
        ws.print_title_rows = title_rows
    if footer_left:
        ws.oddFooter.left.text = footer_text(footer_left)
        ws.oddFooter.left.size = 8
    ws.oddFooter.center.text = FOOTER_PAGES
    ws.oddFooter.center.size = 8
    ws.oddFooter.right.text = FOOTER_TIME
    ws.oddFooter.right.size = 8


__all__ = [
    "CONTROL_CHARS",
    "FOOTER_PAGES",
    "FOOTER_TIME",
    "WIDE_COLUMNS",
    "footer_text",
    "plain_text",
    "print_setup",
    "risky",
    "row_risky",
    "set_text",
    "text_cell",
]
