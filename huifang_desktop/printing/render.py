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

This module assembles documents (every copy and page of a form, a batch of forms into one PDF) and is the
printing package's public face; the steps live beside it, each importing only those below it:

- ``measure``: font metrics, wrapping, a template's sizes in points; ``values``: how values print;
- ``pages``: the page model and the print job's records;
- ``signatures``, ``cells``, ``rows``: the blocks of a form's rows; ``qr``: the header's code;
- ``layout``: :func:`layout_form`; ``header``: the page header and watermark; ``draw``: the canvas step;
- ``ledger_table``: :func:`render_table`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from huifang_desktop.printing.draw import _draw_page, _footer_texts, _write
from huifang_desktop.printing.header import _draw_header, _draw_watermark
from huifang_desktop.printing.layout import FormLayout, layout_form
from huifang_desktop.printing.ledger_table import TableFit, render_table
from huifang_desktop.printing.measure import PAGE_H, PAGE_W, _ctx
from huifang_desktop.printing.pages import (
    FieldBox,
    FormJob,
    Output,
    PageLayout,
    ProgressFn,
    Rect,
    RenderCancelled,
    SignatureInfo,
    TableStyle,
)
from huifang_desktop.printing.templates import FormTemplate
from huifang_desktop.printing.values import format_value

# The package's names (``huifang_desktop.printing``), importable from here as before the steps moved out.
__all__ = [
    "FieldBox",
    "FormJob",
    "FormLayout",
    "Output",
    "ProgressFn",
    "Rect",
    "RenderCancelled",
    "SignatureInfo",
    "TableFit",
    "TableStyle",
    "format_value",
    "layout_form",
    "render_form",
    "render_forms",
    "render_table",
]


def _paint_form(
    c: Canvas,
    layout: FormLayout,
    *,
    draft: bool,
    revision: int,
    printed_at: datetime,
    first_page: int = 1,
    total_pages: int | None = None,
) -> int:
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
            _footer_texts(
                chrome,
                ctx.m,
                ctx.x0,
                ctx.width,
                ctx.bottom + ctx.small * 0.3,
                ctx.small,
                printed_at,
                first_page - 1 + number,
                total,
                right,
            )
            _draw_page(c, font, body)
            _draw_page(c, font, chrome)
            if draft:
                _draw_watermark(c, font, "草稿", PAGE_W, PAGE_H)
            c.showPage()
            count += 1
    return count


def render_form(
    template: FormTemplate,
    values: Mapping[str, Any] | None,
    out: Output,
    *,
    company: str = "",
    draft: bool = False,
    signed: SignatureInfo | None = None,
    revision: int = 0,
    tampered: bool = False,
    printed_at: datetime,
) -> int:
    """Print one record (``values=None``: a blank form) with all its copies; returns the page count."""
    layout = layout_form(template, values, company=company, signed=signed, tampered=tampered)
    return _write(
        out,
        template.title,
        layout.company,
        A4,
        lambda c: _paint_form(c, layout, draft=draft, revision=revision, printed_at=printed_at),
    )


def render_forms(
    template: FormTemplate,
    records: Iterable[FormJob | Mapping[str, Any] | None],
    out: Output,
    *,
    company: str = "",
    printed_at: datetime,
    progress: ProgressFn | None = None,
) -> int:
    """Print many records into one PDF. ``progress(done, total)`` returning False cancels
    (:class:`RenderCancelled`; nothing is written). Returns the page count."""
    jobs = [r if isinstance(r, FormJob) else FormJob(r) for r in records]
    n = len(jobs)

    def paint(c: Canvas) -> int:
        if progress is not None and progress(0, n) is False:
            raise RenderCancelled()
        pages = 0
        for i, job in enumerate(jobs, start=1):
            layout = layout_form(
                job.template or template,
                job.values,
                company=company,
                signed=job.signed,
                tampered=job.tampered,
            )
            pages += _paint_form(c, layout, draft=job.draft, revision=job.revision, printed_at=printed_at)
            if progress is not None and progress(i, n) is False:
                raise RenderCancelled()
        return pages

    return _write(out, template.title, template.company or company, A4, paint)
