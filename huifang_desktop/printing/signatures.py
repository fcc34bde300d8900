"""The signature parts of a form: a “签名：____ 日期：____” line (its name or date alone when the line is
too narrow), the grid of several roles' signatures, the blank 年 月 日 to write a date on, and where the
printed name and date come from (the record's fields, or the sign-off of a signed record)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from huifang_desktop.printing.measure import _baseline, _Ctx, _fit_size
from huifang_desktop.printing.pages import BOLD, GREY, PageLayout, SignatureInfo
from huifang_desktop.printing.templates import Cell
from huifang_desktop.printing.values import format_value


def _draw_signature(
    ctx: _Ctx,
    page: PageLayout,
    kind: str,
    data: Any,
    x: float,
    w: float,
    top: float,
    h: float,
    texts: dict[str, list[str]],
) -> None:
    """A “签名：____ 日期：____” line; ``sn``/``sd`` print only the name or the date part."""
    name, when, name_field, date_field, blank_date = data
    fs = ctx.fs
    m = ctx.m
    base = top - h + fs * 0.45
    parts: list[tuple[str, str, str, float, float]] = []  # (caption, value, field, x0, x1)
    if kind == "s" or kind == "ss":
        x_start = x if kind == "s" else x + w * 0.3
        split = x_start + (x + w - x_start) * 0.5
        parts = [
            ("签名：", name, name_field, x_start, split - fs),
            ("日期：", when, date_field, split, x + w),
        ]
    elif kind == "sn":
        parts = [("签名：", name, name_field, x, x + w)]
    else:
        parts = [("日期：", when, date_field, x, x + w)]
    for caption, value, name_of_field, x0, x1 in parts:
        page.text(x0, base, caption, fs)
        lx = x0 + m.width(caption, fs)
        page.lines.append((lx, base - fs * 0.25, x1, base - fs * 0.25))
        if value:
            page.text(lx + fs * 0.4, base, value, _fit_size(m, value, fs, x1 - lx - fs * 0.4))
            if name_of_field:
                texts.setdefault(name_of_field, []).append(value)
        elif caption == "日期：" and blank_date:
            _blank_date(ctx, page, lx, x1, base, blank_date)


def _blank_date(ctx: _Ctx, page: PageLayout, x0: float, x1: float, base: float, pattern: str) -> None:
    """Spread 年 月 日 (时 分) over a writing line so there is room to fill in each part."""
    marks = [ch for ch in pattern if ch != "　"]
    slot = (x1 - x0) / len(marks)
    for i, mark in enumerate(marks):
        page.text(x0 + slot * (i + 1) - ctx.fs * 1.2, base, mark, ctx.fs, GREY)


def _draw_signature_grid(
    ctx: _Ctx,
    page: PageLayout,
    data: Any,
    x: float,
    w: float,
    top: float,
    h: float,
    texts: dict[str, list[str]],
) -> None:
    entries, name_field = data
    fs = ctx.fs
    slot = w / len(entries)
    for i, (role, name, when) in enumerate(entries):
        sx = x + i * slot
        if i:
            page.lines.append((sx - ctx.pad, top + ctx.pad, sx - ctx.pad, top - h - ctx.pad))
        page.text(sx, _baseline(top, ctx.lead, fs), role, fs, BOLD)
        line_h = (h - ctx.lead) / 2
        for j, (caption, value) in enumerate((("签名：", name), ("日期：", when))):
            band_top = top - ctx.lead - j * line_h
            base = band_top - line_h + fs * 0.45
            page.text(sx, base, caption, fs)
            lx = sx + ctx.m.width(caption, fs)
            page.lines.append((lx, base - fs * 0.25, sx + slot - 2 * ctx.pad, base - fs * 0.25))
            if value:
                room = sx + slot - 2 * ctx.pad - lx - fs * 0.4
                page.text(lx + fs * 0.4, base, value, _fit_size(ctx.m, value, fs, room))
                texts.setdefault(name_field, []).append(value)


def _signature_values(
    cell: Cell, name_field: str, date_field: str, values: Mapping[str, Any], signed: SignatureInfo | None
) -> tuple[str, str]:
    if cell.signoff and signed is not None:
        return signed.signer, format_value(signed.signed_at, "date")
    raw_name = values.get(name_field) if name_field else None
    name = "已签字" if raw_name is True else "" if raw_name is False else format_value(raw_name)
    when = format_value(values.get(date_field), "date") if date_field else ""
    return name, when


def _signature_entries(value: Any, roles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Normalise signatures: {role: name | (name, date) | {name, date}} or rows (role, name, date)."""
    found: dict[str, tuple[str, str]] = {}
    if isinstance(value, Mapping):
        pairs: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list | tuple):
        pairs = [(row[0], tuple(row[1:])) for row in value if isinstance(row, list | tuple) and row]
    else:
        pairs = []
    for role, entry in pairs:
        if isinstance(entry, Mapping):
            name = entry.get("name", entry.get("signer"))
            when = entry.get("date", entry.get("signed_at"))
        elif isinstance(entry, list | tuple):
            name = entry[0] if entry else None
            when = entry[1] if len(entry) > 1 else None
        else:
            name, when = entry, None
        found[str(role)] = (format_value(name), format_value(when, "date"))
    names = list(roles) + [r for r in found if r not in roles]
    return [(r, *found.get(r, ("", ""))) for r in names]
