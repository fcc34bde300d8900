"""Reading a workbook (:func:`read_workbook`): the file is named in every refusal (missing, a folder, .xls,
encrypted, damaged); the zip directory is checked before any XML is parsed (:func:`check_package`: unpacked
sizes, compression ratios, each sheet's row count), then each sheet is parsed once and only as far as it is
read, with the hidden rows. ``.csv`` files are read as one sheet (UTF-8 or GB18030).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huifang_desktop.domain.importing import (
    ImportRules,
)
from huifang_desktop.services.importing.common import _OLE_MAGIC, _XLSX_SUFFIXES, WorkbookError
from huifang_desktop.services.importing.sheet_xml import sheet_rows
from huifang_desktop.services.outputs import os_reason


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
        raise WorkbookError(
            f"“{self.file_name}”中没有名为“{name}”的工作表（有：{'、'.join(self.sheet_names)}）。"
        )


def _trim(values: Sequence[Any]) -> tuple[Any, ...]:
    end = len(values)
    while end and (
        values[end - 1] is None or (isinstance(values[end - 1], str) and not values[end - 1].strip())
    ):
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
                i
                for i in infos
                if i.file_size > rules.ratio_check_mb * _MB
                and i.file_size / max(i.compress_size, 1) > rules.max_ratio
            ]
            if suspects:
                info = suspects[0]
                ratio = info.file_size / max(info.compress_size, 1)
                raise WorkbookError(
                    f"“{name}”解压后有 {total / _MB:,.0f} MB（其中“{info.filename}”{info.file_size / _MB:,.0f} MB，"
                    f"压缩比 {ratio:,.0f}:1），超出导入的上限（{rules.max_unpacked_mb} MB、压缩比 {rules.max_ratio}:1）。"
                    "这不像正常的台账文件（可能是损坏或恶意构造的文件），没有读取。"
                    f"若确是很大的台账，请分成几个文件导入（每个不超过 {rules.max_rows} 行）。"
                )
            for info in infos if count_rows else ():
                if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(4096)
                m = _DIMENSION.search(head)
                claimed = int(m.group(1)) if m and m.group(1) else 0
                # Templates format empty rows down to row 1,048,576: those are short and not counted; a
                # sheet part large enough to hold that many rows with values is refused unread.
                if (
                    claimed > rules.max_rows + rules.header_scan_rows
                    and info.file_size >= claimed * _ROW_BYTES
                ):
                    raise WorkbookError(
                        f"“{name}”的工作表有 {claimed:,} 行，超过 {rules.max_rows} 行，一次导入不了这么多。"
                        "请把它分成几个文件（每个不超过这个行数）分别导入。"
                    )
    except zipfile.BadZipFile as exc:
        raise WorkbookError(
            f"“{name}”不是有效的 Excel 文件或已损坏，无法读取（{exc}）。"
            "请在 Excel 中打开并另存为 .xlsx 后再试。"
        ) from exc


def read_workbook(
    path: Path | str,
    *,
    sheet: str | None = None,
    limit: int | None = None,
    rules: ImportRules | None = None,
    sheets: Sequence[str] | None = None,
) -> WorkbookData:
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
        raise WorkbookError(
            f"无法读取文件“{name}”：{exc.strerror or exc}（文件可能正被其他程序独占打开）。"
        ) from exc
    if suffix == ".xls" or (head == _OLE_MAGIC and suffix not in _XLSX_SUFFIXES):
        raise WorkbookError(
            f"“{name}”是旧版 Excel 97-2003 格式（.xls），本程序不能直接读取。请在 Excel 或 WPS 中打开它，"
            "选择“文件 → 另存为”，保存类型选“Excel 工作簿 (*.xlsx)”，再导入新保存的文件。"
        )
    if suffix == ".csv":
        return _read_csv(p, limit, rules)
    if suffix not in _XLSX_SUFFIXES:
        raise WorkbookError(f"“{name}”不是 Excel 工作簿。只能导入 .xlsx 文件（或 .csv 文件）。")
    if head == _OLE_MAGIC:
        raise WorkbookError(
            f"“{name}”设置了打开密码（文件已加密），或其实是改了扩展名的旧版 .xls 文件，无法读取。请在 Excel 中"
            "打开它，取消密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码），另存为 .xlsx 后再导入。"
        )
    if not head.startswith(b"PK"):
        raise WorkbookError(
            f"“{name}”不是有效的 Excel 文件（文件已损坏，或是改了扩展名的其他文件）。"
            "请在 Excel 中打开并另存为 .xlsx 后再试。"
        )
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
                read = [
                    _read_sheet(book, title, target, limit, rules)
                    for title, target in book.sheets
                    if wanted is None or title in wanted
                ]
            finally:
                book.close()
    except WorkbookError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, EOFError) as exc:
        raise WorkbookError(
            f"“{name}”不是有效的 Excel 文件或已损坏，无法读取（{type(exc).__name__}）。"
            "请在 Excel 中打开并另存为 .xlsx 后再试。"
        ) from exc
    except OSError as exc:
        raise WorkbookError(f"无法读取文件“{name}”：{exc.strerror or exc}。") from exc
    except Exception as exc:  # openpyxl's InvalidFileException and parser errors of a damaged file
        raise WorkbookError(
            f"“{name}”不是有效的 Excel 文件或已损坏，无法读取（{exc}）。"
            "请在 Excel 中打开并另存为 .xlsx 后再试。"
        ) from exc
    if not read:
        raise WorkbookError(f"“{name}”里没有工作表。")
    return WorkbookData(p, names, tuple(read))


class _Book:
    """An .xlsx opened the way openpyxl's read-only mode does (shared strings, date styles), without its
    worksheet objects: for a sheet without a ``<dimension>`` element those parse the whole sheet XML at
    open just to size it (every sheet, before the first row is read). Here each sheet is parsed once, and
    only as far as it is read."""

    def __init__(self, p: Path) -> None:
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet

        self.reader = ExcelReader(p, read_only=True, data_only=True)
        try:
            self.reader.read_manifest()
            self.reader.read_strings()
            self.reader.read_workbook()
            apply_stylesheet(self.reader.archive, self.reader.wb)
            self.sheets = [
                (sh.name, rel.target)
                for sh, rel in self.reader.parser.find_sheets()
                if rel.target in self.reader.valid_files and "chartsheet" not in rel.Type
            ]
        except BaseException:
            self.close()
            raise

    def rows(self, target: str) -> Iterator[tuple[int, tuple[Any, ...], bool]]:
        """(sheet row number, values, hidden) of every row the sheet stores, in order, the values as
        openpyxl's read-only mode gives them (:func:`.sheet_xml.sheet_rows`), no row padded to the
        sheet's width."""
        wb = self.reader.wb
        date_formats = wb._date_formats  # type: ignore[attr-defined]
        timedelta_formats = wb._timedelta_formats  # type: ignore[attr-defined]
        with self.reader.archive.open(target) as src:
            for idx, values, hidden in sheet_rows(
                src,
                self.reader.shared_strings,
                epoch=wb.epoch,
                date_styles=date_formats,
                duration_styles=timedelta_formats,
            ):
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
        raise WorkbookError(
            f"“{p.name}”的文字编码无法识别（应为 UTF-8 或 GBK）。请在 Excel 中另存为 .xlsx 后再导入。"
        )
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
