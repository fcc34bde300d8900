"""The rows below the header (:func:`data_rows`: blank-like, 合计 and repeated header rows skipped, hidden rows
set aside), the problems a row can have (:class:`RowIssue`), where each mapped field is (:class:`Columns`)
and the row reader the interpreters share (:class:`_Row`: it collects every problem of a row instead of
stopping at the first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.importing.fields import TARGET_FIELDS, ImportTarget, target_field
from huifang_desktop.domain.importing.values import cell_text, column_letter, is_total_row, normalize_header


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One data row: its sheet row number (1-based, as Excel shows it) and its cell values."""

    number: int
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class RowSkips:
    """Rows below the header that were not interpreted, by why. ``empty`` counts blank rows and rows that
    only look filled: a 序号 alone, a footnote (注：…, 制表人 …). ``hidden``: rows hidden in Excel, skipped
    unless asked for; their sheet row numbers in ``hidden_rows``."""

    empty: int = 0
    totals: int = 0
    repeated_headers: int = 0
    hidden: int = 0
    hidden_rows: tuple[int, ...] = ()


_SERIAL_HEADERS = frozenset({"序号", "序", "no", "行号", "顺序号", "序列号码"})
_FOOTNOTE = re.compile(r"^(注|备注|说明|附注|附|制表|填表|审核|审批|统计|打印|复核|经办|※|\*)")
_FOOTNOTE_MIN_LEN = 25  # one long text alone in a row is a remark under the table, not a customer


def is_blank_like(values: Sequence[Any], header: Sequence[str]) -> bool:
    """A row that only looks filled: nothing but a 序号 (the number column was filled down past the data),
    or a footnote alone in its row (``注：…``, ``制表人：…``, one long sentence)."""
    filled: list[tuple[int, Any]] = []
    data = False  # a filled cell outside the 序号 columns
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):  # what cell_text makes ''
            continue
        filled.append((i, v))
        data = data or not (i < len(header) and header[i] in _SERIAL_HEADERS)
        if data and len(filled) > 1:  # two cells, not all 序号: a data row (the usual case, decided early)
            return False
    if not filled:
        return True
    if all(i < len(header) and header[i] in _SERIAL_HEADERS for i, _v in filled):
        return True
    if len(filled) == 1:
        i, v = filled[0]
        text = cell_text(v)
        if i == 0 and re.fullmatch(r"\d{1,6}", text) and (not header or not header[0]):
            return True
        if isinstance(v, str) and (_FOOTNOTE.match(text) or len(text) >= _FOOTNOTE_MIN_LEN):
            return True
    return False


def data_rows(
    rows: Sequence[Sequence[Any]],
    header_row: int,
    *,
    hidden: Iterable[int] = (),
    include_hidden: bool = False,
) -> tuple[list[SheetRow], RowSkips]:
    """The rows below ``header_row`` (1-based) without empty rows (and rows with only a 序号 or a
    footnote), 合计/总计/小计 rows and repeats of the header (sheets printed with a header on every page).
    Rows numbered in ``hidden`` (hidden in Excel) are skipped and counted unless ``include_hidden``.
    Trailing empty rows are not counted."""
    header = [normalize_header(v) for v in rows[header_row - 1]] if 0 < header_row <= len(rows) else []
    first = next((i for i, h in enumerate(header) if h), None)  # a repeated header shows here first
    hidden_set = set(hidden) if not include_hidden else set()
    out: list[SheetRow] = []
    empty = totals = repeats = 0
    hidden_rows: list[int] = []
    pending_empty = 0
    for number in range(header_row + 1, len(rows) + 1):
        values = tuple(rows[number - 1])
        if is_blank_like(values, header):
            pending_empty += 1
            continue
        empty += pending_empty
        pending_empty = 0
        if number in hidden_set:
            hidden_rows.append(number)
            continue
        if is_total_row(values):
            totals += 1
            continue
        if (
            first is not None
            and first < len(values)
            and isinstance(values[first], str)
            and (header[first][0].isascii() or header[first][0] in values[first].lower())  # cheap "no"
            and normalize_header(values[first]) == header[first]
            and [normalize_header(v) for v in values[: len(header)]] == header[: len(values)]
        ):
            repeats += 1
            continue
        out.append(SheetRow(number, values))
    return out, RowSkips(empty, totals, repeats, len(hidden_rows), tuple(hidden_rows))


# --------------------------------------------------------------------------------------------- issues


class IssueKind(StrEnum):
    ERROR = "错误"
    DUPLICATE = "重复"


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem of one sheet row: the row as Excel numbers it, the column (letter and header) and why."""

    row: int
    column: str  # ``D``; '' when the problem is not one column's
    header: str  # the sheet's header text, or the field's label
    message: str
    kind: IssueKind = IssueKind.ERROR

    @property
    def where(self) -> str:
        if self.column:
            return f"{self.column}列（{self.header}）" if self.header else f"{self.column}列"
        return self.header

    def __str__(self) -> str:
        return f"第 {self.row} 行 {self.where}：{self.message}"


@dataclass(frozen=True, slots=True)
class Columns:
    """Where each mapped field is in the sheet, with the header text to name it in messages."""

    target: ImportTarget
    index: Mapping[str, int]
    headers: tuple[Any, ...]
    # Every field's letter and name, worked out once: each cell read asks for them (10,000 rows × 20 fields).
    _letters: dict[str, str] = field(init=False, repr=False, compare=False)
    _names: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        letters: dict[str, str] = {}
        names: dict[str, str] = {}
        for f in TARGET_FIELDS[self.target]:
            col = self.index.get(f.key)
            letters[f.key] = column_letter(col) if col is not None else ""
            text = cell_text(self.headers[col]) if col is not None and col < len(self.headers) else ""
            names[f.key] = text or f.label
        object.__setattr__(self, "_letters", letters)
        object.__setattr__(self, "_names", names)

    def letter(self, key: str) -> str:
        got = self._letters.get(key)
        if got is None:
            return column_letter(self.index[key]) if key in self.index else ""
        return got

    def header(self, key: str) -> str:
        got = self._names.get(key)
        if got is None:  # not a field of the target: as before, the field look-up names the problem
            return target_field(self.target, key).label
        return got


class _Row:
    """Reads one sheet row through the mapping, collecting issues instead of stopping at the first."""

    def __init__(self, row: SheetRow, cols: Columns) -> None:
        self.row = row
        self.cols = cols
        self.issues: list[RowIssue] = []

    def raw(self, key: str) -> Any:
        col = self.cols.index.get(key)
        if col is None or col >= len(self.row.values):
            return None
        return self.row.values[col]

    def has(self, key: str) -> bool:
        return key in self.cols.index

    def text(self, key: str, *, max_len: int = 200, multiline: bool = False) -> str:
        col = self.cols.index.get(key)
        values = self.row.values
        if col is None or col >= len(values):
            return ""  # cell_text(None)
        value = cell_text(values[col], multiline=multiline)
        if len(value) > max_len:
            self.issue(key, f"不能超过 {max_len} 个字（现有 {len(value)} 个字）")
            return value[:max_len]
        return value

    def issue(self, key: str, message: str, kind: IssueKind = IssueKind.ERROR) -> None:
        self.issues.append(
            RowIssue(self.row.number, self.cols.letter(key), self.cols.header(key), message, kind)
        )

    def take(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(raw, *args, label=header, field=key, **kwargs)``; a ValidationError becomes an issue → None."""
        col = self.cols.index.get(key)
        values = self.row.values
        raw = values[col] if col is not None and col < len(values) else None
        try:
            return fn(raw, *args, label=self.cols.header(key), field=key, **kwargs)
        except ValidationError as exc:
            for e in exc.errors:
                self.issue(key, e.message)
            return None


def _users_key(name: str) -> str:
    return cell_text(name).replace(" ", "").lower()


def user_lookup(users: Iterable[tuple[int, str, str]]) -> dict[str, int]:
    """``(id, username, display name)`` → a look-up by display name or username (case and spaces ignored);
    a display name two users share maps to neither (-1)."""
    out: dict[str, int] = {}
    for uid, username, display in users:
        for key in {_users_key(username), _users_key(display)}:
            if key:
                out[key] = uid if out.get(key, uid) == uid else -1
    return out
