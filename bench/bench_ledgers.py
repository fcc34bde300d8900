"""First page of each 台账 (``services.ledgers.page``) and its 合计 row (``services.ledgers.totals``).

As the supervisor, with the ledger's default filter and order (what the 台账 screen shows when opened).
Each is the median of 5 after one warm-up. Target: the first page under 150 ms (architecture.md). The 合计
row is reported next to it. The GUI tabs' first pages (客户档案, 投诉登记, 回访日历) are measured in a fresh
GUI process by ``bench/gui_probe.py``.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench.common import Measure, Target, time_ms
from bench.office import office_ctx

TARGET_FIRST_PAGE_MS = 150.0
RUNS = 5


def _median_ms(fn: Any) -> tuple[float, Any]:
    fn()
    runs = [time_ms(fn) for _ in range(RUNS)]
    return statistics.median(t for t, _ in runs), runs[-1][1]


def measure(path: Path) -> tuple[list[Measure], dict[str, Any]]:
    try:
        from huifang_desktop.services import ledgers
    except ImportError as exc:
        return [
            Measure(
                f"台账 first page: missing ({exc.name})",
                float("nan"),
                "ms",
                None,
                Target(TARGET_FIRST_PAGE_MS, unit=" ms"),
            )
        ], {}
    ctx = office_ctx(path)
    measures: list[Measure] = []
    meta: dict[str, Any] = {}
    try:
        for ledger in ledgers.Ledger:
            page_ms, page = _median_ms(lambda ledger=ledger: ledgers.page(ctx, ledger))
            totals_ms, totals = _median_ms(lambda ledger=ledger: ledgers.totals(ctx, ledger))
            measures.append(
                Measure(
                    f"{ledger.value} first page",
                    page_ms,
                    "ms",
                    None,
                    Target(TARGET_FIRST_PAGE_MS, unit=" ms"),
                )
            )
            measures.append(Measure(f"  {ledger.value} 合计", totals_ms, "ms"))
            meta[ledger.slug] = {"rows_on_page": len(page.rows), "rows": totals.count}
    finally:
        ctx.engine.dispose()
    return measures, meta
