"""The QR code in a form's top-right corner: its place, its modules (encoded once per text), and drawing it
as one filled path."""

from __future__ import annotations

import functools

from reportlab.pdfgen.canvas import Canvas

from huifang_desktop.printing.measure import MM, _Ctx
from huifang_desktop.printing.pages import Rect

QR_SIZE = 17.0  # mm, quiet zone included: 0.5 mm modules for a number code, 3 pixels at 150 dpi
QR_TOP_OUT = 3.0  # mm the code reaches into the top margin (it stays clear of the 编号 line)


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
    image = code.to_image(scale=1, add_quiet_zones=False)
    modules = memoryview(image)  # type: ignore[arg-type]  # zxingcpp.Image has the buffer protocol
    rows, count = modules.shape  # type: ignore[misc]
    pixels = modules.tobytes()  # 0 dark, 255 light, row by row
    runs: list[tuple[int, int, int]] = []
    for r in range(rows):
        row = pixels[r * count : (r + 1) * count]
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
