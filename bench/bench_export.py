"""Excel export of the 回访台账: ``services.ledgers.export`` of about 100,000 rows vs raw openpyxl.

The period is the newest stretch of the ledger holding ``rows`` plans (on a smaller office, the whole
ledger). Timed: the service as the command ``export visits`` runs it (every column) — read the rows from the database,
format them, write the .xlsx (write-only), log the export. Baseline: the same cells, read beforehand into
memory, appended to a write-only openpyxl workbook and saved. Each once (the export is long enough), the
baseline first. Target ≤ 1.3×.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import Measure, Target, Timer
from bench.office import office_ctx

TARGET_RATIO = 1.3


def _period(ctx: Any, rows: int) -> tuple[date | None, date | None]:
    with ctx.engine.connect() as conn:
        row = conn.exec_driver_sql(
            f"SELECT due FROM visit_plan ORDER BY due DESC LIMIT 1 OFFSET {max(rows - 1, 0)}"
        ).first()
    return (date.fromisoformat(str(row[0])) if row else None), None


def _raw_openpyxl(rows: list[tuple[Any, ...]], headers: tuple[str, ...], out: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("回访台账")
    ws.append(["回访台账"])
    ws.append(list(headers))
    for row in rows:
        ws.append(row)
    wb.save(out)


def measure(path: Path, *, rows: int = 100_000) -> tuple[list[Measure], dict[str, Any]]:
    from huifang_desktop.services import ledgers

    ctx = office_ctx(path)
    try:
        start, end = _period(ctx, rows)
        visits, period = ledgers.Ledger.VISITS, ledgers.LedgerFilter(start=start, end=end)
        every = ledgers.columns(visits)
        cells = [r.values for r in ledgers.stream(ctx, visits, period)]
        with tempfile.TemporaryDirectory() as tmp:
            with Timer() as base:
                _raw_openpyxl(cells, tuple(c.label for c in every), Path(tmp) / "raw.xlsx")
            with Timer() as ours:
                written = ledgers.export(
                    ctx, visits, period, Path(tmp) / "ledger.xlsx", columns_=[c.key for c in every]
                ).rows
            size = (Path(tmp) / "ledger.xlsx").stat().st_size
    finally:
        ctx.engine.dispose()
    measures = [
        Measure(
            "xlsx export 回访台账",
            ours.seconds,
            "s",
            base.seconds,
            Target(TARGET_RATIO, on="ratio", strict=False),
            note=f"{written:,} rows",
        )
    ]
    return measures, {"rows": written, "from": str(start) if start else None, "xlsx_mb": round(size / 1e6, 1)}
