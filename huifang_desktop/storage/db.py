"""Engine factory, schema migration at start, online backups.

SQLite: WAL, foreign keys on, busy timeout. PostgreSQL: the same code through a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 5000


class DatabaseError(RuntimeError):
    """A problem opening or upgrading the database, with a Chinese message that says what to do."""


_EXPLAINED = (
    (("database is locked", "database table is locked"),
     "数据库正被其他程序或其他电脑占用，等待 {busy} 秒后仍未释放。这次的修改没有保存，已保存的数据不受影响。"
     "请稍后再试；如果一直如此，请关闭其他正在使用这个数据库的程序。"),
    (("database or disk is full", "disk is full", "no space left"),
     "磁盘空间已满，无法保存。这次的修改没有保存，已保存的数据不受影响。请清理磁盘空间后再试。"),
    (("readonly database", "read-only database", "read only"),
     "数据库文件或数据文件夹是只读的，无法保存。这次的修改没有保存。请检查文件夹权限，或用 --data-dir 指定可写的文件夹。"),
    (("file is not a database", "database disk image is malformed"),
     "数据库文件已损坏或不是本程序的数据库。请从备份恢复（工具 → 备份与恢复，或命令 restore）。"),
    (("disk i/o error",),
     "读写数据库文件时出错（磁盘 I/O 错误），可能是磁盘已满、网络共享断开或磁盘故障。这次的修改没有保存；"
     "请检查磁盘后再试，必要时从备份恢复。"),
    (("unable to open database file",),
     "无法打开数据库文件：文件夹不存在、不可写或网络共享已断开。请检查数据文件夹。"),
    # before the network entry: psycopg says "connection to server at … failed: FATAL: password auth…"
    (("password authentication failed", "no password supplied"),
     ("用户名或密码错误（PostgreSQL 拒绝登录）。请检查 --database-url 中的用户名和密码，"
      "或请数据库管理员确认该用户可以登录。没有改动任何数据。")),
    (("failed to resolve host", "name or service not known", "could not translate host name",
      "nodename nor servname"),
     "找不到数据库服务器（服务器名称无法解析）。请检查 --database-url 中的服务器地址和网络。"),
    (("connection refused", "could not connect", "server closed the connection", "connection timeout",
      "connection to server"),
     "无法连接数据库服务器。这次的修改没有保存。请检查网络和 PostgreSQL 服务器是否在运行。"),
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
    def _explain(context) -> None:  # type: ignore[no-untyped-def]
        if context.is_disconnect and context.engine is not None and context.engine.dialect.name != "sqlite":
            return  # let the pool handle reconnects (pool_pre_ping)
        message = explain_db_error(context.original_exception)
        if message is not None:
            raise DatabaseError(message) from context.sqlalchemy_exception


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


SUPPORTED_URLS = ("可用的数据库地址：不给 --database-url 时使用数据文件夹里的 SQLite 文件（默认）；"
                  "sqlite:///文件夹/huifang.db（指定的 SQLite 文件）；"
                  "postgresql+psycopg://用户名:密码@服务器[:端口]/数据库名（PostgreSQL 服务器）。")


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
        raise DatabaseError(f"数据库地址“{url}”要求的驱动“{parsed.get_driver_name()}”不可用"
                            f"（PostgreSQL 请用 postgresql+psycopg://）。{SUPPORTED_URLS}") from exc
    return parsed


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a crash
            cur.close()

        _translate_errors(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True)
    _translate_errors(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose text values are checked against the columns' lengths first (``storage/limits.py``)."""
    from huifang_desktop.storage.limits import install

    return install(sessionmaker(engine, expire_on_commit=False))


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(engine: Engine) -> Path | None:
    if not is_sqlite(engine) or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Path(engine.url.database)


# --- migrations ---------------------------------------------------------------------------------------

def _alembic_config():  # type: ignore[no-untyped-def]
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


_REVISION_LINE = re.compile(r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(?:['"]([^'"\n]+)['"]|None)\s*$""",
                            re.MULTILINE)


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


def upgrade(engine: Engine, revision: str = "head", *, backup_dir: Path | None = None) -> MigrationResult:
    """Bring the schema to ``revision``; refuse a database written by a newer program.

    A SQLite file that holds data is copied with the online backup API first; if the migration fails the
    copy is put back, so a failed upgrade never leaves a half-migrated file.
    """
    try:
        before = current_revision(engine)
    except Exception as exc:  # not a database at all, or unreadable
        detail = getattr(exc, "orig", None) or exc
        raise DatabaseError(
            f"无法打开数据库：{detail}。该文件可能不是本程序的数据库或已损坏，请从备份恢复。"
        ) from exc
    if revision == "head" and before is not None and before == quick_head_revision():
        return MigrationResult(before, before, None)  # up to date: the usual start, without Alembic
    if before is not None and before not in known_revisions():
        raise DatabaseError(
            f"数据库版本（{before}）比本程序新，是由更高版本的回访管理写入的。请安装最新版本的程序后再打开，"
            "以免数据损坏。"
        )
    target = head_revision() if revision == "head" else revision
    if before == target:
        return MigrationResult(before, target, None)
    backup = None
    src = sqlite_path(engine)
    if src is not None and before is not None and backup_dir is not None:
        backup = backup_sqlite(engine, backup_dir, reason=f"pre-migrate-{before}")
    from alembic import command

    cfg = _alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
    except Exception as exc:
        if backup is not None and src is not None:
            engine.dispose()
            copy_sqlite_file(backup, src)
        raise DatabaseError(f"数据库升级失败，已恢复到升级前的备份：{exc}") from exc
    return MigrationResult(before, target, backup)


# --- backups ------------------------------------------------------------------------------------------

def backup_sqlite(engine: Engine, backup_dir: Path, *, reason: str = "manual") -> Path:
    """Copy the live SQLite database with the online backup API and verify the copy."""
    src = sqlite_path(engine)
    if src is None:
        raise DatabaseError("只有 SQLite 数据库可以在程序内备份；PostgreSQL 请使用服务器自己的备份（pg_dump）。")
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backup_dir / f"huifang-{stamp}-{reason}.db"
    tmp = target.with_suffix(".db.part")
    source = sqlite3.connect(str(src), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        dest = sqlite3.connect(str(tmp))
        try:
            source.backup(dest)
            ok = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
    finally:
        source.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise DatabaseError(f"备份校验失败（integrity_check: {ok}），原数据库未改动。")
    tmp.replace(target)
    return target


def copy_sqlite_file(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` over ``target`` with the backup API: consistent (it includes the
    WAL) and no partial file on failure. Used to put a backup back and to set the current file aside."""
    src = sqlite3.connect(str(source))
    try:
        dest = sqlite3.connect(str(target))
        try:
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()


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
