"""The wizard's first look at a sheet (:func:`preview`): its first rows only, the header row (detected unless
given) and the mapping suggested from the header names and the columns' values, the office's saved mapping
preferred.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.importing import (
    ImportTarget,
    cell_text,
    detect_header_row,
    normalize_header,
    refine_mapping,
    suggest_mapping,
)
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.importing.common import load_import_rules, saved_mapping, target_fields
from huifang_desktop.services.importing.reading import read_workbook
from huifang_desktop.services.settings import load_settings


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


def preview(
    ctx: ServiceContext,
    path: Path | str,
    sheet: str | None = None,
    target: ImportTarget = ImportTarget.CUSTOMERS,
    *,
    header_row: int | None = None,
    prefer: Mapping[str, str] | None = None,
) -> SheetPreview:
    """The first rows of ``sheet`` (the first sheet when None), its header row (detected unless given) and
    the mapping suggested from the header names, the office's saved mapping preferred. ``prefer`` (field →
    header text, e.g. the mapping the user just chose) goes before the saved one: after the user fixed the
    file in Excel and columns moved, the same headers still map to the same fields."""
    rules = load_import_rules(ctx)
    wb = read_workbook(path, sheet=sheet, limit=max(rules.preview_rows, rules.header_scan_rows), rules=rules)
    sh = wb.sheet(sheet)
    width = max((len(r) for r in sh.rows), default=0)
    shown = tuple(
        tuple(cell_text(v) for v in r) + ("",) * (width - len(r)) for r in sh.rows[: rules.preview_rows]
    )
    if not sh.rows:
        return SheetPreview(
            wb.file_name,
            wb.sheet_names,
            sh.name,
            target,
            (),
            0,
            None,
            False,
            (),
            {},
            (),
            f"工作表“{sh.name}”是空的，请选择有数据的工作表。",
            0,
        )
    detected = header_row is None
    message = ""
    if header_row is None:
        header_row = detect_header_row(sh.rows, target, rules)
        if header_row is None:
            names = "、".join(f"“{f.label}”" for f in target_fields(target)[:4])
            message = (
                f"在工作表“{sh.name}”的前 {rules.header_scan_rows} 行中没有找到表头行（应有 {names} 等列名）。"
                "请填写表头所在的行号，或检查是否选错了工作表。"
            )
    elif not 1 <= header_row <= len(sh.rows):
        raise ValidationError(FieldError("header_row", "表头行", f"应在 1–{len(sh.rows)} 之间"))
    if header_row is None:
        return SheetPreview(
            wb.file_name,
            wb.sheet_names,
            sh.name,
            target,
            shown,
            width,
            None,
            False,
            (),
            {},
            (),
            message,
            len(sh.rows),
        )
    headers = tuple(cell_text(v) for v in sh.rows[header_row - 1]) + ("",) * (
        width - len(sh.rows[header_row - 1])
    )
    saved = {**saved_mapping(ctx, target), **(prefer or {})}
    mapping = suggest_mapping(headers, target, saved)
    from_saved = tuple(
        k
        for k, c in mapping.items()
        if k in saved and cell_text(saved[k]) and headers[c] and _same_header(saved[k], headers[c])
    )
    if "category" not in from_saved:  # a column is matched by its values too (客户类别 of A类/甲 → 等级)
        mapping = refine_mapping(mapping, target, sh.rows[header_row:], load_settings(ctx).categories)
    return SheetPreview(
        wb.file_name,
        wb.sheet_names,
        sh.name,
        target,
        shown,
        width,
        header_row,
        detected,
        headers,
        mapping,
        from_saved,
        message,
        len(sh.rows),
    )


def _same_header(a: str, b: str) -> bool:
    return normalize_header(a) == normalize_header(b)
