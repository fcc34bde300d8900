"""Engine factory, schema migration at start, online backups.

SQLite: WAL, foreign keys on, busy timeout. PostgreSQL: the same code through a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

if TYPE_CHECKING:
    from alembic.config import Config

BUSY_TIMEOUT_MS = 5000


class DatabaseError(RuntimeError):
    """A problem opening or upgrading the database, with a Chinese message that says what to do."""


_EXPLAINED = (
    (
        ("database is locked", "database table is locked"),
        (
            "数据库正被其他程序或其他电脑占用，等待 {busy} 秒后仍未释放。这次的修改没有保存，已保存的数据不受影响。"
            "请稍后再试；如果一直如此，请关闭其他正在使用这个数据库的程序。"
        ),
    ),
    (
        ("database or disk is full", "disk is full", "no space left"),
        "磁盘空间已满，无法保存。这次的修改没有保存，已保存的数据不受影响。请清理磁盘空间后再试。",
    ),
    (
        ("readonly database", "read-only database", "read only"),
        "数据库文件或数据文件夹是只读的，无法保存。这次的修改没有保存。请检查文件夹权限，或用 --data-dir 指定可写的文件夹。",
    ),
    (
        ("file is not a database", "database disk image is malformed"),
        "数据库文件已损坏或不是本程序的数据库。请从备份恢复（工具 → 备份与恢复，或命令 restore）。",
    ),
    (
        ("disk i/o error",),
        (
            "读写数据库文件时出错（磁盘 I/O 错误），可能是磁盘已满、网络共享断开或磁盘故障。这次的修改没有保存；"
            "请检查磁盘后再试，必要时从备份恢复。"
        ),
    ),
    (
        ("unable to open database file",),
        "无法打开数据库文件：文件夹不存在、不可写或网络共享已断开。请检查数据文件夹。",
    ),
    # before the network entry: psycopg says "connection to server at … failed: FATAL: password auth…"
    (
        ("password authentication failed", "no password supplied"),
        (
            "用户名或密码错误（PostgreSQL 拒绝登录）。请检查 --database-url 中的用户名和密码，"
            "或请数据库管理员确认该用户可以登录。没有改动任何数据。"
        ),
    ),
    (
        (
            "failed to resolve host",
            "name or service not known",
            "could not translate host name",
            "nodename nor servname",
        ),
        "找不到数据库服务器（服务器名称无法解析）。请检查 --database-url 中的服务器地址和网络。",
    ),
    (
        (
            "connection refused",
            "could not connect",
            "server closed the connection",
            "connection timeout",
            "connection to server",
        ),
        "无法连接数据库服务器。这次的修改没有保存。请检查网络和 PostgreSQL 服务器是否在运行。",
    ),
)


def explain_db_error(exc: BaseException) -> str | None:
    """A Chinese message with what to do for the database failures an office meets (locked, disk full,
    read-only, damaged file, server gone); None for anything else."""
    text_ = str(getattr(exc, "orig", None) or exc).lower()
    for needles, message in _EXPLAINED:
        if any(n in text_ for n in needles):
            return message.format(busy=BUSY_TIMEOUT_MS // 1000)
    return None


def _translate_errors(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _explain(context: ExceptionContext) -> None:
        if context.is_disconnect and context.engine is not None and context.engine.dialect.name != "sqlite":
            return  # let the pool handle reconnects (pool_pre_ping)
        message = explain_db_error(context.original_exception)
        if message is not None:
            raise DatabaseError(message) from context.sqlalchemy_exception


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


SUPPORTED_URLS = (
    "可用的数据库地址：不给 --database-url 时使用数据文件夹里的 SQLite 文件（默认）；"
    "sqlite:///文件夹/huifang.db（指定的 SQLite 文件）；"
    "postgresql+psycopg://用户名:密码@服务器[:端口]/数据库名（PostgreSQL 服务器）。"
)


def check_url(url: str) -> URL:
    """The parsed database address a user gave (``--database-url``); :class:`DatabaseError` (listing the
    supported forms) for one that does not parse, names another database system, leaves out the SQLite file
    or needs a missing driver."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(f"无法识别数据库地址“{url}”。{SUPPORTED_URLS}") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"不支持数据库“{parsed.drivername}”（地址“{url}”）。{SUPPORTED_URLS}")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise DatabaseError(f"数据库地址“{url}”没有给出 SQLite 文件的路径。{SUPPORTED_URLS}")
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(
            f"数据库地址“{url}”要求的驱动“{parsed.get_driver_name()}”不可用"
            f"（PostgreSQL 请用 postgresql+psycopg://）。{SUPPORTED_URLS}"
        ) from exc
    return parsed


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a crash
            cur.close()

        _translate_errors(engine)
        if parsed.database and parsed.database != ":memory:":
            _watch_file_identity(engine, Path(parsed.database))
        return engine
    engine = create_engine(url, pool_pre_ping=True)
    _translate_errors(engine)
    return engine


class DatabaseReplaced(DatabaseError):
    """The SQLite file this program opened was replaced underneath it (a restore elsewhere, a copy over it)."""


REPLACED_MESSAGE = (
    "数据库文件 {path} 已被替换（可能在另一个窗口或另一台电脑上从备份恢复了，或被其他文件覆盖）。这次的修改没有保存。"
    "为免把数据写进已被替换的旧文件，本程序已停止保存：请关闭本程序后重新打开。"
)

_STOPPED: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path`` — on Windows the volume serial and file index; None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _watch_file_identity(engine: Engine, path: Path) -> None:
    """Each connection remembers which file it opened; every commit first checks that the database path
    still names that file. When it does not (the file was replaced), the commit is refused with
    :data:`REPLACED_MESSAGE` and so is every later one of this engine, until :func:`accept_current_file`
    (the program's own restore) — nothing is ever reported saved into a deleted file."""

    @event.listens_for(engine, "connect")
    def _remember(_dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info["file_identity"] = file_identity(path)

    @event.listens_for(engine, "commit")
    def _check(conn: Connection) -> None:
        opened = conn.connection.info.get("file_identity")
        if _STOPPED.get(engine) or opened is None or file_identity(path) != opened:
            _STOPPED[engine] = True
            raise DatabaseReplaced(REPLACED_MESSAGE.format(path=path))


def accept_current_file(engine: Engine) -> None:
    """After this program replaced its own file (restore): drop every connection to the old file and let
    writes go on against the new one."""
    engine.dispose()
    _STOPPED.pop(engine, None)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose text values are checked against the columns' lengths first (``storage/limits.py``)."""
    from huifang_desktop.storage.limits import install

    return install(sessionmaker(engine, expire_on_commit=False))


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_value(conn: sqlite3.Connection, sql: str) -> Any:
    """The first column of the first row ``sql`` reads, None without a row (sqlite3 has no ``scalar()``)."""
    return next((value for value, *_ in conn.execute(sql)), None)


def sqlite_path(engine: Engine) -> Path | None:
    if not is_sqlite(engine) or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Path(engine.url.database)


# --- migrations ---------------------------------------------------------------------------------------


def _alembic_config() -> Config:
    from alembic.config import Config

    script_dir = resources.files("huifang_desktop.storage") / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(script_dir))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


_REVISION_LINE = re.compile(
    r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(?:['"]([^'"\n]+)['"]|None)\s*$""", re.MULTILINE
)


def quick_head_revision() -> str | None:
    """The head revision read from the migration scripts' ``revision = '…'`` / ``down_revision = '…'`` lines,
    without importing Alembic (which costs about 0.2 s at every start); None whenever the scripts do not name
    exactly one head that way (then :func:`upgrade` asks Alembic)."""
    try:
        folder = resources.files("huifang_desktop.storage") / "migrations" / "versions"
        revisions: set[str] = set()
        parents: set[str] = set()
        for entry in folder.iterdir():
            if not entry.name.endswith(".py") or entry.name.startswith("__"):
                continue
            found = {m[1]: m[2] for m in _REVISION_LINE.finditer(entry.read_text(encoding="utf-8"))}
            if not found.get("revision") or "down_revision" not in found:
                return None
            revisions.add(found["revision"])
            if found["down_revision"]:
                parents.add(found["down_revision"])
    except (OSError, UnicodeDecodeError):
        return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@dataclass(frozen=True, slots=True)
class MigrationResult:
    before: str | None
    after: str
    backup: Path | None


PAUSE_ENV = "HUIFANG_TEST_PAUSE_AT"
"""Test hook (real-process crash tests): ``POINT=FOLDER`` makes :func:`upgrade` write ``FOLDER/POINT``, say
``paused at POINT`` on stderr and wait there until the process is killed. Points: ``after-backup``,
``after-<revision>`` (inside the migration's transaction, once that revision is applied), ``before-commit``."""

# The tables of the first revision: an unknown revision in a file that has them all was written by a newer
# version of this program; without them the file belongs to another program.
_FOUNDATION_TABLES = frozenset({"counter", "department", "setting", "user_account", "customer", "audit_log"})


def _pause_for_test(point: str) -> None:
    wanted = os.environ.get(PAUSE_ENV, "")
    name, _, folder = wanted.partition("=")
    if name != point or not folder:
        return
    marker = Path(folder) / point
    marker.write_text(str(os.getpid()), encoding="utf-8")
    print(f"paused at {point}", file=sys.stderr, flush=True)
    threading.Event().wait()  # until the test kills this process


def _peek_sqlite(path: Path) -> tuple[set[str], str | None] | None:
    """The tables and the recorded revision of a SQLite file, read through a read-only connection before the
    program's engine touches it (its first connection switches the file to WAL). ``(set(), None)`` for a
    missing or empty file; None when a read-only connection cannot read it (then the engine's is used)."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return set(), None
    except OSError:
        return None
    siblings = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    existed = [p.exists() for p in siblings]
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error:
        return None
    try:
        try:
            names = {
                name
                for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%'"
                    " ESCAPE '\\'"
                )
            }
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise DatabaseError(
                    f"无法打开数据库：{exc}。该文件可能不是本程序的数据库或已损坏，请从备份恢复。"
                ) from exc
            raise
        revision = None
        if "alembic_version" in names:
            revision = sqlite_value(conn, "SELECT version_num FROM alembic_version")
        if names and not _FOUNDATION_TABLES <= names:
            _remove_new_siblings(conn, siblings, existed)  # another program's file: leave nothing behind
        return names, revision
    except sqlite3.Error as exc:
        if "locked" in str(exc):  # the engine would wait as long again: say so now
            raise DatabaseError(explain_db_error(exc) or str(exc)) from exc
        return None
    finally:
        conn.close()


def _read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """A read-only SQLite URI; ``immutable`` for a backup file nobody writes (no -wal/-shm made beside it)."""
    return f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def _remove_new_siblings(conn: sqlite3.Connection, siblings: list[Path], existed: list[bool]) -> None:
    """A read-only connection to a WAL file makes empty -wal/-shm files it cannot remove itself: remove
    the ones that were not there before (no other program had the file open then)."""
    conn.close()
    for sibling, was_there in zip(siblings, existed, strict=True):
        if not was_there:
            try:
                if sibling.name.endswith("-shm") or sibling.stat().st_size == 0:
                    sibling.unlink(missing_ok=True)
            except OSError:
                pass


def _refuse_foreign(tables: set[str], revision: str | None, where: str) -> None:
    """A database of another program is refused before anything is written to it: it has tables but no
    ``alembic_version``, or a revision this program does not know without this program's tables."""
    others = sorted(tables - {"alembic_version"})
    ours = _FOUNDATION_TABLES <= tables
    if revision is None and not others:
        return  # a new (or empty) database: made as always
    if revision is not None and (revision in known_revisions() or ours):
        return  # ours, or a newer version of ours (refused by upgrade with its own message)
    shown = "、".join(others[:5]) + (" 等" if len(others) > 5 else "")
    raise DatabaseError(
        f"{where}不是本程序的数据库（其中已有其他程序的表：{shown or 'alembic_version'}），为免损坏它，程序没有做任何"
        "改动。请用 --data-dir 指定回访管理自己的数据文件夹（或用 --database-url 指定回访管理专用的数据库），"
        "或从备份恢复。"
    )


def _schema_items(rows: Callable[[str], list[Any]]) -> frozenset[tuple[Any, ...]]:
    """Tables, columns and indexes (name, columns, unique) of a SQLite database, read with ``rows(sql)``."""
    items: set[tuple[Any, ...]] = set()
    tables = [
        name
        for (name,) in rows(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name != 'alembic_version'"
        )
    ]
    for table in tables:
        items.add(("table", table))
        quoted = '"' + table.replace('"', '""') + '"'
        # table_info: cid, name, type, notnull, dflt_value, pk; index_list: seq, name, unique, origin, partial;
        # index_info: seqno, cid, name
        items.update(("column", table, column) for _cid, column, *_ in rows(f"PRAGMA table_info({quoted})"))
        for _seq, name, unique, origin, *_ in rows(f"PRAGMA index_list({quoted})"):
            if origin != "c":
                continue  # made by a PRIMARY KEY or UNIQUE clause: part of the table
            iq = '"' + name.replace('"', '""') + '"'
            columns = tuple(column for _seqno, _cid, column in sorted(rows(f"PRAGMA index_info({iq})")))
            items.add(("index", table, name, columns, bool(unique)))
    return frozenset(items)


def _reference_schemas(
    before: str, target: str
) -> tuple[frozenset[tuple[Any, ...]], frozenset[tuple[Any, ...]] | None]:
    """What a database at ``before`` and at ``target`` holds: the migration scripts run on an empty
    in-memory database (about 0.3 s; only when an upgrade is due). The second is None if that run fails."""
    from alembic import command

    ref = create_engine("sqlite://")
    try:
        with ref.begin() as conn:
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, before)
            at_before = _schema_items(lambda sql: list(conn.exec_driver_sql(sql)))
            at_target: frozenset[tuple[Any, ...]] | None
            try:
                command.upgrade(cfg, target)
                at_target = _schema_items(lambda sql: list(conn.exec_driver_sql(sql)))
            except Exception:  # noqa: BLE001 - a failing migration is reported by the real run
                at_target = None
    finally:
        ref.dispose()
    return at_before, at_target


def _half_upgraded(
    actual: frozenset[tuple[Any, ...]],
    before: str,
    reference: tuple[frozenset[tuple[Any, ...]], frozenset[tuple[Any, ...]] | None],
) -> bool:
    """True when the schema differs from revision ``before`` in something the pending migrations change:
    an upgrade (by an older program, which committed statement by statement) was cut half-way. Other
    differences (an index an office added itself) do not count."""
    at_before, at_target = reference
    differences = actual ^ at_before
    if at_target is None:
        return bool(differences)
    return bool(differences & (at_before ^ at_target))


def _sqlite_schema_of_file(path: Path) -> frozenset[tuple[Any, ...]] | None:
    try:
        conn = sqlite3.connect(_read_only_uri(path, immutable=True), uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if row is None:
            return None
        return _schema_items(lambda sql: conn.execute(sql).fetchall())
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def pre_migrate_backups(backup_dir: Path, revision: str) -> list[Path]:
    """The pre-migrate backups of source ``revision`` in ``backup_dir``, oldest first."""
    from huifang_desktop.domain.backups import parse_backup_name, pre_migrate_reason

    if not backup_dir.is_dir():
        return []
    found = [
        (b.at, backup_dir / b.name)
        for p in backup_dir.iterdir()
        if (b := parse_backup_name(p.name)) is not None and b.reason == pre_migrate_reason(revision)
    ]
    return [p for _at, p in sorted(found)]


def _half_upgraded_message(
    engine: Engine, src: Path, before: str, target: str, backup_dir: Path | None
) -> str | None:
    """Compare the file's schema with what revision ``before`` should hold; if an old program's cut upgrade
    left it half-way, the message that refuses it and names the earliest intact pre-migrate backup."""
    with engine.connect() as conn:
        actual = _schema_items(lambda sql: list(conn.exec_driver_sql(sql)))
        now = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    if now != before:
        return None  # another start upgraded it meanwhile: the migration run reads the version again
    reference = _reference_schemas(before, target)
    if not _half_upgraded(actual, before, reference):
        return None
    data_dir = src.parent
    head = (
        f"数据库 {src} 的结构与它记录的版本 {before} 不符：以前的一次升级在中途被打断（旧版程序的升级不是一次完成的），"
        "文件停在升级了一半的状态。为免损坏数据，程序没有继续，也没有改动它。"
    )
    for candidate in pre_migrate_backups(backup_dir, before) if backup_dir is not None else []:
        schema = _sqlite_schema_of_file(candidate)
        if schema is not None and not _half_upgraded(schema, before, reference):
            return (
                f"{head}\n请先用升级前的备份 {candidate.name} 恢复（关闭程序后在命令行运行）：\n"
                f'  huifang-desktop --data-dir "{data_dir}" restore "{candidate}"\n'
                "恢复后再启动程序，升级会完整地重做一次。"
            )
    return (
        f"{head}\n备份文件夹 {backup_dir} 中没有版本 {before} 的完好的升级前备份。请用最近的备份恢复：\n"
        f'  huifang-desktop --data-dir "{data_dir}" restore 备份文件'
    )


def _backup_still_current(engine: Engine, src: Path, backup: Path, revision: str) -> bool:
    """Whether ``backup`` (a verified pre-migrate copy of ``revision``) still holds what the file holds: it
    was written after the file last changed. Committed pages still in the WAL are moved into the file first
    (an uncommitted tail left by a killed upgrade is not data and does not touch the file)."""
    try:
        with engine.connect() as conn:
            busy, wal_frames, moved = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            conn.rollback()
        if busy or wal_frames != moved:
            return False
        if backup.stat().st_mtime_ns <= src.stat().st_mtime_ns:
            return False
        check = sqlite3.connect(_read_only_uri(backup, immutable=True), uri=True)
        try:
            return bool(
                sqlite_value(check, "PRAGMA quick_check") == "ok"
                and check.execute("SELECT version_num FROM alembic_version").fetchone() == (revision,)
            )
        finally:
            check.close()
    except (OSError, sqlite3.Error, DatabaseError):
        return False


def _pre_migrate_backup(engine: Engine, src: Path, before: str, backup_dir: Path) -> Path:
    """One verified pre-migrate backup per source revision: the newest one is reused while the file has not
    changed since (a second failed start does not copy the whole file again); then older ones are rotated."""
    from huifang_desktop.domain.backups import parse_backup_name, pre_migrate_reason, pre_migrate_to_keep

    existing = pre_migrate_backups(backup_dir, before)
    if existing and _backup_still_current(engine, src, existing[-1], before):
        backup = existing[-1]
    else:
        backup = backup_sqlite(engine, backup_dir, reason=pre_migrate_reason(before))
    names = [b for p in backup_dir.iterdir() if (b := parse_backup_name(p.name)) is not None]
    keep = pre_migrate_to_keep(names)
    for b in names:
        if b.reason.startswith("pre-migrate-") and b.name not in keep and b.name != backup.name:
            (backup_dir / b.name).unlink(missing_ok=True)
    return backup


def _dangling_references(conn: Connection) -> Counter[tuple[str, str]]:
    """Rows whose foreign key points nowhere, per (table, parent table): compared before and after the run,
    so an old file's own leftovers do not block its upgrade."""
    return Counter(
        (table, parent) for table, _rowid, parent, _fkid in conn.exec_driver_sql("PRAGMA foreign_key_check")
    )


def _run_migrations(engine: Engine, target: str) -> None:
    """Every pending revision in ONE transaction.

    pysqlite's own transaction handling never opens a transaction before DDL, so each CREATE / DROP would
    commit by itself. Following SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" recipe
    for pysqlite, the driver's handling is switched off on this connection and the program emits BEGIN itself
    (IMMEDIATE: the write lock is taken before any change). Foreign keys are off for the run (a batch table
    rebuild drops and renames tables; ``PRAGMA foreign_keys`` cannot change inside a transaction) and checked
    with ``PRAGMA foreign_key_check`` before the commit.
    """
    from alembic import command

    cfg = _alembic_config()
    cfg.attributes["on_version_apply"] = lambda *, step, **_kw: _pause_for_test(
        f"after-{step.up_revision_id}"
    )
    if not is_sqlite(engine):
        with engine.begin() as conn:  # PostgreSQL's DDL is transactional: one transaction for the run
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
            _pause_for_test("before-commit")
        return
    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        legacy = dbapi.isolation_level
        conn.rollback()
        dbapi.isolation_level = None  # pysqlite emits no BEGIN / COMMIT of its own
        try:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                cfg.attributes["connection"] = conn
                dangling = _dangling_references(conn)
                command.upgrade(cfg, target)
                added = _dangling_references(conn) - dangling
                if added:
                    table = next(iter(added))[0]
                    raise DatabaseError(
                        f"升级会使 {added.total()} 行引用不存在的记录（{table} 表），已取消。"
                    )
                _pause_for_test("before-commit")
                conn.exec_driver_sql("COMMIT")
            except BaseException:
                if not dbapi.in_transaction:
                    raise
                conn.exec_driver_sql("ROLLBACK")
                raise
            finally:
                conn.rollback()  # SQLAlchemy's own bookkeeping; the database transaction is over
        finally:
            dbapi.isolation_level = legacy
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.rollback()


def upgrade(engine: Engine, revision: str = "head", *, backup_dir: Path | None = None) -> MigrationResult:
    """Bring the schema to ``revision``; refuse a database written by a newer program or by another program.

    All pending revisions run in one transaction: a failure or a cut (power, kill) leaves the old schema
    with every row, never a mix. A SQLite file that holds data is first copied with the online backup API
    (one verified copy per source revision, reused on the next attempt while the file is unchanged). A file
    that an older program's cut upgrade left half-way is detected and the pre-migrate backup to restore named.
    """
    src = sqlite_path(engine)
    where = f"数据库文件 {src} " if src is not None else "这个数据库"
    peeked = _peek_sqlite(src) if src is not None else None
    try:
        if peeked is not None:
            tables, before = peeked
        else:
            with engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
            before = current_revision(engine)
    except DatabaseError:
        raise
    except Exception as exc:  # not a database at all, or unreadable
        detail = getattr(exc, "orig", None) or exc
        raise DatabaseError(
            f"无法打开数据库：{detail}。该文件可能不是本程序的数据库或已损坏，请从备份恢复。"
        ) from exc
    if revision == "head" and before is not None and before == quick_head_revision():
        return MigrationResult(before, before, None)  # up to date: the usual start, without Alembic
    _refuse_foreign(tables, before, where)
    if before is not None and before not in known_revisions():
        raise DatabaseError(
            f"数据库版本（{before}）比本程序新，是由更高版本的回访管理写入的。请安装最新版本的程序后再打开，"
            "以免数据损坏。"
        )
    target = head_revision() if revision == "head" else revision
    if before == target:
        return MigrationResult(before, target, None)
    if src is not None and before is not None:
        refused = _half_upgraded_message(engine, src, before, target, backup_dir)
        if refused is not None:
            raise DatabaseError(refused)
    backup = None
    if src is not None and before is not None and backup_dir is not None:
        backup = _pre_migrate_backup(engine, src, before, backup_dir)
    _pause_for_test("after-backup")
    try:
        _run_migrations(engine, target)
    except Exception as exc:
        refused = None
        if src is not None and before is not None:
            try:
                refused = _half_upgraded_message(engine, src, before, target, backup_dir)
            except Exception:  # noqa: BLE001 - the file cannot even be read now: report the first failure
                refused = None
        if refused is not None:
            raise DatabaseError(refused) from exc
        detail = str(exc)
        raise DatabaseError(
            f"数据库升级失败（版本 {before or '新建'} → {target}），数据库没有改动，仍是升级前的样子：{detail}"
        ) from exc
    return MigrationResult(before, target, backup)


# --- backups ------------------------------------------------------------------------------------------

PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700
_DAMAGED = ("malformed", "not a database", "corrupt", "integrity")


def make_private(path: Path, mode: int = PRIVATE_FILE) -> None:
    """Only the owner may read the office's data (POSIX; Windows keeps the user profile's ACLs)."""
    if os.name == "nt":  # pragma: no cover
        return
    try:
        os.chmod(path, mode)
    except OSError:
        pass  # a share that does not keep POSIX modes; nothing better to do


def private_dir(path: Path) -> None:
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    make_private(path, PRIVATE_DIR)


def damaged_message(path: Path, detail: object) -> str:
    return (
        f"当前数据库已损坏（{path.name}：{detail}），无法备份。已有的备份不受影响。"
        "请从备份恢复（工具 → 备份与恢复，或命令 restore）。"
    )


def backup_sqlite(
    engine: Engine, backup_dir: Path, *, reason: str = "manual", at: datetime | None = None
) -> Path:
    """Copy the live SQLite database with the online backup API and verify the copy.

    The copy is written as ``….db.part`` (owner-only) and renamed when verified, so a crash leaves only a
    ``.part`` (removed at the next start). A source that SQLite finds damaged raises a DatabaseError that
    says so; a folder that cannot be written raises OSError / sqlite3.Error as before. The name carries
    ``at`` (the program's clock; default now) and a free six-digit suffix."""
    src = sqlite_path(engine)
    if src is None:
        raise DatabaseError(
            "只有 SQLite 数据库可以在程序内备份；PostgreSQL 请使用服务器自己的备份（pg_dump）。"
        )
    private_dir(backup_dir)
    at = at or datetime.now()
    micro = at.microsecond or datetime.now().microsecond
    while True:
        target = backup_dir / f"huifang-{at:%Y%m%d-%H%M%S}-{micro:06d}-{reason}.db"
        if not target.exists():
            break
        micro = (micro + 1) % 1_000_000
    tmp = target.with_suffix(".db.part")
    try:
        source = sqlite3.connect(str(src), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the header and schema
        except sqlite3.DatabaseError as exc:
            source.close()
            raise DatabaseError(damaged_message(src, exc)) from exc
    except sqlite3.OperationalError as exc:
        raise DatabaseError(f"无法打开当前数据库 {src}：{exc}。") from exc
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
        make_private(tmp)
        dest = sqlite3.connect(str(tmp))
        try:
            try:
                source.backup(dest)
            except sqlite3.DatabaseError as exc:
                if any(n in str(exc).lower() for n in _DAMAGED):
                    raise DatabaseError(damaged_message(src, exc)) from exc
                raise
            ok = sqlite_value(dest, "PRAGMA integrity_check")
        finally:
            dest.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise DatabaseError(damaged_message(src, f"integrity_check: {ok}"))
    tmp.replace(target)
    return target


def copy_sqlite_file(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` over ``target`` with the backup API: consistent (it includes the
    WAL) and no partial file on failure — the copy is made as ``target.part`` and renamed when complete.
    Used to put a backup back and to set the current file aside."""
    part = target.with_name(target.name + ".part")
    try:
        os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
        make_private(part)
        src = sqlite3.connect(str(source))
        try:
            dest = sqlite3.connect(str(part))
            try:
                src.backup(dest)
            finally:
                dest.close()
        finally:
            src.close()
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        part.replace(target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def refresh_statistics(engine: Engine) -> None:
    """Keep the query planner's statistics fresh after bulk changes (SQLite: ANALYZE, about 0.5 s on
    1,000,000 visit plans; it runs once a day in the background after the catch-up).

    Without them SQLite picks the owner index for the calendar's overdue list once plans pile up (about
    160 ms instead of 50 ms on 1,000,000 plans). A sampled ANALYZE (analysis_limit) was not enough.
    """
    if not is_sqlite(engine):
        return  # PostgreSQL's autovacuum analyses by itself
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
