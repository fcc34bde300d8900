"""The header of every form page, drawn per copy (联): company, title (with “（续页）” on continuation
pages), 编号 and 表单编号, the copy tag, the sign-off stamp, the tampered warning and the QR code; and the
草稿 watermark."""

from __future__ import annotations

from reportlab.pdfgen.canvas import Canvas

from huifang_desktop.printing.layout import (
    TAMPERED_WARNING,
    FormLayout,
    _info_baseline,
    _inline_warning_x,
)
from huifang_desktop.printing.measure import MM, _Ctx, _fit_size
from huifang_desktop.printing.pages import BOLD, RED, RED_BOLD, PageLayout
from huifang_desktop.printing.qr import QR_SIZE, _draw_qr, _qr_box
from huifang_desktop.printing.values import _cn_number, format_value


def _draw_header(
    c: Canvas, ctx: _Ctx, layout: FormLayout, page: PageLayout, copy: int, recipient: str, continued: bool
) -> None:
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


def _draw_watermark(c: Canvas, font: str, text: str, page_w: float, page_h: float) -> None:
    c.saveState()
    c.setFillColorRGB(0.55, 0.55, 0.55)
    c.setFillAlpha(0.22)
    c.translate(page_w / 2, page_h / 2)
    c.rotate(35)
    c.setFont(font, 150)
    c.drawCentredString(0, -50, text)
    c.restoreState()
