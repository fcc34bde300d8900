"""Start-up time and the GUI measures that need a fresh process (see ``bench/gui_probe.py``).

Start-up: ``gui_probe main DATA_DIR`` (the program's own start) against ``gui_probe empty`` (import PySide6,
show an empty window), each timed from the process start to its lines; one untimed warm-up of each, then
``runs`` of each alternating (11 in ``bench/run``: a start is short, and a shared machine's hiccup of
40–50 ms in two of five runs moved a median of five), medians compared. Two moments of the start:

- the main window shown and answering (``SHOWN``): target ≤ 1.5× the empty window;
- 客户档案 listed (``READY``): the database opened in the background, the user logged in, the first tab
  built with its first page. Reported: it is bound by loading the data layer (SQLAlchemy and the mapped
  models alone take 0.35–0.4 s, over 3× the whole empty-window start on this machine).

The children run with bytecode caching on (``PYTHONPYCACHEPREFIX`` in ``bench/.cache/pycache``): an
installed program has its ``.pyc`` files, and this machine's environment sets ``PYTHONDONTWRITEBYTECODE``,
which would otherwise make every start compile the program from source.

Session: one ``gui_probe session DATA_DIR``: resident memory with every tab opened (target < 400 MB); the
first page of the 客户档案, 投诉登记, 回访日历 (month) tabs and of each ledger in the 台账 tab (target < 150 ms);
scrolling the customer table to its last row with the memory sampled: it stays flat (target: the resident
memory grows by less than 20 MB from the first page to the last row; the growth per 10,000 rows is noted).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, CACHE_DIR, Measure, ReportOnly, Target

ROOT = BENCH_DIR.parent
TARGET_START_RATIO = 1.5
TARGET_RSS_MB = 400.0
TARGET_FIRST_PAGE_MS = 150.0
TARGET_SCROLL_GROWTH_MB = 20.0  # "flat": no more than allocator noise, however many rows are scrolled past


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(CACHE_DIR / "pycache")
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _probe(args: list[str], timeout: float = 600) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.gui_probe", *args],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def time_to_marks(args: list[str]) -> dict[str, float]:
    """Seconds from starting the probe to each of its SHOWN and READY lines."""
    started = time.perf_counter()
    proc = _probe(args)
    assert proc.stdout is not None
    marks: dict[str, float] = {}
    for line in proc.stdout:
        mark = line.strip()
        if mark in ("SHOWN", "READY"):
            marks[mark] = time.perf_counter() - started
            if mark == "READY":
                break
    _out, err = proc.communicate(timeout=120)
    if "READY" not in marks or proc.returncode != 0:
        raise SystemExit(f"gui_probe {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    return marks


def session(data_dir: Path) -> dict[str, Any]:
    proc = _probe(["session", str(data_dir)])
    out, err = proc.communicate(timeout=1800)
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"gui_probe session failed ({proc.returncode}):\n{err[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    return result


def measure(data_dir: Path, *, runs: int = 5) -> tuple[list[Measure], dict[str, Any]]:
    main_args, empty_args = ["main", str(data_dir)], ["empty"]
    time_to_marks(empty_args)  # warm-up: bytecode cache, file cache
    time_to_marks(main_args)
    shown: list[float] = []
    ready: list[float] = []
    base: list[float] = []
    for n in range(runs):
        pair = (empty_args, main_args) if n % 2 == 0 else (main_args, empty_args)
        for args in pair:
            marks = time_to_marks(args)
            if args is empty_args:
                base.append(marks["READY"])
            else:
                shown.append(marks["SHOWN"])
                ready.append(marks["READY"])
    s = session(data_dir)
    rows = max(s["scroll_rows"] - s["customers_rows_first_page"], 1)
    growth = s["scroll_rss_end_mb"] - s["scroll_rss_start_mb"]
    measures = [
        Measure(
            "start-up: main window shown, answering",
            statistics.median(shown),
            "s",
            statistics.median(base),
            Target(TARGET_START_RATIO, on="ratio", strict=False),
        ),
        Measure(
            "start-up: 客户档案 listed (database open, logged in)",
            statistics.median(ready),
            "s",
            statistics.median(base),
            ReportOnly(0.0),
        ),
        Measure(
            "resident memory, full office open (all tabs)",
            s["rss_mb"],
            "MB",
            None,
            Target(TARGET_RSS_MB, unit=" MB"),
        ),
        Measure(
            "客户档案 tab first page (reload + paint)",
            s["customers_first_page_ms"],
            "ms",
            None,
            Target(TARGET_FIRST_PAGE_MS, unit=" ms"),
        ),
        Measure(
            "投诉登记 tab first page (reload + paint)",
            s["complaints_first_page_ms"],
            "ms",
            None,
            Target(TARGET_FIRST_PAGE_MS, unit=" ms"),
        ),
        Measure(
            "回访日历 month first paint (2026-11, 全组)",
            s["calendar_month_ms"],
            "ms",
            None,
            Target(TARGET_FIRST_PAGE_MS, unit=" ms"),
        ),
        *(
            Measure(
                f"台账 tab: {key.removeprefix('ledger_tab:')} first page",
                value,
                "ms",
                None,
                Target(TARGET_FIRST_PAGE_MS, unit=" ms"),
            )
            for key, value in s.items()
            if key.startswith("ledger_tab:")
        ),
        Measure(
            "scroll 客户档案 to the end",
            s["scroll_s"],
            "s",
            None,
            ReportOnly(0.0),
            note=f"{s['scroll_rows']:,} rows",
        ),
        Measure(
            "  memory growth while scrolling",
            growth,
            "MB",
            None,
            Target(TARGET_SCROLL_GROWTH_MB, unit=" MB"),
            note=f"{growth * 10_000 / rows:.1f} MB per 10,000 rows",
        ),
    ]
    meta = {
        "start_shown_runs_s": shown,
        "start_ready_runs_s": ready,
        "empty_runs_s": base,
        **{k: v for k, v in s.items()},
    }
    return measures, meta
