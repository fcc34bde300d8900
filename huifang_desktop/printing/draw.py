"""The drawing step: a laid-out page replayed onto the reportlab canvas (fills, rules, boxes, lines, frames,
stamps, check boxes, then the strings, grouped so the graphics state changes as little as possible), the
page footer, and writing a document (a path atomically, through a temp file renamed when complete)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO

from reportlab.pdfgen.canvas import Canvas

from huifang_desktop.printing.measure import _Metrics, _metrics
from huifang_desktop.printing.pages import BOLD, GREY, PLAIN, RED, RED_BOLD, Output, PageLayout
from huifang_desktop.printing.values import DATETIME_FORMAT


def _footer_texts(
    page: PageLayout,
    m: _Metrics,
    x0: float,
    width: float,
    base: float,
    size: float,
    printed_at: datetime,
    number: int,
    total: int,
    right_text: str,
) -> None:
    page.text(x0, base, f"打印时间：{printed_at.strftime(DATETIME_FORMAT)}", size, GREY)
    center = f"第 {number} 页 / 共 {total} 页"
    page.text(x0 + (width - m.width(center, size)) / 2, base, center, size, GREY)
    if right_text:
        page.text(x0 + width - m.width(right_text, size), base, right_text, size, GREY)


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


def _new_canvas(target: str | IO[bytes], title: str, author: str, pagesize: tuple[float, float]) -> Canvas:
    # The initial font is ours too, so the PDF references no font it does not embed (no Helvetica).
    c = Canvas(
        target,
        pagesize=pagesize,
        pageCompression=1,
        initialFontName=_metrics().font,  # type: ignore[arg-type]  # a name: the stubs say a number
        initialFontSize=10,
    )
    c.setTitle(title)
    c.setAuthor(author)
    c.setCreator("huifang-desktop")
    return c


def _write(
    out: Output, title: str, author: str, pagesize: tuple[float, float], paint: Callable[[Canvas], int]
) -> int:
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
    c = _new_canvas(out, title, author, pagesize)
    pages = paint(c)
    c.save()
    return pages
