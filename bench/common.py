"""Helpers shared by the benchmarks: a timer, percentiles, a cached demo office and the results table.

Benchmarks compare the program against a raw baseline measured in the same run and print
``measure | value | baseline | ratio | target | pass``; the same rows go to ``bench/results/<name>.json``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

BENCH_DIR = Path(__file__).resolve().parent
# HUIFANG_BENCH_OUT moves the cache and the results elsewhere (the test suite's tiny runs use a temp folder).
_OUT = Path(os.environ.get("HUIFANG_BENCH_OUT") or BENCH_DIR)
CACHE_DIR = _OUT / ".cache"
RESULTS_DIR = _OUT / "results"


# --- timing ---------------------------------------------------------------------------------------------


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds`` / ``t.ms``."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Self:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started

    @property
    def ms(self) -> float:
        return self.seconds * 1000


def time_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` once; return (milliseconds, its result)."""
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) with linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- the demo office ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoDatabase:
    path: Path
    customers: int
    seed: int
    built_seconds: float | None  # None when reused from the cache


def demo_db(customers: int, seed: int = 1, *, rebuild: bool = False, progress: bool = True) -> DemoDatabase:
    """A demo office of ``customers`` customers, built once and cached as
    ``bench/.cache/<n>-<seed>-rev<alembic head>.db`` (a schema change builds a new one; the stale file of the
    same size and seed is removed).

    The file is built under a temporary name and renamed when complete, so an interrupted build is never
    reused. The cached file is only read by the benchmarks.
    """
    from huifang_desktop.demo import generate_demo
    from huifang_desktop.services.context import ServiceContext
    from huifang_desktop.storage.db import (
        head_revision,
        make_engine,
        make_session_factory,
        sqlite_url,
        upgrade,
    )

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    target = CACHE_DIR / f"{customers}-{seed}-rev{head_revision()}.db"
    if target.exists() and not rebuild:
        return DemoDatabase(target, customers, seed, None)
    for stale in (CACHE_DIR / f"{customers}-{seed}.db", *CACHE_DIR.glob(f"{customers}-{seed}-rev*.db*")):
        if not stale.name.startswith(target.name):
            stale.unlink(missing_ok=True)
    part = CACHE_DIR / f"{customers}-{seed}.db.part"
    for leftover in (part, Path(f"{part}-wal"), Path(f"{part}-shm")):
        leftover.unlink(missing_ok=True)
    engine = make_engine(sqlite_url(part))
    try:
        upgrade(engine)
        ctx = ServiceContext(engine, make_session_factory(engine))

        def show(done: int, total: int) -> bool:
            if progress:
                print(f"\r  demo office: {done:,}/{total:,} customers", end="", file=sys.stderr, flush=True)
            return True

        result = generate_demo(ctx, customers=customers, seed=seed, progress=show)
        if progress:
            print(f" — {result.seconds:.1f} s", file=sys.stderr)
    finally:
        engine.dispose()  # the last connection closing checkpoints and removes the WAL file
    _checkpoint(part)
    part.replace(target)
    return DemoDatabase(target, customers, seed, result.seconds)


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def open_ctx(path: Path) -> Any:
    """A system ServiceContext on an existing database file (no migration, nothing written)."""
    from huifang_desktop.services.context import ServiceContext
    from huifang_desktop.storage.db import make_engine, make_session_factory, sqlite_url

    engine = make_engine(sqlite_url(path))
    return ServiceContext(engine, make_session_factory(engine))


def raw_sqlite(path: Path) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection with the same pragmas as the program's engine (the baseline)."""
    from huifang_desktop.storage.db import BUSY_TIMEOUT_MS

    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        "synchronous=NORMAL",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


# --- results --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What passes: ``value < limit`` (or ≤), or the same on the ratio to the baseline."""

    limit: float
    on: str = "value"  # "value" or "ratio"
    strict: bool = True
    unit: str = ""

    def describe(self) -> str:
        op = "<" if self.strict else "≤"
        return f"{op} {self.limit:g}×" if self.on == "ratio" else f"{op} {self.limit:g}{self.unit}"

    def check(self, value: float, ratio: float | None) -> bool:
        x = ratio if self.on == "ratio" else value
        if x is None:
            return False
        return x < self.limit if self.strict else x <= self.limit


class ReportOnly(Target):
    """No target is set (the issue asks for the figure): the table says "report" and nothing can fail."""

    def describe(self) -> str:
        return "report"

    def check(self, value: float, ratio: float | None) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    value: float
    unit: str = "ms"
    baseline: float | None = None
    target: Target | None = None
    note: str = ""  # what was measured this time (rows, forms …), shown after the name; not part of it

    @property
    def label(self) -> str:
        return f"{self.name} ({self.note})" if self.note else self.name

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def missing(self) -> bool:
        """Nothing to measure yet (the feature is not in this version): NaN, shown as "missing"."""
        return math.isnan(self.value)

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.missing:
            return None
        return self.target.check(self.value, self.ratio)

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.name,
            "note": self.note,
            "value": None if self.missing else self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "ratio": None if self.missing else self.ratio,
            "target": self.target.describe() if self.target else None,
            "pass": self.passed,
            **({"missing": True} if self.missing else {}),
        }


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "–"
    if math.isnan(x):
        return "missing"
    text = f"{x:.3g}" if abs(x) < 100 else f"{x:,.0f}"
    return f"{text} {unit}".rstrip()


def report(
    name: str, measures: Sequence[Measure], meta: dict[str, Any] | None = None, *, epilogue: str = ""
) -> bool:
    """Print the table (and ``epilogue`` after it), write ``bench/results/<name>.json``; return True when every
    target passed."""
    header = ("measure", "value", "baseline", "ratio", "target", "pass")
    rows = [header] + [
        (
            m.label,
            _fmt(m.value, m.unit),
            _fmt(m.baseline, m.unit),
            f"{m.ratio:.2f}×" if m.ratio is not None else "–",
            m.target.describe() if m.target else "–",
            "missing" if m.missing else {None: "–", True: "yes", False: "NO"}[m.passed],
        )
        for m in measures
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            print("-|-".join("-" * w for w in widths))
    if epilogue:
        print(epilogue)
    ok = all(m.passed is not False for m in measures)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "at": datetime.now().isoformat(timespec="seconds"),
        "passed": ok,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "sqlite": sqlite3.sqlite_version,
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "meta": meta or {},
        "measures": [m.as_dict() for m in measures],
    }
    out = RESULTS_DIR / f"{name}.json"
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    load = (
        f" (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)"
        if hasattr(os, "getloadavg")
        else ""
    )
    shown = out.relative_to(BENCH_DIR.parent) if out.is_relative_to(BENCH_DIR.parent) else out
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'}{load} — results in {shown}")
    return ok
