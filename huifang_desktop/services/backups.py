"""Backups and restore (architecture.md "Data safety").

* :func:`make_backup` copies the live SQLite file with the online backup API (the program keeps working),
  verifies the copy with ``PRAGMA integrity_check`` and then rotates the folder (7 daily, 4 weekly,
  12 monthly by default; backups made before a migration or a restore are never rotated away).
* :func:`daily_backup_due` / :func:`ensure_daily_backup`: at start and while running, one backup a day.
* :func:`restore_file` puts a backup back: the backup is checked first (a SQLite database, integrity ok, a
  schema this program knows), the current file is kept aside (``pre-restore`` backup), then the backup is
  copied over the database with the backup API. It works on a closed database, so the command line can
  restore even when the current file no longer opens.
* The backup folder is a setting (``backup_dir``) the administrator can point at another disk or a network
  share; rotation is the ``backup_rotation`` setting.
* PostgreSQL: ``pg_dump`` when it is installed, else a plain message that the server's own backup is the
  office's job.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from huifang_desktop.domain.backups import RotationPolicy, parse_backup_name, to_keep
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.settings import get_value, set_value
from huifang_desktop.storage.db import (
    DatabaseError,
    backup_sqlite,
    copy_sqlite_file,
    is_sqlite,
    known_revisions,
    sqlite_path,
)

DIR_KEY = "backup_dir"
ROTATION_KEY = "backup_rotation"
_COUNTED = (("customer", "客户"), ("visit_record", "回访记录"), ("visit_plan", "回访计划"), ("complaint", "投诉"))


class BackupError(ServiceError):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    at: datetime
    reason: str
    size: int

    @property
    def size_text(self) -> str:
        return f"{self.size / 1048576:.1f} MB" if self.size >= 1048576 else f"{self.size / 1024:.0f} KB"


@dataclass(frozen=True, slots=True)
class BackupCheck:
    ok: bool
    revision: str | None
    counts: tuple[tuple[str, int], ...]  # (label, rows)
    message: str


# --- settings ----------------------------------------------------------------------------------------

def backup_folder(ctx: ServiceContext, default: Path) -> Path:
    value = get_value(ctx, DIR_KEY)
    return Path(value) if value else default


def set_backup_folder(ctx: ServiceContext, folder: Path | str) -> Path:
    """Point backups at another folder (another disk, a network share). The folder must be writable."""
    ctx.require(Permission.BACKUP_RESTORE, "更改备份文件夹")
    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".huifang-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise BackupError(f"备份文件夹 {path} 无法写入：{exc.strerror or exc}。请选择可写入的文件夹。") from exc
    set_value(ctx, DIR_KEY, str(path.resolve()), what="备份文件夹")
    return path


def rotation(ctx: ServiceContext) -> RotationPolicy:
    data = get_value(ctx, ROTATION_KEY)
    return RotationPolicy.from_dict(data) if data else RotationPolicy()


# --- listing and rotation ----------------------------------------------------------------------------

def list_backups(folder: Path) -> list[BackupInfo]:
    """The backups in ``folder``, newest first (files named by this program only)."""
    if not folder.is_dir():
        return []
    out = []
    for p in folder.iterdir():
        parsed = parse_backup_name(p.name)
        if parsed is None or not p.is_file():
            continue
        out.append(BackupInfo(p, parsed.at, parsed.reason, p.stat().st_size))
    return sorted(out, key=lambda b: b.at, reverse=True)


def rotate(folder: Path, now: datetime, policy: RotationPolicy = RotationPolicy()) -> list[Path]:
    """Delete the backups rotation does not keep; returns the deleted paths."""
    infos = list_backups(folder)
    names = [parse_backup_name(b.path.name) for b in infos]
    keep = to_keep([n for n in names if n is not None], now, policy)
    removed = []
    for b in infos:
        if b.path.name not in keep:
            try:
                b.path.unlink()
                removed.append(b.path)
            except OSError:
                continue  # a locked or read-only old backup stays; it is not worth failing a backup for
    return removed


# --- making backups ----------------------------------------------------------------------------------

def make_backup(ctx: ServiceContext, folder: Path, *, reason: str = "manual", now: datetime | None = None
                ) -> BackupInfo:
    """Copy the database into ``folder`` (verified), rotate, audit. PostgreSQL: pg_dump or a message."""
    if ctx.user is not SYSTEM_USER:
        ctx.require(Permission.BACKUP_RESTORE, "备份数据库")
    now = now or ctx.now()
    if not is_sqlite(ctx.engine):
        return _pg_dump(ctx, folder, reason, now)
    try:
        path = backup_sqlite(ctx.engine, folder, reason=reason)
    except DatabaseError as exc:
        raise BackupError(str(exc)) from exc
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"无法写入备份文件夹 {folder}：{exc}。请检查磁盘空间和文件夹权限；数据库本身未受影响。") from exc
    rotate(folder, now, rotation(ctx))
    info = BackupInfo(path, now, reason, path.stat().st_size)
    with ctx.sessions() as s, s.begin():
        audit(s, ctx, "备份", "database", None, path.name, new={"file": str(path), "size": info.size,
                                                                 "reason": reason})
    return info


def _pg_dump(ctx: ServiceContext, folder: Path, reason: str, now: datetime) -> BackupInfo:
    exe = shutil.which("pg_dump")
    if exe is None:
        raise BackupError("数据库在 PostgreSQL 服务器上，本机没有 pg_dump，程序无法备份。"
                          "请由服务器管理员用服务器自己的备份（pg_dump 或快照）定期备份。")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"huifang-{now:%Y%m%d-%H%M%S}-000000-{reason}.dump"
    url = ctx.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run([exe, "--format=custom", f"--file={target}", url], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(f"pg_dump 失败：{result.stderr.strip()}")
    return BackupInfo(target, now, reason, target.stat().st_size)


def last_backup_time(folder: Path) -> datetime | None:
    infos = list_backups(folder)
    return infos[0].at if infos else None


def daily_backup_due(folder: Path, now: datetime) -> bool:
    last = last_backup_time(folder)
    return last is None or now - last >= timedelta(hours=24)


def ensure_daily_backup(ctx: ServiceContext, folder: Path) -> BackupInfo | None:
    """The automatic backup at start and while running: one a day, as the system."""
    system = ctx.as_user(SYSTEM_USER)
    if not is_sqlite(ctx.engine) or not daily_backup_due(folder, ctx.now()):
        return None
    return make_backup(system, folder, reason="daily")


# --- checking and restoring --------------------------------------------------------------------------

def check_backup(path: Path) -> BackupCheck:
    """Is ``path`` a healthy database of this program? With its schema revision and record counts."""
    if not path.is_file():
        return BackupCheck(False, None, (), f"文件 {path} 不存在。")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return BackupCheck(False, None, (), f"无法打开 {path.name}：{exc}")
    try:
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            return BackupCheck(False, None, (), f"{path.name} 不是数据库文件或已损坏（{exc}）。")
        if ok != "ok":
            return BackupCheck(False, None, (), f"{path.name} 已损坏（integrity_check：{ok}）。")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in tables:
            return BackupCheck(False, None, (), f"{path.name} 不是回访管理的数据库。")
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        rev = revision[0] if revision else None
        counts = tuple((label, int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]))  # noqa: S608
                       for table, label in _COUNTED if table in tables)
    finally:
        conn.close()
    if rev is not None and rev not in known_revisions():
        return BackupCheck(False, rev, counts, f"{path.name} 由更高版本的程序写入（{rev}），请先安装最新版本。")
    return BackupCheck(True, rev, counts, "备份完好")


def restore_file(backup: Path, database: Path, aside_folder: Path) -> tuple[BackupCheck, Path | None]:
    """Put ``backup`` back as ``database`` (which must not be open). The current file is first copied to
    ``aside_folder`` as a ``pre-restore`` backup (kept by rotation). Returns the check and the aside copy."""
    check = check_backup(backup)
    if not check.ok:
        raise BackupError(f"不能恢复：{check.message}当前数据库未改动。")
    aside = None
    if database.exists():
        aside_folder.mkdir(parents=True, exist_ok=True)
        aside = aside_folder / f"huifang-{datetime.now():%Y%m%d-%H%M%S-%f}-pre-restore.db"
        try:
            _copy_aside(database, aside)
        except OSError as exc:
            raise BackupError(f"无法先保存当前数据库到 {aside_folder}：{exc.strerror or exc}。"
                              "为避免丢失数据，恢复已取消。") from exc
    part = database.with_name(database.name + ".restore-part")
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup, part)  # checked above; copied next to the database, then swapped in at once
        for suffix in ("-wal", "-shm"):
            Path(str(database) + suffix).unlink(missing_ok=True)
        part.replace(database)
    except OSError as exc:
        part.unlink(missing_ok=True)
        if aside is not None and not database.exists():
            shutil.copyfile(aside, database)
        raise BackupError(f"恢复失败：{exc.strerror or exc}。当前数据库未被替换，请检查磁盘空间和文件夹权限。") from exc
    return check, aside


def _copy_aside(database: Path, aside: Path) -> None:
    """Copy the current file: with the backup API when it opens (consistent, includes the WAL), else bytes."""
    try:
        copy_sqlite_file(database, aside)
    except sqlite3.DatabaseError:  # not a database any more: keep the bytes as they are
        aside.unlink(missing_ok=True)
        shutil.copyfile(database, aside)
        for suffix in ("-wal", "-shm"):
            extra = Path(str(database) + suffix)
            if extra.exists():
                shutil.copyfile(extra, Path(str(aside) + suffix))


def restore(ctx: ServiceContext, backup: Path, aside_folder: Path) -> tuple[BackupCheck, Path | None]:
    """Restore from the program (admin): closes the engine's connections, restores, migrates the restored
    file if it is older, and logs the restore in it. Screens must reload everything afterwards."""
    ctx.require(Permission.BACKUP_RESTORE, "恢复数据库")
    db = sqlite_path(ctx.engine)
    if db is None:
        raise BackupError("PostgreSQL 数据库请由服务器管理员用 pg_restore 恢复。")
    ctx.engine.dispose()
    check, aside = restore_file(backup, db, aside_folder)
    ctx.engine.dispose()
    from huifang_desktop.storage.db import upgrade

    upgrade(ctx.engine, backup_dir=aside_folder)  # an older backup is brought to this program's schema
    with ctx.sessions() as s, s.begin():  # logged in the restored database, which is the one kept
        audit(s, ctx, "恢复备份", "database", None, backup.name,
              new={"file": str(backup), "aside": str(aside) if aside else None})
    return check, aside


__all__ = [
    "BackupCheck", "BackupError", "BackupInfo", "backup_folder", "check_backup", "daily_backup_due",
    "ensure_daily_backup", "last_backup_time", "list_backups", "make_backup", "restore", "restore_file",
    "rotate", "rotation", "set_backup_folder",
]
