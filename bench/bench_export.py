"""Excel export of the 回访台账: ``services.ledgers.export`` of about 100,000 rows vs raw openpyxl.

The period is the newest stretch of the ledger holding ``rows`` plans (on a smaller office, the whole
ledger). Timed: the service as the command ``export visits`` runs it (every column) — read the rows from the database,
format them, write the .xlsx (write-only), log the export. Baseline: the same cells, read beforehand into
memory, appended to a write-only openpyxl workbook and saved. Target ≤ 1.3×.

Three rounds of the pair, the order alternating (baseline first, then the export first, …), and the round
whose ratio is the median reported: on a shared two-core machine one pair alone swung 1.09–1.48× between
runs of the same code (the machine's speed drifts over the minute a pair takes; a pair measured back to back
sees the same drift, and the alternating order cancels what is left of it).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import Measure, Target, Timer
from bench.office import office_ctx

TARGET_RATIO = 1.3
ROUNDS = 3


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


def measure(path: Path, *, rows: int = 100_000, rounds: int = ROUNDS) -> tuple[list[Measure], dict[str, Any]]:
    from huifang_desktop.services import ledgers

    ctx = office_ctx(path)
    try:
        start, end = _period(ctx, rows)
        visits, period = ledgers.Ledger.VISITS, ledgers.LedgerFilter(start=start, end=end)
        every = ledgers.columns(visits)
        cells = [r.values for r in ledgers.stream(ctx, visits, period)]
        pairs: list[tuple[float, float]] = []
        with tempfile.TemporaryDirectory() as tmp:

            def base_run() -> float:
                with Timer() as base:
                    _raw_openpyxl(cells, tuple(c.label for c in every), Path(tmp) / "raw.xlsx")
                return base.seconds

            def our_run() -> tuple[float, int]:
                with Timer() as ours:
                    rows_written = ledgers.export(
                        ctx, visits, period, Path(tmp) / "ledger.xlsx", columns_=[c.key for c in every]
                    ).rows
                return ours.seconds, rows_written

            for n in range(rounds):
                if n % 2 == 0:
                    b = base_run()
                    o, written = our_run()
                else:
                    o, written = our_run()
                    b = base_run()
                pairs.append((o, b))
            size = (Path(tmp) / "ledger.xlsx").stat().st_size
    finally:
        ctx.engine.dispose()
    ours_s, base_s = sorted(pairs, key=lambda pair: pair[0] / pair[1])[len(pairs) // 2]
    measures = [
        Measure(
            "xlsx export 回访台账",
            ours_s,
            "s",
            base_s,
            Target(TARGET_RATIO, on="ratio", strict=False),
            note=f"{written:,} rows, median of {len(pairs)} rounds",
        )
    ]
    return measures, {
        "rows": written,
        "from": str(start) if start else None,
        "xlsx_mb": round(size / 1e6, 1),
        "ratios": [round(o / b, 3) for o, b in pairs],
    }
