"""回访记录表 printouts: one filled form vs raw reportlab, and a 1,000-form batch.

One form: ``services.printing.visit_record_pdf`` of a signed record (read, fill, lay out, draw, embed the
font subset) — twelve of the newest, a different one each time, the first as warm-up, median of the other 11. Baseline: raw reportlab drawing the same strings —
every string the program's PDF holds (title, labels, values, wrapped lines, stamp, header and footer),
captured from its canvas, at the same positions and sizes, in the same embedded CJK font, on a new canvas
into memory, then ``save()``; each right after its record, median of 11. Target ≤ 1.5×.

Batch: ``services.printing.visit_records_pdf`` of the 1,000 newest records into one PDF, with a progress
callback (as the GUI's worker passes). Target under 30 s.
"""

from __future__ import annotations

import io
import statistics
from pathlib import Path
from typing import Any

from bench.common import Measure, Target, Timer, time_ms
from bench.office import office_ctx

TARGET_RATIO = 1.5
TARGET_BATCH_S = 30.0
RUNS = 11


Drawn = tuple[int, float, float, str, float]  # page, x, y, text, font size


def _raw_reportlab(strings: list[Drawn], font: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font, initialFontSize=10)
    page, size = (strings[0][0] if strings else 1), -1.0
    for p, x, y, text, text_size in strings:
        if p != page:
            c.showPage()
            page, size = p, -1.0
        if text_size != size:
            c.setFont(font, text_size)
            size = text_size
        c.drawString(x, y, text)
    c.showPage()
    c.save()
    return buffer.getvalue()


def captured_strings(render: Any) -> list[Drawn]:
    """Every string ``render()`` puts on a reportlab canvas (page, position, text, size): all text output
    goes through ``PDFTextObject._formatText``, which is watched for the call."""
    from reportlab.pdfgen.textobject import PDFTextObject

    seen: list[Drawn] = []
    original = PDFTextObject._formatText

    def watched(self: Any, text: str) -> Any:
        if text:
            seen.append((self._canvas.getPageNumber(), self._x0, self._y0, text, self._fontsize))
        return original(self, text)

    PDFTextObject._formatText = watched  # type: ignore[method-assign]
    try:
        render()
    finally:
        PDFTextObject._formatText = original  # type: ignore[method-assign]
    return seen


def measure(path: Path, *, forms: int = 1000) -> tuple[list[Measure], dict[str, Any]]:
    from huifang_desktop.printing.fonts import register_font
    from huifang_desktop.services import printing

    ctx = office_ctx(path)
    try:
        with ctx.engine.connect() as conn:
            record_ids = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT id FROM visit_record WHERE status = '已签字' ORDER BY visited_at DESC, id DESC "
                    f"LIMIT {RUNS + 1}"
                )
            ]
            batch_ids = [
                r[0]
                for r in conn.exec_driver_sql(
                    f"SELECT id FROM visit_record ORDER BY visited_at DESC, id DESC LIMIT {int(forms)}"
                )
            ]
        font = register_font()
        t_ours, t_raw = [], []
        for n, record_id in enumerate(record_ids):  # a different record each time, as a clerk prints them
            t, doc = time_ms(lambda record_id=record_id: printing.visit_record_pdf(ctx, record_id))
            strings = captured_strings(lambda record_id=record_id: printing.visit_record_pdf(ctx, record_id))
            t_base, _ = time_ms(lambda strings=strings: _raw_reportlab(strings, font))
            if n:  # the first of each is the warm-up
                t_ours.append(t)
                t_raw.append(t_base)
        done: list[int] = []
        with Timer() as batch:
            batch_doc = printing.visit_records_pdf(ctx, batch_ids, progress=lambda n, _total: done.append(n))
    finally:
        ctx.engine.dispose()
    one = statistics.median(t_ours)
    base = statistics.median(t_raw)
    measures = [
        Measure(
            "回访记录表 PDF (one filled form)",
            one,
            "ms",
            base,
            Target(TARGET_RATIO, on="ratio", strict=False),
        ),
        Measure(
            "回访记录表 batch",
            batch.seconds,
            "s",
            None,
            Target(TARGET_BATCH_S, unit=" s"),
            note=f"{len(batch_ids):,} forms",
        ),
        Measure("  per form in the batch", batch.ms / max(len(batch_ids), 1), "ms"),
    ]
    meta = {
        "record_ids": record_ids,
        "pages": doc.pages,
        "pdf_kb": round(len(doc.pdf) / 1024, 1),
        "strings": len(strings),
        "batch_forms": len(batch_ids),
        "batch_pages": batch_doc.pages,
        "batch_pdf_mb": round(len(batch_doc.pdf) / 1e6, 2),
        "progress_calls": len(done),
    }
    return measures, meta
