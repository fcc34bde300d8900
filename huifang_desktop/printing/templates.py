"""Printed-form templates (``forms/*.toml``): load, validate, and report mistakes by file and line.

A template is a TOML file an office may edit (title, company name, labels, extra fields) without
touching Python. Its shape::

    [form]                      # title, company, form_code, number_field, number_label, copies, qr
    [page]                      # optional: margins, grid, sizes (see PageSetup)
    [[row]]                     # rows from top to bottom; a row is a list of cells on the grid ...
    cells = [ { type = "field", label = "客户名称", field = "customer_name", span = 6 }, ... ]
    [[row]]                     # ... or a table, a section band, a note or a gap
    type = "table"

Templates come from the package ``huifang_desktop.forms`` (the ``forms/`` folder of a checkout); a file
of the same name in an override folder (in the data folder) wins. A broken template raises
:class:`TemplateError` naming the file and, where it can be found, the line.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import huifang_desktop

FORMS_PACKAGE = "huifang_desktop.forms"
TEMPLATE_SUFFIX = ".toml"

CELL_TYPES = ("field", "text", "choice", "check", "signature", "signatures", "static")
ROW_TYPES = ("cells", "table", "section", "note", "space")
FORMATS = ("text", "date", "datetime")
ALIGNS = ("left", "center", "right")
LABEL_POSITIONS = ("left", "top")

_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]+$")


class TemplateError(ValueError):
    """A template that cannot be used. ``str()``: ``forms/x.toml 第 12 行：未知的字段类型 “boxx”``."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}：{self.message}"
        return f"{self.file} 第 {self.line} 行：{self.message}"


# --------------------------------------------------------------------------------------------------
# The template model (all lengths in millimetres, font sizes in points)


@dataclass(frozen=True, slots=True)
class PageSetup:
    """Page geometry and sizes of a portrait A4 form. Each value may be changed in ``[page]``."""

    margin_top: float = 12.0
    margin_bottom: float = 12.0
    margin_left: float = 15.0
    margin_right: float = 15.0
    grid_columns: int = 12
    font_size: float = 10.0
    small_font_size: float = 8.0
    title_size: float = 20.0
    company_size: float = 12.0
    leading: float = 1.4  # line distance as a multiple of the font size
    row_height: float = 8.5  # minimum height of a one-line row
    line_pitch: float = 7.5  # distance of the ruled lines in an empty box (handwriting)
    label_width: float = 25.0
    padding: float = 1.6


@dataclass(frozen=True, slots=True)
class Cell:
    """One boxed cell of a row. ``span`` counts grid columns."""

    type: str
    span: int
    label: str = ""
    field: str = ""
    format: str = "text"
    align: str = "left"
    lines: int = 1  # minimum writing lines of a multi-line box
    options: tuple[str, ...] = ()  # choice
    roles: tuple[str, ...] = ()  # signatures
    text: str = ""  # static
    label_width: float | None = None
    label_position: str = "left"
    date_field: str = ""  # signature: the date printed beside the name
    sign_field: str = ""  # text: a signature line at the bottom of the box ...
    sign_date_field: str = ""  # ... and its date
    signoff: bool = False  # the supervisor's sign-off: filled from SignatureInfo when given
    options_field: str = ""  # choice: a value holding the options (the office's scale); else ``options``


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table row. ``key`` picks the value from mapping rows; sequences go by position."""

    label: str
    key: str = ""
    width: float = 1.0
    align: str = "left"


@dataclass(frozen=True, slots=True)
class Row:
    type: str = "cells"
    cells: tuple[Cell, ...] = ()
    height: float = 0.0  # minimum height (mm); space: the gap
    label: str = ""  # table caption
    field: str = ""  # table values
    columns: tuple[Column, ...] = ()
    blank_rows: int = 3
    totals: bool = False
    text: str = ""  # section / note
    keep_with_previous: bool = False  # cells: moves to the next page together with the row before it


@dataclass(frozen=True, slots=True)
class FormTemplate:
    name: str
    source: str  # shown in messages, e.g. "forms/visit_record.toml"
    title: str
    rows: tuple[Row, ...]
    company: str = ""  # empty: the company name from the settings
    form_code: str = ""  # 表单编号 printed in the header
    number_field: str = "number"
    number_label: str = "编号"
    copies: tuple[str, ...] = ()  # 一式N联: one recipient per copy; () prints one copy without a copy line
    page: PageSetup = field(default_factory=PageSetup)
    qr: bool = True  # a QR code of the form's 编号 (domain/formcode.py) next to 表单编号

    def field_names(self) -> list[str]:
        """Every value name the template reads, in order of appearance."""
        names: list[str] = [self.number_field] if self.number_field else []
        for row in self.rows:
            candidates = [row.field] + [
                n
                for c in row.cells
                for n in (c.field, c.date_field, c.sign_field, c.sign_date_field, c.options_field)
            ]
            names.extend(n for n in candidates if n and n not in names)
        return names

    def labels(self) -> list[str]:
        """Every fixed text a printed form shows for its cells and tables (not header/footer)."""
        out: list[str] = []
        for row in self.rows:
            if row.type in ("section", "note"):
                out.append(row.text)
            elif row.type == "table":
                out.append(row.label)
                out.extend(c.label for c in row.columns)
            for c in row.cells:
                out.extend([c.label, c.text, *c.options, *c.roles])
        return [t for t in out if t]


# --------------------------------------------------------------------------------------------------
# Loading


def forms_dir() -> Path:
    """The shipped ``forms/`` folder: the installed package, else the source checkout's folder."""
    try:
        base = importlib.resources.files(FORMS_PACKAGE)
    except ModuleNotFoundError:
        return Path(huifang_desktop.__file__).resolve().parent.parent / "forms"
    return Path(str(base))


def template_names(override_dir: Path | None = None) -> list[str]:
    """Names of the available templates (shipped ones and those in the override folder)."""
    names = {p.stem for p in forms_dir().glob(f"*{TEMPLATE_SUFFIX}")}
    if override_dir is not None and override_dir.is_dir():
        names |= {p.stem for p in override_dir.glob(f"*{TEMPLATE_SUFFIX}")}
    return sorted(names)


def load_template(name: str, override_dir: Path | None = None) -> FormTemplate:
    """Load and validate template ``name`` (``visit_record`` or ``visit_record.toml``).

    A file of that name in ``override_dir`` wins over the shipped one.
    """
    stem = name.removesuffix(TEMPLATE_SUFFIX)
    if not _NAME_RE.match(stem):
        raise TemplateError(name, None, "表单模板名称只能包含字母、数字、下划线和减号")
    file_name = stem + TEMPLATE_SUFFIX
    if override_dir is not None and (override_dir / file_name).is_file():
        path = override_dir / file_name
        source = str(path)
    else:
        path = forms_dir() / file_name
        source = f"forms/{file_name}"
        if not path.is_file():
            raise TemplateError(source, None, "找不到表单模板")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(source, None, f"无法读取表单模板（{exc.strerror or exc}）") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TemplateError(source, line, "文件不是 UTF-8 编码，请用 UTF-8 保存") from exc
    return _parsed(text, source, stem)


@functools.lru_cache(maxsize=64)
def _parsed(text: str, source: str, name: str) -> FormTemplate:
    """Parsing and validating a form costs more than printing it once: keep the (frozen) result per text, so
    an edited file is parsed again and a bad one raises every time (exceptions are not cached)."""
    return parse_template(text, source=source, name=name)


def parse_template(text: str, *, source: str, name: str = "") -> FormTemplate:
    """Parse and validate template text; ``source`` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if match is None:
            raise TemplateError(source, None, f"TOML 格式错误：{message}") from exc
        detail = message[: match.start()].strip()
        raise TemplateError(
            source, int(match.group(1)), f"TOML 格式错误（第 {match.group(2)} 列）：{detail}"
        ) from exc
    return _Builder(text, source).build(data, name or Path(source).stem)


# --------------------------------------------------------------------------------------------------
# Validation


_FORM_KEYS = ("title", "company", "form_code", "number_field", "number_label", "copies", "qr")
_CELL_KEYS: dict[str, tuple[str, ...]] = {
    "field": ("label", "field", "format", "align", "label_width", "label_position", "lines"),
    "text": (
        "label",
        "field",
        "lines",
        "label_width",
        "label_position",
        "sign_field",
        "sign_date_field",
        "signoff",
    ),
    "choice": ("label", "field", "options", "options_field", "label_width", "label_position"),
    "check": ("label", "field"),
    "signature": ("label", "field", "date_field", "signoff", "label_width", "label_position"),
    "signatures": ("label", "field", "roles", "label_width", "label_position"),
    "static": ("label", "text", "align", "label_width", "label_position", "lines"),
}
_CELL_REQUIRED: dict[str, tuple[str, ...]] = {
    "field": ("field",),
    "text": ("field",),
    "choice": ("field", "options"),
    "check": ("label", "field"),
    "signature": ("field",),
    "signatures": ("field", "roles"),
    "static": ("text",),
}
_ROW_KEYS: dict[str, tuple[str, ...]] = {
    "cells": ("cells", "height", "keep_with_previous"),
    "table": ("label", "field", "columns", "blank_rows", "totals"),
    "section": ("text",),
    "note": ("text",),
    "space": ("height",),
}
_COLUMN_KEYS = ("label", "key", "width", "align")
_KEY_NAMES = {
    "title": "标题",
    "span": "宽度",
    "lines": "行数",
    "options": "选项",
    "roles": "签字栏",
    "columns": "列",
    "height": "高度",
    "copies": "联数",
    "label": "标签",
    "field": "字段",
}
Path_ = tuple[str | int, ...]


class _Builder:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.locator = _Locator(text)

    def fail(self, path: Path_, message: str) -> TemplateError:
        return TemplateError(self.source, self.locator.line(path), message)

    # -- generic checks -------------------------------------------------------------------------

    def table(self, value: Any, path: Path_, what: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"{what}应为表（键 = 值 的集合），实际为 {_show(value)}")
        return value

    def unknown(self, table: Mapping[str, Any], allowed: tuple[str, ...], path: Path_) -> None:
        for key in table:
            if key not in allowed:
                hint = f"，可用：{'、'.join(allowed)}" if allowed else ""
                raise self.fail((*path, key), f"未知的设置项 “{key}”{hint}")

    def text(
        self, table: Mapping[str, Any], key: str, path: Path_, *, required: bool = False, default: str = ""
    ) -> str:
        if key not in table:
            if required:
                raise self.fail(path, f"缺少必填项 “{key}”（{_KEY_NAMES.get(key, key)}）")
            return default
        value = table[key]
        if not isinstance(value, str):
            raise self.fail((*path, key), f"“{key}” 应为文字（用引号括起来），实际为 {_show(value)}")
        if required and not value.strip():
            raise self.fail((*path, key), f"“{key}” 不能为空")
        return value

    def number(
        self, table: Mapping[str, Any], key: str, path: Path_, default: float, *, low: float, high: float
    ) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.fail(
                (*path, key), f"“{key}” 应为 {_num(low)} 到 {_num(high)} 之间的数，实际为 {_show(value)}"
            )
        return float(value)

    def integer(
        self, table: Mapping[str, Any], key: str, path: Path_, default: int, *, low: int, high: int
    ) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail((*path, key), f"“{key}” 应为 {low} 到 {high} 之间的整数，实际为 {_show(value)}")
        return value

    def flag(self, table: Mapping[str, Any], key: str, path: Path_) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail((*path, key), f"“{key}” 应为 true 或 false，实际为 {_show(value)}")
        return value

    def one_of(
        self, table: Mapping[str, Any], key: str, path: Path_, allowed: tuple[str, ...], what: str
    ) -> str:
        value = table.get(key, allowed[0])
        if value not in allowed:
            raise self.fail((*path, key), f"未知的{what} {_show(value)}，可用：{'、'.join(allowed)}")
        return str(value)

    def texts(self, table: Mapping[str, Any], key: str, path: Path_, *, required: bool) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail((*path, key), f'“{key}” 应为文字列表，如 ["甲", "乙"]，实际为 {_show(value)}')
        if required and not value:
            raise self.fail((*path, key), f"“{key}” 至少要有一项")
        if len(set(value)) != len(value):
            raise self.fail((*path, key), f"“{key}” 中有重复的项")
        return tuple(value)

    # -- the template ---------------------------------------------------------------------------

    def build(self, data: Mapping[str, Any], name: str) -> FormTemplate:
        self.unknown(data, ("form", "page", "row"), ())
        if "form" not in data:
            raise self.fail((), "缺少 [form] 段（标题等）")
        form = self.table(data["form"], ("form",), "[form] ")
        self.unknown(form, _FORM_KEYS, ("form",))
        page = self.page(data.get("page", {}))
        raw_rows = data.get("row", [])
        if not isinstance(raw_rows, list) or not raw_rows:
            raise self.fail(("row",) if "row" in data else (), "模板至少要有一个 [[row]] 行")
        rows = tuple(self.row(raw, ("row", i), page) for i, raw in enumerate(raw_rows))
        return FormTemplate(
            name=name,
            source=self.source,
            title=self.text(form, "title", ("form",), required=True),
            company=self.text(form, "company", ("form",)),
            form_code=self.text(form, "form_code", ("form",)),
            number_field=self.text(form, "number_field", ("form",), default="number"),
            number_label=self.text(form, "number_label", ("form",), default="编号"),
            copies=self.copies(form),
            page=page,
            qr=self.flag(form, "qr", ("form",)) if "qr" in form else True,
            rows=rows,
        )

    def copies(self, form: Mapping[str, Any]) -> tuple[str, ...]:
        value = form.get("copies", [])
        path: Path_ = ("form", "copies")
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= 10:
                raise self.fail(path, f"“copies” 联数应为 1 到 10，实际为 {value}")
            return () if value == 1 else ("",) * value
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) <= 10:
            return tuple(value)
        raise self.fail(
            path,
            '“copies” 应为联数（如 3）或每联接收部门的列表（如 ["质量管理部", "业务部"]），'
            f"最多 10 联，实际为 {_show(value)}",
        )

    def page(self, raw: Any) -> PageSetup:
        path: Path_ = ("page",)
        table = self.table(raw, path, "[page] ")
        defaults = PageSetup()
        names = tuple(f.name for f in fields(PageSetup))
        self.unknown(table, names, path)
        values: dict[str, Any] = {}
        for name in names:
            default = getattr(defaults, name)
            if name == "grid_columns":
                values[name] = self.integer(table, name, path, default, low=1, high=48)
            elif name == "leading":
                values[name] = self.number(table, name, path, default, low=1.0, high=3.0)
            elif name.endswith("size"):
                values[name] = self.number(table, name, path, default, low=5.0, high=48.0)
            else:
                values[name] = self.number(table, name, path, default, low=0.0, high=100.0)
        setup = PageSetup(**values)
        if setup.margin_left + setup.margin_right > 150 or setup.margin_top + setup.margin_bottom > 200:
            raise self.fail(path, "页边距太大，纸上放不下表格")
        return setup

    def row(self, raw: Any, path: Path_, page: PageSetup) -> Row:
        table = self.table(raw, path, "[[row]] ")
        kind = self.one_of(table, "type", path, ROW_TYPES, "行类型")
        self.unknown(table, ("type", *_ROW_KEYS[kind]), path)
        if kind == "cells":
            if "cells" not in table:
                raise self.fail(path, "缺少 “cells”（本行的格子列表）")
            raw_cells = table["cells"]
            if not isinstance(raw_cells, list) or not raw_cells:
                raise self.fail((*path, "cells"), "“cells” 应为至少一个格子的列表")
            cells: list[Cell] = []
            used = 0
            for k, raw_cell in enumerate(raw_cells):
                cell = self.cell(raw_cell, (*path, "cells", k), page, page.grid_columns - used)
                used += cell.span
                cells.append(cell)
            if used > page.grid_columns:
                raise self.fail(
                    (*path, "cells"), f"本行各格宽度合计 {used} 列，超过页面的 {page.grid_columns} 列"
                )
            height = self.number(table, "height", path, 0.0, low=0.0, high=250.0)
            return Row(
                type=kind,
                cells=tuple(cells),
                height=height,
                keep_with_previous=self.flag(table, "keep_with_previous", path),
            )
        if kind == "table":
            raw_columns = table.get("columns")
            if not isinstance(raw_columns, list) or not raw_columns:
                raise self.fail(
                    (*path, "columns") if "columns" in table else path,
                    '表格行需要 “columns”：至少一列，如 { label = "时间", width = 2 }',
                )
            columns = tuple(self.column(c, (*path, "columns", k)) for k, c in enumerate(raw_columns))
            return Row(
                type=kind,
                label=self.text(table, "label", path),
                field=self.text(table, "field", path, required=True),
                columns=columns,
                blank_rows=self.integer(table, "blank_rows", path, 3, low=0, high=40),
                totals=self.flag(table, "totals", path),
            )
        if kind == "space":
            return Row(type=kind, height=self.number(table, "height", path, 4.0, low=0.0, high=250.0))
        return Row(type=kind, text=self.text(table, "text", path, required=True))

    def cell(self, raw: Any, path: Path_, page: PageSetup, remaining: int) -> Cell:
        table = self.table(raw, path, "格子")
        kind = table.get("type", "field")
        if kind not in CELL_TYPES:
            raise self.fail((*path, "type"), f"未知的字段类型 {_show(kind)}，可用：{'、'.join(CELL_TYPES)}")
        self.unknown(table, ("type", "span", *_CELL_KEYS[kind]), path)
        for key in _CELL_REQUIRED[kind]:
            if key not in table:
                raise self.fail(path, f"“{kind}” 格子缺少必填项 “{key}”（{_KEY_NAMES.get(key, key)}）")
        default_span = max(remaining, 1)
        span = self.integer(table, "span", path, default_span, low=1, high=page.grid_columns)
        label_width = table.get("label_width")
        if label_width is not None:
            label_width = self.number(table, "label_width", path, 0.0, low=0.0, high=150.0)
        texts_required = kind in ("choice", "signatures")
        options = self.texts(table, "options", path, required=texts_required) if kind == "choice" else ()
        roles = self.texts(table, "roles", path, required=texts_required) if kind == "signatures" else ()
        default_lines = 3 if kind == "text" else 1
        return Cell(
            type=kind,
            span=span,
            label=self.text(table, "label", path, required=kind == "check"),
            field=self.text(table, "field", path, required=kind != "static"),
            format=self.one_of(table, "format", path, FORMATS, "格式"),
            align=self.one_of(table, "align", path, ALIGNS, "对齐方式"),
            lines=self.integer(table, "lines", path, default_lines, low=1, high=40),
            options=options,
            roles=roles,
            text=self.text(table, "text", path, required=kind == "static"),
            label_width=label_width,
            label_position=self.one_of(table, "label_position", path, LABEL_POSITIONS, "标签位置"),
            date_field=self.text(table, "date_field", path),
            sign_field=self.text(table, "sign_field", path),
            sign_date_field=self.text(table, "sign_date_field", path),
            signoff=self.flag(table, "signoff", path),
            options_field=self.text(table, "options_field", path),
        )

    def column(self, raw: Any, path: Path_) -> Column:
        table = self.table(raw, path, "列")
        self.unknown(table, _COLUMN_KEYS, path)
        return Column(
            label=self.text(table, "label", path, required=True),
            key=self.text(table, "key", path),
            width=self.number(table, "width", path, 1.0, low=0.1, high=100.0),
            align=self.one_of(table, "align", path, ALIGNS, "对齐方式"),
        )


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "一个表"
    if isinstance(value, list):
        return "一个列表"
    return f"“{value}”"


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


# --------------------------------------------------------------------------------------------------
# Finding the line of a key in the TOML text (tomllib keeps no positions)


_HEADER_RE = re.compile(r"^[ \t]*(\[\[|\[)[ \t]*([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*\]\]?", re.MULTILINE)


class _Locator:
    """Maps a key path like ``("row", 3, "cells", 1, "type")`` to a line of the source text.

    Understands the shapes the shipped templates use: ``[form]``/``[page]`` sections, ``[[row]]``
    array tables, and arrays of inline tables (``cells = [ {...}, ... ]``). Falls back to the nearest
    enclosing item it can find.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.headers = [(m.start(), m.group(1) == "[[", m.group(2)) for m in _HEADER_RE.finditer(text)]

    def line(self, path: Path_) -> int | None:
        pos = self.position(path)
        return None if pos is None else self.text.count("\n", 0, pos) + 1

    def position(self, path: Path_) -> int | None:
        if not path:
            return 0 if not self.text.strip() else None
        head = path[0]
        if head in ("form", "page"):
            span = self.section(str(head), None)
            if span is None:
                return None
            return self.resolve(span, path[1:], span[0])
        if head == "row":
            if len(path) == 1:
                return self.key_anywhere("row")
            span = self.section("row", int(path[1]))
            if span is None:
                return self.key_anywhere("row")
            return self.resolve(span, path[2:], span[0])
        return self.key_anywhere(str(head))

    def resolve(self, span: tuple[int, int], rest: Path_, fallback: int) -> int:
        """Walk ``rest`` (key, index, key, …) inside the text span of a table."""
        start, end = span
        pos = fallback
        while rest:
            key = str(rest[0])
            found = self.key_in(start, end, key)
            if found is None:
                return pos
            pos = found
            if len(rest) == 1:
                return pos
            index = rest[1]
            if not isinstance(index, int):
                return pos
            elements = self.elements(found, end)
            if index >= len(elements):
                return pos
            start, end = elements[index]
            pos = start
            rest = rest[2:]
        return pos

    def section(self, name: str, index: int | None) -> tuple[int, int] | None:
        hits = [
            i
            for i, (_, is_array, n) in enumerate(self.headers)
            if n == name and is_array == (index is not None)
        ]
        pick = 0 if index is None else index
        if pick >= len(hits):
            return None
        i = hits[pick]
        start = self.headers[i][0]
        end = self.headers[i + 1][0] if i + 1 < len(self.headers) else len(self.text)
        return start, end

    def key_in(self, start: int, end: int, key: str) -> int | None:
        pattern = re.compile(rf"(?<![\w\-\"]){re.escape(key)}[ \t]*=")
        for match in pattern.finditer(self.text, start, end):
            if not self.in_string_or_comment(start, match.start()):
                return match.start()
        return None

    def key_anywhere(self, key: str) -> int | None:
        for pos, _, name in self.headers:
            if name == key or name.startswith(key + "."):
                return pos
        return self.key_in(0, len(self.text), key)

    def in_string_or_comment(self, start: int, pos: int) -> bool:
        i = start
        text = self.text
        while i < pos:
            ch = text[i]
            if ch == "#":
                newline = text.find("\n", i)
                if newline < 0 or newline >= pos:
                    return True
                i = newline + 1
                continue
            if ch in "\"'":
                close = self.string_end(i, len(text))
                if close > pos:
                    return True
                i = close
                continue
            i += 1
        return False

    def string_end(self, i: int, end: int) -> int:
        text = self.text
        quote = text[i] * 3 if text.startswith(text[i] * 3, i) else text[i]
        j = i + len(quote)
        while j < end:
            if quote[0] == '"' and text[j] == "\\":
                j += 2
                continue
            if text.startswith(quote, j):
                return j + len(quote)
            if len(quote) == 1 and text[j] == "\n":
                return j
            j += 1
        return end

    def elements(self, key_pos: int, end: int) -> list[tuple[int, int]]:
        """Spans of the tables/arrays directly inside the array value of the key at ``key_pos``."""
        text = self.text
        i = text.find("=", key_pos, end) + 1
        depth = 0
        spans: list[tuple[int, int]] = []
        start = -1
        while 0 < i < end:
            ch = text[i]
            if ch in "\"'":
                i = self.string_end(i, end)
                continue
            if ch == "#":
                newline = text.find("\n", i, end)
                i = end if newline < 0 else newline
                continue
            if ch in "[{":
                depth += 1
                if depth == 2:
                    start = i
            elif ch in "]}":
                depth -= 1
                if depth == 1 and start >= 0:
                    spans.append((start, i + 1))
                    start = -1
                if depth <= 0:
                    break
            elif depth == 0 and not ch.isspace():
                break
            i += 1
        return spans
