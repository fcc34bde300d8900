"""Measuring text for the printed forms and ledgers: character widths of the embedded CJK font, line
wrapping with the Chinese line-break rules, and a form template's sizes in points.

Everything here is remembered (the widths per character, the wrapped lines per text and width, the sizes
per page setup): a batch of a thousand forms measures the same labels a thousand times.
"""

from __future__ import annotations

import functools

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics

from huifang_desktop.printing.fonts import register_font
from huifang_desktop.printing.templates import PageSetup

MM = 72.0 / 25.4
PAGE_W, PAGE_H = A4


_WRAP_MEMO = 4096  # wrapped texts remembered (then forgotten all at once)


class _Metrics:
    """Character widths of the registered TrueType font, cached per character."""

    __slots__ = ("_balanced_wraps", "_cache", "_default", "_face_widths", "_wrapped", "font")

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
            if (
                sep
                and tail
                and len(lines) == 2
                and all(self.width(part, size) <= width for part in (head + sep, tail))
            ):
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


def _fit_size(m: _Metrics, text: str, size: float, room: float) -> float:
    """The font size at which ``text`` fits ``room`` (a long name on a signature line shrinks)."""
    width = m.width(text, size)
    return size if width <= room or width <= 0 else size * max(room, 1.0) / width


def _baseline(top: float, line_h: float, size: float) -> float:
    """Baseline that centres a CJK line of ``size`` in a band ``line_h`` high below ``top``."""
    return top - line_h / 2 - size * 0.36


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
