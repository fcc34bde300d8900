"""Child processes of ``bench/run`` for what only a fresh GUI process can show: start-up time and memory.

    python -m bench.gui_probe empty                      # baseline: import PySide6, show an empty window
    python -m bench.gui_probe main DATA_DIR              # the program's start, until the main window is usable
    python -m bench.gui_probe session DATA_DIR           # memory, tab first paints, scrolling the customer table
    python -m bench.gui_probe demo DATA_DIR C V N        # --demo's first start: an example office made, then READY

``empty`` prints ``READY`` once its window is shown and its first events are processed; the parent times
the process from its start to each line, so the interpreter's start counts for both. ``main`` runs the
program's own entry point, ``huifang_desktop.app.main(["--data-dir", D, "--user", "supervisor",
"--smoke-test"])``, and prints two lines:

- ``SHOWN``: the main window is on screen and answers (menus, 退出, tab bar, moving and resizing) —
  command line, QApplication with the bundled font and translations, the window's frame, first events
  processed. The database is still being opened in a worker thread.
- ``READY``: the data is there — data layer loaded, database checked and migrated, logging, log-in of the
  user, the window attached, the 客户档案 tab built with its first page listed and the search box focused.
  Only the smoke test's checks (integrity check, test print) are replaced by "process events, say READY";
  the daily catch-up the GUI then starts in the background is not part of it.

``session`` starts the same way, opens every tab (as a user clicking through them), then reports the
resident memory (VmRSS, and the peak VmHWM, from ``/proc/self/status``); then times each tab's first page
(reload + paint: 客户档案, 投诉登记, 回访日历 month 2026-11 as the supervisor's 全组, and each ledger of the
台账 tab when this version has it) and scrolls the customer table to its last row as the view does (scroll
to the bottom, the model fetches the next page), sampling the memory every 20 pages. The results go to stdout as one ``RESULT {json}`` line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAINT_RUNS = 5
SAMPLE_EVERY_PAGES = 20
MONTH_FIRST = date(2026, 11, 1)


def rss_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB; (0, 0) where /proc is missing."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return 0.0, 0.0
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _ready() -> None:
    print("READY", flush=True)


def empty() -> int:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([sys.argv[0]])
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    _ready()
    window.close()
    return 0


def _run_program(data_dir: str, after_shown: Any) -> int:
    """The program's entry point with ``after_shown(app, window, ctx)`` instead of the smoke test's checks."""
    from huifang_desktop import app as program
    from huifang_desktop.ui import application

    application._shell_shown = lambda _app, _window: print("SHOWN", flush=True)  # type: ignore[assignment]

    def shown(qapp: Any, window: Any, ctx: Any) -> int:
        window.resize(1280, 800)
        window.show()
        qapp.processEvents()
        return after_shown(qapp, window, ctx)

    application._smoke_test = shown  # type: ignore[assignment]
    return program.main(["--data-dir", data_dir, "--user", "supervisor", "--smoke-test"])


def main_window(data_dir: str) -> int:
    def done(_app: Any, _window: Any, _ctx: Any) -> int:
        _ready()
        # Timed already; leave at once: background work the window started (the 台账 tab's 合计) may still
        # run, and tearing Qt down under a running QThread aborts the process.
        sys.stderr.flush()
        os._exit(0)

    return _run_program(data_dir, done)


def first_demo(data_dir: str, customers: int, visits: int, complaints: int) -> int:
    """``--demo`` on an empty folder: the example office of the given size is made, then READY."""
    from functools import partial

    from huifang_desktop import app as program
    from huifang_desktop.ui import application

    application._shell_shown = lambda _app, _window: print("SHOWN", flush=True)  # type: ignore[assignment]
    program.ensure_demo_office = partial(
        program.ensure_demo_office,
        customers=customers,  # type: ignore[assignment]
        visits=visits,
        complaints=complaints,
    )

    def done(qapp: Any, window: Any, _ctx: Any) -> int:
        qapp.processEvents()
        _ready()
        sys.stderr.flush()
        os._exit(0)

    application._smoke_test = done  # type: ignore[assignment]
    return program.main(["--data-dir", data_dir, "--demo", "--smoke-test"])


def settle(app: Any, window: Any, limit_s: float = 600) -> float:
    """Turn the event loop until no worker thread of the window runs (they quit through the event loop, so
    no ``wait()``); returns the seconds it took. Timings are taken with nothing running behind them."""
    from PySide6.QtCore import QThread

    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        app.processEvents()
        if not any(t.isRunning() for t in window.findChildren(QThread)):
            break
        time.sleep(0.005)
    app.processEvents()
    return time.monotonic() - started


def _median_ms(fn: Any, app: Any, window: Any) -> float:
    def once() -> float:
        settle(app, window)
        started = time.perf_counter()
        fn()
        app.processEvents()
        return (time.perf_counter() - started) * 1000

    once()  # warm-up: the first call after start also fills caches a user's first look would
    return statistics.median(once() for _ in range(PAINT_RUNS))


def session(data_dir: str) -> int:
    result: dict[str, Any] = {}

    def measure(app: Any, window: Any, ctx: Any) -> int:
        started = time.perf_counter()
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            for _ in range(3):
                app.processEvents()
        window.tabs.setCurrentIndex(0)
        app.processEvents()
        result["tabs_opened_s"] = time.perf_counter() - started
        result["background_s"] = settle(app, window)  # what the tabs started in worker threads (合计 …)
        result["rss_mb"], result["hwm_mb"] = rss_mb()

        customers, complaints, calendar = window.customers_tab, window.complaints_tab, window.calendar_tab
        result["customers_first_page_ms"] = _median_ms(customers.apply_filter, app, window)
        result["customers_rows_first_page"] = customers.model.rowCount()
        window.show_tab("complaints")
        app.processEvents()
        result["complaints_first_page_ms"] = _median_ms(complaints.apply_filter, app, window)
        window.show_tab("calendar")
        from huifang_desktop.ui.calendar.tab import MONTH, SCOPE_TEAM

        calendar.scope.setCurrentIndex(calendar.scope.findData(SCOPE_TEAM))
        calendar.mode, calendar.anchor, calendar.selected = MONTH, MONTH_FIRST, None
        app.processEvents()
        result["calendar_month_ms"] = _median_ms(calendar.refresh, app, window)
        result["calendar_list_title"] = calendar.list_title.text()

        result.update(_ledger_pages(app, window))
        window.show_tab("customers")
        customers.apply_filter()
        app.processEvents()
        result.update(_scroll_to_end(app, customers))
        return 0

    def measure_and_leave(app: Any, window: Any, ctx: Any) -> int:
        code = measure(app, window, ctx)
        print("RESULT " + json.dumps(result), flush=True)
        sys.stderr.flush()
        os._exit(code)  # as in main_window: no teardown under running worker threads

    return _run_program(data_dir, measure_and_leave)


def _ledger_pages(app: Any, window: Any) -> dict[str, Any]:
    """The 台账 tab (when this version has it): each ledger's first page, switched to from the picker. The
    tab counts the 合计 row in a worker thread; it is waited for between runs, outside the timing."""
    tab = getattr(window, "ledgers_tab", None)
    if tab is None or not hasattr(tab, "show_ledger"):
        return {}
    from huifang_desktop.services.ledgers import Ledger

    window.show_tab("ledgers")
    app.processEvents()
    out: dict[str, Any] = {}
    for ledger in Ledger:
        runs = []
        for _ in range(PAINT_RUNS + 1):
            settle(app, window)
            started = time.perf_counter()
            tab.show_ledger(ledger)
            app.processEvents()
            runs.append((time.perf_counter() - started) * 1000)
        out[f"ledger_tab:{ledger.value}"] = statistics.median(runs[1:])
    settle(app, window)
    return out


def _scroll_to_end(app: Any, tab: Any) -> dict[str, Any]:
    """Scroll the customer table to its last row the way the view does, sampling the memory."""
    table, model = tab.table, tab.model
    total = model.total()
    start_rss, _ = rss_mb()
    samples = [(model.rowCount(), start_rss)]
    pages = 0
    started = time.perf_counter()
    while model.canFetchMore():
        before = model.rowCount()
        table.scrollToBottom()  # the view fetches the next page when the scroll bar reaches its end
        app.processEvents()
        if model.rowCount() == before:  # the view did not ask (e.g. not visible): ask as it would
            model.fetchMore()
            app.processEvents()
        pages += 1
        if pages % SAMPLE_EVERY_PAGES == 0:
            samples.append((model.rowCount(), rss_mb()[0]))
    table.scrollToBottom()
    app.processEvents()
    seconds = time.perf_counter() - started
    end_rss, hwm = rss_mb()
    samples.append((model.rowCount(), end_rss))
    return {
        "scroll_rows": model.rowCount(),
        "scroll_total": total,
        "scroll_pages": pages,
        "scroll_s": seconds,
        "scroll_ms_per_page": seconds * 1000 / max(pages, 1),
        "scroll_rss_start_mb": start_rss,
        "scroll_rss_end_mb": end_rss,
        "scroll_hwm_mb": hwm,
        "scroll_samples": samples,
    }


def cli(argv: list[str]) -> int:
    mode = argv[0] if argv else ""
    if mode == "empty":
        return empty()
    if mode == "main" and len(argv) == 2:
        return main_window(argv[1])
    if mode == "session" and len(argv) == 2:
        return session(argv[1])
    if mode == "demo" and len(argv) == 5:
        return first_demo(argv[1], int(argv[2]), int(argv[3]), int(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
