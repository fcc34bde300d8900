"""Ledgers printed as landscape A4 tables (:func:`render_table`): the column header on every page, a
本页合计 row on each page and a 总计 row on the last, and with :class:`TableFit` column widths that follow
the content, over-long cells cut and printed whole in an appendix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from huifang_desktop.printing.draw import _draw_page, _footer_texts, _write
from huifang_desktop.printing.measure import MM, _baseline, _Metrics, _metrics
from huifang_desktop.printing.pages import (
    BOLD,
    GREY,
    PLAIN,
    Output,
    PageLayout,
    ProgressFn,
    RenderCancelled,
    TableStyle,
)
from huifang_desktop.printing.values import _column_sums, format_value


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


def fit_widths(
    labels: Sequence[str],
    texts: Sequence[Sequence[str]],
    width: float,
    font: str,
    size: float,
    header_size: float,
    pad: float,
    nowrap: Iterable[int],
) -> list[float]:
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
        head_min.append(
            max(
                pdfmetrics.stringWidth(label[:half], font, header_size),
                pdfmetrics.stringWidth(label[half:], font, header_size),
            )
            + slack
        )
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


def render_table(
    title: str,
    columns: Sequence[tuple[str, float, str]],
    rows: Iterable[Sequence[Any]],
    out: Output,
    *,
    subtitle: str = "",
    totals_columns: Iterable[int | str] = (),
    company: str = "",
    printed_at: datetime | None = None,
    style: TableStyle = TableStyle(),  # noqa: B008 - frozen
    progress: ProgressFn | None = None,
    fit: TableFit | None = None,
) -> int:
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
    texts = [
        [format_value(raw[i] if i < len(raw) else None) for i in range(len(columns))] for raw in raw_rows
    ]
    if fit is not None:
        ws = fit_widths(
            labels,
            texts,
            width,
            m.font,
            fs,
            style.header_font_size,
            pad,
            [i for i, label in enumerate(labels) if label in fit.nowrap],
        )
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
                kept = lines[: fit.max_lines]
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

    def lay_out(
        wrapped_rows: Iterable[tuple[list[list[str]], Sequence[Any] | None]], head_h: float, with_totals: bool
    ) -> Laid:
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
                part = [w[line : line + fit_lines] for w in wrapped]
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
        head = [
            m.wrap(t, w - 2 * pad, style.header_font_size) or [""]
            for t, w in zip(labels_, widths, strict=True)
        ]
        return head, max(len(h) for h in head) * style.header_font_size * style.leading + 2 * pad

    head, head_h = header(labels, ws)
    pages = lay_out(
        ((wrap_cells(cells, ws, fs), raw) for cells, raw in zip(texts, raw_rows, strict=True)),
        head_h,
        bool(totals),
    )
    parts: list[tuple[str, list[str], list[float], list[str], list[list[str]], float, Laid, bool]] = [
        (title, labels, ws, aligns, head, head_h, pages, bool(totals))
    ]
    if notes:
        assert fit is not None
        note_labels = ["附注", fit.key_column or "行", "栏目", "完整内容"]
        note_texts = [[f"[{n}]", name, column, text] for n, name, column, text in notes]
        small = [pdfmetrics.stringWidth(t, m.font, fs) + 2 * pad + 1.0 for t in ("[9999]", "栏目栏目")]
        key_w = max([pdfmetrics.stringWidth(r[1], m.font, fs) for r in note_texts] + [fs * 2]) + 2 * pad + 1.0
        note_ws = [small[0], key_w, small[1], width - small[0] - key_w - small[1]]
        saved_fit, fit = fit, None  # the appendix prints every line
        note_head, note_head_h = header(note_labels, note_ws)
        note_pages = lay_out(
            ((wrap_cells(cells, note_ws, fs), None) for cells in note_texts), note_head_h, False
        )
        fit = saved_fit
        parts.append(
            (
                f"{title} — {fit.appendix_title}",
                note_labels,
                note_ws,
                ["center", "left", "left", "left"],
                note_head,
                note_head_h,
                note_pages,
                False,
            )
        )
    total_pages = sum(len(part[6]) for part in parts)

    def paint(c: Canvas) -> int:
        font = m.font
        grand: dict[int, Any] = {}
        number = 0
        for (
            part_title,
            _labels,
            widths,
            part_aligns,
            part_head,
            part_head_h,
            part_pages,
            part_totals,
        ) in parts:
            xs = [x0 + sum(widths[:i]) for i in range(len(widths))]
            last_of_part = len(part_pages)
            for k, page_rows in enumerate(part_pages, start=1):
                number += 1
                page = PageLayout()
                ty = top - style.title_size
                if company:
                    page.text(
                        x0 + (width - m.width(company, fs * 1.2)) / 2, top - fs * 1.2, company, fs * 1.2
                    )
                    ty -= fs * 1.6
                tw = m.width(part_title, style.title_size)
                page.text(x0 + (width - tw) / 2, ty, part_title, style.title_size, BOLD)
                if subtitle:
                    page.text(x0 + (width - m.width(subtitle, fs)) / 2, ty - fs * 1.9, subtitle, fs, GREY)
                y = table_top
                page.fills.append((x0, y - part_head_h, width, part_head_h, 0.88))
                _table_line(
                    page,
                    m,
                    xs,
                    widths,
                    part_aligns,
                    y,
                    part_head_h,
                    part_head,
                    style.header_font_size,
                    style.header_font_size * style.leading,
                    pad,
                    header=True,
                )
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
                        cells = [
                            format_value(values.get(i)) if i in totals else "" for i in range(len(columns))
                        ]
                        first_free = next((i for i in range(len(columns)) if i not in totals), 0)
                        cells[first_free] = caption
                        page.fills.append((x0, y - rh, width, rh, 0.95))
                        _table_line(
                            page,
                            m,
                            xs,
                            widths,
                            part_aligns,
                            y,
                            rh,
                            [[t] for t in cells],
                            fs,
                            lead,
                            pad,
                            bold=True,
                        )
                        y -= rh
                page.frames.append((x0, y, width, table_top - y))
                _footer_texts(page, m, x0, width, margin, fs, printed, number, total_pages, "")
                _draw_page(c, font, page)
                c.showPage()
                if progress is not None and progress(number, total_pages) is False:
                    raise RenderCancelled()
        return total_pages

    return _write(out, title, company, (page_w, page_h), paint)


def _table_line(
    page: PageLayout,
    m: _Metrics,
    xs: Sequence[float],
    ws: Sequence[float],
    aligns: Sequence[str],
    top: float,
    h: float,
    cells: Sequence[Sequence[str]],
    size: float,
    lead: float,
    pad: float,
    *,
    header: bool = False,
    bold: bool = False,
) -> None:
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
