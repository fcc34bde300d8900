"""The other rows of a form: a section heading band, a free note or a gap, and a table inside the form
(处理经过, counts) with its caption, a column header repeated on each page, and an optional 合计 row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from huifang_desktop.printing.measure import MM, _baseline, _Ctx
from huifang_desktop.printing.pages import BOLD, DONE, GREY, NONE, PARTIAL, PLAIN, FieldBox, PageLayout, Rect
from huifang_desktop.printing.templates import Row
from huifang_desktop.printing.values import CONTINUED, _column_sums, _table_rows, format_value


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
        return [
            ctx.m.wrap(format_value(v), w - 2 * ctx.pad, ctx.fs) or [""]
            for v, w in zip(cells, self.ws, strict=True)
        ]

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
                part = [c[self.line : self.line + fit] for c in cells]
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
            part = [c[self.line :] for c in cells]
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
            page.fields.append(
                FieldBox(
                    self.row.field,
                    self.row.label,
                    Rect(left, y, width, data_top - y),
                    tuple(t for t in texts if t),
                )
            )
        self.first = False
        return (DONE if done else PARTIAL), top - y

    def _max_row_h(self) -> float:
        return self.ctx.row_h * 4

    def _grid_row(
        self, page: PageLayout, top: float, h: float, cells: Sequence[Sequence[str]], *, header: bool = False
    ) -> None:
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
