"""Print preview of a PDF made by the printing services: pages on screen, 打印…, 另存为 PDF….

Why the pages are drawn here and not by QtPdf: the program depends on ``PySide6-Essentials``, which has no
QtPdf/QtPdfWidgets (they come with the much larger ``PySide6-Addons``). Our PDFs are all made by reportlab
from ``forms/`` templates and use a small set of operators (paths, rectangles, dashes, colours, alpha, text
in the embedded CJK font, a rotated watermark), so :class:`PdfPages` reads the file and replays each page
with ``QPainter``: onto an image for the preview, and straight onto the printer at the printer's own
resolution (vector output, the same geometry as the PDF). Text is drawn as glyph outlines of the program's
font (the one every PDF embeds), placed by the widths the PDF gives, so lines break and align exactly as
in the file. Anything it cannot read raises :class:`PdfError`; the dialog then still saves and prints
the file as it is (saving keeps the exact bytes).
"""

from __future__ import annotations

import base64
import re
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QImage,
    QKeySequence,
    QPageLayout,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QRawFont,
    QTransform,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from huifang_desktop.services import printing as printing_service
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.ui.common.export_target import last_folder, remember_folder, say_exported

OutputCallback = Callable[[str, str], None]  # (打印机 | PDF 文件, printer name or path)

ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 4.0
PAGE_GAP = 16  # px between pages on screen
PAGE_CACHE = 12  # rendered page images kept
PRINT_PROGRESS_FROM = 10  # pages: a longer print shows a progress dialog with 取消


class PdfError(Exception):
    """A PDF this viewer cannot read (not one of ours, or damaged)."""


# --------------------------------------------------------------------------------------------------
# Reading the file


@dataclass(frozen=True, slots=True)
class _Ref:
    num: int
    gen: int


class _Name(str):
    pass


@dataclass(frozen=True, slots=True)
class _Stream:
    dict: dict[str, Any]
    raw: bytes


class _Kw(str):
    """An operator or keyword (true, false, null, R, obj, stream …)."""


_TOKEN = re.compile(
    rb"(?P<ws>[\x00\t\n\x0c\r ]+|%[^\r\n]*)"
    rb"|(?P<dopen><<)|(?P<dclose>>>)|(?P<aopen>\[)|(?P<aclose>\])|(?P<bopen>\{)|(?P<bclose>\})"
    rb"|(?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)"
    rb"|(?P<hex><[0-9A-Fa-f\x00\t\n\x0c\r ]*>)"
    rb"|(?P<str>\()"
    rb"|(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
    rb"|(?P<kw>[^\x00\t\n\x0c\r ()<>\[\]{}/%]+)"
)
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f",
            ord("("): b"(", ord(")"): b")", ord("\\"): b"\\"}


def _literal(data: bytes, pos: int) -> tuple[bytes, int]:
    """A ``( … )`` string starting after the opening parenthesis; returns (bytes, position after it)."""
    out = bytearray()
    depth = 1
    n = len(data)
    i = pos
    while i < n:
        ch = data[i]
        if ch == 0x5C:  # backslash
            i += 1
            if i >= n:
                break
            nxt = data[i]
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 1
            elif 0x30 <= nxt <= 0x37:
                j = i
                while j < n and j < i + 3 and 0x30 <= data[j] <= 0x37:
                    j += 1
                out.append(int(data[i:j], 8) & 0xFF)
                i = j
            elif nxt in (0x0A, 0x0D):  # a line continuation
                i += 2 if nxt == 0x0D and i + 1 < n and data[i + 1] == 0x0A else 1
            else:
                out.append(nxt)
                i += 1
            continue
        if ch == 0x28:
            depth += 1
        elif ch == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(ch)
        i += 1
    raise PdfError("字符串没有结束")


def _name(raw: bytes) -> _Name:
    text = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw[1:])
    return _Name(text.decode("latin-1"))


def _tokens(data: bytes, pos: int = 0, end: int | None = None) -> Iterator[tuple[str, Any, int]]:
    """(kind, value, end) of each token: num, name, str, kw, and the brackets."""
    stop = len(data) if end is None else end
    match = _TOKEN.match
    while pos < stop:
        m = match(data, pos)
        if m is None:
            pos += 1  # a stray byte: skip it
            continue
        kind = m.lastgroup or ""
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "num":
            text = m.group(kind)
            yield kind, (float(text) if b"." in text else int(text)), pos
        elif kind == "name":
            yield kind, _name(m.group(kind)), pos
        elif kind == "hex":
            digits = re.sub(rb"[^0-9A-Fa-f]", b"", m.group(kind)[1:-1])
            if len(digits) % 2:
                digits += b"0"
            yield "str", bytes.fromhex(digits.decode("ascii")), pos
        elif kind == "str":
            value, pos = _literal(data, pos)
            yield "str", value, pos
        elif kind == "kw":
            yield kind, _Kw(m.group(kind).decode("latin-1")), pos
        else:
            yield kind, None, pos


_OBJ_RE = re.compile(rb"(?<![0-9])(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+obj\b")
_STREAM_RE = re.compile(rb"[\x00\t\n\x0c\r ]*stream(?:\r\n|\n|\r)")


def _parse_value(data: bytes, pos: int) -> tuple[Any, int]:
    """One value (with nested arrays and dictionaries, ``n g R`` references) at ``pos``."""
    stack: list[list[Any]] = [[]]
    kinds: list[str] = ["top"]
    for kind, value, end in _tokens(data, pos):
        top = stack[-1]
        if kind in ("dopen", "aopen"):
            stack.append([])
            kinds.append(kind)
            continue
        if kind in ("dclose", "aclose"):
            if len(stack) == 1:
                raise PdfError("括号不配对")
            items = stack.pop()
            opened = kinds.pop()
            if opened == "dopen":
                made: Any = {str(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}
            else:
                made = items
            stack[-1].append(made)
        elif kind == "kw" and value == "R" and len(top) >= 2 and isinstance(top[-1], int) \
                and isinstance(top[-2], int):
            gen = top.pop()
            num = top.pop()
            top.append(_Ref(num, gen))
        elif kind == "kw" and value in ("true", "false", "null"):
            top.append(True if value == "true" else False if value == "false" else None)
        elif kind == "kw":  # endobj, stream …: the value is complete
            if len(stack) == 1 and top:
                return top[0], end - len(value)
            raise PdfError(f"意外的关键字 {value}")
        else:
            top.append(value)
        if len(stack) == 1:
            done = stack[0]
            if done and not isinstance(done[-1], int):
                return done[0], end
            if len(done) == 3:
                return done[0], end  # three numbers in a row: the first one was the value
    stack_top = stack[0]
    if len(stack) == 1 and stack_top:
        return stack_top[0], len(data)
    raise PdfError("文件意外结束")


def _decode(stream: _Stream, resolve: Callable[[Any], Any]) -> bytes:
    filters = resolve(stream.dict.get("Filter"))
    if filters is None:
        filters = []
    elif not isinstance(filters, list):
        filters = [filters]
    data = stream.raw
    for name in filters:
        name = str(resolve(name))
        if name in ("FlateDecode", "Fl"):
            try:
                data = zlib.decompress(data)
            except zlib.error:
                data = zlib.decompressobj().decompress(data)  # a stream with trailing bytes
        elif name in ("ASCII85Decode", "A85"):
            text = data.strip()
            if not text.endswith(b"~>"):
                text += b"~>"
            data = base64.a85decode(text, adobe=True)
        elif name in ("ASCIIHexDecode", "AHx"):
            digits = re.sub(rb"[^0-9A-Fa-f]", b"", data.split(b">")[0])
            data = bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))
        else:
            raise PdfError(f"不支持的压缩方式 {name}")
    return data


@dataclass(slots=True)
class _Font:
    """What drawing needs of a PDF font: bytes → (unicode character, width in 1/1000 em)."""

    two_byte: bool
    unicode: dict[int, str]
    widths: dict[int, float]
    default_width: float | None  # None: the program font's own advance

    def codes(self, data: bytes) -> list[int]:
        if self.two_byte:
            padded = data + b"\0" if len(data) % 2 else data
            return [(padded[i] << 8) | padded[i + 1] for i in range(0, len(padded), 2)]
        return list(data)


def _cmap(text: bytes) -> dict[int, str]:
    """A ToUnicode CMap's bfchar / bfrange entries."""
    out: dict[int, str] = {}

    def uni(hexa: bytes) -> str:
        raw = bytes.fromhex(hexa.decode("ascii"))
        try:
            return raw.decode("utf-16-be")
        except UnicodeDecodeError:
            return raw.decode("latin-1")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[int(src, 16)] = uni(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, rest in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])",
                                       block):
            a, b = int(lo, 16), int(hi, 16)
            if rest.startswith(b"["):
                for k, dst in enumerate(re.findall(rb"<([0-9A-Fa-f]*)>", rest)):
                    out[a + k] = uni(dst)
            else:
                start = bytes.fromhex(rest[1:-1].decode("ascii"))
                base = int.from_bytes(start, "big")
                for k in range(b - a + 1):
                    out[a + k] = uni((base + k).to_bytes(len(start), "big").hex().encode("ascii"))
    return out


@dataclass(frozen=True, slots=True)
class _Page:
    box: tuple[float, float, float, float]  # MediaBox x0 y0 x1 y1 (points)
    contents: Any
    resources: dict[str, Any]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


class PdfPages:
    """The pages of a PDF, drawn with QPainter. ``paint(i, painter, target)`` fills ``target`` (device
    coordinates) with page ``i``; ``image(i, scale)`` renders it (scale 1 = 72 px per inch)."""

    def __init__(self, data: bytes, font_file: Path | None = None) -> None:
        if not data.startswith(b"%PDF"):
            raise PdfError("不是 PDF 文件")
        self.data = data
        self._offsets = self._xref() or {int(m.group(1)): m.end() for m in _OBJ_RE.finditer(data)}
        self._objects: dict[int, Any] = {}
        self._fonts: dict[int, _Font] = {}
        self._font_file = font_file or printing_service.font_file()
        self._raw: QRawFont | None = None
        self._glyphs: dict[str, QPainterPath | None] = {}
        self.pages = self._read_pages()
        if not self.pages:
            raise PdfError("文件中没有页面")

    # -- objects ---------------------------------------------------------------------------------

    def _xref(self) -> dict[int, int]:
        """Object number → where its value starts, from the classic cross-reference table ({} if none)."""
        data = self.data
        at = data.rfind(b"startxref")
        m = re.compile(rb"startxref\s+(\d+)").match(data, at) if at >= 0 else None
        if m is None:
            return {}
        pos = int(m.group(1))
        if data[pos:pos + 4] != b"xref":
            return {}
        offsets: dict[int, int] = {}
        section = re.compile(rb"\s*(\d+)\s+(\d+)\s*[\r\n]+")
        entry = re.compile(rb"(\d{10}) (\d{5}) ([nf])\s{1,2}")
        pos += 4
        while True:
            head = section.match(data, pos)
            if head is None:
                break
            first, count = int(head.group(1)), int(head.group(2))
            pos = head.end()
            for k in range(count):
                e = entry.match(data, pos)
                if e is None:
                    return {}
                pos = e.end()
                if e.group(3) == b"n":
                    obj = _OBJ_RE.match(data, int(e.group(1)))
                    if obj is None or int(obj.group(1)) != first + k:
                        return {}
                    offsets[first + k] = obj.end()
        return offsets

    def obj(self, num: int) -> Any:
        if num in self._objects:
            return self._objects[num]
        pos = self._offsets.get(num)
        if pos is None:
            raise PdfError(f"缺少对象 {num}")
        value, end = _parse_value(self.data, pos)
        if isinstance(value, dict):
            m = _STREAM_RE.match(self.data, end)
            if m is not None:
                length = self.resolve(value.get("Length"))
                if not isinstance(length, int):
                    stop = self.data.find(b"endstream", m.end())
                    length = (stop if stop >= 0 else len(self.data)) - m.end()
                value = _Stream(value, self.data[m.end():m.end() + length])
        self._objects[num] = value
        return value

    def resolve(self, value: Any) -> Any:
        seen = 0
        while isinstance(value, _Ref):
            value = self.obj(value.num)
            seen += 1
            if seen > 32:
                raise PdfError("对象引用循环")
        return value

    def _root(self) -> dict[str, Any]:
        at = self.data.rfind(b"trailer")
        if at >= 0:
            trailer, _ = _parse_value(self.data, at + len(b"trailer"))
            if isinstance(trailer, dict) and "Root" in trailer:
                root = self.resolve(trailer["Root"])
                if isinstance(root, dict):
                    return root
        for num in self._offsets:  # no classic trailer: look for the catalog
            try:
                value = self.obj(num)
            except PdfError:
                continue
            if isinstance(value, dict) and value.get("Type") == "Catalog":
                return value
        raise PdfError("找不到文档目录")

    def _read_pages(self) -> list[_Page]:
        pages: list[_Page] = []

        def walk(node: Any, inherited: dict[str, Any], depth: int) -> None:
            node = self.resolve(node)
            if not isinstance(node, dict) or depth > 64:
                return
            attrs = dict(inherited)
            for key in ("Resources", "MediaBox"):
                if key in node:
                    attrs[key] = self.resolve(node[key])
            if node.get("Type") == "Pages" or "Kids" in node:
                for kid in self.resolve(node.get("Kids")) or []:
                    walk(kid, attrs, depth + 1)
                return
            box = [float(self.resolve(v)) for v in attrs.get("MediaBox") or (0, 0, 595.2756, 841.8898)]
            pages.append(_Page((box[0], box[1], box[2], box[3]), node.get("Contents"),
                               attrs.get("Resources") or {}))

        walk(self._root().get("Pages"), {}, 0)
        return pages

    def content(self, page: _Page) -> bytes:
        parts = self.resolve(page.contents)
        if parts is None:
            return b""
        if not isinstance(parts, list):
            parts = [parts]
        out = []
        for part in parts:
            stream = self.resolve(part)
            if isinstance(stream, _Stream):
                out.append(_decode(stream, self.resolve))
        return b"\n".join(out)

    def font(self, ref: Any) -> _Font:
        key = ref.num if isinstance(ref, _Ref) else id(ref)
        cached = self._fonts.get(key)
        if cached is not None:
            return cached
        d = self.resolve(ref) or {}
        two_byte = d.get("Subtype") == "Type0"
        widths: dict[int, float] = {}
        default: float | None = None
        if two_byte:
            desc = self.resolve((self.resolve(d.get("DescendantFonts")) or [{}])[0]) or {}
            default = float(self.resolve(desc.get("DW", 1000)))
            w = self.resolve(desc.get("W")) or []
            i = 0
            while i < len(w):
                first = int(self.resolve(w[i]))
                nxt = self.resolve(w[i + 1]) if i + 1 < len(w) else None
                if isinstance(nxt, list):
                    for k, v in enumerate(nxt):
                        widths[first + k] = float(self.resolve(v))
                    i += 2
                elif i + 2 < len(w):
                    for code in range(first, int(nxt) + 1):
                        widths[code] = float(self.resolve(w[i + 2]))
                    i += 3
                else:
                    break
        else:
            first = int(self.resolve(d.get("FirstChar", 0)))
            for k, v in enumerate(self.resolve(d.get("Widths")) or []):
                widths[first + k] = float(self.resolve(v))
            desc = self.resolve(d.get("FontDescriptor")) or {}
            missing = desc.get("MissingWidth") if isinstance(desc, dict) else None
            default = float(self.resolve(missing)) if missing is not None else None
        unicode: dict[int, str] = {}
        to_unicode = self.resolve(d.get("ToUnicode"))
        if isinstance(to_unicode, _Stream):
            unicode = _cmap(_decode(to_unicode, self.resolve))
        font = _Font(two_byte, unicode, widths, default)
        self._fonts[key] = font
        return font

    # -- glyphs ----------------------------------------------------------------------------------

    def glyph(self, ch: str) -> QPainterPath | None:
        """The outline of ``ch`` in the program font, 1000 units per em, y down, origin on the baseline."""
        if ch in self._glyphs:
            return self._glyphs[ch]
        if self._raw is None:
            self._raw = QRawFont(QByteArray(self._font_file.read_bytes()), 1000.0,
                                 QFont.HintingPreference.PreferNoHinting)
        path: QPainterPath | None = None
        if self._raw.isValid() and ch.strip():
            indexes = self._raw.glyphIndexesForString(ch)
            if indexes and indexes[0]:
                path = self._raw.pathForGlyph(indexes[0])
        self._glyphs[ch] = path
        return path

    def advance(self, ch: str) -> float:
        """The program font's advance of ``ch`` in 1/1000 em (a font the PDF gives no widths for)."""
        self.glyph(ch)  # loads the font
        indexes = self._raw.glyphIndexesForString(ch) if self._raw is not None and self._raw.isValid() else []
        if not indexes or not indexes[0]:
            return 500.0
        return float(self._raw.advancesForGlyphIndexes(indexes)[0].x())  # type: ignore[union-attr]

    # -- drawing ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.pages)

    def size(self, index: int) -> tuple[float, float]:
        """Width and height of a page in points."""
        page = self.pages[index]
        return page.width, page.height

    def paint(self, index: int, painter: QPainter, target: QRectF, *, rotate: bool = False) -> None:
        """Draw page ``index`` into ``target`` (device coordinates); ``rotate``: a quarter turn clockwise."""
        page = self.pages[index]
        x0, y0, x1, y1 = page.box
        if rotate:  # page x runs down the target, page y runs right to left
            sx, sy = target.height() / page.width, target.width() / page.height
            base = QTransform(0, sx, sy, 0, target.x() - y0 * sy, target.y() - x0 * sx)
        else:
            sx, sy = target.width() / page.width, target.height() / page.height
            base = QTransform(sx, 0, 0, -sy, target.x() - x0 * sx, target.y() + y1 * sy)
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setClipRect(target)
            _Interpreter(self, page, painter, base).run(self.content(page))
        finally:
            painter.restore()

    def image(self, index: int, scale: float, device_ratio: float = 1.0) -> QImage:
        """Page ``index`` as an image, ``scale`` pixels per point (times ``device_ratio`` for HiDPI)."""
        w, h = self.size(index)
        px = max(1, round(w * scale * device_ratio)), max(1, round(h * scale * device_ratio))
        img = QImage(px[0], px[1], QImage.Format.Format_RGB32)
        img.fill(QColor("white"))
        painter = QPainter(img)
        try:
            self.paint(index, painter, QRectF(0, 0, px[0], px[1]))
        finally:
            painter.end()
        img.setDevicePixelRatio(device_ratio)
        return img


@dataclass(slots=True)
class _State:
    ctm: QTransform = field(default_factory=QTransform)
    fill: QColor = field(default_factory=lambda: QColor(0, 0, 0))
    stroke: QColor = field(default_factory=lambda: QColor(0, 0, 0))
    fill_alpha: float = 1.0
    stroke_alpha: float = 1.0
    line_width: float = 1.0
    cap: Qt.PenCapStyle = Qt.PenCapStyle.FlatCap
    join: Qt.PenJoinStyle = Qt.PenJoinStyle.MiterJoin
    miter: float = 10.0
    dash: tuple[tuple[float, ...], float] = ((), 0.0)
    font: _Font | None = None
    font_size: float = 10.0
    char_space: float = 0.0
    word_space: float = 0.0
    h_scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0
    render_mode: int = 0


def _gray(v: float) -> QColor:
    return QColor.fromRgbF(*(min(max(v, 0.0), 1.0),) * 3)


def _rgb(r: float, g: float, b: float) -> QColor:
    return QColor.fromRgbF(min(max(r, 0.0), 1.0), min(max(g, 0.0), 1.0), min(max(b, 0.0), 1.0))


def _cmyk(c: float, m: float, y: float, k: float) -> QColor:
    return _rgb((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))


def _color(values: list[float]) -> QColor:
    if len(values) >= 4:
        return _cmyk(*values[:4])
    if len(values) == 3:
        return _rgb(*values)
    return _gray(values[0] if values else 0.0)


class _Interpreter:
    """Replays one page's content stream onto a painter (operators of PDF 1.4 reportlab writes)."""

    def __init__(self, doc: PdfPages, page: _Page, painter: QPainter, base: QTransform) -> None:
        self.doc = doc
        self.painter = painter
        self.base = base
        self.resources = doc.resolve(page.resources) or {}
        self.gs = _State()
        self.stack: list[_State] = []
        self.path = QPainterPath()
        self.clip: Qt.FillRule | None = None
        self.tm = QTransform()
        self.tlm = QTransform()

    def run(self, content: bytes) -> None:
        operands: list[Any] = []
        nested: list[list[Any]] = []
        for kind, value, _end in _tokens(content):
            if kind in ("aopen", "dopen"):
                nested.append(operands)
                operands = []
            elif kind in ("aclose", "dclose"):
                inner = operands
                operands = nested.pop() if nested else []
                operands.append(inner)
            elif kind == "kw":
                if value in ("true", "false", "null"):
                    operands.append(value == "true")
                    continue
                if nested:
                    operands.append(value)
                    continue
                handler = _OPS.get(str(value))
                if handler is not None:
                    try:
                        handler(self, operands)
                    except (IndexError, TypeError, ValueError):
                        pass  # a malformed operator is skipped, as viewers do
                operands = []
            elif kind in ("num", "str", "name"):
                operands.append(value)
        while self.stack:  # an unbalanced q
            self._restore([])

    # -- state -------------------------------------------------------------------------------------

    def _save(self, _o: list[Any]) -> None:
        self.stack.append(replace(self.gs))
        self.painter.save()

    def _restore(self, _o: list[Any]) -> None:
        if self.stack:
            self.gs = self.stack.pop()
            self.painter.restore()

    def _cm(self, o: list[Any]) -> None:
        a, b, c, d, e, f = (float(v) for v in o[-6:])
        self.gs.ctm = QTransform(a, b, c, d, e, f) * self.gs.ctm

    def _w(self, o: list[Any]) -> None:
        self.gs.line_width = float(o[-1])

    def _cap(self, o: list[Any]) -> None:
        caps = (Qt.PenCapStyle.FlatCap, Qt.PenCapStyle.RoundCap, Qt.PenCapStyle.SquareCap)
        self.gs.cap = caps[int(o[-1]) % 3]

    def _join(self, o: list[Any]) -> None:
        self.gs.join = (Qt.PenJoinStyle.MiterJoin, Qt.PenJoinStyle.RoundJoin,
                        Qt.PenJoinStyle.BevelJoin)[int(o[-1]) % 3]

    def _miter(self, o: list[Any]) -> None:
        self.gs.miter = float(o[-1])

    def _dash(self, o: list[Any]) -> None:
        pattern = tuple(float(v) for v in o[-2]) if isinstance(o[-2], list) else ()
        self.gs.dash = (pattern, float(o[-1]))

    def _gs(self, o: list[Any]) -> None:
        states = self.doc.resolve(self.resources.get("ExtGState")) or {}
        ext = self.doc.resolve(states.get(str(o[-1]))) or {}
        if "ca" in ext:
            self.gs.fill_alpha = float(self.doc.resolve(ext["ca"]))
        if "CA" in ext:
            self.gs.stroke_alpha = float(self.doc.resolve(ext["CA"]))
        if "LW" in ext:
            self.gs.line_width = float(self.doc.resolve(ext["LW"]))

    def _fill_color(self, o: list[Any]) -> None:
        self.gs.fill = _color([float(v) for v in o if isinstance(v, int | float)])

    def _stroke_color(self, o: list[Any]) -> None:
        self.gs.stroke = _color([float(v) for v in o if isinstance(v, int | float)])

    # -- paths -------------------------------------------------------------------------------------

    def _m(self, o: list[Any]) -> None:
        self.path.moveTo(float(o[-2]), float(o[-1]))

    def _l(self, o: list[Any]) -> None:
        self.path.lineTo(float(o[-2]), float(o[-1]))

    def _c(self, o: list[Any]) -> None:
        x1, y1, x2, y2, x3, y3 = (float(v) for v in o[-6:])
        self.path.cubicTo(x1, y1, x2, y2, x3, y3)

    def _v(self, o: list[Any]) -> None:
        x2, y2, x3, y3 = (float(v) for v in o[-4:])
        p = self.path.currentPosition()
        self.path.cubicTo(p.x(), p.y(), x2, y2, x3, y3)

    def _y(self, o: list[Any]) -> None:
        x1, y1, x3, y3 = (float(v) for v in o[-4:])
        self.path.cubicTo(x1, y1, x3, y3, x3, y3)

    def _h(self, _o: list[Any]) -> None:
        self.path.closeSubpath()

    def _re(self, o: list[Any]) -> None:
        x, y, w, h = (float(v) for v in o[-4:])
        self.path.moveTo(x, y)
        self.path.lineTo(x + w, y)
        self.path.lineTo(x + w, y + h)
        self.path.lineTo(x, y + h)
        self.path.closeSubpath()

    def _pen(self) -> QPen:
        gs = self.gs
        color = QColor(gs.stroke)
        color.setAlphaF(gs.stroke_alpha)
        pen = QPen(color)
        pen.setWidthF(gs.line_width)
        pen.setCapStyle(gs.cap)
        pen.setJoinStyle(gs.join)
        pen.setMiterLimit(gs.miter)
        pattern, phase = gs.dash
        if pattern and any(pattern):
            unit = gs.line_width if gs.line_width > 0 else 1.0
            values = [max(v / unit, 0.01) for v in pattern]
            if len(values) % 2:
                values += values
            pen.setDashPattern(values)
            pen.setDashOffset(phase / unit)
        return pen

    def _paint(self, *, fill: Qt.FillRule | None = None, stroke: bool = False, close: bool = False) -> None:
        path = self.path
        if close:
            path.closeSubpath()
        p = self.painter
        p.setTransform(self.gs.ctm * self.base)
        if fill is not None:
            path.setFillRule(fill)
            color = QColor(self.gs.fill)
            color.setAlphaF(self.gs.fill_alpha)
            p.fillPath(path, color)
        if stroke:
            p.strokePath(path, self._pen())
        if self.clip is not None:
            clip = QPainterPath(path)
            clip.setFillRule(self.clip)
            p.setClipPath(clip, Qt.ClipOperation.IntersectClip)
            self.clip = None
        self.path = QPainterPath()

    # -- text --------------------------------------------------------------------------------------

    def _bt(self, _o: list[Any]) -> None:
        self.tm = QTransform()
        self.tlm = QTransform()

    def _tf(self, o: list[Any]) -> None:
        fonts = self.doc.resolve(self.resources.get("Font")) or {}
        ref = fonts.get(str(o[-2]))
        self.gs.font = self.doc.font(ref) if ref is not None else None
        self.gs.font_size = float(o[-1])

    def _td(self, o: list[Any]) -> None:
        self.tlm = QTransform.fromTranslate(float(o[-2]), float(o[-1])) * self.tlm
        self.tm = QTransform(self.tlm)

    def _td_lead(self, o: list[Any]) -> None:
        self.gs.leading = -float(o[-1])
        self._td(o)

    def _tm(self, o: list[Any]) -> None:
        a, b, c, d, e, f = (float(v) for v in o[-6:])
        self.tlm = QTransform(a, b, c, d, e, f)
        self.tm = QTransform(self.tlm)

    def _next_line(self, _o: list[Any]) -> None:
        self._td([0.0, -self.gs.leading])

    def _tr(self, o: list[Any]) -> None:
        self.gs.render_mode = int(o[-1])

    def _tj(self, o: list[Any]) -> None:
        self._show([o[-1]])

    def _tj_array(self, o: list[Any]) -> None:
        self._show(list(o[-1]))

    def _quote(self, o: list[Any]) -> None:
        self._next_line([])
        self._show([o[-1]])

    def _dquote(self, o: list[Any]) -> None:
        self.gs.word_space = float(o[-3])
        self.gs.char_space = float(o[-2])
        self._next_line([])
        self._show([o[-1]])

    def _show(self, items: list[Any]) -> None:
        gs = self.gs
        font = gs.font or _Font(False, {}, {}, None)
        size, th = gs.font_size, gs.h_scale
        glyph_scale = QTransform(size * th / 1000.0, 0, 0, -size / 1000.0, 0, 0)
        outline = QPainterPath()
        x = 0.0
        for item in items:
            if isinstance(item, int | float):
                x -= float(item) / 1000.0 * size * th
                continue
            if not isinstance(item, bytes):
                continue
            for code in font.codes(item):
                ch = font.unicode.get(code)
                if ch is None:
                    ch = chr(code) if not font.two_byte else ""
                width = font.widths.get(code)
                if width is None:
                    width = font.default_width
                    if width is None:
                        width = self.doc.advance(ch[:1] or " ")
                glyph = self.doc.glyph(ch[:1]) if ch else None
                if glyph is not None and gs.render_mode % 4 != 3:
                    outline.addPath((glyph_scale * QTransform.fromTranslate(x, gs.rise)).map(glyph))
                x += (width / 1000.0 * size + gs.char_space
                      + (gs.word_space if code == 32 and not font.two_byte else 0.0)) * th
        if not outline.isEmpty():
            mode = gs.render_mode % 4
            p = self.painter
            p.setTransform(self.tm * gs.ctm * self.base)
            if mode in (0, 2):
                color = QColor(gs.fill)
                color.setAlphaF(gs.fill_alpha)
                p.fillPath(outline, color)
            if mode in (1, 2):
                p.strokePath(outline, self._pen())
        self.tm = QTransform.fromTranslate(x, 0) * self.tm


def _clip_op(rule: Qt.FillRule) -> Callable[[_Interpreter, list[Any]], None]:
    def op(self: _Interpreter, _o: list[Any]) -> None:
        self.clip = rule
    return op


def _text_op(name: str, scale: float = 1.0) -> Callable[[_Interpreter, list[Any]], None]:
    def op(self: _Interpreter, o: list[Any]) -> None:
        setattr(self.gs, name, float(o[-1]) * scale)
    return op


_OPS: dict[str, Callable[[_Interpreter, list[Any]], None]] = {
    "q": _Interpreter._save, "Q": _Interpreter._restore, "cm": _Interpreter._cm, "w": _Interpreter._w,
    "J": _Interpreter._cap, "j": _Interpreter._join, "M": _Interpreter._miter, "d": _Interpreter._dash,
    "gs": _Interpreter._gs,
    "g": _Interpreter._fill_color, "rg": _Interpreter._fill_color, "k": _Interpreter._fill_color,
    "sc": _Interpreter._fill_color, "scn": _Interpreter._fill_color,
    "G": _Interpreter._stroke_color, "RG": _Interpreter._stroke_color, "K": _Interpreter._stroke_color,
    "SC": _Interpreter._stroke_color, "SCN": _Interpreter._stroke_color,
    "m": _Interpreter._m, "l": _Interpreter._l, "c": _Interpreter._c, "v": _Interpreter._v,
    "y": _Interpreter._y, "h": _Interpreter._h, "re": _Interpreter._re,
    "S": lambda self, o: self._paint(stroke=True),
    "s": lambda self, o: self._paint(stroke=True, close=True),
    "f": lambda self, o: self._paint(fill=Qt.FillRule.WindingFill),
    "F": lambda self, o: self._paint(fill=Qt.FillRule.WindingFill),
    "f*": lambda self, o: self._paint(fill=Qt.FillRule.OddEvenFill),
    "B": lambda self, o: self._paint(fill=Qt.FillRule.WindingFill, stroke=True),
    "B*": lambda self, o: self._paint(fill=Qt.FillRule.OddEvenFill, stroke=True),
    "b": lambda self, o: self._paint(fill=Qt.FillRule.WindingFill, stroke=True, close=True),
    "b*": lambda self, o: self._paint(fill=Qt.FillRule.OddEvenFill, stroke=True, close=True),
    "n": lambda self, o: self._paint(),
    "W": _clip_op(Qt.FillRule.WindingFill), "W*": _clip_op(Qt.FillRule.OddEvenFill),
    "BT": _Interpreter._bt, "ET": lambda self, o: None, "Tf": _Interpreter._tf, "Td": _Interpreter._td,
    "TD": _Interpreter._td_lead, "Tm": _Interpreter._tm, "T*": _Interpreter._next_line,
    "Tc": _text_op("char_space"), "Tw": _text_op("word_space"), "Tz": _text_op("h_scale", 0.01),
    "TL": _text_op("leading"), "Ts": _text_op("rise"),
    "Tr": _Interpreter._tr, "Tj": _Interpreter._tj, "TJ": _Interpreter._tj_array, "'": _Interpreter._quote,
    "\"": _Interpreter._dquote,
}


# --------------------------------------------------------------------------------------------------
# The page view


class PageView(QWidget):
    """All pages one below the other at ``zoom`` (1.0 = actual size on this screen); pages are rendered
    when they come into view and a few are kept."""

    def __init__(self, pages: PdfPages, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pages = pages
        self.zoom = 1.0
        self._cache: OrderedDict[tuple[int, float], QImage] = OrderedDict()
        self._rects: list[QRectF] = []
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._layout_pages()

    def scale(self) -> float:
        """Pixels per point at the current zoom."""
        return self.logicalDpiX() / 72.0 * self.zoom

    def set_zoom(self, zoom: float) -> None:
        self.zoom = min(max(zoom, ZOOM_MIN), ZOOM_MAX)
        self._cache.clear()
        self._layout_pages()
        self.update()

    def _layout_pages(self) -> None:
        s = self.scale()
        widest = max(self.pages.size(i)[0] for i in range(len(self.pages))) * s
        y = float(PAGE_GAP)
        self._rects = []
        for i in range(len(self.pages)):
            w, h = (v * s for v in self.pages.size(i))
            self._rects.append(QRectF(PAGE_GAP + (widest - w) / 2, y, w, h))
            y += h + PAGE_GAP
        self.setFixedSize(QSize(round(widest + 2 * PAGE_GAP), round(y)))

    def page_rect(self, index: int) -> QRectF:
        return self._rects[index]

    def page_image(self, index: int) -> QImage:
        key = (index, self.zoom)
        img = self._cache.get(key)
        if img is None:
            img = self.pages.image(index, self.scale(), self.devicePixelRatioF())
            self._cache[key] = img
            while len(self._cache) > PAGE_CACHE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return img

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(event.rect(), QColor("#8c8c8c"))
            area = QRectF(event.rect())
            for i, rect in enumerate(self._rects):
                if not rect.intersects(area):
                    continue
                painter.fillRect(rect.translated(3, 3), QColor(0, 0, 0, 60))
                try:
                    painter.drawImage(rect, self.page_image(i))
                except PdfError:
                    painter.fillRect(rect, QColor("white"))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.tr("本页无法显示"))
        finally:
            painter.end()


# --------------------------------------------------------------------------------------------------
# The dialog


class PrintPreviewDialog(QDialog):
    """Preview a PDF with 打印… (system printer), 另存为 PDF… and 关闭.

    Opened with ``open()`` / ``show()``; nothing here runs a modal loop of its own: the print and file
    dialogs are opened the same way and call :meth:`print_to` / :meth:`save_to`, which tests call directly.
    ``on_output(output, target)`` is told of each print (打印机, printer name) and save (PDF 文件, path): the
    caller logs it (:func:`huifang_desktop.services.printing.log_output`).
    """

    def __init__(self, pdf_bytes: bytes, title: str, suggested_name: str, parent: QWidget | None = None, *,
                 on_output: OutputCallback | None = None, save_dir: Path | None = None,
                 may_output: bool = True) -> None:
        super().__init__(parent)
        self.may_output = may_output  # False: a 绝密 document the user may only look at
        self.pdf = pdf_bytes
        self.title = title
        self.suggested_name = suggested_name
        self.on_output = on_output
        self.save_dir = save_dir or last_folder()
        self.print_dialog: QPrintDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self.printer: QPrinter | None = None
        self.setWindowTitle(self.tr("打印预览 — {0}").format(title))
        room = self.screen().availableGeometry() if self.screen() is not None else None
        width, height = 980, 860
        if room is not None:  # a small laptop screen: the dialog stays on it
            width, height = min(width, room.width() - 40), min(height, room.height() - 60)
        self.resize(width, height)

        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        try:
            self.pages: PdfPages | None = PdfPages(pdf_bytes)
        except (PdfError, OSError, ValueError) as exc:
            self.pages = None
            self._say(self.tr("无法显示预览（{0}），仍可另存为 PDF 后用其他程序查看或打印。").format(exc), error=True)

        self.print_button = QPushButton(self.tr("打印(&P)…"))
        self.print_button.setToolTip(self.tr("用系统打印机打印（Ctrl+P）"))
        self.save_button = QPushButton(self.tr("另存为 PDF(&S)…"))
        self.save_button.setToolTip(self.tr("保存为 PDF 文件（Ctrl+S）"))
        self.zoom_out_button = QPushButton("−")
        self.zoom_out_button.setToolTip(self.tr("缩小（Ctrl+-）"))
        self.zoom_in_button = QPushButton("+")
        self.zoom_in_button.setToolTip(self.tr("放大（Ctrl++）"))
        for b in (self.zoom_out_button, self.zoom_in_button):
            b.setFixedWidth(36)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages_label = QLabel()
        self.close_button = QPushButton(self.tr("关闭"))

        self.scroll = QScrollArea()
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll.setStyleSheet("QScrollArea { background: #8c8c8c; }")
        self.view: PageView | None = None
        if self.pages is not None:
            self.view = PageView(self.pages)
            self.scroll.setWidget(self.view)
            self.pages_label.setText(self.tr("共 {0} 页").format(len(self.pages)))
            width = max(self.pages.size(i)[0] for i in range(min(len(self.pages), 50)))
            fit = (self.width() - 80) / (width * self.view.logicalDpiX() / 72.0)
            self.view.set_zoom(min(1.0, fit))
        else:
            self.print_button.setEnabled(False)
            for b in (self.zoom_in_button, self.zoom_out_button):
                b.setEnabled(False)
        if not may_output:
            refused = self.tr("绝密资料：打印和另存为 PDF 需要主管或经理")
            for b in (self.print_button, self.save_button):
                b.setEnabled(False)
                b.setToolTip(refused)
        self._show_zoom()

        bar = QHBoxLayout()
        bar.addWidget(self.print_button)
        bar.addWidget(self.save_button)
        bar.addSpacing(16)
        bar.addWidget(self.zoom_out_button)
        bar.addWidget(self.zoom_label)
        bar.addWidget(self.zoom_in_button)
        bar.addSpacing(16)
        bar.addWidget(self.pages_label)
        bar.addStretch(1)
        bar.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.scroll, 1)
        if not self.message.text():
            self.message.hide()

        self.print_button.clicked.connect(self.ask_print)
        self.save_button.clicked.connect(self.ask_save)
        self.zoom_in_button.clicked.connect(self.zoom_in)
        self.zoom_out_button.clicked.connect(self.zoom_out)
        self.close_button.clicked.connect(self.reject)
        for keys, slot in (((QKeySequence.StandardKey.Print, "Ctrl+P"), self.ask_print),
                           ((QKeySequence.StandardKey.Save, "Ctrl+S"), self.ask_save),
                           ((QKeySequence.StandardKey.ZoomIn, "Ctrl++", "Ctrl+="), self.zoom_in),
                           ((QKeySequence.StandardKey.ZoomOut, "Ctrl+-"), self.zoom_out)):
            action = QAction(self)
            sequences: list[QKeySequence] = []
            for k in keys:
                for seq in (QKeySequence.keyBindings(k) if isinstance(k, QKeySequence.StandardKey)
                            else [QKeySequence(k)]):
                    if not seq.isEmpty() and seq not in sequences:
                        sequences.append(seq)
            action.setShortcuts(sequences)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
        for b in (self.print_button, self.save_button, self.zoom_in_button, self.zoom_out_button,
                  self.close_button):
            b.setAutoDefault(False)  # Enter does not print, save or zoom by surprise

    # -- info --------------------------------------------------------------------------------------

    def page_count(self) -> int:
        return len(self.pages) if self.pages is not None else 0

    @property
    def zoom(self) -> float:
        return self.view.zoom if self.view is not None else 1.0

    def _show_zoom(self) -> None:
        self.zoom_label.setText(f"{self.zoom * 100:.0f}%")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #d9363e;" if error else "color: #389e0d;")
        self.message.setText(text)
        self.message.show()

    # -- zoom --------------------------------------------------------------------------------------

    def set_zoom(self, zoom: float) -> None:
        if self.view is not None:
            self.view.set_zoom(zoom)
        self._show_zoom()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP)

    # -- saving ------------------------------------------------------------------------------------

    def ask_save(self) -> None:
        """Open the file dialog (not modal-blocking); choosing a file calls :meth:`save_to`."""
        if not self.may_output:
            return
        dialog = QFileDialog(self, self.tr("另存为 PDF"), str(self.save_dir / self.suggested_name),
                             self.tr("PDF 文件 (*.pdf)"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(self.save_to)
        self.file_dialog = dialog
        QDialog.open(dialog)

    def save_to(self, path: str | Path) -> bool:
        """Write the PDF to ``path``; a refusal (disk full, no permission …) is shown in the dialog."""
        if not self.may_output:
            return False
        target = Path(path)
        try:
            printing_service.write_pdf(target, self.pdf)
        except ServiceError as exc:
            self._say(str(exc), error=True)
            return False
        self.save_dir = target.parent
        remember_folder(target)
        self._say(self.tr("已保存到 {0}").format(target))
        say_exported(self.message, self.tr("已保存到 {0}").format(target), target)
        self._tell(printing_service.OUTPUT_FILE, str(target))
        return True

    def _tell(self, output: str, target: str) -> None:
        if self.on_output is None:
            return
        try:
            self.on_output(output, target)
        except Exception as exc:  # the output happened; say that the log did not take it
            self._say(self.tr("{0}，但未能记入操作日志：{1}").format(self.message.text(), exc), error=True)

    # -- printing ----------------------------------------------------------------------------------

    def ask_print(self) -> None:
        """Open the system print dialog (not modal-blocking); accepting it prints with :meth:`print_to`."""
        if self.pages is None or not self.may_output:
            return
        printer = self.printer or QPrinter(QPrinter.PrinterMode.HighResolution)
        self.printer = printer
        printer.setDocName(self.title)
        w, h = self.pages.size(0)
        orientation = QPageLayout.Orientation
        printer.setPageOrientation(orientation.Landscape if w > h else orientation.Portrait)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("打印 — {0}").format(self.title))
        dialog.setMinMax(1, len(self.pages))
        dialog.accepted.connect(lambda: self.print_to(printer))
        self.print_dialog = dialog
        QDialog.open(dialog)  # QPrintDialog's own open() wants a receiver

    def _page_numbers(self, printer: QPrinter) -> list[int]:
        n = self.page_count()
        if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
            first = max(printer.fromPage(), 1)
            last = min(printer.toPage() or n, n)
            return list(range(first - 1, last))
        return list(range(n))

    def print_to(self, printer: QPrinter) -> bool:
        """Draw the pages onto ``printer`` at its resolution, one PDF page per sheet, actual size when the
        paper fits (else scaled down), turned when the paper's orientation differs."""
        if self.pages is None or not self.may_output:
            return False
        pages = self._page_numbers(printer)
        if not pages:
            return False
        printer.setDocName(self.title)
        printer.setFullPage(True)
        painter = QPainter()
        if not painter.begin(printer):
            name = printer.printerName() or printer.outputFileName()
            self._say(self.tr("无法开始打印：打印机“{0}”不可用。请检查打印机是否已连接、已开机并有纸。").format(name),
                      error=True)
            return False
        progress: QProgressDialog | None = None
        if len(pages) >= PRINT_PROGRESS_FROM:
            progress = QProgressDialog(self.tr("正在打印…"), self.tr("取消"), 0, len(pages), self)
            progress.setWindowTitle(self.tr("打印"))
            progress.setWindowModality(Qt.WindowModality.WindowModal)  # setValue lets 取消 be clicked
            progress.setMinimumDuration(0)
        aborted = False
        try:
            for n, index in enumerate(pages):
                if n:
                    printer.newPage()
                paper = printer.pageLayout().fullRectPixels(printer.resolution())
                target, rotate = self._fit(index, paper.width(), paper.height(), printer.resolution())
                self.pages.paint(index, painter, target, rotate=rotate)
                if progress is not None:
                    progress.setValue(n + 1)
                    if progress.wasCanceled():
                        printer.abort()
                        aborted = True
                        break
        finally:
            painter.end()
            if progress is not None:
                progress.reset()
                progress.hide()
        if aborted:
            self._say(self.tr("已取消打印。"), error=True)
            return False
        target = printer.outputFileName() if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat \
            else printer.printerName()
        self._say(self.tr("已发送 {0} 页到 {1}").format(len(pages), target or self.tr("打印机")))
        self._tell(printing_service.OUTPUT_PRINTER, target)
        return True

    def _fit(self, index: int, paper_w: float, paper_h: float, dpi: int) -> tuple[QRectF, bool]:
        assert self.pages is not None
        w, h = (v * dpi / 72.0 for v in self.pages.size(index))
        rotate = (w > h) != (paper_w > paper_h)
        if rotate:
            w, h = h, w
        scale = min(1.0, paper_w / w, paper_h / h)
        w, h = w * scale, h * scale
        return QRectF((paper_w - w) / 2, (paper_h - h) / 2, w, h), rotate


def add_print_button(dialog: QDialog, buttons: QDialogButtonBox, tooltip: str,
                     preview: Callable[[], object]) -> QPushButton:
    """打印预览(&P)… in a form dialog's button box, and Ctrl+P for it anywhere in the dialog."""
    button = buttons.addButton(dialog.tr("打印预览(&P)…"), QDialogButtonBox.ButtonRole.ActionRole)
    button.setToolTip(tooltip)
    button.clicked.connect(preview)
    shortcut = QAction(dialog)
    shortcut.setShortcut(QKeySequence("Ctrl+P"))
    shortcut.triggered.connect(preview)
    dialog.addAction(shortcut)
    return button


def preview_document(parent: QWidget, ctx: ServiceContext, doc: printing_service.PrintedDocument
                     ) -> PrintPreviewDialog:
    """Open the preview of a document made by the printing services; prints and saves are logged."""
    def logged(output: str, target: str) -> None:
        printing_service.log_output(ctx, doc, output, target)

    dialog = PrintPreviewDialog(doc.pdf, doc.title, doc.file_name, parent, on_output=logged,
                                may_output=printing_service.may_output(ctx, doc))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


__all__ = ["PageView", "PdfError", "PdfPages", "PrintPreviewDialog", "preview_document"]
