"""Render printed forms (回访记录表, 投诉处理表, 回访报告表 …) and ledgers to PDF (domain.md §10).

Forms are laid out from a :class:`~huifang_desktop.printing.templates.FormTemplate` on a portrait A4 grid;
ledgers print as landscape tables. Everything is drawn straight on a reportlab canvas (no Platypus) in
two steps: :func:`layout_form` decides where every string, box and line goes (and records the value
boxes, which the tests compare with the PDF), then the drawing step replays that onto the canvas.

Rules the layout keeps:
- long text wraps inside its box; a box that does not fit flows onto a continuation page that
  repeats the header (标题 + “（续页）”, 编号, 联); no character is ever dropped;
- empty fields print as blank lines to write on, empty dates as “年 月 日”;
- choices print every option with a drawn check box (not a font glyph), the chosen one ticked;
- a signed record prints the signer and date, a draft a 草稿 watermark, a record changed after
  signing a warning; each copy (联) prints its number and recipient.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from huifang_desktop.domain import formcode
from huifang_desktop.printing.fonts import register_font
from huifang_desktop.printing.templates import Cell, Column, FormTemplate, PageSetup, Row

MM = 72.0 / 25.4
PAGE_W, PAGE_H = A4

ProgressFn = Callable[[int, int], bool]
Output = str | Path | IO[bytes]

# Text styles: (grey level, fake bold, red)
PLAIN, BOLD, GREY, RED, RED_BOLD = 0, 1, 2, 3, 4
_SPLIT_SHARE = 0.3  # a box is split (not moved) when at least this share of the page is left
_MIN_SIGN_SIZE = 7.0  # a name on a signature line shrinks down to this size, then wraps

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
BLANK_DATE = "年　　月　　日"
BLANK_DATETIME = "年　　月　　日　　时　　分"
CONTINUED = "（续）"
TAMPERED_WARNING = "注意：本记录在签字后被修改，签字无效，请重新审核。"
QR_SIZE = 17.0  # mm, quiet zone included: 0.5 mm modules for a number code, 3 pixels at 150 dpi
QR_TOP_OUT = 3.0  # mm the code reaches into the top margin (it stays clear of the 编号 line)


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """The sign-off of a record: printed in the sign-off box and as a stamp in the header."""

    signer: str
    signed_at: datetime | date
    role: str = "审核"


@dataclass(frozen=True, slots=True)
class FormJob:
    """One record of a batch for :func:`render_forms`. ``values=None`` prints a blank form; ``template``: a
    page of another form in the batch (a cover sheet), else the batch's template."""

    values: Mapping[str, Any] | None
    draft: bool = False
    signed: SignatureInfo | None = None
    revision: int = 0
    tampered: bool = False
    template: FormTemplate | None = None


@dataclass(frozen=True, slots=True)
class TableStyle:
    """Sizes of a landscape ledger table (mm and pt); every number is a setting."""

    margin: float = 12.0
    font_size: float = 8.5
    header_font_size: float = 9.0
    title_size: float = 16.0
    leading: float = 1.3
    padding: float = 1.2
    min_row_height: float = 6.0


class RenderCancelled(Exception):
    """The progress callback returned False; nothing was written."""


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    def contains(self, x: float, y: float, tolerance: float = 0.5) -> bool:
        return (self.x - tolerance <= x <= self.x + self.w + tolerance
                and self.y - tolerance <= y <= self.y + self.h + tolerance)


@dataclass(frozen=True, slots=True)
class FieldBox:
    """Where a field's value went on one page: the value area and the strings printed in it."""

    field: str
    label: str
    rect: Rect
    texts: tuple[str, ...] = ()
    ticked: tuple[str, ...] = ()


@dataclass(slots=True)
class PageLayout:
    """Everything drawn on one body page (header and footer are added per copy when drawing)."""

    fills: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    rules: list[tuple[float, float, float, float]] = field(default_factory=list)
    frames: list[tuple[float, float, float, float]] = field(default_factory=list)
    checks: list[tuple[float, float, float, bool]] = field(default_factory=list)
    stamps: list[tuple[float, float, float, float]] = field(default_factory=list)
    texts: list[tuple[float, float, str, float, int]] = field(default_factory=list)
    fields: list[FieldBox] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, size: float, style: int = PLAIN) -> None:
        if text:
            self.texts.append((x, y, text, size, style))


@dataclass(frozen=True, slots=True)
class FormLayout:
    """The body pages of one copy, plus what the header needs."""

    template: FormTemplate
    pages: tuple[PageLayout, ...]
    number: str
    number_box: Rect
    company: str
    header_height: float
    tampered: bool
    signed: SignatureInfo | None
    qr: str = ""  # the text of the header's QR code ("" when the template has none)

    @property
    def qr_box(self) -> Rect | None:
        """Where the QR code is drawn (quiet zone included), or None."""
        return _qr_box(_ctx(self.template.page)) if self.qr else None

    @property
    def copies(self) -> tuple[str, ...]:
        return self.template.copies or ("",)

    @property
    def page_count(self) -> int:
        return len(self.pages) * len(self.copies)


# --------------------------------------------------------------------------------------------------
# Fonts, metrics, wrapping, value formatting


_WRAP_MEMO = 4096  # wrapped texts remembered (then forgotten all at once)


class _Metrics:
    """Character widths of the registered TrueType font, cached per character."""

    __slots__ = ("font", "_face_widths", "_default", "_cache", "_wrapped", "_balanced_wraps")

    def __init__(self, font: str) -> None:
        face = pdfmetrics.getFont(font).face  # type: ignore[attr-defined]
        self.font = font
        self._face_widths: dict[int, float] = face.charWidths
        self._default: float = face.defaultWidth
        self._cache: dict[str, float] = {}
        self._wrapped: dict[tuple[str, float, float], tuple[str, ...]] = {}
        self._balanced_wraps: dict[tuple[str, float, float], tuple[str, ...]] = {}

    def char(self, ch: str) -> float:
        width = self._cache.get(ch)
        if width is None:
            width = self._cache[ch] = float(self._face_widths.get(ord(ch), self._default))
        return width

    def width(self, text: str, size: float) -> float:
        cache = self._cache
        total = 0.0
        for ch in text:
            w = cache.get(ch)
            total += self.char(ch) if w is None else w
        return total * size / 1000.0

    def wrap(self, text: str, width: float, size: float) -> list[str]:
        """Break ``text`` into lines no wider than ``width`` (pt); keeps every non-space character.

        Remembered per (text, width, size): a form measures its rows before placing them, and the labels
        recur on every form of a batch."""
        key = (text, width, size)
        lines = self._wrapped.get(key)
        if lines is None:
            if len(self._wrapped) >= _WRAP_MEMO:
                self._wrapped.clear()
            lines = self._wrapped[key] = tuple(self._wrap(text, width, size))
        return list(lines)

    def _wrap(self, text: str, width: float, size: float) -> list[str]:
        limit = max(width, size) * 1000.0 / size  # at least one character per line
        out: list[str] = []
        cache = self._cache
        for para in text.expandtabs(4).replace("\r\n", "\n").replace("\r", "\n").rstrip().split("\n"):
            n = len(para)
            if n == 0:
                out.append("")
                continue
            start = 0
            while start < n:
                acc = 0.0
                brk = -1
                i = start
                while i < n:
                    ch = para[i]
                    w = cache.get(ch)
                    if w is None:
                        w = self.char(ch)
                    if acc + w > limit and i > start:
                        break
                    acc += w
                    i += 1
                    if i < n and _can_break(para[i - 1], para[i]):
                        brk = i
                if i >= n:
                    out.append(para[start:].rstrip(" "))
                    break
                cut = i if para[i] == " " or brk <= start else brk
                out.append(para[start:cut].rstrip(" "))
                start = cut
                while start < n and para[start] == " ":
                    start += 1
        return out

    def wrap_balanced(self, text: str, width: float, size: float) -> list[str]:
        """Like :meth:`wrap`, with lines of even length (labels: “客户意见/” “反馈”, not “客户意见/反” “馈”)."""
        key = (text, width, size)
        lines = self._balanced_wraps.get(key)
        if lines is None:
            if len(self._balanced_wraps) >= _WRAP_MEMO:
                self._balanced_wraps.clear()
            lines = self._balanced_wraps[key] = tuple(self._balanced(text, width, size))
        return list(lines)

    def _balanced(self, text: str, width: float, size: float) -> list[str]:
        lines = self.wrap(text, width, size)
        if len(lines) < 2 or "\n" in text:
            return lines
        for mark in "/、":  # break after a separator when both halves fit
            head, sep, tail = text.partition(mark)
            if sep and tail and len(lines) == 2 and all(
                    self.width(part, size) <= width for part in (head + sep, tail)):
                return [head + sep, tail]
        low, high = self.width(text, size) / len(lines), width
        for _ in range(8):
            mid = (low + high) / 2
            if len(self.wrap(text, mid, size)) <= len(lines):
                high = mid
            else:
                low = mid
        return self.wrap(text, high, size)


_NO_LINE_START = frozenset("，。、；：？！）】」』》〉”’…·,.;:?!)]}%")
_NO_LINE_END = frozenset("（【「『《〈“‘([{")


def _can_break(before: str, after: str) -> bool:
    if after == " ":
        return False
    if before == " ":
        return True
    if after in _NO_LINE_START or before in _NO_LINE_END:
        return False
    return not (before < "\u2e80" and after < "\u2e80")  # keep Latin words and numbers whole


@functools.cache
def _metrics() -> _Metrics:
    return _Metrics(register_font())


def format_value(value: Any, fmt: str = "text") -> str:
    """The printed text of a value: dates as 2026-11-22, Decimal without exponent, bool as 是/否."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT if fmt == "date" else DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple | set | frozenset):
        return "、".join(format_value(v, fmt) for v in value)
    return str(value)


_CN_DIGITS = "零一二三四五六七八九十"


def _cn_number(n: int) -> str:
    if 0 <= n <= 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + _CN_DIGITS[n - 10]
    return str(n)


# --------------------------------------------------------------------------------------------------
# Form layout


class _Ctx:
    """A template's sizes in points, computed once per page setup."""

    def __init__(self, page: PageSetup) -> None:
        self.m = _metrics()
        self.fs = page.font_size
        self.small = page.small_font_size
        self.title_size = page.title_size
        self.company_size = page.company_size
        self.lead = page.font_size * page.leading
        self.pad = page.padding * MM
        self.row_h = page.row_height * MM
        self.pitch = page.line_pitch * MM
        self.sign_h = max(page.row_height * MM, self.lead * 2)
        self.label_w = page.label_width * MM
        self.x0 = page.margin_left * MM
        self.width = PAGE_W - (page.margin_left + page.margin_right) * MM
        self.col_w = self.width / page.grid_columns
        self.top = PAGE_H - page.margin_top * MM
        self.bottom = page.margin_bottom * MM
        self.footer_h = self.small * 2.2
        self.box = self.fs * 0.9  # check box side


@functools.lru_cache(maxsize=16)
def _ctx(page: PageSetup) -> _Ctx:
    return _Ctx(page)


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


DONE, PARTIAL, NONE = 0, 1, 2  # what a row's place() managed


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

    def _draw_block(self, page: PageLayout, block: _Block, start: int, end: int, top: float,
                    height: float) -> None:
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
            page.fields.append(FieldBox(cell.field, cell.label, rect, tuple(texts.get(cell.field, ())),
                                        block.ticked if first else ()))
        for extra in (cell.date_field, cell.sign_field, cell.sign_date_field):
            if extra and extra in texts:
                page.fields.append(FieldBox(extra, cell.label, rect, tuple(texts[extra])))


def _baseline(top: float, line_h: float, size: float) -> float:
    """Baseline that centres a CJK line of ``size`` in a band ``line_h`` high below ``top``."""
    return top - line_h / 2 - size * 0.36


def _draw_item(ctx: _Ctx, page: PageLayout, item: _Item, x: float, w: float, top: float,
               texts: dict[str, list[str]]) -> None:
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


def _draw_signature(ctx: _Ctx, page: PageLayout, kind: str, data: Any, x: float, w: float, top: float,
                    h: float, texts: dict[str, list[str]]) -> None:
    """A “签名：____ 日期：____” line; ``sn``/``sd`` print only the name or the date part."""
    name, when, name_field, date_field, blank_date = data
    fs = ctx.fs
    m = ctx.m
    base = top - h + fs * 0.45
    parts: list[tuple[str, str, str, float, float]] = []  # (caption, value, field, x0, x1)
    if kind == "s" or kind == "ss":
        x_start = x if kind == "s" else x + w * 0.3
        split = x_start + (x + w - x_start) * 0.5
        parts = [("签名：", name, name_field, x_start, split - fs),
                 ("日期：", when, date_field, split, x + w)]
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


def _fit_size(m: _Metrics, text: str, size: float, room: float) -> float:
    """The font size at which ``text`` fits ``room`` (a long name on a signature line shrinks)."""
    width = m.width(text, size)
    return size if width <= room or width <= 0 else size * max(room, 1.0) / width


def _blank_date(ctx: _Ctx, page: PageLayout, x0: float, x1: float, base: float, pattern: str) -> None:
    """Spread 年 月 日 (时 分) over a writing line so there is room to fill in each part."""
    marks = [ch for ch in pattern if ch != "　"]
    slot = (x1 - x0) / len(marks)
    for i, mark in enumerate(marks):
        page.text(x0 + slot * (i + 1) - ctx.fs * 1.2, base, mark, ctx.fs, GREY)


def _draw_signature_grid(ctx: _Ctx, page: PageLayout, data: Any, x: float, w: float, top: float, h: float,
                         texts: dict[str, list[str]]) -> None:
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


def _build_block(ctx: _Ctx, cell: Cell, x: float, w: float, values: Mapping[str, Any],
                 signed: SignatureInfo | None) -> _Block:
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
        need = (m.width("签名：日期：", fs) + max(m.width(name, fs), 18 * MM)
                + max(m.width(when, fs), 30 * MM) + fs)
        data = (name, when, cell.field, cell.date_field, BLANK_DATE)
        name_room = iw - m.width("签名：", fs) - fs * 0.4
        if need <= iw:
            items = [("s", ctx.sign_h, data)]
        elif m.width(name, fs) * _MIN_SIGN_SIZE / fs <= name_room:
            items = [("sn", ctx.sign_h * 0.75, data), ("sd", ctx.sign_h * 0.75, data)]
        else:  # too long for a signature line even in small print: wrap it like text
            items = [("t", ctx.lead, ("签名：", "left", PLAIN, "")), *text_items(name),
                     ("sd", ctx.sign_h * 0.75, ("", when, "", cell.date_field, BLANK_DATE))]
        min_h = max(ctx.row_h, sum(item[1] for item in items) + 2 * ctx.pad)
        valign = "bottom"
    elif kind == "signatures":
        entries = _signature_entries(value, cell.roles)
        items = [("g", ctx.lead + 2 * ctx.sign_h, (entries, cell.field))]
        min_h = ctx.lead + 2 * ctx.sign_h + 2 * ctx.pad
        valign = "top"
    return _Block(cell, x, w, lw, label_lines, cont_label_lines, items, min_h, valign, blank, top_label,
                  ticked)


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


def _signature_values(cell: Cell, name_field: str, date_field: str, values: Mapping[str, Any],
                      signed: SignatureInfo | None) -> tuple[str, str]:
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


class _BandRow:
    """A section heading band, a free note, or a gap."""

    def __init__(self, ctx: _Ctx, row: Row) -> None:
        self.ctx = ctx
        self.row = row
        width = ctx.width - 2 * ctx.pad
        if row.type == "section":
            self.lines = ctx.m.wrap(row.text, width, ctx.fs)
            self.h = max(ctx.row_h * 0.85, len(self.lines) * ctx.lead + ctx.pad)
        elif row.type == "note":
            self.lines = ctx.m.wrap(row.text, width, ctx.small)
            self.h = len(self.lines) * ctx.small * 1.4 + ctx.pad
        else:
            self.lines = []
            self.h = row.height * MM

    def height(self) -> float:
        return self.h

    def place(self, page: PageLayout, top: float, avail: float | None) -> tuple[int, float]:
        if avail is not None:
            return NONE, 0.0
        ctx = self.ctx
        height = self.h
        if self.row.type == "section":
            page.fills.append((ctx.x0, top - height, ctx.width, height, 0.85))
            page.boxes.append((ctx.x0, top - height, ctx.width, height))
            y = top - (height - len(self.lines) * ctx.lead) / 2
            for line in self.lines:
                page.text(ctx.x0 + ctx.pad, _baseline(y, ctx.lead, ctx.fs), line, ctx.fs, BOLD)
                y -= ctx.lead
        elif self.row.type == "note":
            y = top - ctx.pad / 2
            for line in self.lines:
                page.text(ctx.x0, _baseline(y, ctx.small * 1.4, ctx.small), line, ctx.small, GREY)
                y -= ctx.small * 1.4
        return DONE, height


class _TableRow:
    """A table inside a form (处理经过, counts): caption band, column header, rows, optional totals."""

    def __init__(self, ctx: _Ctx, row: Row, values: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.row = row
        columns = row.columns
        total_w = sum(c.width for c in columns)
        self.xs: list[float] = []
        self.ws: list[float] = []
        x = ctx.x0
        for column in columns:
            w = ctx.width * column.width / total_w
            self.xs.append(x)
            self.ws.append(w)
            x += w
        fs = ctx.fs
        self.caption = ctx.m.wrap(row.label, ctx.width - 2 * ctx.pad, fs) if row.label else []
        self.head = [ctx.m.wrap(c.label, w - 2 * ctx.pad, fs) for c, w in zip(columns, self.ws, strict=True)]
        self.head_h = max(len(lines) for lines in self.head) * ctx.lead + ctx.pad
        data_rows = _table_rows(values.get(row.field), columns)
        self.rows: list[list[list[str]]] = [self._wrap_row(cells) for cells in data_rows]
        if row.totals and data_rows:
            sums = _column_sums(data_rows, range(len(columns)))
            first_text = next((i for i in range(len(columns)) if i not in sums), None)
            cells: list[Any] = [sums.get(i, "") for i in range(len(columns))]
            if first_text is not None:
                cells[first_text] = "合计"
            self.rows.append(self._wrap_row(cells))
        self.blank_rows = 0 if data_rows else row.blank_rows
        self.line = 0  # lines already printed of self.rows[self.index]
        self.index = 0
        self.first = True

    def _wrap_row(self, cells: Sequence[Any]) -> list[list[str]]:
        ctx = self.ctx
        return [ctx.m.wrap(format_value(v), w - 2 * ctx.pad, ctx.fs) or [""]
                for v, w in zip(cells, self.ws, strict=True)]

    def _caption_h(self) -> float:
        return len(self.caption) * self.ctx.lead + self.ctx.pad if self.caption else 0.0

    def _row_h(self, lines: int) -> float:
        return max(self.ctx.row_h, lines * self.ctx.lead + self.ctx.pad)

    def height(self) -> float:
        h = self._caption_h() + self.head_h
        for k in range(self.index, len(self.rows)):
            n = max(len(c) for c in self.rows[k]) - (self.line if k == self.index else 0)
            h += self._row_h(n)
        return h + self.blank_rows * self.ctx.row_h

    def place(self, page: PageLayout, top: float, avail: float | None) -> tuple[int, float]:
        ctx = self.ctx
        limit = top - (avail if avail is not None else self.height())
        y = top
        fixed = self._caption_h() + self.head_h
        if avail is not None and avail < fixed + ctx.row_h:
            return NONE, 0.0
        left, width = ctx.x0, ctx.width
        if self.caption:
            h = self._caption_h()
            page.fills.append((left, y - h, width, h, 0.85))
            page.boxes.append((left, y - h, width, h))
            text_top = y - ctx.pad / 2
            for line in self.caption if self.first else [self.row.label + CONTINUED]:
                tx = left + (width - ctx.m.width(line, ctx.fs)) / 2
                page.text(tx, _baseline(text_top, ctx.lead, ctx.fs), line, ctx.fs, BOLD)
                text_top -= ctx.lead
            y -= h
        page.fills.append((left, y - self.head_h, width, self.head_h, 0.93))
        self._grid_row(page, y, self.head_h, self.head, header=True)
        y -= self.head_h
        data_top = y
        texts: list[str] = []
        done = True
        while self.index < len(self.rows):
            cells = self.rows[self.index]
            n = max(len(c) for c in cells)
            remaining = n - self.line
            h = self._row_h(remaining)
            if y - h < limit - 0.01:
                fit = int((y - limit - ctx.pad) // ctx.lead)
                if avail is None or fit < 1 or (fit < remaining and h <= self._max_row_h() and y < data_top):
                    done = False
                    break
                part = [c[self.line:self.line + fit] for c in cells]
                self._grid_row(page, y, y - limit, part)
                texts.extend(t for c in part for t in c)
                y = limit
                self.line += fit
                if self.line >= n:  # the last lines fitted after all: no empty （续） row on the next page
                    self.index += 1
                    self.line = 0
                    done = self.index >= len(self.rows) and self.blank_rows == 0
                else:
                    done = False
                break
            part = [c[self.line:] for c in cells]
            self._grid_row(page, y, h, part)
            texts.extend(t for c in part for t in c)
            y -= h
            self.index += 1
            self.line = 0
        if done:
            for _ in range(self.blank_rows):
                self._grid_row(page, y, ctx.row_h, [[] for _ in self.ws])
                y -= ctx.row_h
            self.blank_rows = 0
        if self.row.field:
            page.fields.append(FieldBox(self.row.field, self.row.label,
                                        Rect(left, y, width, data_top - y), tuple(t for t in texts if t)))
        self.first = False
        return (DONE if done else PARTIAL), top - y

    def _max_row_h(self) -> float:
        return self.ctx.row_h * 4

    def _grid_row(self, page: PageLayout, top: float, h: float, cells: Sequence[Sequence[str]], *,
                  header: bool = False) -> None:
        ctx = self.ctx
        for x, w, lines, column in zip(self.xs, self.ws, cells, self.row.columns, strict=True):
            page.boxes.append((x, top - h, w, h))
            y = top - (h - len(lines) * ctx.lead) / 2 if header or len(lines) <= 1 else top - ctx.pad / 2
            align = "center" if header else column.align
            for line in lines:
                if align == "left":
                    tx = x + ctx.pad
                else:
                    lw = ctx.m.width(line, ctx.fs)
                    tx = x + (w - lw) / 2 if align == "center" else x + w - ctx.pad - lw
                page.text(tx, _baseline(y, ctx.lead, ctx.fs), line, ctx.fs, BOLD if header else PLAIN)
                y -= ctx.lead


def _table_rows(raw: Any, columns: Sequence[Column]) -> list[list[Any]]:
    """Rows of a table value as cell values: mappings go by column key, sequences by position."""
    if not isinstance(raw, list | tuple):
        return []
    rows: list[list[Any]] = []
    for item in raw:
        if isinstance(item, Mapping):
            rows.append([item.get(c.key or c.label) for c in columns])
        elif isinstance(item, list | tuple):
            cells = list(item[: len(columns)])
            if len(item) > len(columns):  # never drop a value: extra cells join the last column
                cells[-1] = "；".join(format_value(v) for v in item[len(columns) - 1:] if v not in (None, ""))
            rows.append(cells + [None] * (len(columns) - len(cells)))
        else:
            rows.append([item] + [None] * (len(columns) - 1))
    return rows


def _column_sums(rows: Sequence[Sequence[Any]], indexes: Iterable[int]) -> dict[int, Any]:
    """Sums of the columns whose values are all numbers (int, Decimal, float; not bool)."""
    sums: dict[int, Any] = {}
    for i in indexes:
        total: Any = 0
        numeric = False
        for row in rows:
            value = row[i] if i < len(row) else None
            if value is None or value == "":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                numeric = False
                break
            if isinstance(value, float) and isinstance(total, Decimal):
                value = Decimal(str(value))
            elif isinstance(value, Decimal) and isinstance(total, float):
                total = Decimal(str(total))
            total += value
            numeric = True
        if numeric:
            sums[i] = total
    return sums


def layout_form(template: FormTemplate, values: Mapping[str, Any] | None = None, *, company: str = "",
                signed: SignatureInfo | None = None, tampered: bool = False) -> FormLayout:
    """Lay out the body pages of one copy of a form (``values=None``: a blank form)."""
    ctx = _ctx(template.page)
    vals: Mapping[str, Any] = values or {}
    number = format_value(vals.get(template.number_field)) if template.number_field else ""
    header_h = _header_height(ctx, tampered and _inline_warning_x(ctx, template, number) is None)
    body_top = ctx.top - header_h
    body_bottom = ctx.bottom + ctx.footer_h
    full = body_top - body_bottom
    pages = [PageLayout()]
    runs: list[list[float]] = [[]]  # per page: [top, bottom, top, bottom, ...] of framed row runs
    y = body_top

    def new_page() -> None:
        nonlocal y
        pages.append(PageLayout())
        runs.append([])
        y = body_top

    def mark(top: float, height: float, framed: bool) -> None:
        page_runs = runs[-1]
        if not framed:
            return
        if page_runs and abs(page_runs[-1] - top) < 0.01:
            page_runs[-1] = top - height
        else:
            page_runs.extend([top, top - height])

    blocks = [_build_row(ctx, row, vals, signed) for row in template.rows]
    for k, (row, block) in enumerate(zip(template.rows, blocks, strict=True)):
        framed = row.type in ("cells", "table", "section")
        follower = blocks[k + 1] if k + 1 < len(blocks) and template.rows[k + 1].keep_with_previous else None
        while True:
            h = block.height()
            avail = y - body_bottom
            at_top = abs(y - body_top) < 0.01
            if follower is not None and h <= avail + 0.01 and h + follower.height() > avail + 0.01:
                # measured first: the row kept with this one would not fit after it on this page
                if not at_top and h + follower.height() <= full + 0.01:
                    new_page()  # both start the next page
                    continue
                status, used = block.place(pages[-1], y, avail - follower.height())
                if status != NONE:  # this row's end moves to the next page, with the kept row
                    mark(y, used, framed)
                    y -= used
                    if status == DONE:
                        break
                    new_page()
                    continue
            keep = ctx.row_h * 2 if row.type == "section" else 0.0  # a heading stays with what follows
            if h + keep <= avail + 0.01 or (h <= avail + 0.01 and at_top):
                _, used = block.place(pages[-1], y, None)
                mark(y, used, framed)
                y -= used
                break
            if not at_top and (h <= full + 0.01 and avail < full * _SPLIT_SHARE or row.type == "section"):
                new_page()  # a box that fits on the next page moves there whole rather than split small
                continue
            status, used = block.place(pages[-1], y, avail)
            if status == NONE:
                if at_top:  # cannot happen with sane settings; never loop forever
                    raise ValueError(f"表单模板 {template.source} 的一行在一页纸上放不下")
                new_page()
                continue
            mark(y, used, framed)
            y -= used
            if status == DONE:
                break
            new_page()
    for page, page_runs in zip(pages, runs, strict=True):
        for k in range(0, len(page_runs), 2):
            top, bottom = page_runs[k], page_runs[k + 1]
            page.frames.append((ctx.x0, bottom, ctx.width, top - bottom))

    number_box = _number_box(ctx, template)
    for page in pages:
        if number:
            page.fields.append(FieldBox(template.number_field, template.number_label, number_box, (number,)))
    qr = ""
    if template.qr:
        qr = formcode.encode(number) if number and formcode.SEPARATOR not in number else \
            formcode.encode_kind(template.name or template.title)
    return FormLayout(template, tuple(pages), number, number_box, template.company or company, header_h,
                      tampered, signed, qr)


def _build_row(ctx: _Ctx, row: Row, values: Mapping[str, Any],
               signed: SignatureInfo | None) -> _CellsRow | _TableRow | _BandRow:
    if row.type == "cells":
        blocks: list[_Block] = []
        col = 0
        for cell in row.cells:
            x = ctx.x0 + col * ctx.col_w
            blocks.append(_build_block(ctx, cell, x, cell.span * ctx.col_w, values, signed))
            col += cell.span
        return _CellsRow(ctx, blocks, max(ctx.row_h, row.height * MM))
    if row.type == "table":
        return _TableRow(ctx, row, values)
    return _BandRow(ctx, row)


# --------------------------------------------------------------------------------------------------
# Header, footer, watermark


def _header_height(ctx: _Ctx, warning_line: bool) -> float:
    h = ctx.company_size * 1.4 + ctx.title_size * 1.5 + ctx.fs * 2.2
    return h + (ctx.fs * 2.0 if warning_line else 0.0)


def _inline_warning_x(ctx: _Ctx, template: FormTemplate, number: str) -> float | None:
    """Where the 签字后被修改 warning starts when it fits on the 编号 line, between the number and the form
    code; None: it takes a line of its own under it (the body then starts lower)."""
    m = ctx.m
    box = _number_box(ctx, template)
    start = box.x + (min(m.width(number, ctx.fs), box.w) if number else 40 * MM) + ctx.fs * 2
    end = ctx.x0 + ctx.width
    if template.form_code:
        end -= m.width(f"表单编号：{template.form_code}", ctx.fs) + ctx.fs * 2
    width = m.width(TAMPERED_WARNING, ctx.fs)
    return start + (end - start - width) / 2 if width <= end - start else None


def _number_box(ctx: _Ctx, template: FormTemplate) -> Rect:
    base = _info_baseline(ctx)
    x = ctx.x0 + ctx.m.width(template.number_label + "：", ctx.fs)
    return Rect(x, base - ctx.fs * 0.5, ctx.width * 0.45, ctx.fs * 1.6)


def _info_baseline(ctx: _Ctx) -> float:
    return ctx.top - ctx.company_size * 1.4 - ctx.title_size * 1.5 - ctx.fs * 1.2


def _draw_header(c: Canvas, ctx: _Ctx, layout: FormLayout, page: PageLayout, copy: int,
                 recipient: str, continued: bool) -> None:
    t = layout.template
    m = ctx.m
    top = ctx.top
    cx = ctx.x0 + ctx.width / 2
    right = ctx.x0 + ctx.width
    if layout.qr:  # the code sits in the top-right corner: the copy tag and the stamp move left of it
        right -= QR_SIZE * MM + ctx.fs * 0.6
    tag_w = 0.0
    copies = layout.copies
    if len(copies) > 1:
        tag = f"第{_cn_number(copy)}联（一式{_cn_number(len(copies))}联）"
        if recipient:
            tag += f"  {recipient}"
        size = _fit_size(m, tag, ctx.fs, ctx.width * 0.3)
        tag_w = m.width(tag, size) + size
        base = top - ctx.company_size
        page.boxes.append((right - tag_w, base - size * 0.45, tag_w, size * 1.6))
        page.text(right - tag_w + size / 2, base, tag, size, BOLD)
    if layout.company:  # an over-long name shrinks rather than running into the copy tag
        size = _fit_size(m, layout.company, ctx.company_size, ctx.width - 2 * tag_w - ctx.fs)
        page.text(cx - m.width(layout.company, size) / 2, top - ctx.company_size, layout.company, size)
    title_base = top - ctx.company_size * 1.4 - ctx.title_size * 1.1
    title_size = ctx.title_size
    spacing = title_size * 0.25
    title_w = m.width(t.title, title_size) + spacing * (len(t.title) - 1)
    room = ctx.width * 0.56  # leaves room for the sign-off stamp on the right
    if title_w > room:
        scale = room / title_w
        title_size, spacing, title_w = title_size * scale, spacing * scale, room
    tx = cx - title_w / 2
    c_title = (tx, title_base, t.title, title_size, spacing)
    if continued:
        page.text(tx + title_w + ctx.fs * 0.5, title_base, "（续页）", ctx.fs)
    if layout.signed is not None:
        s = layout.signed
        line1 = "签字无效" if layout.tampered else f"已{s.role}"
        line2 = f"{s.signer}  {format_value(s.signed_at, 'date')}"
        size = ctx.fs
        w = max(m.width(line1, size * 1.2), m.width(line2, size)) + size * 1.2
        h = size * 3.0
        y0 = title_base - size
        page.stamps.append((right - w, y0, w, h))
        style = RED_BOLD
        big = size * 1.2
        page.text(right - w + (w - m.width(line1, big)) / 2, y0 + size * 1.75, line1, big, style)
        page.text(right - w + (w - m.width(line2, size)) / 2, y0 + size * 0.55, line2, size, RED)
    base = _info_baseline(ctx)
    label = t.number_label + "："
    page.text(ctx.x0, base, label, ctx.fs)
    if layout.number:
        box = layout.number_box
        page.text(box.x, base, layout.number, _fit_size(m, layout.number, ctx.fs, box.w))
    else:
        page.rules.append((layout.number_box.x, base - 2, layout.number_box.x + 40 * MM, base - 2))
    if t.form_code:
        code = f"表单编号：{t.form_code}"
        page.text(ctx.x0 + ctx.width - m.width(code, ctx.fs), base, code, ctx.fs)
    if layout.tampered:
        x = _inline_warning_x(ctx, t, layout.number)
        if x is None:
            page.text(ctx.x0, base - ctx.fs * 1.9, TAMPERED_WARNING, ctx.fs, RED_BOLD)
        else:
            page.text(x, base, TAMPERED_WARNING, ctx.fs, RED_BOLD)
    _flush_title(c, ctx, c_title)
    if layout.qr:
        _draw_qr(c, layout.qr, _qr_box(ctx))


def _qr_box(ctx: _Ctx) -> Rect:
    size = QR_SIZE * MM
    return Rect(ctx.x0 + ctx.width - size, ctx.top + QR_TOP_OUT * MM - size, size, size)


@functools.lru_cache(maxsize=256)
def _qr_runs(text: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The QR modules of ``text`` (level M) as dark runs (row, column, length) and the module count with the
    4-module quiet zone; computed once per code (the empty forms' codes recur). zxing-cpp encodes (the library
    that reads the codes back from scans): 0.08 ms a code, against 0.6 ms for reportlab's Python encoder,
    which was most of what the code added to one printed form (bench/bench_print.py)."""
    import zxingcpp

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = memoryview(code.to_image(scale=1, add_quiet_zones=False))
    rows, count = modules.shape  # type: ignore[misc]
    pixels = modules.tobytes()  # 0 dark, 255 light, row by row
    runs: list[tuple[int, int, int]] = []
    for r in range(rows):
        row = pixels[r * count:(r + 1) * count]
        col = 0
        while col < count:
            if row[col] == 0:
                start = col
                while col < count and row[col] == 0:
                    col += 1
                runs.append((r, start + 4, col - start))
            else:
                col += 1
    return count + 8, tuple(runs)


def _draw_qr(c: Canvas, text: str, box: Rect) -> None:
    count, runs = _qr_runs(text)
    module = box.w / count
    path = c.beginPath()
    top = box.y + box.h
    for r, col, n in runs:
        path.rect(box.x + col * module, top - (r + 5) * module, n * module, module)
    c.setFillGray(0)
    c.drawPath(path, stroke=0, fill=1)


def _flush_title(c: Canvas, ctx: _Ctx, title: tuple[float, float, str, float, float]) -> None:
    x, y, text, size, spacing = title
    t = c.beginText(x, y)
    t.setFont(ctx.m.font, size)
    t.setCharSpace(spacing)
    t.setTextRenderMode(2)  # fill + stroke: a bold face from the one regular font
    c.setLineWidth(0.5)
    t.textOut(text)
    t.setCharSpace(0)  # Tc and Tr persist in the graphics state: reset them for the next text
    t.setTextRenderMode(0)
    c.drawText(t)


def _footer_texts(page: PageLayout, m: _Metrics, x0: float, width: float, base: float, size: float,
                  printed_at: datetime, number: int, total: int, right_text: str) -> None:
    page.text(x0, base, f"打印时间：{printed_at.strftime(DATETIME_FORMAT)}", size, GREY)
    center = f"第 {number} 页 / 共 {total} 页"
    page.text(x0 + (width - m.width(center, size)) / 2, base, center, size, GREY)
    if right_text:
        page.text(x0 + width - m.width(right_text, size), base, right_text, size, GREY)


def _draw_watermark(c: Canvas, font: str, text: str, page_w: float, page_h: float) -> None:
    c.saveState()
    c.setFillColorRGB(0.55, 0.55, 0.55)
    c.setFillAlpha(0.22)
    c.translate(page_w / 2, page_h / 2)
    c.rotate(35)
    c.setFont(font, 150)
    c.drawCentredString(0, -50, text)
    c.restoreState()


# --------------------------------------------------------------------------------------------------
# Drawing


def _draw_page(c: Canvas, font: str, page: PageLayout) -> None:
    if page.fills:
        last = -1.0
        for x, y, w, h, gray in page.fills:
            if gray != last:
                c.setFillGray(gray)
                last = gray
            c.rect(x, y, w, h, stroke=0, fill=1)
        c.setFillGray(0)
    if page.rules:
        c.setStrokeGray(0.6)
        c.setLineWidth(0.4)
        c.setDash(1, 2)
        c.lines(page.rules)
        c.setDash()
        c.setStrokeGray(0)
    c.setLineWidth(0.6)
    for x, y, w, h in page.boxes:
        c.rect(x, y, w, h, stroke=1, fill=0)
    if page.lines:
        c.lines(page.lines)
    if page.frames:
        c.setLineWidth(1.3)
        for x, y, w, h in page.frames:
            c.rect(x, y, w, h, stroke=1, fill=0)
    if page.stamps:
        c.setStrokeColorRGB(0.8, 0.05, 0.05)
        c.setLineWidth(1.2)
        for x, y, w, h in page.stamps:
            c.roundRect(x, y, w, h, 3, stroke=1, fill=0)
        c.setStrokeGray(0)
    if page.checks:
        c.setLineWidth(0.7)
        ticks: list[tuple[float, float, float, float]] = []
        for x, y, s, ticked in page.checks:
            c.rect(x, y, s, s, stroke=1, fill=0)
            if ticked:
                ticks.append((x + s * 0.18, y + s * 0.52, x + s * 0.42, y + s * 0.2))
                ticks.append((x + s * 0.42, y + s * 0.2, x + s * 0.88, y + s * 0.9))
        if ticks:
            c.setLineWidth(1.4)
            c.lines(ticks)
    size = -1.0
    style = PLAIN
    c.setFont(font, 10)
    for x, y, text, text_size, text_style in page.texts:
        if text_style != style:
            if text_style in (RED, RED_BOLD):
                c.setFillColorRGB(0.8, 0.05, 0.05)
            elif text_style == GREY:
                c.setFillGray(0.35)
            else:
                c.setFillGray(0)
            style = text_style
        if text_style in (BOLD, RED_BOLD):
            t = c.beginText(x, y)
            t.setFont(font, text_size)
            t.setTextRenderMode(2)
            if text_style == RED_BOLD:
                c.setStrokeColorRGB(0.8, 0.05, 0.05)
            c.setLineWidth(0.3)
            t.textOut(text)
            t.setTextRenderMode(0)
            c.drawText(t)
            if text_style == RED_BOLD:
                c.setStrokeGray(0)
            size = -1.0
            continue
        if text_size != size:
            c.setFont(font, text_size)
            size = text_size
        c.drawString(x, y, text)
    c.setFillGray(0)


def _paint_form(c: Canvas, layout: FormLayout, *, draft: bool, revision: int, printed_at: datetime,
                first_page: int = 1, total_pages: int | None = None) -> int:
    """Draw every copy of a laid-out form; returns the number of pages drawn. ``first_page`` and
    ``total_pages``: the footer's numbers when more pages follow in the same document (a report's charts)."""
    template = layout.template
    ctx = _ctx(template.page)
    font = ctx.m.font
    total = total_pages if total_pages is not None else len(layout.pages)
    right = f"版本 {revision}" if revision > 0 else ""
    count = 0
    for copy, recipient in enumerate(layout.copies, start=1):
        for number, body in enumerate(layout.pages, start=1):
            chrome = PageLayout()
            _draw_header(c, ctx, layout, chrome, copy, recipient, number > 1)
            _footer_texts(chrome, ctx.m, ctx.x0, ctx.width, ctx.bottom + ctx.small * 0.3, ctx.small,
                          printed_at, first_page - 1 + number, total, right)
            _draw_page(c, font, body)
            _draw_page(c, font, chrome)
            if draft:
                _draw_watermark(c, font, "草稿", PAGE_W, PAGE_H)
            c.showPage()
            count += 1
    return count


def _new_canvas(target: str | IO[bytes], title: str, author: str, pagesize: tuple[float, float]) -> Canvas:
    # The initial font is ours too, so the PDF references no font it does not embed (no Helvetica).
    c = Canvas(target, pagesize=pagesize, pageCompression=1, initialFontName=_metrics().font,
               initialFontSize=10)
    c.setTitle(title)
    c.setAuthor(author)
    c.setCreator("huifang-desktop")
    return c


def _write(out: Output, title: str, author: str, pagesize: tuple[float, float],
           paint: Callable[[Canvas], int]) -> int:
    """Paint into ``out``; a path is written atomically (a temp file renamed when complete)."""
    if isinstance(out, str | Path):
        path = Path(out)
        tmp = path.with_name(f".{path.name}.part")
        try:
            c = _new_canvas(str(tmp), title, author, pagesize)
            pages = paint(c)
            c.save()
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return pages
    c = _new_canvas(out, title, author, pagesize)  # type: ignore[arg-type]
    pages = paint(c)
    c.save()
    return pages


def render_form(template: FormTemplate, values: Mapping[str, Any] | None, out: Output, *, company: str = "",
                draft: bool = False, signed: SignatureInfo | None = None, revision: int = 0,
                tampered: bool = False, printed_at: datetime) -> int:
    """Print one record (``values=None``: a blank form) with all its copies; returns the page count."""
    layout = layout_form(template, values, company=company, signed=signed, tampered=tampered)
    return _write(out, template.title, layout.company, A4,
                  lambda c: _paint_form(c, layout, draft=draft, revision=revision, printed_at=printed_at))


def render_forms(template: FormTemplate, records: Iterable[FormJob | Mapping[str, Any] | None],
                 out: Output, *, company: str = "", printed_at: datetime,
                 progress: ProgressFn | None = None) -> int:
    """Print many records into one PDF. ``progress(done, total)`` returning False cancels
    (:class:`RenderCancelled`; nothing is written). Returns the page count."""
    jobs = [r if isinstance(r, FormJob) else FormJob(r) for r in records]
    n = len(jobs)

    def paint(c: Canvas) -> int:
        if progress is not None and progress(0, n) is False:
            raise RenderCancelled()
        pages = 0
        for i, job in enumerate(jobs, start=1):
            layout = layout_form(job.template or template, job.values, company=company, signed=job.signed,
                                 tampered=job.tampered)
            pages += _paint_form(c, layout, draft=job.draft, revision=job.revision, printed_at=printed_at)
            if progress is not None and progress(i, n) is False:
                raise RenderCancelled()
        return pages

    return _write(out, template.title, template.company or company, A4, paint)


# --------------------------------------------------------------------------------------------------
# Ledger tables (landscape)


@dataclass(frozen=True, slots=True)
class TableFit:
    """A ledger whose column widths follow its content (:func:`fit_widths`): ``nowrap`` columns (labels) are
    as wide as their longest value, the others share the rest by their usual length; a cell of more than
    ``max_lines`` lines is cut there (“…[n]”) and its whole text printed in an appendix after the table
    (``appendix``) or left out. ``key_column``: the label naming a row in the appendix (with ``alt_key``
    when the first is empty)."""

    nowrap: frozenset[str] = frozenset()
    max_lines: int = 2
    appendix: bool = True
    key_column: str = ""
    alt_key: tuple[str, ...] = ()
    appendix_title: str = "附录：未印全的内容"


_CUT = "…"


def fit_widths(labels: Sequence[str], texts: Sequence[Sequence[str]], width: float, font: str, size: float,
               header_size: float, pad: float, nowrap: Iterable[int]) -> list[float]:
    """Column widths (pt) summing to ``width`` for the cell ``texts`` (rows of strings), measured with
    reportlab's ``stringWidth``. A ``nowrap`` column gets its widest value (or its header on two lines).
    The other columns start at four characters (or their header on two lines) and share the rest greedily:
    each point goes where it puts the most values on one line (a value brought within two lines counts a
    quarter), so the rare long text wraps or is cut rather than widening a column for everybody."""
    fixed = set(nowrap)
    measured: dict[str, float] = {}

    def sw(text: str) -> float:
        w = measured.get(text)
        if w is None:
            w = measured[text] = pdfmetrics.stringWidth(text, font, size)
        return w

    slack = 2 * pad + 1.0
    head_min: list[float] = []
    for label in labels:
        half = (len(label) + 1) // 2
        head_min.append(max(pdfmetrics.stringWidth(label[:half], font, header_size),
                            pdfmetrics.stringWidth(label[half:], font, header_size)) + slack)
    widths: list[float] = [0.0] * len(labels)
    values: dict[int, list[float]] = {}
    four = sw("四个汉字") + slack
    for i in range(len(labels)):
        column = [sw(row[i]) for row in texts if i < len(row) and row[i]]
        if i in fixed:
            widths[i] = max(head_min[i], max(column, default=0.0) + slack)
        else:
            values[i] = column
            widths[i] = max(head_min[i], min(four, max(column, default=0.0) + slack))
    flexible = list(values)
    room = width - sum(widths)
    if room <= 0 or not flexible:  # the page is too narrow for the rule: share it by need
        total = sum(widths) or 1.0
        return [width * w / total for w in widths]
    span = int(width) + 2
    fits: dict[int, list[float]] = {}  # per column: values on one line (+ ¼ on two) at each inner width
    for i, column in values.items():
        one = [0] * (span + 1)
        two = [0] * (span + 1)
        for v in column:
            one[min(span, int(v) + 1)] += 1
            two[min(span, int(v / 2) + 1)] += 1
        acc, out = 0.0, []
        for k in range(span + 1):
            acc += one[k] + 0.25 * two[k]
            out.append(acc)
        fits[i] = out
    inner = {i: int(widths[i] - slack) for i in flexible}
    left = int(room)
    while left > 0:
        best: tuple[float, int, int] | None = None
        for i in flexible:
            now = max(0, min(span, inner[i]))
            base = fits[i][now]
            for k in range(now + 1, min(span, now + left) + 1):
                gain = (fits[i][k] - base) / (k - now)
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, i, k)
        if best is None:
            break
        _, i, k = best
        step = k - max(0, min(span, inner[i]))
        inner[i] += step
        widths[i] += step
        left -= step
    spare = width - sum(widths)  # to the columns whose values still wrap, by how many do
    need = {i: sum(1 for v in values[i] if v > inner[i]) for i in flexible}
    total = sum(need.values())
    weight = sum(widths[i] for i in flexible)
    for i in flexible:
        widths[i] += spare * (need[i] / total if total else widths[i] / weight)
    return widths


def render_table(title: str, columns: Sequence[tuple[str, float, str]], rows: Iterable[Sequence[Any]],
                 out: Output, *, subtitle: str = "", totals_columns: Iterable[int | str] = (),
                 company: str = "", printed_at: datetime | None = None, style: TableStyle = TableStyle(),
                 progress: ProgressFn | None = None, fit: TableFit | None = None) -> int:
    """Print a ledger as a landscape A4 table with the column header on every page.

    ``columns``: (label, width weight, align left|center|right). ``totals_columns`` (indexes or labels)
    get a 本页合计 row on every page and a 总计 row on the last. ``fit``: widths from the content, cut
    cells and their appendix (:class:`TableFit`); the weights are then ignored. Returns the page count
    (appendix included: the pages are numbered through).
    """
    m = _metrics()
    page_w, page_h = landscape(A4)
    printed = printed_at or datetime.now()
    labels = [c[0] for c in columns]
    totals = sorted({labels.index(k) if isinstance(k, str) else int(k) for k in totals_columns})
    for k in totals:
        if not 0 <= k < len(columns):
            raise ValueError(f"合计列 {k} 不存在")
    margin = style.margin * MM
    fs = style.font_size
    lead = fs * style.leading
    pad = style.padding * MM
    x0 = margin
    width = page_w - 2 * margin
    aligns = [c[2] for c in columns]
    min_row = style.min_row_height * MM
    raw_rows = rows if isinstance(rows, list) else list(rows)
    texts = [[format_value(raw[i] if i < len(raw) else None) for i in range(len(columns))] for raw in raw_rows]
    if fit is not None:
        ws = fit_widths(labels, texts, width, m.font, fs, style.header_font_size, pad,
                        [i for i, label in enumerate(labels) if label in fit.nowrap])
    else:
        weight = sum(c[1] for c in columns) or 1.0
        ws = [width * c[1] / weight for c in columns]
    notes: list[tuple[int, str, str, str]] = []  # (note number, row name, column, whole text)

    def row_name(cells: Sequence[str]) -> str:
        assert fit is not None
        for label in (fit.key_column, *fit.alt_key):
            if label in labels and cells[labels.index(label)]:
                return cells[labels.index(label)]
        return ""

    def wrap_cells(cells: Sequence[str], widths: Sequence[float], size: float) -> list[list[str]]:
        out_cells: list[list[str]] = []
        for i, (t, w) in enumerate(zip(cells, widths, strict=True)):
            lines = m.wrap(t, w - 2 * pad, size) or [""]
            if fit is not None and fit.max_lines and len(lines) > fit.max_lines:
                mark = _CUT
                if fit.appendix:
                    notes.append((len(notes) + 1, row_name(cells), labels[i], t))
                    mark += f"[{len(notes)}]"
                kept = lines[:fit.max_lines]
                last = kept[-1]
                room = w - 2 * pad - m.width(mark, size)
                while last and m.width(last, size) > room:
                    last = last[:-1]
                kept[-1] = last + mark
                lines = kept
            out_cells.append(lines)
        return out_cells

    top = page_h - margin
    title_h = style.title_size * 1.6 + (fs * 1.8 if subtitle else 0.0) + (fs * 1.6 if company else 0.0)
    footer_h = fs * 2.2
    table_top = top - title_h
    totals_row_h = max(min_row, lead + 2 * pad)

    Laid = list[list[tuple[list[list[str]], float, Sequence[Any] | None]]]

    def lay_out(wrapped_rows: Iterable[tuple[list[list[str]], Sequence[Any] | None]], head_h: float,
                with_totals: bool) -> Laid:
        """Pages of (wrapped cells, height, raw row or None) — a row taller than a page is split."""
        floor = margin + footer_h + (totals_row_h if with_totals else 0.0)
        pages: Laid = [[]]
        y = table_top - head_h
        body_h = table_top - head_h - floor
        for wrapped, raw in wrapped_rows:
            n = max(len(w) for w in wrapped)
            h = max(min_row, n * lead + 2 * pad)
            if h <= y - floor + 0.01:
                pages[-1].append((wrapped, h, raw))
                y -= h
                continue
            if h <= body_h + 0.01:
                pages.append([(wrapped, h, raw)])
                y = table_top - head_h - h
                continue
            line = 0
            counted = False
            while line < n:  # a giant cell: split by lines, the totals count the row once
                fit_lines = int((y - floor - 2 * pad) // lead)
                if fit_lines < 1:
                    pages.append([])
                    y = table_top - head_h
                    continue
                part = [w[line:line + fit_lines] for w in wrapped]
                ph = max(min_row, max(len(p) for p in part) * lead + 2 * pad)
                pages[-1].append((part, ph, None if counted else raw))
                counted = True
                y -= ph
                line += fit_lines
                if line < n:
                    pages.append([])
                    y = table_top - head_h
        if len(pages) > 1 and not pages[-1]:
            pages.pop()
        if with_totals and len(pages) > 1:  # the 总计 row must fit on the last page: else its last row moves
            last = pages[-1]
            if sum(h for _, h, _ in last) + totals_row_h > table_top - head_h - floor + 0.01:
                pages.append([last.pop()] if len(last) > 1 else [])
        return pages

    def header(labels_: Sequence[str], widths: Sequence[float]) -> tuple[list[list[str]], float]:
        head = [m.wrap(t, w - 2 * pad, style.header_font_size) or [""] for t, w in zip(labels_, widths,
                                                                                          strict=True)]
        return head, max(len(h) for h in head) * style.header_font_size * style.leading + 2 * pad

    head, head_h = header(labels, ws)
    pages = lay_out(((wrap_cells(cells, ws, fs), raw) for cells, raw in zip(texts, raw_rows, strict=True)),
                    head_h, bool(totals))
    parts: list[tuple[str, list[str], list[float], list[str], list[list[str]], float, Laid, bool]] = [
        (title, labels, ws, aligns, head, head_h, pages, bool(totals))]
    if notes:
        assert fit is not None
        note_labels = ["附注", fit.key_column or "行", "栏目", "完整内容"]
        note_texts = [[f"[{n}]", name, column, text] for n, name, column, text in notes]
        small = [pdfmetrics.stringWidth(t, m.font, fs) + 2 * pad + 1.0 for t in ("[9999]", "栏目栏目")]
        key_w = max([pdfmetrics.stringWidth(r[1], m.font, fs) for r in note_texts] + [fs * 2]) + 2 * pad + 1.0
        note_ws = [small[0], key_w, small[1], width - small[0] - key_w - small[1]]
        saved_fit, fit = fit, None  # the appendix prints every line
        note_head, note_head_h = header(note_labels, note_ws)
        note_pages = lay_out(((wrap_cells(cells, note_ws, fs), None) for cells in note_texts), note_head_h,
                             False)
        fit = saved_fit
        parts.append((f"{title} — {fit.appendix_title}", note_labels, note_ws, ["center", "left", "left", "left"],
                      note_head, note_head_h, note_pages, False))
    total_pages = sum(len(part[6]) for part in parts)

    def paint(c: Canvas) -> int:
        font = m.font
        grand: dict[int, Any] = {}
        number = 0
        for part_title, _labels, widths, part_aligns, part_head, part_head_h, part_pages, part_totals in parts:
            xs = [x0 + sum(widths[:i]) for i in range(len(widths))]
            last_of_part = len(part_pages)
            for k, page_rows in enumerate(part_pages, start=1):
                number += 1
                page = PageLayout()
                ty = top - style.title_size
                if company:
                    page.text(x0 + (width - m.width(company, fs * 1.2)) / 2, top - fs * 1.2, company, fs * 1.2)
                    ty -= fs * 1.6
                tw = m.width(part_title, style.title_size)
                page.text(x0 + (width - tw) / 2, ty, part_title, style.title_size, BOLD)
                if subtitle:
                    page.text(x0 + (width - m.width(subtitle, fs)) / 2, ty - fs * 1.9, subtitle, fs, GREY)
                y = table_top
                page.fills.append((x0, y - part_head_h, width, part_head_h, 0.88))
                _table_line(page, m, xs, widths, part_aligns, y, part_head_h, part_head, style.header_font_size,
                            style.header_font_size * style.leading, pad, header=True)
                y -= part_head_h
                raws = []
                for wrapped, h, raw in page_rows:
                    _table_line(page, m, xs, widths, part_aligns, y, h, wrapped, fs, lead, pad)
                    y -= h
                    if raw is not None:
                        raws.append(raw)
                if part_totals:
                    sums = _column_sums(raws, totals)
                    for key, v in sums.items():
                        grand[key] = grand.get(key, 0) + v if key in grand else v
                    rh = totals_row_h
                    rows_out = [("本页合计", sums)]
                    if k == last_of_part and last_of_part > 1:
                        rows_out.append(("总计", grand))
                    for caption, values in rows_out:
                        cells = [format_value(values.get(i)) if i in totals else "" for i in range(len(columns))]
                        first_free = next((i for i in range(len(columns)) if i not in totals), 0)
                        cells[first_free] = caption
                        page.fills.append((x0, y - rh, width, rh, 0.95))
                        _table_line(page, m, xs, widths, part_aligns, y, rh, [[t] for t in cells], fs, lead, pad,
                                    bold=True)
                        y -= rh
                page.frames.append((x0, y, width, table_top - y))
                _footer_texts(page, m, x0, width, margin, fs, printed, number, total_pages, "")
                _draw_page(c, font, page)
                c.showPage()
                if progress is not None and progress(number, total_pages) is False:
                    raise RenderCancelled()
        return total_pages

    return _write(out, title, company, (page_w, page_h), paint)


def _table_line(page: PageLayout, m: _Metrics, xs: Sequence[float], ws: Sequence[float],
                aligns: Sequence[str], top: float, h: float, cells: Sequence[Sequence[str]], size: float,
                lead: float, pad: float, *, header: bool = False, bold: bool = False) -> None:
    for x, w, align, lines in zip(xs, ws, aligns, cells, strict=True):
        page.boxes.append((x, top - h, w, h))
        y = top - (h - len(lines) * lead) / 2
        a = "center" if header else align
        for line in lines:
            if a == "left":
                tx = x + pad
            else:
                lw = m.width(line, size)
                tx = x + (w - lw) / 2 if a == "center" else x + w - pad - lw
            page.text(tx, _baseline(y, lead, size), line, size, BOLD if header or bold else PLAIN)
            y -= lead
