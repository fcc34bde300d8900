"""Laying out a form: where every string, box and line of the body pages goes (:func:`layout_form`), and
the header's measures the body depends on (its height, the 编号 box, room for the tampered warning).

Rows are placed top to bottom; a row that does not fit is split (cells line by line, tables row by row) or
moves whole to the next page, and a row marked ``keep_with_previous`` starts a page together with the one
before it. The value boxes are recorded per page, for the tests to compare with the PDF.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from huifang_desktop.domain import formcode
from huifang_desktop.printing.cells import _Block, _build_block, _CellsRow
from huifang_desktop.printing.measure import MM, _Ctx, _ctx
from huifang_desktop.printing.pages import DONE, NONE, FieldBox, PageLayout, Rect, SignatureInfo
from huifang_desktop.printing.qr import _qr_box
from huifang_desktop.printing.rows import _BandRow, _TableRow
from huifang_desktop.printing.templates import FormTemplate, Row
from huifang_desktop.printing.values import format_value

_SPLIT_SHARE = 0.3  # a box is split (not moved) when at least this share of the page is left
TAMPERED_WARNING = "注意：本记录在签字后被修改，签字无效，请重新审核。"


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


def layout_form(
    template: FormTemplate,
    values: Mapping[str, Any] | None = None,
    *,
    company: str = "",
    signed: SignatureInfo | None = None,
    tampered: bool = False,
) -> FormLayout:
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
        qr = (
            formcode.encode(number)
            if number and formcode.SEPARATOR not in number
            else formcode.encode_kind(template.name or template.title)
        )
    return FormLayout(
        template,
        tuple(pages),
        number,
        number_box,
        template.company or company,
        header_h,
        tampered,
        signed,
        qr,
    )


def _build_row(
    ctx: _Ctx, row: Row, values: Mapping[str, Any], signed: SignatureInfo | None
) -> _CellsRow | _TableRow | _BandRow:
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
