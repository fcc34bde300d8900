"""Crash safety: a process writing through the services is killed (SIGKILL) at random moments; afterwards
the database opens, passes integrity_check, holds every record reported committed, and holds no
half-written record. ``HUIFANG_KILL_RUNS`` sets the number of kills (CI default 10; the note reports 100).

No wall-clock timing: the worker prints a line after each committed save and the kill follows the K-th line
(K at random) after its first saved visit record, so a slow, loaded machine only makes the test slower. The
only timeout is a hang guard."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from huifang_desktop.app import open_context
from huifang_desktop.config import AppPaths

RUNS = int(os.environ.get("HUIFANG_KILL_RUNS", "10"))
WORKER = Path(__file__).with_name("kill_worker.py")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


HANG_GUARD_S = 300  # only for a worker that never prints (hung); never reached by a slow machine


def _run_and_kill(data: Path, seed: int, lines_after_record: int) -> list[tuple[str, int]]:
    """Start the worker, read its commit lines; SIGKILL it right after the ``lines_after_record``-th line
    that follows its first saved visit record (it is then inside its next service call)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), HUIFANG_CHEAP_HASH="1")
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(data), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    guard = threading.Timer(HANG_GUARD_S, proc.kill)
    guard.start()
    lines: list[str] = []
    try:
        left = None
        for line in proc.stdout:
            lines.append(line)
            if left is None and line.startswith("record "):
                left = lines_after_record
            if left is not None:
                if left == 0:
                    proc.send_signal(signal.SIGKILL)
                    break
                left -= 1
        out, err = proc.communicate()
    finally:
        guard.cancel()
    assert proc.returncode == -signal.SIGKILL, err[-2000:]
    assert left == 0, f"the worker stopped before the kill: {err[-2000:]}"
    done = []
    for line in [*lines, *out.splitlines()]:
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            done.append((parts[0], int(parts[1])))
    return done


def _check(db: Path, committed: list[tuple[str, int]]) -> None:
    conn = sqlite3.connect(str(db))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {
            "customer": "customer",
            "purchase": "purchase",
            "record": "visit_record",
            "complaint": "complaint",
        }
        for kind, rid in committed:
            if kind in tables:
                found = conn.execute(f"SELECT 1 FROM {tables[kind]} WHERE id = ?", (rid,)).fetchone()
                assert found is not None, f"{kind} {rid} was reported committed but is missing"
            if kind == "awaiting":
                state = conn.execute(
                    "SELECT state, visit_plan_id FROM complaint WHERE id = ?", (rid,)
                ).fetchone()
                assert state is not None and state[0] in ("待回访", "已关闭") and state[1] is not None
        # no half-written records
        assert (
            conn.execute("SELECT count(*) FROM customer WHERE code IS NULL OR code = ''").fetchone()[0] == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM visit_record r LEFT JOIN customer c ON c.id = r.customer_id"
                " WHERE c.id IS NULL OR r.number = ''"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute("SELECT count(*) FROM complaint WHERE number IS NULL OR number = ''").fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM complaint c WHERE NOT EXISTS (SELECT 1 FROM complaint_occurrence o"
                " WHERE o.complaint_id = c.id)"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM visit_plan p WHERE p.state = '已回访' AND NOT EXISTS"
                " (SELECT 1 FROM visit_record r WHERE r.id = p.record_id)"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM complaint WHERE state = '待回访' AND customer_id IS NOT NULL"
                " AND visit_plan_id IS NULL"
            ).fetchone()[0]
            == 0
        )
    finally:
        conn.close()


def test_sigkill_at_random_points_loses_nothing_committed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    open_context(AppPaths(data)).engine.dispose()  # migrated once, like an installed office
    rng = random.Random(20261124)
    committed: list[tuple[str, int]] = []
    for run in range(RUNS):
        committed += _run_and_kill(data, run, rng.randint(0, 40))
        _check(data / "huifang.db", committed)
    assert sum(1 for k, _ in committed if k == "record") >= RUNS  # the kills landed mid-work, not at start-up
    # and the program still opens the file (migrations, WAL recovery) after the last kill
    ctx = open_context(AppPaths(data))
    ctx.engine.dispose()
