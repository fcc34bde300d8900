"""Import an office's own Excel ledgers (导入 Excel 台账, domain.md §8): customers, visit history, complaints.

The pure rules (header detection, column mapping, value parsing, row interpretation, duplicates within the
sheet) are in :mod:`huifang_desktop.domain.importing`; this module reads the file, loads the look-ups in bulk,
checks duplicates against the database in bulk and writes.

Flow: :func:`read_workbook` → :func:`preview` (header row, suggested mapping; the office's saved mapping
preferred) → :func:`validate` (a :class:`ValidationReport`: every bad row by its sheet row number, the column
and why, duplicates within the sheet and against the database; nothing is written) → :func:`run_import`.

Writing is **all or nothing**: every chosen row is written in **one** transaction, in batches of
``ImportRules.batch_size`` rows (SQLAlchemy Core executemany; one audit row per batch with its counts and the
file name). Cancelling between batches, or any error, rolls the whole transaction back: nothing of the import
is left in the database (``ImportResult.cancelled``). Numbers (客户编号, 回访编号, 投诉编号) come from the
counters, reserved a batch at a time; numbers kept from the sheet move the counter past them.

Imported visit rows are history: records without plans and without follow-up plans, status 历史导入 (checked
on paper before, never signed in the program: no signer, no signature, so no 签字后被修改 alarm; locked like a
signed record; counted as done visits in the statistics like any record). Imported complaints get their
state directly (:func:`_complaint_rows`): closed ones are closed with their 结案日期, open ones keep the
deadlines their 投诉日期 gives, so an old open complaint shows as overdue.

Speed: no per-row query. Look-ups (users, customers by name/code) and duplicate checks (phones, names,
codes, numbers) are ``IN (…)`` queries in chunks of ``_CHUNK`` keys.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import time
import warnings
import zipfile
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from huifang_desktop.domain.complaints import (
    ComplaintState,
    MessageKind,
    Severity,
    deadlines,
    format_complaint_number,
    handler_role,
    sequence_scope,
)
from huifang_desktop.domain.customers import format_customer_code, pinyin_initials
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.importing import (
    TARGET_FIELDS,
    Columns,
    ComplaintCandidate,
    ComplaintRowContext,
    CustomerCandidate,
    CustomerRowContext,
    ImportRules,
    ImportTarget,
    IssueGroup,
    IssueKind,
    RowIssue,
    RowSkips,
    ServiceRowContext,
    TargetField,
    VisitCandidate,
    VisitRowContext,
    cell_text,
    chunks,
    column_letter,
    complaint_from_row,
    complaint_keys,
    customer_from_row,
    customer_keys,
    data_rows,
    detect_header_row,
    group_issues,
    mapping_by_header,
    mapping_settings_key,
    missing_required,
    normalize_header,
    refine_mapping,
    service_from_row,
    service_keys,
    sheet_duplicates,
    sort_issues,
    suggest_mapping,
    target_field,
    unused_columns,
    user_lookup,
    visit_from_row,
    visit_keys,
)
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.validation import format_phone
from huifang_desktop.domain.visits import format_visit_number, parse_visit_number
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.customers import DuplicateHit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.outputs import os_reason
from huifang_desktop.services.policy import customer_scope
from huifang_desktop.services.settings import get_value, load_settings
from huifang_desktop.storage import phone_index
from huifang_desktop.storage.models import (
    Complaint,
    ComplaintEvent,
    ComplaintOccurrence,
    Contact,
    Counter,
    Customer,
    ImportItem,
    ImportRun,
    Purchase,
    ServiceFollowUp,
    ServiceRecord,
    Setting,
    User,
    VisitPlan,
    VisitRecord,
)

RULES_KEY = "import_rules"
IMPORT_ACTION = "导入Excel"
UNDO_ACTION = "撤销导入"
CUSTOMER_COUNTER = "customer"  # as services.customers.register_customer
VISIT_HISTORY_STATUS = "历史导入"  # = services.visits.RECORD_HISTORY
VISIT_HISTORY_NOTE = "从 Excel 导入的历史记录"
_CHUNK = 900  # keys per IN (…) look-up (below SQLite's old 999-parameter limit)
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

ProgressFn = Callable[[int, int], None]


class WorkbookError(ServiceError):
    """The file cannot be read as a workbook (missing, damaged, encrypted, .xls, not Excel); names the file."""


class ImportCancelled(ServiceError):
    pass


# --- settings ------------------------------------------------------------------------------------------

def load_import_rules(ctx: ServiceContext) -> ImportRules:
    data = get_value(ctx, RULES_KEY)
    return ImportRules.from_dict(data) if isinstance(data, dict) else ImportRules()


def saved_mapping(ctx: ServiceContext, target: ImportTarget) -> dict[str, str]:
    """The office's saved mapping for ``target``: field key → header text."""
    data = get_value(ctx, mapping_settings_key(target))
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_mapping(ctx: ServiceContext, target: ImportTarget, mapping: Mapping[str, str]) -> None:
    """Remember which header goes to which field (field key → header text) for this office's next import.

    Anyone who may import may save it (it is a convenience, not an office rule); audited."""
    ctx.require(Permission.EDIT_CUSTOMERS, "保存导入列对应关系")
    keys = {f.key for f in target_fields(target)}
    clean = {k: cell_text(v) for k, v in mapping.items() if k in keys and cell_text(v)}
    key = mapping_settings_key(target)
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, key)
        old = None if row is None else json.loads(row.value)
        if old == clean:
            return
        encoded = json.dumps(clean, ensure_ascii=False)
        if row is None:
            s.add(Setting(key=key, value=encoded))
        else:
            row.value = encoded
        audit(s, ctx, "保存导入列对应", "setting", None, f"{target.value}导入列对应", old=old, new=clean)


def target_fields(target: ImportTarget) -> tuple[TargetField, ...]:
    """The fields a column can be mapped to, the usual order of a ledger (required ones marked)."""
    return TARGET_FIELDS[target]


# --- reading -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SheetData:
    name: str
    rows: tuple[tuple[Any, ...], ...]  # sheet row 1 is rows[0]; trailing empty cells and rows dropped
    truncated: bool = False  # more rows than were read (``limit``) or allowed (``ImportRules.max_rows``)
    total_rows: int | None = None  # as far as known
    hidden: frozenset[int] = frozenset()  # sheet rows hidden in Excel (1-based)


@dataclass(frozen=True, slots=True)
class WorkbookData:
    path: Path
    sheet_names: tuple[str, ...]
    sheets: tuple[SheetData, ...]

    @property
    def file_name(self) -> str:
        return self.path.name

    def sheet(self, name: str | None = None) -> SheetData:
        if name is None:
            return self.sheets[0]
        for sh in self.sheets:
            if sh.name == name:
                return sh
        raise WorkbookError(f"“{self.file_name}”中没有名为“{name}”的工作表（有：{'、'.join(self.sheet_names)}）。")


def _trim(values: Sequence[Any]) -> tuple[Any, ...]:
    end = len(values)
    while end and (values[end - 1] is None or (isinstance(values[end - 1], str) and not values[end - 1].strip())):
        end -= 1
    return tuple(values[:end])


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]+\d+:?[A-Z]*(\d*)\"")
_MB = 1024 * 1024
_ROW_BYTES = 64  # a row holding values takes at least this much sheet XML; a formatted empty row less


def check_package(p: Path, rules: ImportRules, *, count_rows: bool = True) -> None:
    """Refuse a hostile or oversized .xlsx from its zip directory before any XML is parsed: the unpacked
    size of every part and of the whole (``file_size`` as the directory states it), the compression ratio
    of large parts, and (``count_rows``) each sheet's ``<dimension>`` (its row count) from the first bytes
    of the sheet.
    Raises :class:`WorkbookError`; takes milliseconds and no memory to speak of, whatever the file."""
    name = p.name
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            limit = rules.max_unpacked_mb * _MB
            biggest = max(infos, key=lambda i: i.file_size, default=None)
            suspects = ([biggest] if biggest is not None and total > limit else []) + [
                i for i in infos if i.file_size > rules.ratio_check_mb * _MB
                and i.file_size / max(i.compress_size, 1) > rules.max_ratio]
            if suspects:
                info = suspects[0]
                ratio = info.file_size / max(info.compress_size, 1)
                raise WorkbookError(
                    f"“{name}”解压后有 {total / _MB:,.0f} MB（其中“{info.filename}”{info.file_size / _MB:,.0f} MB，"
                    f"压缩比 {ratio:,.0f}:1），超出导入的上限（{rules.max_unpacked_mb} MB、压缩比 {rules.max_ratio}:1）。"
                    "这不像正常的台账文件（可能是损坏或恶意构造的文件），没有读取。"
                    f"若确是很大的台账，请分成几个文件导入（每个不超过 {rules.max_rows} 行）。")
            for info in infos if count_rows else ():
                if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(4096)
                m = _DIMENSION.search(head)
                claimed = int(m.group(1)) if m and m.group(1) else 0
                # Templates format empty rows down to row 1,048,576: those are short and not counted; a
                # sheet part large enough to hold that many rows with values is refused unread.
                if claimed > rules.max_rows + rules.header_scan_rows and info.file_size >= claimed * _ROW_BYTES:
                    raise WorkbookError(
                        f"“{name}”的工作表有 {claimed:,} 行，超过 {rules.max_rows} 行，一次导入不了这么多。"
                        "请把它分成几个文件（每个不超过这个行数）分别导入。")
    except zipfile.BadZipFile as exc:
        raise WorkbookError(f"“{name}”不是有效的 Excel 文件或已损坏，无法读取（{exc}）。"
                            "请在 Excel 中打开并另存为 .xlsx 后再试。") from exc


def read_workbook(path: Path | str, *, sheet: str | None = None, limit: int | None = None,
                  rules: ImportRules | None = None, sheets: Sequence[str] | None = None) -> WorkbookData:
    """Read a workbook's cell values (read-only, cached formula results) and which rows are hidden.
    ``sheet``: only that sheet (all sheets otherwise; ``sheets``: only those); ``limit``: at most that many
    rows per sheet (a preview: only those rows are parsed). The zip directory is checked first
    (:func:`check_package`). ``.csv`` files are read as one sheet (UTF-8 or GB18030). Raises
    :class:`WorkbookError` with a Chinese message naming the file."""
    rules = rules or ImportRules()
    p = Path(path)
    name = p.name
    try:
        exists, folder = p.exists(), p.is_dir()
    except OSError as exc:  # a name too long for the file system …
        raise WorkbookError(f"无法读取文件“{name}”：{os_reason(exc)}。") from exc
    if not exists:
        raise WorkbookError(f"找不到文件“{name}”（{p.parent}）。")
    if folder:
        raise WorkbookError(f"“{name}”是文件夹，请选择一个 Excel 文件。")
    suffix = p.suffix.lower()
    try:
        with p.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise WorkbookError(f"无法读取文件“{name}”：{exc.strerror or exc}（文件可能正被其他程序独占打开）。") from exc
    if suffix == ".xls" or (head == _OLE_MAGIC and suffix not in _XLSX_SUFFIXES):
        raise WorkbookError(
            f"“{name}”是旧版 Excel 97-2003 格式（.xls），本程序不能直接读取。请在 Excel 或 WPS 中打开它，"
            "选择“文件 → 另存为”，保存类型选“Excel 工作簿 (*.xlsx)”，再导入新保存的文件。")
    if suffix == ".csv":
        return _read_csv(p, limit, rules)
    if suffix not in _XLSX_SUFFIXES:
        raise WorkbookError(f"“{name}”不是 Excel 工作簿。只能导入 .xlsx 文件（或 .csv 文件）。")
    if head == _OLE_MAGIC:
        raise WorkbookError(
            f"“{name}”设置了打开密码（文件已加密），或其实是改了扩展名的旧版 .xls 文件，无法读取。请在 Excel 中"
            "打开它，取消密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码），另存为 .xlsx 后再导入。")
    if not head.startswith(b"PK"):
        raise WorkbookError(f"“{name}”不是有效的 Excel 文件（文件已损坏，或是改了扩展名的其他文件）。"
                            "请在 Excel 中打开并另存为 .xlsx 后再试。")
    check_package(p, rules, count_rows=limit is None)
    wanted = {sheet} if sheet is not None else (set(sheets) if sheets is not None else None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions, missing styles: the values still read
            book = _Book(p)
            try:
                names = tuple(title for title, _target in book.sheets)
                for want in sorted(wanted or ()):
                    if want not in names:
                        raise WorkbookError(f"“{name}”中没有名为“{want}”的工作表（有：{'、'.join(names)}）。")
                read = [_read_sheet(book, title, target, limit, rules) for title, target in book.sheets
                        if wanted is None or title in wanted]
            finally:
                book.close()
    except WorkbookError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, EOFError) as exc:
        raise WorkbookError(f"“{name}”不是有效的 Excel 文件或已损坏，无法读取（{type(exc).__name__}）。"
                            "请在 Excel 中打开并另存为 .xlsx 后再试。") from exc
    except OSError as exc:
        raise WorkbookError(f"无法读取文件“{name}”：{exc.strerror or exc}。") from exc
    except Exception as exc:  # openpyxl's InvalidFileException and parser errors of a damaged file
        raise WorkbookError(f"“{name}”不是有效的 Excel 文件或已损坏，无法读取（{exc}）。"
                            "请在 Excel 中打开并另存为 .xlsx 后再试。") from exc
    if not read:
        raise WorkbookError(f"“{name}”里没有工作表。")
    return WorkbookData(p, names, tuple(read))


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@functools.cache
def _parser_class() -> type:
    """openpyxl's sheet parser with a quicker inline string (``<c t="inlineStr"><is><t>…``, as many
    programs write their exports): the text and the rich-text runs' text, as ``Text.content`` gives,
    without building openpyxl's serialisable objects for every cell."""
    from openpyxl.utils.cell import coordinate_to_tuple  # type: ignore[import-untyped]
    from openpyxl.worksheet._reader import WorkSheetParser  # type: ignore[import-untyped]

    is_tag, t_tag, r_tag = f"{_SHEET_NS}is", f"{_SHEET_NS}t", f"{_SHEET_NS}r"

    class _Parser(WorkSheetParser):  # type: ignore[misc]
        def parse_cell(self, element: Any) -> dict[str, Any]:
            if element.get("t") != "inlineStr":
                return super().parse_cell(element)  # type: ignore[no-any-return]
            coordinate = element.get("r")
            if coordinate:
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            style = element.get("s", 0)
            value, data_type = None, "inlineStr"
            child = element.find(is_tag)
            if child is not None:
                value = (child.findtext(t_tag) or "") + "".join(r.findtext(t_tag) or "" for r in child.findall(r_tag))
                data_type = "s"
            return {"row": row, "column": column, "value": value, "data_type": data_type,
                    "style_id": int(style) if style else 0}

    return _Parser


class _Book:
    """An .xlsx opened the way openpyxl's read-only mode does (shared strings, date styles), without its
    worksheet objects: for a sheet without a ``<dimension>`` element those parse the whole sheet XML at
    open just to size it (every sheet, before the first row is read). Here each sheet is parsed once, and
    only as far as it is read."""

    def __init__(self, p: Path) -> None:
        from openpyxl.reader.excel import ExcelReader  # type: ignore[import-untyped]
        from openpyxl.styles.stylesheet import apply_stylesheet  # type: ignore[import-untyped]

        self.reader = ExcelReader(p, read_only=True, data_only=True)
        try:
            self.reader.read_manifest()
            self.reader.read_strings()
            self.reader.read_workbook()
            apply_stylesheet(self.reader.archive, self.reader.wb)
            self.sheets = [(sh.name, rel.target) for sh, rel in self.reader.parser.find_sheets()
                           if rel.target in self.reader.valid_files and "chartsheet" not in rel.Type]
        except BaseException:
            self.close()
            raise

    def rows(self, target: str) -> Iterator[tuple[int, tuple[Any, ...], bool]]:
        """(sheet row number, values, hidden) of every row the sheet stores, in order: openpyxl's sheet
        parser, asked directly so the row attributes (``hidden``) come with the values and no row is
        padded to the sheet's width."""
        wb = self.reader.wb
        with self.reader.archive.open(target) as src:
            parser = _parser_class()(src, self.reader.shared_strings, data_only=True, epoch=wb.epoch,
                                     date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
            dims = parser.row_dimensions
            for idx, cells in parser.parse():
                attrs = dims.get(str(idx))
                hidden = attrs is not None and attrs.get("hidden") in ("1", "true")
                if not cells:
                    yield idx, (), hidden
                    continue
                values: list[Any] = [None] * cells[-1]["column"]
                for c in cells:
                    values[c["column"] - 1] = c["value"]
                yield idx, _trim(values), hidden

    def close(self) -> None:
        self.reader.archive.close()


def _read_sheet(book: _Book, title: str, target: str, limit: int | None, rules: ImportRules) -> SheetData:
    """The sheet's rows up to ``limit`` (a preview: row numbers), or all of them when no more than
    ``max_rows`` (+ the header scan) hold a value. Rows without a value (formatted empty rows down to row
    1,048,576, as some templates have) are neither kept nor counted."""
    cap = limit if limit is not None else rules.max_rows + rules.header_scan_rows
    rows: list[tuple[Any, ...]] = []
    hidden: set[int] = set()
    truncated = False
    filled = 0
    for idx, values, is_hidden in book.rows(target):
        if limit is not None and idx > limit:
            truncated = True
            break
        if not values:
            continue
        filled += 1
        if filled > cap:
            truncated = True
            break
        while len(rows) < idx - 1:
            rows.append(())
        rows.append(values)
        if is_hidden:
            hidden.add(idx)
    return SheetData(title, tuple(rows), truncated, None if truncated else len(rows), frozenset(hidden))


def _read_csv(p: Path, limit: int | None, rules: ImportRules) -> WorkbookData:
    raw = p.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise WorkbookError(f"“{p.name}”的文字编码无法识别（应为 UTF-8 或 GBK）。请在 Excel 中另存为 .xlsx 后再导入。")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    cap = limit if limit is not None else rules.max_rows + rules.header_scan_rows
    rows: list[tuple[Any, ...]] = []
    truncated = False
    for values in csv.reader(io.StringIO(text), dialect):
        if len(rows) >= cap:
            truncated = True
            break
        rows.append(_trim([v if v.strip() else None for v in values]))
    while rows and not rows[-1]:
        rows.pop()
    sheet = SheetData(p.stem, tuple(rows), truncated, None if truncated else len(rows))
    return WorkbookData(p, (p.stem,), (sheet,))


# --- preview -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SheetPreview:
    """What the wizard shows for one sheet: its first rows, the header row and the suggested mapping."""

    file_name: str
    sheet_names: tuple[str, ...]
    sheet: str
    target: ImportTarget
    rows: tuple[tuple[str, ...], ...]  # the first ``ImportRules.preview_rows`` rows, as text, padded
    width: int
    header_row: int | None  # 1-based sheet row; None when no header was found
    detected: bool  # header_row was found (not given by the user)
    headers: tuple[str, ...]
    mapping: dict[str, int]  # field key → 0-based column
    from_saved: tuple[str, ...]  # fields mapped from the office's saved mapping
    message: str  # '' or what to do (empty sheet, no header found)
    max_header_row: int = 0  # the header row may be any of the rows 1..max_header_row


def preview(ctx: ServiceContext, path: Path | str, sheet: str | None = None,
            target: ImportTarget = ImportTarget.CUSTOMERS, *, header_row: int | None = None,
            prefer: Mapping[str, str] | None = None) -> SheetPreview:
    """The first rows of ``sheet`` (the first sheet when None), its header row (detected unless given) and
    the mapping suggested from the header names, the office's saved mapping preferred. ``prefer`` (field →
    header text, e.g. the mapping the user just chose) goes before the saved one: after the user fixed the
    file in Excel and columns moved, the same headers still map to the same fields."""
    rules = load_import_rules(ctx)
    wb = read_workbook(path, sheet=sheet, limit=max(rules.preview_rows, rules.header_scan_rows), rules=rules)
    sh = wb.sheet(sheet)
    width = max((len(r) for r in sh.rows), default=0)
    shown = tuple(tuple(cell_text(v) for v in r) + ("",) * (width - len(r)) for r in sh.rows[: rules.preview_rows])
    if not sh.rows:
        return SheetPreview(wb.file_name, wb.sheet_names, sh.name, target, (), 0, None, False, (), {}, (),
                            f"工作表“{sh.name}”是空的，请选择有数据的工作表。", 0)
    detected = header_row is None
    message = ""
    if header_row is None:
        header_row = detect_header_row(sh.rows, target, rules)
        if header_row is None:
            names = "、".join(f"“{f.label}”" for f in target_fields(target)[:4])
            message = (f"在工作表“{sh.name}”的前 {rules.header_scan_rows} 行中没有找到表头行（应有 {names} 等列名）。"
                       "请填写表头所在的行号，或检查是否选错了工作表。")
    elif not 1 <= header_row <= len(sh.rows):
        raise ValidationError(FieldError("header_row", "表头行", f"应在 1–{len(sh.rows)} 之间"))
    if header_row is None:
        return SheetPreview(wb.file_name, wb.sheet_names, sh.name, target, shown, width, None, False, (), {}, (),
                            message, len(sh.rows))
    headers = tuple(cell_text(v) for v in sh.rows[header_row - 1]) + ("",) * (width - len(sh.rows[header_row - 1]))
    saved = {**saved_mapping(ctx, target), **(prefer or {})}
    mapping = suggest_mapping(headers, target, saved)
    from_saved = tuple(k for k, c in mapping.items() if k in saved and cell_text(saved[k]) and
                       headers[c] and _same_header(saved[k], headers[c]))
    if "category" not in from_saved:  # a column is matched by its values too (客户类别 of A类/甲 → 等级)
        mapping = refine_mapping(mapping, target, sh.rows[header_row:], load_settings(ctx).categories)
    return SheetPreview(wb.file_name, wb.sheet_names, sh.name, target, shown, width, header_row, detected, headers,
                        mapping, from_saved, message, len(sh.rows))


def _same_header(a: str, b: str) -> bool:
    return normalize_header(a) == normalize_header(b)


# --- validation ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which sheet row is the header (1-based) and which column (0-based) feeds each field."""

    header_row: int
    columns: Mapping[str, int]


@dataclass(frozen=True)
class ValidationReport:
    """The check of one sheet before anything is written: every problem of every row, and what the import
    leaves out or will do besides (columns not imported, other sheets, hidden rows, people who are not
    users, the visit plans it will bring)."""

    path: str
    file_name: str
    sheet: str
    target: ImportTarget
    header_row: int
    mapping: Mapping[str, int]
    headers: tuple[str, ...]
    data_rows: int  # rows looked at (below the header, not empty, not a total row)
    skips: RowSkips
    issues: tuple[RowIssue, ...]  # errors and duplicates, by row
    valid: tuple[Any, ...]  # CustomerCandidate / VisitCandidate / ComplaintCandidate, ready to write
    seconds: float = 0.0
    unused: tuple[tuple[str, str], ...] = ()  # (letter, header) of the columns not imported
    other_sheets: tuple[str, ...] = ()  # the workbook's other sheets (not in this check)
    unknown_owners: tuple[tuple[str, int], ...] = ()  # 负责人 names that are no user → rows
    create_owners: bool = False  # the unknown 负责人 will be created as clerks (else left unassigned)
    unassigned: int = 0  # valid rows that will have no 负责人
    plans: int = 0  # visit plans the import brings (routine from today, open purchase windows)
    purchases: int = 0  # valid rows with a 购买/交车日期 (kept as purchase history)

    @property
    def error_rows(self) -> int:
        return len({i.row for i in self.issues if i.kind is IssueKind.ERROR})

    @property
    def duplicate_rows(self) -> int:
        errors = {i.row for i in self.issues if i.kind is IssueKind.ERROR}
        return len({i.row for i in self.issues if i.kind is IssueKind.DUPLICATE} - errors)

    @property
    def valid_count(self) -> int:
        return len(self.valid)

    @property
    def clean(self) -> bool:
        return not self.issues

    @property
    def groups(self) -> list[IssueGroup]:
        """The problems by kind: count, first rows, how to fix."""
        return group_issues(self.issues)

    def summary(self) -> str:
        parts = [f"共 {self.data_rows} 行数据：可导入 {self.valid_count} 行"]
        if self.error_rows:
            parts.append(f"有问题 {self.error_rows} 行")
        if self.duplicate_rows:
            parts.append(f"重复 {self.duplicate_rows} 行")
        skipped = []
        if self.skips.empty:
            skipped.append(f"空行 {self.skips.empty} 行")
        if self.skips.totals:
            skipped.append(f"合计行 {self.skips.totals} 行")
        if self.skips.repeated_headers:
            skipped.append(f"重复的表头 {self.skips.repeated_headers} 行")
        if self.skips.hidden:
            skipped.append(f"隐藏行 {self.skips.hidden} 行")
        text = "，".join(parts) + "。"
        if skipped:
            text += f"已跳过{'、'.join(skipped)}。"
        return text

    def notes(self) -> list[str]:
        """What else the user should know before writing, one line each (CLI and wizard)."""
        out = []
        if self.unused:
            out.append("未导入的列：" + "、".join(f"{letter}列“{h}”" for letter, h in self.unused)
                       + "（如需导入，请在列对应中选择对应的字段）")
        if self.other_sheets:
            out.append(f"本文件还有其他工作表：{'、'.join(self.other_sheets)}（未检查；可用 --sheet 名称 或 "
                       "--all-sheets 导入，向导中可选择工作表）")
        if self.skips.hidden:
            shown = "、".join(str(r) for r in self.skips.hidden_rows[:10])
            more = f" 等 {self.skips.hidden} 行" if self.skips.hidden > 10 else ""
            out.append(f"隐藏的行已跳过：第 {shown} 行{more}（如需导入，加 --include-hidden，或在向导中勾选“包括隐藏行”）")
        if self.unknown_owners:
            names = "、".join(f"{n}（{k} 行）" for n, k in self.unknown_owners)
            if self.create_owners:
                out.append(f"以下负责人不是本系统用户，导入时将创建为客服专员账号：{names}")
            else:
                out.append(f"注意：以下负责人不是本系统用户：{names}。这些客户将暂不指定负责人（照常导入）；"
                           "可加 --owners create 创建为客服专员，或用 --owner 姓名=用户名 对应到已有用户，"
                           "或先在 工具 → 用户与部门 中添加这些用户")
        if self.unassigned:
            out.append(f"{self.unassigned} 位客户没有负责人：导入后请在客户档案中指定负责人，指定前不安排回访计划")
        if self.purchases:
            out.append(f"{self.purchases} 行有购买/交车日期：记为购买记录，只为尚未过期的回访安排计划")
        if self.target is ImportTarget.CUSTOMERS and self.valid:
            out.append(f"导入后将生成回访计划 {self.plans} 条（例行回访从导入之日起算，不补排过期的计划）")
        return out


def validate(ctx: ServiceContext, path: Path | str, sheet: str | None, target: ImportTarget,
             mapping: ColumnMapping, *, include_hidden: bool = False, owners: Mapping[str, int] | None = None,
             create_owners: bool = False) -> ValidationReport:
    """Check every row of the sheet; nothing is written. Problems name the sheet row and column; every
    problem of every row is reported in this one pass. ``include_hidden``: rows hidden in Excel are
    checked too (skipped and listed otherwise). ``owners``: 负责人 name as written → user id, for names
    that are no user; ``create_owners``: such names will be created as clerks by :func:`run_import` (the
    plan count counts them as assigned)."""
    ctx.require(Permission.EDIT_CUSTOMERS, f"导入{target.value}")
    started = time.perf_counter()
    rules = load_import_rules(ctx)
    wb = read_workbook(path, sheet=sheet, rules=rules)
    sh = wb.sheet(sheet)
    if not sh.rows:
        raise ValidationError(FieldError("sheet", "工作表", f"工作表“{sh.name}”是空的"))
    if sh.truncated:
        raise WorkbookError(f"工作表“{sh.name}”超过 {rules.max_rows} 行，一次导入不了这么多。请把它分成几个文件"
                            "（每个不超过这个行数）分别导入。")
    if not 1 <= mapping.header_row <= len(sh.rows):
        raise ValidationError(FieldError("header_row", "表头行", f"应在 1–{len(sh.rows)} 之间"))
    headers = tuple(cell_text(v) for v in sh.rows[mapping.header_row - 1])
    missing = missing_required(target, mapping.columns)
    if missing:
        raise ValidationError([FieldError(f.key, f.label, "请选择对应的列（必填）") for f in missing])
    width = max(len(r) for r in sh.rows)
    bad = [k for k, c in mapping.columns.items() if not 0 <= c < max(width, len(headers))]
    if bad:
        raise ValidationError([FieldError(k, target_field(target, k).label, "所选的列不在表中") for k in bad])
    cols = Columns(target, dict(mapping.columns), headers)
    rows, skips = data_rows(sh.rows, mapping.header_row, hidden=sh.hidden, include_hidden=include_hidden)
    with ctx.sessions() as s:
        checker = _CHECKERS[target](ctx, s, cols, rules)
        checker.owner_map = {_name_key(k): v for k, v in (owners or {}).items()}
        candidates, issues = checker.interpret(rows)
        kept, dups = sheet_duplicates(candidates, checker.keys, checker.column_for)
        kept, db_dups = checker.db_duplicates(kept)
    extra: dict[str, Any] = {}
    if target is ImportTarget.CUSTOMERS:
        unknown: dict[str, int] = {}
        for c in candidates:
            if c.owner_name:
                unknown[c.owner_name] = unknown.get(c.owner_name, 0) + 1
        owned = [c for c in kept if c.clean.owner_id is not None or (create_owners and c.owner_name)]
        extra = {"unknown_owners": tuple(unknown.items()), "create_owners": create_owners,
                 "unassigned": len(kept) - len(owned), "plans": _plan_estimate(ctx, owned),
                 "purchases": sum(1 for c in kept if c.purchase_on is not None)}
    return ValidationReport(
        str(Path(path)), wb.file_name, sh.name, target, mapping.header_row, dict(mapping.columns), headers,
        len(rows), skips, sort_issues([*issues, *dups, *db_dups]), tuple(kept), time.perf_counter() - started,
        unused_columns(headers, mapping.columns), tuple(n for n in wb.sheet_names if n != sh.name), **extra)


def _name_key(name: str) -> str:
    return cell_text(name).replace(" ", "").lower()


def _plan_estimate(ctx: ServiceContext, owned: Sequence[CustomerCandidate]) -> int:
    """How many visit plans the start-of-day catch-up will make for these (assigned) customers once
    imported: the routine (and technical) visit counted from today, and the windows of their purchases
    that are still open — the same rules as ``services.visits.plan_catch_up`` for imported customers."""
    from huifang_desktop.domain.schedule import plans_for_trigger, routine_plans
    from huifang_desktop.services.policy import work_calendar
    from huifang_desktop.services.visits import load_options, load_rules
    from huifang_desktop.services.visits.planning import _purchase_triggers

    if not owned:
        return 0
    rules, cal, opts = load_rules(ctx), work_calendar(ctx), load_options(ctx)
    today = ctx.today()
    since = today - timedelta(days=opts.trigger_lookback_days)
    count = 0
    for c in owned:
        if c.clean.status not in opts.active_statuses:
            continue
        count += len(routine_plans(c.grade, None, None, today, rules, cal))
        if c.purchase_on is not None and since <= c.purchase_on <= today:
            for trigger in _purchase_triggers(c.row, c.purchase_on, c.purchase_kind, 1, None, c.clean.category,
                                              opts):
                count += sum(1 for p in plans_for_trigger(trigger, rules, cal) if p.due >= today)
    return count


def _chunked_in(s: Session, query: Callable[[Sequence[Any]], Any], keys: Iterable[Any]) -> list[Any]:
    items = sorted(set(keys), key=str)
    out: list[Any] = []
    for part in chunks(items, _CHUNK):
        out.extend(s.execute(query(part)).all())
    return out


def _users(s: Session, *, active_only: bool) -> dict[str, int]:
    q = select(User.id, User.username, User.display_name)
    if active_only:
        q = q.where(User.active.is_(True))
    return user_lookup((uid, un, dn) for uid, un, dn in s.execute(q).all())


def _customer_lookups(s: Session, cols: Columns, rows: Sequence[Any], name_key: str, code_key: str
                      ) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    """客户编号 → id and 客户名称 → ids for the names and codes the sheet uses (chunked IN look-ups)."""
    def values(key: str, upper: bool) -> set[str]:
        col = cols.index.get(key)
        if col is None:
            return set()
        out = {cell_text(r.values[col]) for r in rows if col < len(r.values)}
        return {v.upper() if upper else v for v in out if v}

    names = values(name_key, False)
    codes = values(code_key, True) | {n.upper() for n in names}
    by_code = {code: cid for cid, code in _chunked_in(
        s, lambda part: select(Customer.id, Customer.code).where(Customer.code.in_(part)), codes)}
    by_name: dict[str, list[int]] = defaultdict(list)
    for cid, name in _chunked_in(s, lambda part: select(Customer.id, Customer.name).where(Customer.name.in_(part)),
                                 names):
        by_name[name].append(cid)
    return by_code, {k: tuple(sorted(v)) for k, v in by_name.items()}


class _Checker(ABC):
    """Per-target interpretation and duplicate checks for :func:`validate`."""

    target: ImportTarget

    def __init__(self, ctx: ServiceContext, s: Session, cols: Columns, rules: ImportRules) -> None:
        self.ctx, self.s, self.cols, self.rules = ctx, s, cols, rules
        self.owner_map: dict[str, int] = {}  # 负责人 as written (key form) → the user it stands for
        self._db_reasons: dict[int, str] = {}

    def interpret(self, rows: Sequence[Any]) -> tuple[list[Any], list[RowIssue]]:
        fn, rctx = self.prepare(rows)
        candidates: list[Any] = []
        issues: list[RowIssue] = []
        for row in rows:
            got = fn(row, self.cols, rctx)
            if isinstance(got, list):
                issues.extend(got)
            else:
                candidates.append(got)
        return candidates, issues

    @abstractmethod
    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        """The domain's row interpreter for this ledger and its context (look-ups for the sheet's rows)."""

    @abstractmethod
    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        """The (kind, value) keys two rows of the sheet are duplicates by."""

    @abstractmethod
    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        """(column letter, header) a duplicate of this key kind (and value, in this candidate) is reported
        under: the column the repeated value was found in."""

    def where(self, key: str) -> tuple[str, str]:
        return self.cols.letter(key), self.cols.header(key)

    def db_duplicates(self, kept: list[Any]) -> tuple[list[Any], list[RowIssue]]:
        hits = self.find_in_db(kept)
        out, issues = [], []
        for cand in kept:
            hit = hits.get(cand.row)
            if hit is None:
                out.append(cand)
            else:
                kind, message = hit
                letter, header = self.column_for(kind, None, cand)
                issues.append(RowIssue(cand.row, letter, header, message, IssueKind.DUPLICATE))
        return out, issues

    @abstractmethod
    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        """Sheet row → (key kind, message) for candidates that already exist in the database."""


class _CustomerChecker(_Checker):
    target = ImportTarget.CUSTOMERS

    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        settings = load_settings(self.ctx)
        rctx = CustomerRowContext(
            today=self.ctx.today(), categories=settings.categories,
            users={**_users(self.s, active_only=True), **self.owner_map},
            default_owner_id=self.ctx.user.id or None, thresholds=settings.thresholds, rules=self.rules)
        return customer_from_row, rctx

    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        return customer_keys(cand)

    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        if kind == "phone":
            key = ""
            if cand is not None and value is not None:
                key = cand.phone_columns.get(value, "")
            elif cand is not None:  # a database hit: the number its reason names
                reason = self._db_reasons.get(cand.row, "")
                key = next((k for n, k in cand.phone_columns.items() if f" {format_phone(n)} " in reason), "")
            if key not in self.cols.index:
                key = "phone" if "phone" in self.cols.index else "mobile"
            return self.where(key)
        return self.where("code" if kind == "code" else "name")

    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        found = find_existing_customers(self.s, kept)
        self._db_reasons = {row: hit.reason for row, (_kind, hit) in found.items()}
        hidden = _invisible_customers(self.s, self.ctx, {hit.id for _kind, hit in found.values()})
        return {row: (kind, f"与其他部门的客户档案重复（{hit.reason}），您无权查看该档案" if hit.id in hidden
                      else f"与已有客户 {hit.code} {hit.name} 重复（{hit.reason}）")
                for row, (kind, hit) in found.items()}


def _invisible_customers(s: Session, ctx: ServiceContext, ids: set[int]) -> set[int]:
    """Of ``ids``, the customers outside the acting user's visibility scope (named in no message)."""
    scope = customer_scope(ctx)
    if not scope.limited or not ids:
        return set()
    rows = _chunked_in(s, lambda part: select(Customer.id, Customer.department_id).where(Customer.id.in_(part)),
                       ids)
    return {cid for cid, dep in rows if dep != scope.department_id}


def find_existing_customers(s: Session, candidates: Sequence[CustomerCandidate]
                            ) -> dict[int, tuple[str, DuplicateHit]]:
    """The batched form of ``services.customers.find_duplicates``: same phone, or same name and address,
    (or the same 客户编号) as a customer in the database. Sheet row → (key kind, hit); a few IN queries."""
    phones = {p for c in candidates for p in c.phones}
    by_phone: dict[str, DuplicateHit] = {}
    rows = _chunked_in(s, lambda part: (
        select(Customer.id, Customer.code, Customer.name, Contact.phone, Contact.mobile)
        .join(Contact, Contact.customer_id == Customer.id)
        .where(or_(Contact.phone.in_(part), Contact.mobile.in_(part)))
        .order_by(Customer.code)), phones)
    for cid, code, name, phone, mobile in sorted(rows, key=lambda r: r[1]):
        for number in (phone, mobile):
            if number in phones and number not in by_phone:
                by_phone[number] = DuplicateHit(cid, code, name, f"电话 {format_phone(number)} 相同")
    by_name_address: dict[tuple[str, str], DuplicateHit] = {}
    for cid, code, name, address in sorted(_chunked_in(s, lambda part: select(
            Customer.id, Customer.code, Customer.name, Customer.address).where(Customer.name.in_(part)),
            {c.clean.name for c in candidates}), key=lambda r: r[1]):
        by_name_address.setdefault((name, address), DuplicateHit(cid, code, name, "名称和地址相同"))
    by_code = {code: DuplicateHit(cid, code, name, f"客户编号 {code} 已存在") for cid, code, name in _chunked_in(
        s, lambda part: select(Customer.id, Customer.code, Customer.name).where(Customer.code.in_(part)),
        {c.code for c in candidates if c.code})}
    out: dict[int, tuple[str, DuplicateHit]] = {}
    for c in candidates:
        hit: tuple[str, DuplicateHit] | None = None
        if c.code and c.code in by_code:
            hit = ("code", by_code[c.code])
        for p in sorted(c.phones):
            if hit is None and p in by_phone:
                hit = ("phone", by_phone[p])
        if hit is None and (c.clean.name, c.clean.address) in by_name_address:
            hit = ("name_address", by_name_address[(c.clean.name, c.clean.address)])
        if hit is not None:
            out[c.row] = hit
    return out


class _VisitChecker(_Checker):
    target = ImportTarget.VISITS

    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        from huifang_desktop.services.policy import load_scale

        by_code, by_name = _customer_lookups(self.s, self.cols, rows, "customer", "customer_code")
        rctx = VisitRowContext(
            now=self.ctx.now(), customers_by_code=by_code, customers_by_name=by_name,
            users=_users(self.s, active_only=False), satisfaction_levels=load_scale(self.ctx).levels,
            default_visitor_id=self.ctx.user.id or None, rules=self.rules)
        return visit_from_row, rctx

    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        return visit_keys(cand)

    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        return self.where("number" if kind == "number" else "visited_at")

    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        numbers = {n for (n,) in _chunked_in(self.s, lambda part: select(VisitRecord.number).where(
            VisitRecord.number.in_(part)), {c.number for c in kept if c.number})}
        existing = {(cid, at, vt) for cid, at, vt in _chunked_in(self.s, lambda part: select(
            VisitRecord.customer_id, VisitRecord.visited_at, VisitRecord.visit_type).where(
            VisitRecord.customer_id.in_(part)), {c.customer_id for c in kept})}
        out: dict[int, tuple[str, str]] = {}
        for c in kept:
            if c.number and c.number in numbers:
                out[c.row] = ("number", f"回访编号 {c.number} 已存在")
            elif (c.customer_id, c.visited_at, c.visit_type) in existing:
                out[c.row] = ("visit", f"已有该客户 {c.visited_at:%Y-%m-%d %H:%M} 的{c.visit_type}回访记录")
        return out


class _ComplaintChecker(_Checker):
    target = ImportTarget.COMPLAINTS

    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        from huifang_desktop.services.complaints import load_policy

        by_code, by_name = _customer_lookups(self.s, self.cols, rows, "customer", "customer")
        rctx = ComplaintRowContext(
            now=self.ctx.now(), customers_by_code=by_code, customers_by_name=by_name,
            users=_users(self.s, active_only=False), categories=load_policy(self.ctx).categories, rules=self.rules)
        return complaint_from_row, rctx

    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        return complaint_keys(cand)

    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        return self.where("number" if kind == "number" else "subject" if "subject" in self.cols.index
                          else "received_at")

    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        numbers = {n for (n,) in _chunked_in(self.s, lambda part: select(Complaint.number).where(
            Complaint.number.in_(part)), {c.number for c in kept if c.number})}
        existing = {(at, subj, who, phone) for at, subj, who, phone in _chunked_in(self.s, lambda part: select(
            Complaint.received_at, Complaint.subject, Complaint.complainant, Complaint.phone).where(
            Complaint.subject.in_(part)), {c.subject for c in kept})}
        out: dict[int, tuple[str, str]] = {}
        for c in kept:
            if c.number and c.number in numbers:
                out[c.row] = ("number", f"投诉编号 {c.number} 已存在")
            elif (c.received_at, c.subject, c.complainant, c.phone) in existing:
                out[c.row] = ("complaint", f"已有 {c.received_at:%Y-%m-%d %H:%M} 主题相同的投诉")
        return out


class _ServiceChecker(_Checker):
    target = ImportTarget.SERVICES

    def prepare(self, rows: Sequence[Any]) -> tuple[Callable[..., Any], Any]:
        from huifang_desktop.services.policy import load_scale
        from huifang_desktop.services.service_records import load_options

        by_code, by_name = _customer_lookups(self.s, self.cols, rows, "customer", "customer_code")
        rctx = ServiceRowContext(
            today=self.ctx.today(), customers_by_code=by_code, customers_by_name=by_name,
            users=_users(self.s, active_only=False), kinds=load_options(self.ctx).kinds,
            satisfaction_levels=load_scale(self.ctx).levels, rules=self.rules)
        return service_from_row, rctx

    def keys(self, cand: Any) -> list[tuple[str, Any]]:
        return service_keys(cand)

    def column_for(self, kind: str, value: Any = None, cand: Any = None) -> tuple[str, str]:
        return self.where("number" if kind == "number" else "served_on")

    def find_in_db(self, kept: Sequence[Any]) -> dict[int, tuple[str, str]]:
        numbers = {n for (n,) in _chunked_in(self.s, lambda part: select(ServiceRecord.number).where(
            ServiceRecord.number.in_(part)), {c.number for c in kept if c.number})}
        existing = {tuple(r) for r in _chunked_in(self.s, lambda part: select(
            ServiceRecord.customer_id, ServiceRecord.served_on, ServiceRecord.kind, ServiceRecord.product,
            ServiceRecord.serial_no).where(ServiceRecord.customer_id.in_(part)), {c.customer_id for c in kept})}
        out: dict[int, tuple[str, str]] = {}
        for c in kept:
            if c.number and c.number in numbers:
                out[c.row] = ("number", f"服务单号 {c.number} 已存在")
            elif (c.customer_id, c.served_on, c.kind, c.product, c.serial_no) in existing:
                out[c.row] = ("service", f"已有该客户 {c.served_on:%Y-%m-%d} 的{c.kind}服务记录")
        return out


_CHECKERS: dict[ImportTarget, type[_Checker]] = {
    ImportTarget.CUSTOMERS: _CustomerChecker, ImportTarget.VISITS: _VisitChecker,
    ImportTarget.COMPLAINTS: _ComplaintChecker, ImportTarget.SERVICES: _ServiceChecker,
}


# --- writing -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ImportResult:
    target: ImportTarget
    file_name: str
    sheet: str
    imported: int  # rows written (0 when cancelled)
    skipped_errors: int  # rows with problems, not written
    skipped_duplicates: int  # duplicates found by the check, not written
    late_duplicates: int  # rows that became duplicates after the check (someone saved them meanwhile)
    batches: int
    cancelled: bool
    seconds: float
    first_number: str = ""
    last_number: str = ""
    run_id: int | None = None  # the import run (撤销导入 undoes it as one step)
    created_users: tuple[tuple[str, str, str], ...] = ()  # (name, user name, temporary password)
    purchases: int = 0  # purchase records written from a 购买/交车日期 column

    def summary(self) -> str:
        if self.cancelled:
            return f"导入已取消：没有写入任何{self.target.value}数据（已写入的批次全部撤回）。"
        text = f"已从“{self.file_name}”导入 {self.imported} 行到{self.target.value}"
        if self.first_number:
            text += f"（编号 {self.first_number}–{self.last_number}）" if self.first_number != self.last_number \
                else f"（编号 {self.first_number}）"
        text += f"，用时 {self.seconds:.1f} 秒。"
        skipped = []
        if self.skipped_errors:
            skipped.append(f"有问题 {self.skipped_errors} 行")
        if self.skipped_duplicates + self.late_duplicates:
            skipped.append(f"重复 {self.skipped_duplicates + self.late_duplicates} 行")
        if skipped:
            text += f"未导入：{'、'.join(skipped)}。"
        if self.purchases:
            text += f"记入购买记录 {self.purchases} 条。"
        for name, username, password in self.created_users:
            text += f"\n已创建负责人账号：{name}（用户名 {username}，临时密码 {password}，首次登录须修改）"
        return text


def run_import(ctx: ServiceContext, report: ValidationReport, *, only_valid: bool = True,
               progress: ProgressFn | None = None, cancelled: Callable[[], bool] | None = None) -> ImportResult:
    """Write the report's valid rows: one transaction (all of them or, when cancelled or on any error,
    none), in batches with one audit row each. ``only_valid=False`` refuses (writes nothing) when the report
    has any problem row. ``progress(done, total)`` after each batch; ``cancelled()`` is asked before each."""
    ctx.require(Permission.EDIT_CUSTOMERS, f"导入{report.target.value}")
    started = time.perf_counter()
    if not only_valid and report.issues:
        raise ServiceError(f"有 {report.error_rows + report.duplicate_rows} 行未通过检查（有问题或重复），"
                           "没有导入任何数据。请修改后重试，或选择只导入有效行。")
    rules = load_import_rules(ctx)
    created: list[tuple[str, str, str]] = []
    if report.create_owners and report.unknown_owners:
        created = create_owner_accounts(ctx, [n for n, _k in report.unknown_owners])
    writer = _WRITERS[report.target](ctx, report)
    if created:
        ids = _owner_ids(ctx, [u for _n, u, _p in created])
        writer.owner_ids = {n: ids[u] for n, u, _p in created}
    done = batches = 0
    try:
        with ctx.sessions() as s, s.begin():
            fresh, late = writer.recheck(s, list(report.valid))
            run = ImportRun(target=report.target.value, file_name=report.file_name[:200],
                            sheet=report.sheet[:100], rows=0, created_by_id=ctx.user.id or None,
                            created_at=writer.now)
            s.add(run)
            s.flush()
            run_id = run.id
            if progress is not None:
                progress(0, len(fresh))
            for batch in chunks(fresh, rules.batch_size):
                if cancelled is not None and cancelled():
                    raise ImportCancelled("导入已取消")
                numbers = writer.write(s, batch)
                if writer.ids:
                    s.execute(insert(ImportItem.__table__),
                              [{"run_id": run_id, "entity_id": i} for i in writer.ids])
                    writer.ids = []
                batches += 1
                audit(s, ctx, IMPORT_ACTION, writer.entity, None,
                      f"{report.file_name} 第 {batches} 批"[:200],
                      new={"台账": report.target.value, "工作表": report.sheet, "行数": len(batch),
                           "首行": batch[0].row, "末行": batch[-1].row,
                           "编号": f"{numbers[0]}–{numbers[-1]}" if numbers else "", "导入批号": run_id},
                      note=report.file_name)
                done += len(batch)
                if progress is not None:
                    progress(done, len(fresh))
            writer.finish(s)
            s.execute(update(ImportRun).where(ImportRun.id == run_id).values(rows=done))
    except ImportCancelled:
        return ImportResult(report.target, report.file_name, report.sheet, 0, report.error_rows,
                            report.duplicate_rows, 0, 0, True, time.perf_counter() - started)
    return ImportResult(report.target, report.file_name, report.sheet, done, report.error_rows,
                        report.duplicate_rows, len(late), batches, False, time.perf_counter() - started,
                        writer.first_number, writer.last_number, run_id, tuple(created), writer.purchases)


def create_owner_accounts(ctx: ServiceContext, names: Sequence[str]) -> list[tuple[str, str, str]]:
    """Create each 负责人 name of a sheet as a clerk (客服专员) account: a user name from the name's pinyin
    initials (numbered when taken), a generated password to be changed at the first log-in. Needs the
    right to manage users. Returns (name, user name, temporary password) each."""
    import secrets

    from huifang_desktop.domain.customers import pinyin_initials
    from huifang_desktop.domain.roles import Role
    from huifang_desktop.services import users

    ctx.require(Permission.MANAGE_USERS, "导入时创建负责人账号")
    with ctx.sessions() as s:
        taken = set(s.execute(select(User.username)).scalars())
    out = []
    for name in names:
        base = re.sub(r"[^a-z0-9_.]", "", pinyin_initials(name).lower()) or "user"
        username, n = base, 1
        while username in taken:
            n += 1
            username = f"{base}{n}"
        taken.add(username)
        password = secrets.token_urlsafe(9)
        users.create_user(ctx, username, name, Role.CLERK, password, must_change=True)
        out.append((name, username, password))
    return out


def _owner_ids(ctx: ServiceContext, usernames: Sequence[str]) -> dict[str, int]:
    with ctx.sessions() as s:
        return dict(s.execute(select(User.username, User.id).where(User.username.in_(list(usernames)))).all())


def _reserve_serials(s: Session, name: str, n: int) -> int:
    """Move counter ``name`` on by ``n`` inside the caller's transaction; the first of the ``n`` serials."""
    value = s.execute(update(Counter).where(Counter.name == name).values(value=Counter.value + n)
                      .returning(Counter.value)).scalar()
    if value is None:
        s.execute(insert(Counter).values(name=name, value=n))
        return 1
    return int(value) - n + 1


def _raise_counter(s: Session, name: str, at_least: int) -> None:
    """Kept numbers from the sheet: the counter moves past them, so new numbers never collide."""
    value = s.execute(select(Counter.value).where(Counter.name == name)).scalar()
    if value is None:
        s.execute(insert(Counter).values(name=name, value=at_least))
    elif value < at_least:
        s.execute(update(Counter).where(Counter.name == name).values(value=at_least))


class _Writer(ABC):
    entity = ""

    def __init__(self, ctx: ServiceContext, report: ValidationReport) -> None:
        self.ctx, self.report = ctx, report
        self.now = ctx.now()
        self.first_number = ""
        self.last_number = ""
        self.kept: dict[str, int] = {}  # counter → highest serial kept from the sheet
        self.ids: list[int] = []  # the records the last batch created (kept as the run's items)
        self.owner_ids: dict[str, int] = {}  # 负责人 as written → the account created for them
        self.purchases = 0

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        return cands, []

    @abstractmethod
    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        """Insert one batch inside the caller's transaction, set ``self.ids``; the numbers given."""

    def numbered(self, numbers: list[str]) -> list[str]:
        if numbers:
            self.first_number = self.first_number or numbers[0]
            self.last_number = numbers[-1]
        return numbers

    def keep(self, counter: str, serial: int) -> None:
        self.kept[counter] = max(self.kept.get(counter, 0), serial)

    def finish(self, s: Session) -> None:
        for name, serial in self.kept.items():
            _raise_counter(s, name, serial)


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


class _Initials:
    """``pinyin_initials`` for many names: pypinyin segments and converts character by character (about
    a millisecond a name), and a ledger repeats its words (杭州…, …有限公司, surnames). Its segmentation
    never crosses an ASCII character, so each run of non-ASCII text is converted once and remembered;
    ASCII letters and digits are kept lower-case as ``pinyin_initials`` keeps them. Same result."""

    def __init__(self) -> None:
        self.memo: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        out: list[str] = []
        pos = 0
        for m in _NON_ASCII_RUN.finditer(name):
            out.extend(ch.lower() for ch in name[pos:m.start()] if ch.isalnum())
            run = m.group()
            hit = self.memo.get(run)
            if hit is None:
                hit = self.memo[run] = pinyin_initials(run)
            out.append(hit)
            pos = m.end()
        out.extend(ch.lower() for ch in name[pos:] if ch.isalnum())
        return "".join(out)


class _CustomerWriter(_Writer):
    entity = "customer"

    def __init__(self, ctx: ServiceContext, report: ValidationReport) -> None:
        super().__init__(ctx, report)
        self.prefix = load_settings(ctx).customer_code_prefix
        self.code_re = re.compile(re.escape(self.prefix) + r"(\d+)$")
        self.initials = _Initials()
        with ctx.sessions() as s:
            self.departments = dict(s.execute(select(User.id, User.department_id)).all())

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        hits = find_existing_customers(s, cands)
        return [c for c in cands if c.row not in hits], [c for c in cands if c.row in hits]

    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        auto = sum(1 for c in batch if not c.code)
        serial = _reserve_serials(s, CUSTOMER_COUNTER, auto) if auto else 0
        rows: list[dict[str, Any]] = []
        for c in batch:
            cc = c.clean
            if c.code:
                code = c.code
                m = self.code_re.match(code)
                if m:
                    self.keep(CUSTOMER_COUNTER, int(m.group(1)))
            else:
                code = format_customer_code(serial, self.prefix)
                serial += 1
            primary = next(k for k in cc.contacts if k.is_primary)
            owner_id = cc.owner_id if cc.owner_id is not None else self.owner_ids.get(c.owner_name)
            rows.append({
                "code": code, "name": cc.name, "initials": self.initials(cc.name), "kind": cc.kind,
                "category": cc.category, "grade": c.grade, "grade_pinned": False,
                "grade_reason": "导入时的等级" if c.grade != "D" else "", "annual_volume": c.annual_volume,
                "address": cc.address, "region": cc.region, "source": cc.source, "industry": cc.industry,
                "birthday": cc.birthday, "created_on": cc.created_on or self.ctx.today(), "status": cc.status,
                "notes": cc.notes, "owner_id": owner_id, "department_id": self.departments.get(owner_id) if owner_id is not None else None,
                "archived": False, "primary_phone": primary.mobile or primary.phone or "",
                "primary_contact": primary.name, "version": 1, "updated_at": self.now,
            })
        # One executemany, then the ids by code (unique): SQLite runs an INSERT … RETURNING row by row.
        s.execute(insert(Customer.__table__), rows)
        codes = [r["code"] for r in rows]
        by_code = dict(s.execute(select(Customer.code, Customer.id).where(Customer.code.in_(codes))).all())
        ids = [by_code[code] for code in codes]
        self.ids = ids
        contacts = [{"customer_id": cid, "name": k.name, "phone": k.phone, "mobile": k.mobile, "email": k.email,
                     "title": k.title, "is_primary": k.is_primary}
                    for cid, c in zip(ids, batch, strict=True) for k in c.clean.contacts]
        if contacts:
            s.execute(insert(Contact.__table__), contacts)
        phone_index.insert_rows(s, phone_index.bulk_rows(
            [{**r, "id": cid} for cid, r in zip(ids, rows, strict=True)], contacts))
        purchases = [{"customer_id": cid, "day": c.purchase_on, "kind": c.purchase_kind,
                      "product": c.product or "（导入）", "spec": "", "quantity": 1, "amount": None,
                      "warranty_end": None, "created_at": self.now}
                     for cid, c in zip(ids, batch, strict=True) if c.purchase_on is not None]
        if purchases:  # history: plan_catch_up plans only their windows still open (imported customers)
            s.execute(insert(Purchase), purchases)
            self.purchases += len(purchases)
        return self.numbered([r["code"] for r in rows])


class _VisitWriter(_Writer):
    entity = "visit_record"

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        numbers = {n for (n,) in _chunked_in(s, lambda part: select(VisitRecord.number).where(
            VisitRecord.number.in_(part)), {c.number for c in cands if c.number})}
        return [c for c in cands if c.number not in numbers], [c for c in cands if c.number and c.number in numbers]

    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        need: dict[date, int] = defaultdict(int)
        for c in batch:
            if not c.number:
                need[c.visited_at.date()] += 1
        next_serial = {day: _reserve_serials(s, f"visit:{day:%Y%m%d}", n) for day, n in sorted(need.items())}
        rows, numbers = [], []
        for c in batch:
            if c.number:
                number = c.number
                try:
                    day, serial = parse_visit_number(number)
                    self.keep(f"visit:{day:%Y%m%d}", serial)
                except ValidationError:
                    pass
            else:
                day = c.visited_at.date()
                number = format_visit_number(day, next_serial[day])
                next_serial[day] += 1
            numbers.append(number)
            rows.append(_visit_row(c, number, self.now))
        table = VisitRecord.__table__
        self.ids = [r[0] for r in s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                            rows)]
        return self.numbered(numbers)


def _visit_row(c: VisitCandidate, number: str, now: datetime) -> dict[str, Any]:
    return {
        "number": number, "plan_id": None, "customer_id": c.customer_id, "contact_name": c.contact_name,
        "contact_phone": c.contact_phone, "visit_type": c.visit_type, "method": c.method,
        "visited_at": c.visited_at, "visitor_id": c.visitor_id, "content": c.content, "feedback": c.feedback,
        "problems": c.problems, "measures": c.measures, "satisfaction": c.satisfaction, "handling": c.handling,
        "transfer_department": "", "transfer_due": None, "transfer_done_at": None, "transfer_answer": "",
        "next_visit_on": c.next_visit_on, "result": c.result, "customer_signed": False,
        "status": VISIT_HISTORY_STATUS, "supervisor_comment": VISIT_HISTORY_NOTE, "signed_by_id": None,
        "signed_at": None, "content_hash": "", "revision": 0, "created_at": now, "version": 1,
    }


class _ComplaintWriter(_Writer):
    entity = "complaint"

    def __init__(self, ctx: ServiceContext, report: ValidationReport) -> None:
        super().__init__(ctx, report)
        from huifang_desktop.services.complaints import load_policy
        from huifang_desktop.services.policy import work_calendar

        self.policy = load_policy(ctx)
        self.cal = work_calendar(ctx)
        with ctx.sessions() as s:
            self.departments = dict(s.execute(select(User.id, User.department_id)).all())

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        numbers = {n for (n,) in _chunked_in(s, lambda part: select(Complaint.number).where(
            Complaint.number.in_(part)), {c.number for c in cands if c.number})}
        return [c for c in cands if c.number not in numbers], [c for c in cands if c.number and c.number in numbers]

    def _scope(self, when: date) -> str:
        return f"complaint:{MessageKind.COMPLAINT.value}:{sequence_scope(self.policy.number_pattern, when)}"

    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        pattern = self.policy.number_pattern
        need: dict[str, int] = defaultdict(int)
        for c in batch:
            if not c.number:
                need[self._scope(c.received_at.date())] += 1
        next_serial = {scope: _reserve_serials(s, scope, n) for scope, n in sorted(need.items())}
        rows, numbers = [], []
        for c in batch:
            day = c.received_at.date()
            if c.number:
                number = c.number
                tail = re.search(r"(\d+)$", number)
                if tail and format_complaint_number(pattern, day, int(tail.group(1))) == number:
                    self.keep(self._scope(day), int(tail.group(1)))
            else:
                scope = self._scope(day)
                number = format_complaint_number(pattern, day, next_serial[scope])
                next_serial[scope] += 1
            numbers.append(number)
            rows.append(_complaint_row(c, number, self))
        table = Complaint.__table__
        ids = [r[0] for r in s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)]
        self.ids = ids
        user = self.ctx.user
        events, occurrences = [], []
        for cid, c in zip(ids, batch, strict=True):
            note = f"从“{self.report.file_name}”第 {c.row} 行导入"
            if c.handler_name:
                note += f"；原负责人：{c.handler_name}（不是本系统用户）"
            events.append({"complaint_id": cid, "at": self.now, "user_id": user.id or None,
                           "username": user.display_name or user.username, "action": "从Excel导入",
                           "from_state": "", "to_state": c.state, "note": note})
            occurrences.append({"complaint_id": cid, "received_at": c.received_at, "channel": c.channel,
                                "complainant": c.complainant, "phone": c.phone, "received_by": "",
                                "note": "导入", "created_by_id": user.id or None, "created_at": self.now})
        s.execute(insert(ComplaintEvent.__table__), events)
        s.execute(insert(ComplaintOccurrence.__table__), occurrences)
        return self.numbered(numbers)


def _complaint_row(c: ComplaintCandidate, number: str, w: _ComplaintWriter) -> dict[str, Any]:
    """A complaint put straight into its state from the sheet (no workflow steps: it happened on paper)."""
    severity = Severity(c.severity)
    dl = deadlines(c.received_at, MessageKind.COMPLAINT, severity, w.policy, w.cal)
    state = ComplaintState(c.state)
    closed_at = c.closed_at or c.received_at if state is ComplaintState.CLOSED else None
    deadline = {ComplaintState.PENDING: dl.first_reply, ComplaintState.IN_PROGRESS: dl.handling}.get(state)
    user = w.ctx.user
    return {
        "number": number, "kind": MessageKind.COMPLAINT.value, "received_at": c.received_at, "channel": c.channel,
        "complainant": c.complainant, "anonymous": c.anonymous, "phone": c.phone, "customer_id": c.customer_id,
        "subject": c.subject, "content": c.content, "category": c.category, "severity": severity.value,
        "special": False, "reply_only": False,
        "department_id": w.departments.get(c.handler_id) if c.handler_id else user.department_id,
        "handler_id": c.handler_id, "handler_role": handler_role(severity, w.policy).value, "state": state.value,
        "first_reply_due": dl.first_reply, "handling_due": dl.handling, "deadline": deadline,
        "accepted_at": c.received_at if state is not ComplaintState.PENDING else None,
        "investigation": "", "cause": c.cause, "measures": c.measures, "result": c.result, "replied_at": None,
        "reply_way": "", "reply_text": "", "handled_at": closed_at, "visit_round": 0, "visit_plan_id": None,
        "visit_due": None, "visit_record_id": None, "visited_at": None, "visit_satisfied": None,
        "satisfaction": "", "visit_note": "", "closed_at": closed_at,
        "withdraw_reason": "原台账中已撤销" if state is ComplaintState.WITHDRAWN else "", "escalation_level": 0,
        "escalated_at": None, "escalated_deadline": None, "escalation_seen": True, "chase_count": 0,
        "linked_to_id": None, "converted_from": "", "occurrences": 1, "created_by_id": user.id or None,
        "created_at": w.now, "updated_at": w.now, "review_status": "", "supervisor_comment": "",
        "signed_by_id": None, "signed_at": None, "content_hash": "", "revision": 0, "version": 1,
    }


class _ServiceWriter(_Writer):
    """Service records as they happened: numbered FW + date (or the sheet's 服务单号); no repair follow-up
    visit is planned for them (history, like imported visit records)."""

    entity = "service_record"

    def __init__(self, ctx: ServiceContext, report: ValidationReport) -> None:
        super().__init__(ctx, report)
        from huifang_desktop.services.service_records import load_options

        self.prefix = load_options(ctx).number_prefix

    def recheck(self, s: Session, cands: list[Any]) -> tuple[list[Any], list[Any]]:
        numbers = {n for (n,) in _chunked_in(s, lambda part: select(ServiceRecord.number).where(
            ServiceRecord.number.in_(part)), {c.number for c in cands if c.number})}
        return [c for c in cands if c.number not in numbers], [c for c in cands if c.number and c.number in numbers]

    def write(self, s: Session, batch: Sequence[Any]) -> list[str]:
        from huifang_desktop.services.service_records import format_service_number

        need: dict[date, int] = defaultdict(int)
        for c in batch:
            if not c.number:
                need[c.served_on] += 1
        next_serial = {day: _reserve_serials(s, f"service:{day:%Y%m%d}", n) for day, n in sorted(need.items())}
        rows, numbers = [], []
        user = self.ctx.user
        for c in batch:
            if c.number:
                number = c.number
                m = re.fullmatch(re.escape(self.prefix) + r"(\d{8})-(\d+)", number)
                if m and m.group(1) == f"{c.served_on:%Y%m%d}":
                    self.keep(f"service:{m.group(1)}", int(m.group(2)))
            else:
                number = format_service_number(c.served_on, next_serial[c.served_on], self.prefix)
                next_serial[c.served_on] += 1
            numbers.append(number)
            rows.append({
                "number": number, "customer_id": c.customer_id, "served_on": c.served_on, "kind": c.kind,
                "place": c.place, "product": c.product, "serial_no": c.serial_no, "problem": c.problem,
                "content": c.content, "parts": c.parts, "parts_quantity": 0, "parts_amount": c.parts_amount,
                "cost": c.cost, "result": c.result, "feedback": c.feedback, "satisfaction": c.satisfaction,
                "technician": c.technician, "handler_id": c.handler_id, "status": c.status,
                "completed_on": c.completed_on, "follow_up_at": None, "follow_up_by": "", "follow_up_result": "",
                "visit_plan_id": None, "notes": c.notes, "created_by_id": user.id or None, "created_at": self.now,
                "updated_at": self.now, "version": 1,
            })
        table = ServiceRecord.__table__
        self.ids = [r[0] for r in s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                            rows)]
        return self.numbered(numbers)


_WRITERS: dict[ImportTarget, type[_Writer]] = {
    ImportTarget.CUSTOMERS: _CustomerWriter, ImportTarget.VISITS: _VisitWriter,
    ImportTarget.COMPLAINTS: _ComplaintWriter, ImportTarget.SERVICES: _ServiceWriter,
}


__all__ = [
    "ColumnMapping",
    "ImportCancelled",
    "ImportResult",
    "ImportRules",
    "ImportTarget",
    "IssueKind",
    "RowIssue",
    "SheetData",
    "SheetPreview",
    "TargetField",
    "ValidationReport",
    "WorkbookData",
    "WorkbookError",
    "column_letter",
    "create_owner_accounts",
    "find_existing_customers",
    "load_import_rules",
    "mapping_by_header",
    "preview",
    "read_workbook",
    "run_import",
    "save_mapping",
    "saved_mapping",
    "target_fields",
    "validate",
]


# --------------------------------------------------------------------------------------------- undo


@dataclass(frozen=True)
class ImportRunInfo:
    """One past import, as 导入记录 lists it."""

    id: int
    target: ImportTarget
    file_name: str
    sheet: str
    rows: int
    created_by: str
    created_at: datetime
    undone_at: datetime | None
    undone_by: str

    @property
    def state(self) -> str:
        return "已撤销" if self.undone_at is not None else "有效"


@dataclass(frozen=True)
class UndoResult:
    run_id: int
    target: ImportTarget
    file_name: str
    removed: int  # the run's records deleted
    plans_removed: int  # pending visit plans made for imported customers since (customers only)

    def summary(self) -> str:
        text = f"已撤销第 {self.run_id} 次导入（“{self.file_name}”）：删除{self.target.value}记录 {self.removed} 条"
        if self.plans_removed:
            text += f"，以及为这些客户生成的待回访计划 {self.plans_removed} 条"
        return text + "。已用过的编号不再重复使用。"


def list_import_runs(ctx: ServiceContext, limit: int = 100) -> list[ImportRunInfo]:
    """The newest imports first."""
    ctx.require(Permission.EDIT_CUSTOMERS, "查看导入记录")
    creator, undoer = User.__table__.alias("creator"), User.__table__.alias("undoer")
    with ctx.sessions() as s:
        rows = s.execute(
            select(ImportRun, creator.c.display_name, undoer.c.display_name)
            .outerjoin(creator, creator.c.id == ImportRun.created_by_id)
            .outerjoin(undoer, undoer.c.id == ImportRun.undone_by_id)
            .order_by(ImportRun.id.desc()).limit(limit)).all()
    return [ImportRunInfo(r.id, ImportTarget(r.target), r.file_name, r.sheet, r.rows, made or "", r.created_at,
                          r.undone_at, undone or "") for r, made, undone in rows]


def _first(s: Session, query: Callable[[Sequence[int]], Any], ids: Sequence[int]) -> Any | None:
    """The first row ``query(part)`` finds over the ids, read in chunks (SQLite's parameter limit)."""
    for part in chunks(ids, 500):
        row = s.execute(query(part).limit(1)).first()
        if row is not None:
            return row
    return None


def _undo_blocker(s: Session, target: ImportTarget, ids: Sequence[int], run_at: datetime | None = None
                  ) -> str | None:
    """Why the run's records cannot simply be deleted: the first one that has had later work, or None.
    ``run_at``: when the run wrote (the purchases it made from a 购买日期 column carry that moment)."""
    if target is ImportTarget.CUSTOMERS:
        checks: list[tuple[Callable[[Sequence[int]], Any], str]] = [
            (lambda p: select(Customer.code).where(Customer.id.in_(p), Customer.version > 1), "导入后已修改"),
            (lambda p: select(Customer.code).join(Purchase, Purchase.customer_id == Customer.id)
             .where(Customer.id.in_(p), Purchase.created_at != run_at), "已有购买记录"),
            (lambda p: select(Customer.code).join(VisitRecord, VisitRecord.customer_id == Customer.id)
             .where(Customer.id.in_(p)), "已有回访记录"),
            (lambda p: select(Customer.code).join(Complaint, Complaint.customer_id == Customer.id)
             .where(Customer.id.in_(p)), "已关联投诉"),
            (lambda p: select(Customer.code).join(ServiceRecord, ServiceRecord.customer_id == Customer.id)
             .where(Customer.id.in_(p)), "已有售后服务记录"),
            (lambda p: select(Customer.code).join(VisitPlan, VisitPlan.customer_id == Customer.id)
             .where(Customer.id.in_(p), or_(VisitPlan.state != "待回访", VisitPlan.manual.is_(True))),
             "回访计划已处理或是手工安排的"),
        ]
        what = "客户"
    elif target is ImportTarget.VISITS:
        checks = [
            (lambda p: select(VisitRecord.number).where(VisitRecord.id.in_(p), VisitRecord.version > 1),
             "导入后已修改或重新审阅"),
            (lambda p: select(VisitRecord.number).join(Complaint, Complaint.visit_record_id == VisitRecord.id)
             .where(VisitRecord.id.in_(p)), "已作为投诉的回访记录"),
            (lambda p: select(VisitRecord.number).join(VisitPlan, VisitPlan.record_id == VisitRecord.id)
             .where(VisitRecord.id.in_(p)), "已关联回访计划"),
        ]
        what = "回访记录"
    elif target is ImportTarget.SERVICES:
        checks = [
            (lambda p: select(ServiceRecord.number).where(ServiceRecord.id.in_(p), ServiceRecord.version > 1),
             "导入后已修改或已跟进"),
            (lambda p: select(ServiceRecord.number).join(ServiceFollowUp,
                                                         ServiceFollowUp.record_id == ServiceRecord.id)
             .where(ServiceRecord.id.in_(p)), "已有跟进记录"),
        ]
        what = "服务记录"
    else:
        linked = Complaint.__table__.alias("linked")
        checks = [
            (lambda p: select(Complaint.number).where(Complaint.id.in_(p), Complaint.version > 1),
             "导入后已处理或修改"),
            (lambda p: select(Complaint.number).join(linked, linked.c.linked_to_id == Complaint.id)
             .where(Complaint.id.in_(p)), "已有重新打开的投诉关联到它"),
        ]
        what = "投诉"
    for query, reason in checks:
        row = _first(s, query, ids)
        if row is not None:
            return f"{what} {row[0]} {reason}"
    return None


def undo_import(ctx: ServiceContext, run_id: int) -> UndoResult:
    """撤销导入: delete every record the run created, in one transaction, if none has had later work (then
    nothing is deleted and the message names the first such record). By the importer or a supervisor."""
    ctx.require(Permission.EDIT_CUSTOMERS, "撤销导入")
    with ctx.sessions() as s, s.begin():
        run = s.get(ImportRun, run_id)
        if run is None:
            raise ServiceError(f"没有第 {run_id} 次导入的记录。")
        if run.undone_at is not None:
            raise ServiceError(f"第 {run_id} 次导入（“{run.file_name}”）已在 {run.undone_at:%Y-%m-%d %H:%M} 撤销过。")
        if run.created_by_id != (ctx.user.id or None) and not ctx.may(Permission.WORK_FOR_OTHERS):
            raise ServiceError("只有导入的人或主管可以撤销这次导入。")
        target = ImportTarget(run.target)
        ids = list(s.execute(select(ImportItem.entity_id).where(ImportItem.run_id == run_id)
                             .order_by(ImportItem.entity_id)).scalars())
        blocker = _undo_blocker(s, target, ids, run.created_at)
        if blocker is not None:
            raise ServiceError(f"不能撤销第 {run_id} 次导入：{blocker}。这次导入的记录已有后续工作，"
                               "请逐条处理（没有删除任何数据）。")
        plans = 0
        for part in chunks(ids, 500):
            if target is ImportTarget.CUSTOMERS:
                plans += s.execute(delete(VisitPlan).where(VisitPlan.customer_id.in_(part))).rowcount or 0
                s.execute(delete(Purchase).where(Purchase.customer_id.in_(part)))  # the run's own (see blocker)
                s.execute(delete(Contact).where(Contact.customer_id.in_(part)))
                phone_index.delete_for(s, part)
                s.execute(delete(Customer).where(Customer.id.in_(part)))
            elif target is ImportTarget.VISITS:
                s.execute(delete(VisitRecord).where(VisitRecord.id.in_(part)))
            elif target is ImportTarget.SERVICES:
                s.execute(delete(ServiceRecord).where(ServiceRecord.id.in_(part)))
            else:
                s.execute(delete(ComplaintEvent).where(ComplaintEvent.complaint_id.in_(part)))
                s.execute(delete(ComplaintOccurrence).where(ComplaintOccurrence.complaint_id.in_(part)))
                s.execute(delete(Complaint).where(Complaint.id.in_(part)))
        run.undone_at, run.undone_by_id = ctx.now(), ctx.user.id or None
        audit(s, ctx, UNDO_ACTION, "import_run", run_id, f"第 {run_id} 次导入 {run.file_name}"[:200],
              old={"台账": target.value, "行数": len(ids)}, new={"状态": "已撤销", "删除待回访计划": plans},
              note=run.file_name)
        file_name = run.file_name
    return UndoResult(run_id, target, file_name, len(ids), plans)
