"""Upgrades are all-or-nothing, also when the process is killed (real processes, kill -9 at named points);
a file an older program's cut upgrade left half-way is detected and its pre-migrate backup offered; a SQLite
file of another program is refused and left as it was."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

import huifang_desktop
from huifang_desktop.storage import db
from huifang_desktop.storage.db import (
    PAUSE_ENV,
    DatabaseError,
    backup_sqlite,
    head_revision,
    make_engine,
    sqlite_url,
    upgrade,
)
from tests.storage.test_db import _assert_0001_rows_readable, _fill_0003

pytestmark = pytest.mark.sqlite_only

TIMEOUT_S = 120
SOURCE_ROOT = str(Path(huifang_desktop.__file__).resolve().parent.parent)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([SOURCE_ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop(PAUSE_ENV, None)
    env.update(extra)
    return env


def _cli(data: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huifang_desktop", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env or _env(),
        timeout=TIMEOUT_S,
        check=False,
    )


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _contents(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (alembic_version included), to compare a file before and after."""
    tables = [
        r[0]
        for r in _rows(
            path,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
    ]
    return {t: sorted(_rows(path, f'SELECT * FROM "{t}"'), key=repr) for t in tables}


def _schema(path: Path) -> list[tuple[object, ...]]:
    return _rows(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")


def _pre_migrate(backups: Path, revision: str) -> list[str]:
    return sorted(p.name for p in backups.glob(f"huifang-*-pre-migrate-{revision}.db"))


def _office_at(data: Path, revision: str) -> Path:
    """A data folder whose database a program of ``revision`` made and filled (customers, visits, a complaint,
    a report), closed cleanly."""
    data.mkdir(parents=True, exist_ok=True)
    path = data / "huifang.db"
    engine = make_engine(sqlite_url(path))
    try:
        upgrade(engine, revision)
        _fill_0003(engine)
    finally:
        engine.dispose()
    return path


def _start_and_kill_at(data: Path, point: str, markers: Path) -> None:
    """Start the program (a command that opens the database, so it upgrades), wait until it says it paused
    at ``point`` (a line on its stderr), then kill -9 it."""
    markers.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "huifang_desktop", "--data-dir", str(data), "users", "list"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=_env(**{PAUSE_ENV: f"{point}={markers}"}),
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # blocks until the next line: the event, not a timer
            seen.append(line)
            if line.strip() == f"paused at {point}":
                break
        else:
            pytest.fail(f"the upgrade never reached {point!r}; exit {proc.wait()}, stderr: {''.join(seen)}")
        assert (markers / point).read_text(encoding="utf-8") == str(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=TIMEOUT_S)
        if proc.stderr is not None:
            proc.stderr.close()


KILL_POINTS = ("after-backup", "after-0007", "after-0008", "before-commit")


def test_upgrade_killed_at_every_point_leaves_the_old_schema_and_the_next_start_completes(
    tmp_path: Path,
) -> None:
    data = tmp_path / "office"
    path = _office_at(data, "0006")
    before = _contents(path)
    schema_0006 = _schema(path)
    backups = data / "backups"

    first_backup: list[str] = []
    for point in KILL_POINTS:
        _start_and_kill_at(data, point, tmp_path / "markers")

        # the file holds the 0006 schema and every row, exactly as before the cut
        assert _rows(path, "PRAGMA integrity_check") == [("ok",)]
        assert _schema(path) == schema_0006, point
        assert _contents(path) == before, point
        # one verified pre-migrate copy of 0006, made by the first start and reused by the next ones
        assert len(_pre_migrate(backups, "0006")) == 1, (point, _pre_migrate(backups, "0006"))
        first_backup = first_backup or _pre_migrate(backups, "0006")
        assert _pre_migrate(backups, "0006") == first_backup

    result = _cli(data, "users", "list")

    assert result.returncode == 0, result.stderr
    assert _rows(path, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    after = _contents(path)
    for table, rows in before.items():
        if table != "alembic_version" and rows:
            # every row kept as it was; later revisions may add columns (at the end) and rows (0010 records
            # each user's state in the audit chain)
            width = len(rows[0])
            kept = {r[:width] for r in after[table]}
            assert [r for r in rows if r not in kept] == [], table
    engine = make_engine(sqlite_url(path))
    try:
        _assert_0001_rows_readable(engine)
    finally:
        engine.dispose()
    assert _pre_migrate(backups, "0006") == first_backup
    assert _rows(backups / first_backup[0], "SELECT version_num FROM alembic_version") == [("0006",)]
    assert list(backups.glob("*.part")) == []


def test_a_second_failed_start_reuses_the_pre_migrate_backup_and_a_changed_file_gets_a_new_one(
    tmp_path: Path,
) -> None:
    data = tmp_path / "office"
    path = _office_at(data, "0008")
    backups = data / "backups"
    _start_and_kill_at(data, "before-commit", tmp_path / "markers")
    _start_and_kill_at(data, "before-commit", tmp_path / "markers")
    first = _pre_migrate(backups, "0008")
    assert len(first) == 1

    conn = sqlite3.connect(str(path))  # an older program writes to the file between two attempts
    conn.execute("UPDATE customer SET notes = '改过' WHERE id = 1")
    conn.commit()
    conn.close()
    _start_and_kill_at(data, "before-commit", tmp_path / "markers")

    second = _pre_migrate(backups, "0008")
    assert len(second) == 1 and second != first  # a fresh copy, and the stale one rotated away
    assert _rows(backups / second[0], "SELECT notes FROM customer WHERE id = 1") == [("改过",)]


def test_pre_migrate_backups_are_rotated_to_the_newest_per_revision_at_most_three(tmp_path: Path) -> None:
    data = tmp_path / "office"
    path = _office_at(data, "0005")
    backups = data / "backups"
    engine = make_engine(sqlite_url(path))
    try:
        for rev in ("0001", "0002", "0002", "0003", "0004"):  # older upgrades' copies
            backup_sqlite(engine, backups, reason=f"pre-migrate-{rev}")
        daily = backup_sqlite(engine, backups, reason="daily")
        result = upgrade(engine, backup_dir=backups)
    finally:
        engine.dispose()
    left = sorted(p.name for p in backups.glob("*.db"))
    reasons = [re.sub(r"^huifang-\d{8}-\d{6}-\d{6}-", "", n) for n in left]
    assert result.backup is not None and result.backup.name in left
    assert daily.name in left  # other backups follow their own rotation
    assert sorted(reasons) == [
        "daily.db",
        "pre-migrate-0003.db",
        "pre-migrate-0004.db",
        "pre-migrate-0005.db",
    ]


# --- a file an older program's cut upgrade left half-way ----------------------------------------------------


def _half_applied_0009(path: Path) -> None:
    """What a cut in 0009 left behind with the old program (each statement committed by itself): the first
    index already widened, the second dropped, the version row still 0008."""
    conn = sqlite3.connect(str(path))
    conn.isolation_level = None
    conn.execute("DROP INDEX ix_visit_plan_due_state_owner")
    conn.execute(
        "CREATE INDEX ix_visit_plan_due_state_owner ON visit_plan"
        " (due, state, owner_id, visit_type, rule_key, done_on)"
    )
    conn.execute("DROP INDEX ix_visit_plan_owner_due")
    conn.close()


def test_a_half_applied_0009_is_detected_and_the_earliest_intact_pre_migrate_backup_offered(
    tmp_path: Path,
) -> None:
    data = tmp_path / "office"
    path = _office_at(data, "0008")
    backups = data / "backups"
    engine = make_engine(sqlite_url(path))
    intact = backup_sqlite(engine, backups, reason="pre-migrate-0008")  # the old program's first start
    engine.dispose()
    _half_applied_0009(path)
    engine = make_engine(sqlite_url(path))
    half_copy = backup_sqlite(
        engine, backups, reason="pre-migrate-0008"
    )  # its second start copied the half file
    engine.dispose()
    schema, rows = _schema(path), _contents(path)

    result = _cli(data, "users", "list")

    assert result.returncode != 0
    message = result.stderr
    assert "版本 0008 不符" in message and "中途被打断" in message, message
    assert intact.name in message and half_copy.name not in message
    assert f'restore "{intact}"' in message
    assert _schema(path) == schema and _contents(path) == rows  # refused: nothing changed
    assert sorted(p.name for p in backups.glob("*.db")) == sorted(
        [intact.name, half_copy.name]
    )  # no new copy

    # the command the message names puts the intact copy back; the next start upgrades it completely
    command = re.search(r"huifang-desktop (.+? restore \"[^\"]+\")", message)
    assert command is not None
    args = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', command.group(1))]
    restored = subprocess.run(
        [sys.executable, "-m", "huifang_desktop", *args, "--yes"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=_env(),
        timeout=TIMEOUT_S,
        check=False,
    )
    assert restored.returncode == 0, restored.stderr
    started = _cli(data, "users", "list")
    assert started.returncode == 0, started.stderr
    assert _rows(path, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    indexes = dict(
        _rows(path, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visit_plan'")
    )
    assert "ix_visit_plan_owner_due" in indexes
    engine = make_engine(sqlite_url(path))
    try:
        _assert_0001_rows_readable(engine)
    finally:
        engine.dispose()


def test_a_half_upgraded_file_without_a_pre_migrate_backup_says_to_restore_the_latest_backup(
    tmp_path: Path,
) -> None:
    path = _office_at(tmp_path / "office", "0008")
    _half_applied_0009(path)
    engine = make_engine(sqlite_url(path))
    try:
        with pytest.raises(DatabaseError) as info:
            upgrade(engine, backup_dir=tmp_path / "office" / "backups")
    finally:
        engine.dispose()
    assert "中途被打断" in str(info.value) and "没有版本 0008 的完好的升级前备份" in str(info.value)
    assert "restore" in str(info.value)
    assert _rows(path, "SELECT version_num FROM alembic_version") == [("0008",)]


def test_an_index_the_office_added_itself_is_not_taken_for_a_cut_upgrade(tmp_path: Path) -> None:
    path = _office_at(tmp_path / "office", "0008")
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE INDEX my_own_report_index ON customer (region, grade)")
    conn.close()
    engine = make_engine(sqlite_url(path))
    try:
        result = upgrade(engine, backup_dir=tmp_path / "office" / "backups")
    finally:
        engine.dispose()
    assert (result.before, result.after) == ("0008", head_revision())


# --- a SQLite file of another program -----------------------------------------------------------------------


def _foreign(path: Path, revision: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('another program''s data')")
    if revision is not None:  # another program that uses Alembic too
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    conn.commit()
    conn.close()


@pytest.mark.parametrize("revision", [None, "3f2a9c1be7d4"])
def test_a_sqlite_file_of_another_program_is_refused_and_left_as_it_was(
    tmp_path: Path, revision: str | None
) -> None:
    data = tmp_path / "office"
    path = data / "huifang.db"
    _foreign(path, revision)
    content = path.read_bytes()

    result = _cli(data, "users", "list")

    assert result.returncode != 0
    assert "不是本程序的数据库" in result.stderr and "notes" in result.stderr, result.stderr
    assert path.read_bytes() == content
    assert sorted(p.name for p in data.iterdir() if p.name.startswith("huifang.db")) == ["huifang.db"]
    assert not list((data / "backups").glob("*.db"))


def test_a_foreign_file_in_wal_mode_is_refused_without_leaving_files_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    _foreign(path, None)
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    content = path.read_bytes()
    engine = make_engine(sqlite_url(path))
    try:
        with pytest.raises(DatabaseError, match="不是本程序的数据库"):
            upgrade(engine, backup_dir=tmp_path / "backups")
    finally:
        engine.dispose()
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


@pytest.mark.parametrize("empty", [True, False])
def test_an_empty_or_missing_file_is_still_made_a_new_database(tmp_path: Path, empty: bool) -> None:
    data = tmp_path / "office"
    data.mkdir()
    if empty:
        (data / "huifang.db").write_bytes(b"")
    result = _cli(data, "users", "list")
    assert result.returncode == 0, result.stderr
    assert _rows(data / "huifang.db", "SELECT version_num FROM alembic_version") == [(head_revision(),)]


def test_a_newer_version_of_this_program_is_still_told_apart_from_a_foreign_file(tmp_path: Path) -> None:
    path = _office_at(tmp_path / "office", head_revision())
    conn = sqlite3.connect(str(path))
    conn.execute("UPDATE alembic_version SET version_num = '0042'")
    conn.commit()
    conn.close()
    engine = make_engine(sqlite_url(path))
    try:
        with pytest.raises(DatabaseError, match="比本程序新"):
            upgrade(engine, backup_dir=tmp_path / "backups")
    finally:
        engine.dispose()


def test_every_migration_runs_in_the_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process check of the mechanism: a failure in the last revision undoes the earlier ones too."""
    path = _office_at(tmp_path / "office", "0006")
    schema = _schema(path)

    def cut_in_the_last_revision(point: str) -> None:
        if point == f"after-{head_revision()}":
            raise RuntimeError("cut in the last revision")

    monkeypatch.setattr(db, "_pause_for_test", cut_in_the_last_revision)
    engine = make_engine(sqlite_url(path))
    try:
        with pytest.raises(DatabaseError, match="没有改动"):
            upgrade(engine)  # no backup to fall back on: only the transaction keeps the file whole
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
    finally:
        engine.dispose()
    assert _schema(path) == schema


def test_a_table_rebuild_keeps_the_rows_that_refer_to_it(tmp_path: Path) -> None:
    """0004 rebuilds the complaint table (batch mode: copy, drop, rename). With foreign keys on, dropping it
    deleted every complaint event (ON DELETE CASCADE); the run now has them off and checks them before the
    commit."""
    path = _office_at(tmp_path / "office", "0003")
    conn = sqlite3.connect(str(path))
    conn.execute(
        "INSERT INTO complaint_event (complaint_id, at, user_id, username, action, from_state, to_state,"
        " note) VALUES (1, '2026-03-01 10:00:00', 1, 'xiaowang', '受理', '', '处理中', '已电话联系')"
    )
    conn.commit()
    conn.close()
    engine = make_engine(sqlite_url(path))
    try:
        upgrade(engine, backup_dir=tmp_path / "office" / "backups")
    finally:
        engine.dispose()
    assert _rows(path, "SELECT complaint_id, action, note FROM complaint_event") == [
        (1, "受理", "已电话联系")
    ]
    assert _rows(path, "PRAGMA foreign_key_check") == []
