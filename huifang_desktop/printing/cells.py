"""A cells row of a form: each cell becomes a block (its label, and its content cut into lines: text,
check boxes, signature parts) that the layout places on a page, or splits over pages line by line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from huifang_desktop.printing.measure import MM, _baseline, _Ctx
from huifang_desktop.printing.pages import (
    BOLD,
    DONE,
    GREY,
    NONE,
    PARTIAL,
    PLAIN,
    FieldBox,
    PageLayout,
    Rect,
    SignatureInfo,
)
from huifang_desktop.printing.signatures import (
    _draw_signature,
    _draw_signature_grid,
    _signature_entries,
    _signature_values,
)
from huifang_desktop.printing.templates import Cell
from huifang_desktop.printing.values import BLANK_DATE, BLANK_DATETIME, CONTINUED, format_value

_MIN_SIGN_SIZE = 7.0  # a name on a signature line shrinks down to this size, then wraps


# An item is one line (or atomic block) of a cell's content: (kind, height, data).
#  "t": (text, align, style, field)  "c": [(dx, text, ticked)]  "s": (name, date, name_field, date_field)
#  "g": [(role, name, date)] signature grid
_Item = tuple[str, float, Any]


@dataclass(slots=True)
class _Block:
    """One cell of a cells row, ready to be cut into page parts."""

    cell: Cell
    x: float
    w: float
    lw: float
    label_lines: list[str]
    cont_label_lines: list[str]
    items: list[_Item]
    min_h: float
    valign: str  # top | middle | bottom
    blank: str  # "" | "ruled" | "rule"
    top_label: str
    ticked: tuple[str, ...] = ()

    @property
    def vx(self) -> float:
        return self.x + self.lw

    @property
    def vw(self) -> float:
        return self.w - self.lw


class _CellsRow:
    def __init__(self, ctx: _Ctx, blocks: list[_Block], min_h: float) -> None:
        self.ctx = ctx
        self.blocks = blocks
        self.min_h = min_h
        self.starts = [0] * len(blocks)
        self.first = True

    def _label_h(self, block: _Block, first: bool) -> float:
        lines = block.label_lines if first else block.cont_label_lines
        return len(lines) * self.ctx.lead + 2 * self.ctx.pad if block.lw else 0.0

    def _top_h(self, block: _Block) -> float:
        return self.ctx.lead if block.top_label else 0.0

    def height(self) -> float:
        ctx = self.ctx
        need = self.min_h if self.first else ctx.row_h
        for block, start in zip(self.blocks, self.starts, strict=True):
            remaining = block.items[start:]
            if not self.first and not remaining:
                continue
            h = sum(item[1] for item in remaining) + 2 * ctx.pad + self._top_h(block)
            if self.first:
                h = max(h, block.min_h)
            need = max(need, h, self._label_h(block, self.first))
        return need

    def place(self, page: PageLayout, top: float, avail: float | None) -> tuple[int, float]:
        """Draw the rest of the row, or with ``avail`` what fits in that height; (status, height used)."""
        ctx = self.ctx
        ends = [len(b.items) for b in self.blocks]
        height = self.height() if avail is None else avail
        if avail is not None:
            progress = False
            for i, block in enumerate(self.blocks):
                if self._label_h(block, self.first) > avail:
                    return NONE, 0.0
                budget = avail - 2 * ctx.pad - self._top_h(block)
                used = 0.0
                end = self.starts[i]
                while end < len(block.items) and used + block.items[end][1] <= budget + 0.01:
                    used += block.items[end][1]
                    end += 1
                remaining = len(block.items) - self.starts[i]
                if end < len(block.items) and end - self.starts[i] < min(2, remaining):
                    return NONE, 0.0
                progress = progress or end > self.starts[i]
                ends[i] = end
            if not progress:
                return NONE, 0.0
        for i, block in enumerate(self.blocks):
            self._draw_block(page, block, self.starts[i], ends[i], top, height)
        self.starts = ends
        self.first = False
        done = all(end == len(b.items) for end, b in zip(ends, self.blocks, strict=True))
        return (DONE if done else PARTIAL), height

    def _draw_block(
        self, page: PageLayout, block: _Block, start: int, end: int, top: float, height: float
    ) -> None:
        ctx = self.ctx
        first = self.first
        bottom = top - height
        page.boxes.append((block.x, bottom, block.w, height))
        cell = block.cell
        if not first and start >= len(block.items):
            return  # finished on an earlier page: an empty box keeps the row's shape
        if block.lw:
            page.fills.append((block.x, bottom, block.lw, height, 0.93))
            page.lines.append((block.vx, bottom, block.vx, top))
            lines = block.label_lines if first else block.cont_label_lines
            y = top - (height - len(lines) * ctx.lead) / 2
            for line in lines:
                x = block.x + (block.lw - ctx.m.width(line, ctx.fs)) / 2
                page.text(x, _baseline(y, ctx.lead, ctx.fs), line, ctx.fs)
                y -= ctx.lead
        ix = block.vx + ctx.pad
        iw = block.vw - 2 * ctx.pad
        inner_top = top - ctx.pad
        if block.top_label:
            text = block.top_label if first else block.top_label.rstrip("：") + CONTINUED
            page.text(ix, _baseline(inner_top, ctx.lead, ctx.fs), text, ctx.fs, BOLD)
            inner_top -= ctx.lead
        items = block.items[start:end]
        inner_h = inner_top - (bottom + ctx.pad)
        tail: list[_Item] = []
        if items and items[-1][0] == "ss":
            tail = [items.pop()]
        items_h = sum(item[1] for item in items)
        offset = 0.0
        if block.valign == "middle":
            offset = max(0.0, (inner_h - items_h) / 2)
        elif block.valign == "bottom":
            offset = max(0.0, inner_h - items_h)
        y = inner_top - offset
        texts: dict[str, list[str]] = {}
        for item in items:
            _draw_item(ctx, page, item, ix, iw, y, texts)
            y -= item[1]
        for item in tail:
            _draw_item(ctx, page, item, ix, iw, bottom + ctx.pad + item[1], texts)
        if block.blank == "ruled":
            y = inner_top - ctx.pitch
            floor = bottom + ctx.pad + sum(item[1] for item in tail) + 1
            while y >= floor:
                page.rules.append((ix, y, ix + iw, y))
                y -= ctx.pitch
        elif block.blank == "rule":
            y = bottom + ctx.pad + 1.5
            page.rules.append((ix, y, ix + iw, y))
        rect = Rect(block.vx, bottom, block.vw, height)
        if cell.field:
            page.fields.append(
                FieldBox(
                    cell.field,
                    cell.label,
                    rect,
                    tuple(texts.get(cell.field, ())),
                    block.ticked if first else (),
                )
            )
        for extra in (cell.date_field, cell.sign_field, cell.sign_date_field):
            if extra and extra in texts:
                page.fields.append(FieldBox(extra, cell.label, rect, tuple(texts[extra])))


def _draw_item(
    ctx: _Ctx, page: PageLayout, item: _Item, x: float, w: float, top: float, texts: dict[str, list[str]]
) -> None:
    kind, h, data = item
    fs = ctx.fs
    if kind == "t":
        text, align, style, name = data
        base = _baseline(top, h, fs)
        if align == "left":
            tx = x
        else:
            tw = ctx.m.width(text, fs)
            tx = x + (w - tw) / 2 if align == "center" else x + w - tw
        page.text(tx, base, text, fs, style)
        if name:
            texts.setdefault(name, []).append(text)
    elif kind == "c":
        base = _baseline(top, h, fs)
        for dx, text, ticked in data:
            page.checks.append((x + dx, base - fs * 0.08, ctx.box, ticked))
            page.text(x + dx + ctx.box + fs * 0.3, base, text, fs)
    elif kind in ("s", "ss", "sn", "sd"):
        _draw_signature(ctx, page, kind, data, x, w, top, h, texts)
    elif kind == "g":
        _draw_signature_grid(ctx, page, data, x, w, top, h, texts)


def _build_block(
    ctx: _Ctx, cell: Cell, x: float, w: float, values: Mapping[str, Any], signed: SignatureInfo | None
) -> _Block:
    m = ctx.m
    fs = ctx.fs
    label = cell.label
    left_label = bool(label) and cell.label_position == "left" and cell.type != "check"
    lw = 0.0
    if left_label:
        lw = min(cell.label_width * MM if cell.label_width is not None else ctx.label_w, w * 0.6)
    label_room = lw - 2 * ctx.pad
    label_lines = m.wrap_balanced(label, label_room, fs) if left_label else []
    cont_label_lines = m.wrap_balanced(label + CONTINUED, label_room, fs) if left_label else []
    top_label = label + "：" if label and not left_label and cell.type != "check" else ""
    iw = w - lw - 2 * ctx.pad
    items: list[_Item] = []
    min_h = ctx.row_h
    valign = "middle"
    blank = ""
    ticked: tuple[str, ...] = ()
    value = values.get(cell.field) if cell.field else None

    def text_items(text: str, align: str = "left") -> list[_Item]:
        return [("t", ctx.lead, (line, align, PLAIN, cell.field)) for line in m.wrap(text, iw, fs)]

    kind = cell.type
    if kind == "field":
        text = format_value(value, cell.format)
        if text:
            items = text_items(text, cell.align)
        elif cell.format != "text":
            pattern = BLANK_DATE if cell.format == "date" else BLANK_DATETIME
            items = [("t", ctx.lead, (pattern, "right", GREY, ""))]
            blank = "rule"
        else:
            blank = "rule"
        min_h = max(ctx.row_h, cell.lines * ctx.pitch) if cell.lines > 1 else ctx.row_h
    elif kind in ("text", "static"):
        text = cell.text if kind == "static" else format_value(value)
        align = cell.align if kind == "static" else "left"
        owner = "" if kind == "static" else cell.field
        items = [("t", ctx.lead, (line, align, PLAIN, owner)) for line in m.wrap(text, iw, fs)]
        valign = "top" if kind == "text" else "middle"
        min_h = max(ctx.row_h, cell.lines * ctx.pitch)
        if kind == "text" and not text:
            blank = "ruled"
            items = []
        if kind == "text" and cell.sign_field:
            name, when = _signature_values(cell, cell.sign_field, cell.sign_date_field, values, signed)
            items.append(("ss", ctx.sign_h, (name, when, cell.sign_field, cell.sign_date_field, BLANK_DATE)))
            min_h += ctx.sign_h
        if top_label:
            min_h += ctx.lead
    elif kind in ("choice", "check"):
        listed = values.get(cell.options_field) if cell.options_field else None
        if kind == "choice" and isinstance(listed, list | tuple) and listed:
            options = [format_value(o) for o in listed]  # the office's own list (its satisfaction scale)
        else:
            options = list(cell.options) if kind == "choice" else [cell.label]
        if kind == "check":
            chosen = {cell.label} if value else set()
        else:
            chosen = _chosen(value)
            options += [c for c in chosen if c not in options]  # an unexpected value still prints
        ticked = tuple(o for o in options if o in chosen)
        items = _choice_lines(ctx, options, chosen, iw)
    elif kind == "signature":
        name, when = _signature_values(cell, cell.field, cell.date_field, values, signed)
        need = (
            m.width("签名：日期：", fs)
            + max(m.width(name, fs), 18 * MM)
            + max(m.width(when, fs), 30 * MM)
            + fs
        )
        data = (name, when, cell.field, cell.date_field, BLANK_DATE)
        name_room = iw - m.width("签名：", fs) - fs * 0.4
        if need <= iw:
            items = [("s", ctx.sign_h, data)]
        elif m.width(name, fs) * _MIN_SIGN_SIZE / fs <= name_room:
            items = [("sn", ctx.sign_h * 0.75, data), ("sd", ctx.sign_h * 0.75, data)]
        else:  # too long for a signature line even in small print: wrap it like text
            items = [
                ("t", ctx.lead, ("签名：", "left", PLAIN, "")),
                *text_items(name),
                ("sd", ctx.sign_h * 0.75, ("", when, "", cell.date_field, BLANK_DATE)),
            ]
        min_h = max(ctx.row_h, sum(item[1] for item in items) + 2 * ctx.pad)
        valign = "bottom"
    elif kind == "signatures":
        entries = _signature_entries(value, cell.roles)
        items = [("g", ctx.lead + 2 * ctx.sign_h, (entries, cell.field))]
        min_h = ctx.lead + 2 * ctx.sign_h + 2 * ctx.pad
        valign = "top"
    return _Block(
        cell, x, w, lw, label_lines, cont_label_lines, items, min_h, valign, blank, top_label, ticked
    )


def _chosen(value: Any) -> set[str]:
    if value is None or value == "":
        return set()
    if isinstance(value, list | tuple | set | frozenset):
        return {format_value(v) for v in value if v is not None and v != ""}
    return {format_value(value)}


def _choice_lines(ctx: _Ctx, options: list[str], chosen: set[str], width: float) -> list[_Item]:
    """Flow the options (box + text) into lines of ``width``."""
    lines: list[_Item] = []
    line: list[tuple[float, str, bool]] = []
    dx = 0.0
    gap = ctx.fs * 1.1
    for option in options:
        parts = ctx.m.wrap(option, width - ctx.box - ctx.fs * 0.3, ctx.fs)
        for k, part in enumerate(parts):
            ow = ctx.box + ctx.fs * 0.3 + ctx.m.width(part, ctx.fs)
            if line and dx + ow > width:
                lines.append(("c", ctx.lead, line))
                line, dx = [], 0.0
            line.append((dx, part, option in chosen and k == 0))
            dx += ow + gap
    if line:
        lines.append(("c", ctx.lead, line))
    return lines
