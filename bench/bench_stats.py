"""A month's statistics (``services.stats.statistics``) vs one raw aggregate query.

As the supervisor, for the last complete month (2026-10) grouped by 回访人: first the figures the 统计 screen
shows at once (``complete=False``: totals, groups, rules, complaints, services), then everything
(``complete=True``: also the previous month and the monthly trend). Median of 3 after one warm-up.
Baseline: one raw ``sqlite3`` GROUP BY over the month's visit plans per 负责人 (planned, done, on time,
overdue) — the core of the month's figures. No target is set by the issue: the ratio is reported.
"""

from __future__ import annotations

import statistics as pystats
from pathlib import Path
from typing import Any

from bench.common import Measure, ReportOnly, raw_sqlite, time_ms
from bench.office import TODAY, office_ctx

MONTH = "2026-10"
RUNS = 3
_RAW = (
    "SELECT owner_id, count(*), sum(state = '已回访'), sum(state = '已回访' AND done_on <= due), "
    "sum(state = '待回访' AND due < ?) FROM visit_plan "
    "WHERE due >= ? AND due <= ? AND state != '已取消' GROUP BY owner_id"
)


def _median_ms(fn: Any) -> float:
    fn()
    return pystats.median(time_ms(fn)[0] for _ in range(RUNS))


def measure(path: Path) -> tuple[list[Measure], dict[str, Any]]:
    try:
        from huifang_desktop.services import stats
    except ImportError as exc:
        return [Measure(f"month statistics: missing ({exc.name})", float("nan"), "ms")], {}
    ctx = office_ctx(path)
    raw = raw_sqlite(path)
    try:
        params = (TODAY.isoformat(), f"{MONTH}-01", f"{MONTH}-31")
        base = _median_ms(lambda: raw.execute(_RAW, params).fetchall())
        first = _median_ms(lambda: stats.statistics(ctx, MONTH, "clerk", complete=False))
        full = _median_ms(lambda: stats.statistics(ctx, MONTH, "clerk", complete=True))
        st = stats.statistics(ctx, MONTH, "clerk", complete=False)
    finally:
        raw.close()
        ctx.engine.dispose()
    measures = [
        Measure(f"month statistics {MONTH} (first figures)", first, "ms", base, ReportOnly(0.0)),
        Measure("  with previous month and trend", full, "ms", base),
    ]
    return measures, {"month": MONTH, "planned": st.totals.planned, "records": st.totals.records}
