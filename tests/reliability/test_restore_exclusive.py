"""Restore under an open office (issue 23, item 1), with real processes.

A writer process saves customers, one per request, printing each 客户编号 once its save returned. A
``restore --yes`` while it has the office open is refused, naming it, and nothing it reported saved is
lost; when its file is replaced underneath it by other means, its next save is refused ("已被替换") instead
of going into the deleted file. The tests synchronise on the writer's output lines, never on time.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

WRITER = Path(__file__).with_name("restore_writer.py")
ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huifang_desktop", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )


class Writer:
    def __init__(self, data: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(data)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=ENV,
            text=True,
        )
        first = self._line()
        if not first.startswith("ready "):
            raise AssertionError(first + self.proc.communicate(timeout=60)[1])
        self.saved: list[str] = []

    def _line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def save(self) -> str:
        """One save; returns the writer's answer line (``saved KH…`` or ``stopped …``)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("save\n")
        self.proc.stdin.flush()
        line = self._line()
        if line.startswith("saved "):
            self.saved.append(line.split()[1])
        return line

    def close(self) -> int:
        """Ends the writer (stdin closed) and its pipes; returns its exit status."""
        self.err = self.proc.communicate(timeout=60)[1]
        return self.proc.returncode


def _codes(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT code FROM customer")}
    finally:
        conn.close()


@pytest.fixture()
def office(tmp_path: Path) -> tuple[Path, Path]:
    """A data folder with an office and one verified backup of it (made by the backup command)."""
    data, folder = tmp_path / "data", tmp_path / "bk"
    done = _cli(data, "backup", str(folder))
    assert done.returncode == 0, done.stderr
    [backup] = [p for p in folder.iterdir() if p.suffix == ".db"]
    return data, backup


def test_restore_is_refused_naming_the_writer_and_no_save_is_lost(office: tuple[Path, Path]) -> None:
    data, backup = office
    writer = Writer(data)
    try:
        for _ in range(3):
            assert writer.save().startswith("saved ")
        done = _cli(data, "restore", str(backup), "--yes")
        assert done.returncode != 0, done.stdout
        assert "不能恢复" in done.stderr and "数据库正被其他程序打开" in done.stderr
        assert f"进程号 {writer.proc.pid}" in done.stderr
        assert socket.gethostname() in done.stderr and "测试写入程序" in done.stderr
        assert "已登录用户 writer" in done.stderr
        for _ in range(3):  # the writer goes on saving into the same, still current file
            assert writer.save().startswith("saved ")
    finally:
        assert writer.close() == 0
    assert len(writer.saved) == 6
    assert set(writer.saved) <= _codes(data / "huifang.db")


def test_restore_after_the_writer_ended_or_was_killed_then_a_new_writer_keeps_its_saves(
    office: tuple[Path, Path],
) -> None:
    data, backup = office
    writer = Writer(data)
    assert writer.save().startswith("saved ")
    if sys.platform != "win32":
        writer.proc.send_signal(signal.SIGKILL)  # its registration is left behind, its lock is gone
        writer.close()
    else:  # pragma: no cover
        writer.close()
    done = _cli(data, "restore", str(backup), "--yes")
    assert done.returncode == 0, done.stderr
    assert "另存为" in done.stdout
    after = Writer(data)
    try:
        for _ in range(3):
            assert after.save().startswith("saved ")
    finally:
        assert after.close() == 0
    assert set(after.saved) <= _codes(data / "huifang.db")


def test_a_writer_whose_file_is_replaced_underneath_stops_instead_of_saving_into_it(
    office: tuple[Path, Path], tmp_path: Path
) -> None:
    data, _backup = office
    db = data / "huifang.db"
    writer = Writer(data)
    try:
        for _ in range(3):
            assert writer.save().startswith("saved ")
        # another program (an older version, a file copy) puts a consistent copy in place of the live file
        copy = tmp_path / "copy.db"
        src, dest = sqlite3.connect(db), sqlite3.connect(copy)
        try:
            src.backup(dest)
        finally:
            dest.close()
            src.close()
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        os.replace(copy, db)
        answer = writer.save()
        assert answer.startswith("stopped ") and "已被替换" in answer and "没有保存" in answer, answer
    finally:
        code = writer.close()
    assert code == 3, writer.err
    assert len(writer.saved) == 3
    assert set(writer.saved) <= _codes(db)  # every number reported saved is in the file the office now uses
