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
* PostgreSQL: ``pg_dump`` when it is installed (password from the URL or the 0600 passfile, handed over in
  the environment, never on the command line), verified with ``pg_restore --list``, then rotated and
  audited like a SQLite backup; else a plain message that the server's own backup is the office's job.
* Only verified backups count (:func:`looks_like_backup`: a whole SQLite file of this program, or a pg_dump
  archive); a fake or truncated file is neither listed, nor counted for "already backed up today", nor
  given a place in the rotation (which deletes it). A backup dated in the future (a PC with a wrong clock) is ignored for that decision (a warning
  in the log). Leftovers of a killed backup or restore are removed at the next start
  (:func:`clean_leftovers`).
* A restore needs the office to itself (``storage/instance.py``): it is refused, naming who, while any other
  window or command has the database open.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import URL

from huifang_desktop.domain.backups import (
    RotationPolicy,
    is_pre_migrate,
    is_protected,
    parse_backup_name,
    to_keep,
)
from huifang_desktop.domain.roles import Permission
from huifang_desktop.services.context import SYSTEM_USER, ServiceContext, audit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.services.settings import get_value, set_value
from huifang_desktop.services.tamper import ChainHead, chain_head, write_sidecar
from huifang_desktop.storage import instance
from huifang_desktop.storage.db import (
    DatabaseError,
    accept_current_file,
    backup_sqlite,
    copy_sqlite_file,
    damaged_message,
    is_sqlite,
    known_revisions,
    make_private,
    private_dir,
    sqlite_path,
    sqlite_value,
)

log = logging.getLogger("huifang.backups")

DIR_KEY = "backup_dir"
ROTATION_KEY = "backup_rotation"
_COUNTED = (
    ("customer", "客户"),
    ("visit_record", "回访记录"),
    ("visit_plan", "回访计划"),
    ("complaint", "投诉"),
)


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
        raise BackupError(
            f"备份文件夹 {path} 无法写入：{exc.strerror or exc}。请选择可写入的文件夹。"
        ) from exc
    set_value(ctx, DIR_KEY, str(path.resolve()), what="备份文件夹")
    return path


def rotation(ctx: ServiceContext) -> RotationPolicy:
    data = get_value(ctx, ROTATION_KEY)
    return RotationPolicy.from_dict(data) if data else RotationPolicy()


# --- listing and rotation ----------------------------------------------------------------------------

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


def _sqlite_sizes(head: bytes) -> tuple[int, int] | None:
    """(page size, pages the header announces) of a SQLite header, None when it is not one."""
    if len(head) < 100 or not head.startswith(SQLITE_HEADER):
        return None
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return None
    return page, int.from_bytes(head[28:32], "big")


def looks_like_backup(path: Path) -> bool:
    """A cheap check that ``path`` is a whole backup: a SQLite file as long as its header says, with this
    program's ``alembic_version`` row; or a pg_dump custom archive. (A full integrity check is made before
    restoring, by :func:`check_backup`.)"""
    return _backup_state(path) == "ok"


def _backup_state(path: Path) -> str:
    """``ok``; ``bad`` (read, and not a whole backup of this program); ``unreadable`` (could not be read
    now — a share gone, a lock — so nothing is concluded about it)."""
    try:
        with path.open("rb") as f:
            head = f.read(100)
        size = path.stat().st_size
    except OSError:
        return "unreadable"
    if path.suffix == ".dump":
        return "ok" if head.startswith(PG_DUMP_MAGIC) else "bad"
    sizes = _sqlite_sizes(head)
    if sizes is None:
        return "bad"
    page, pages = sizes
    if size % page or size < pages * page:
        return "bad"  # cut short
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return "unreadable"
    try:
        revision = sqlite_value(conn, "SELECT version_num FROM alembic_version")
    except sqlite3.OperationalError as exc:
        return "bad" if "no such table" in str(exc) else "unreadable"
    except sqlite3.DatabaseError:
        return "bad"
    finally:
        conn.close()
    return "ok" if revision else "bad"


def list_backups(folder: Path) -> list[BackupInfo]:
    """The verified backups in ``folder``, newest first (files named by this program that pass
    :func:`looks_like_backup`; anything else there is not listed)."""
    if not folder.is_dir():
        return []
    out = []
    for p in folder.iterdir():
        parsed = parse_backup_name(p.name)
        if parsed is None or not p.is_file() or not looks_like_backup(p):
            continue
        out.append(BackupInfo(p, parsed.at, parsed.reason, p.stat().st_size))
    return sorted(out, key=lambda b: b.at, reverse=True)


def rotate(folder: Path, now: datetime, policy: RotationPolicy = RotationPolicy()) -> list[Path]:
    """Delete the backups rotation does not keep; returns the deleted paths. Only verified backups take a
    place in the rotation; a file named like a backup that was read and is not one (fake, cut short) is
    deleted, unless it was kept for a reason (before a migration or restore: a damaged file set aside as it
    was). A file that cannot be read right now is left alone."""
    infos = list_backups(folder)
    names = [parse_backup_name(b.path.name) for b in infos]
    keep = to_keep([n for n in names if n is not None], now, policy)
    verified = {b.path.name for b in infos}
    doomed = [b.path for b in infos if b.path.name not in keep]
    if folder.is_dir():
        for p in folder.iterdir():
            parsed = parse_backup_name(p.name)
            if (
                parsed is not None
                and p.name not in verified
                and p.is_file()
                and not is_protected(parsed.reason)
                and not is_pre_migrate(parsed.reason)
                and _backup_state(p) == "bad"
            ):
                doomed.append(p)
    removed = []
    for path in doomed:
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            continue  # a locked or read-only old backup stays; it is not worth failing a backup for
    return removed


# --- making backups ----------------------------------------------------------------------------------


def make_backup(
    ctx: ServiceContext, folder: Path, *, reason: str = "manual", now: datetime | None = None
) -> BackupInfo:
    """Copy the database into ``folder`` (verified), rotate, audit. PostgreSQL: pg_dump or a message."""
    if ctx.user is not SYSTEM_USER:
        ctx.require(Permission.BACKUP_RESTORE, "备份数据库")
    now = now or ctx.now()
    try:
        # read before the copy: the backup holds this position of the audit chain
        head = chain_head(ctx)
    except DatabaseError as exc:
        src = sqlite_path(ctx.engine)
        raise BackupError(damaged_message(src, exc) if src is not None else str(exc)) from exc
    try:
        if is_sqlite(ctx.engine):
            path = backup_sqlite(ctx.engine, folder, reason=reason, at=now)
        else:
            path = _pg_dump(ctx, folder, reason, now)
    except DatabaseError as exc:
        raise BackupError(str(exc)) from exc
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(
            f"无法写入备份文件夹 {folder}：{exc}。请检查磁盘空间和文件夹权限；数据库本身未受影响。"
        ) from exc
    _keep_head(path, head)
    rotate(folder, now, rotation(ctx))
    info = BackupInfo(path, now, reason, path.stat().st_size)
    with ctx.sessions() as s, s.begin():
        audit(
            s,
            ctx,
            "备份",
            "database",
            None,
            path.name,
            new={"file": str(path), "size": info.size, "reason": reason},
        )
    return info


def pg_dump_command(url: URL, target: Path) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment for ``url``: the connection without its password on the command
    line (others can read a process's arguments), the password in ``PGPASSWORD`` of the child's own
    environment, or the 0600 passfile (``PGPASSFILE``) the URL names."""
    exe = shutil.which("pg_dump")
    if exe is None:
        raise BackupError(
            "数据库在 PostgreSQL 服务器上，本机没有 pg_dump，程序无法备份。"
            "请由服务器管理员用服务器自己的备份（pg_dump 或快照）定期备份。"
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    passfile = url.query.get("passfile")
    if isinstance(passfile, str):
        env["PGPASSFILE"] = passfile
    bare = url.set(drivername="postgresql")._replace(password=None)  # set() leaves a None value unchanged
    conninfo = bare.render_as_string(hide_password=False)
    return [exe, "--format=custom", "--no-password", f"--file={target}", f"--dbname={conninfo}"], env


def _pg_dump(ctx: ServiceContext, folder: Path, reason: str, now: datetime) -> Path:
    private_dir(folder)
    target = folder / f"huifang-{now:%Y%m%d-%H%M%S-%f}-{reason}.dump"
    part = target.with_name(target.name + ".part")
    args, env = pg_dump_command(ctx.engine.url, part)
    try:
        result = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
        if result.returncode != 0:
            raise BackupError(f"pg_dump 失败：{result.stderr.strip()}")
        make_private(part)
        restore_exe = shutil.which("pg_restore") or str(Path(args[0]).with_name("pg_restore"))
        listed = subprocess.run(
            [restore_exe, "--list", str(part)], capture_output=True, text=True, check=False
        )
        if listed.returncode != 0 or "TABLE DATA" not in listed.stdout:
            raise BackupError(
                f"备份校验失败（pg_restore --list：{listed.stderr.strip() or '没有数据'}），"
                "备份没有保存；数据库本身未受影响。"
            )
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(target)
    return target


def last_backup_time(folder: Path, now: datetime | None = None) -> datetime | None:
    """The newest verified backup's time (not counting backups dated after ``now``, when given)."""
    infos = [b for b in list_backups(folder) if now is None or b.at <= now + CLOCK_SLACK]
    return infos[0].at if infos else None


CLOCK_SLACK = timedelta(minutes=1)  # PCs sharing a backup folder disagree by seconds; that is not "future"


def daily_backup_due(folder: Path, now: datetime) -> bool:
    """No verified backup dated today yet. Backups dated after ``now`` (made on a PC whose clock was ahead)
    do not count, and a warning names them."""
    infos = list_backups(folder)
    future = [b for b in infos if b.at > now + CLOCK_SLACK]
    if future:
        log.warning(
            "备份文件夹 %s 中有 %d 份备份的时间晚于现在（%s，如 %s），可能是某台电脑的时钟不对；"
            "判断今天是否已备份时不计入它们。",
            folder,
            len(future),
            f"{now:%Y-%m-%d %H:%M}",
            future[-1].path.name,
        )
    return not any(b.at.date() == now.date() for b in infos if b.at <= now + CLOCK_SLACK)


def _keep_head(path: Path, head: ChainHead) -> None:
    """The audit chain's head next to the backup (``NAME.chain.json``): ``verify`` compares it with the chain
    later, so a chain rewritten after this backup shows. Kept when rotation deletes the backup itself."""
    if not path.is_file():
        return  # no pg_dump: nothing was backed up
    try:
        write_sidecar(path, head)
    except OSError as exc:
        raise BackupError(f"无法在备份文件夹写入审计链记录：{exc.strerror or exc}。") from exc


def ensure_daily_backup(ctx: ServiceContext, folder: Path) -> BackupInfo | None:
    """The automatic backup at start and while running: one a day, as the system."""
    system = ctx.as_user(SYSTEM_USER)
    if not is_sqlite(ctx.engine) or not daily_backup_due(folder, ctx.now()):
        return None
    return make_backup(system, folder, reason="daily")


def note_instance(ctx: ServiceContext, *, program: str | None = None, username: str | None = None) -> None:
    """Say in this instance's note which program it is (窗口, 命令 plan …) and who logged in (``username``,
    else ``ctx.user`` unless that is the system) — shown when a restore elsewhere is refused."""
    if username is None and ctx.user is not SYSTEM_USER:
        username = ctx.user.username
    instance.describe_self(sqlite_path(ctx.engine), program=program, user=username)


def clean_leftovers(database: Path | None, folders: list[Path]) -> list[Path]:
    """Remove what a killed backup or restore left behind: ``….part`` files in the backup folders, the
    database's ``.restore-part``, and pre-restore copies cut short (a SQLite header announcing more pages
    than the file holds). Only when no other instance is running (its backup may be under way)."""
    if database is not None and not instance.only_instance(database):
        return []
    removed: list[Path] = []
    candidates: list[Path] = []
    if database is not None:
        candidates.append(database.with_name(database.name + ".restore-part"))
    for folder in folders:
        if folder.is_dir():
            candidates.extend(
                p for p in folder.iterdir() if ".part" in p.name and p.name.startswith("huifang-")
            )
            candidates.extend(p for p in folder.glob("huifang-*-pre-restore.db") if _cut_short(p))
    for p in candidates:
        try:
            if p.is_file():
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    if removed:
        log.warning("已删除上次中断的备份或恢复留下的不完整文件：%s", "、".join(p.name for p in removed))
    return removed


def _cut_short(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            sizes = _sqlite_sizes(f.read(100))
        size = path.stat().st_size
    except OSError:
        return False
    return sizes is not None and sizes[1] > 0 and size < sizes[0] * sizes[1]


# --- checking and restoring --------------------------------------------------------------------------


def check_backup(path: Path) -> BackupCheck:
    """Is ``path`` a healthy database of this program? With its schema revision and record counts."""
    if not path.is_file():
        return BackupCheck(False, None, (), f"文件 {path} 不存在。")
    if path.suffix == ".dump":
        return BackupCheck(
            False, None, (), f"{path.name} 是 PostgreSQL 备份，请由服务器管理员用 pg_restore 恢复。"
        )
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return BackupCheck(False, None, (), f"无法打开 {path.name}：{exc}")
    try:
        try:
            ok = sqlite_value(conn, "PRAGMA integrity_check")
        except sqlite3.DatabaseError as exc:
            return BackupCheck(False, None, (), f"{path.name} 不是数据库文件或已损坏（{exc}）。")
        if ok != "ok":
            return BackupCheck(False, None, (), f"{path.name} 已损坏（integrity_check：{ok}）。")
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in tables:
            return BackupCheck(False, None, (), f"{path.name} 不是回访管理的数据库。")
        rev = sqlite_value(conn, "SELECT version_num FROM alembic_version")
        counts = tuple(
            (label, int(sqlite_value(conn, f"SELECT count(*) FROM {table}")))
            for table, label in _COUNTED
            if table in tables
        )
    finally:
        conn.close()
    if rev is not None and rev not in known_revisions():
        return BackupCheck(
            False, rev, counts, f"{path.name} 由更高版本的程序写入（{rev}），请先安装最新版本。"
        )
    return BackupCheck(True, rev, counts, "备份完好")


def restore_file(backup: Path, database: Path, aside_folder: Path) -> tuple[BackupCheck, Path | None]:
    """Put ``backup`` back as ``database``. Refused, naming them, while any other window or command has
    ``database`` open (this process's own connection is the caller's to close). The current file is first
    copied to ``aside_folder`` as a ``pre-restore`` backup (kept by rotation); if that copy cannot be
    completed (a full disk) nothing is changed. Returns the check and the aside copy."""
    check = check_backup(backup)
    if not check.ok:
        raise BackupError(f"不能恢复：{check.message}当前数据库未改动。")
    try:
        with instance.exclusive(database):
            return check, _swap_in(backup, database, aside_folder)
    except instance.InstanceBusy as exc:
        raise BackupError(str(exc)) from exc


def _swap_in(backup: Path, database: Path, aside_folder: Path) -> Path | None:
    aside = None
    if database.exists():
        aside = aside_folder / f"huifang-{datetime.now():%Y%m%d-%H%M%S-%f}-pre-restore.db"
        try:
            private_dir(aside_folder)
            _copy_aside(database, aside)
        except (OSError, sqlite3.Error) as exc:
            for leftover in (aside, aside.with_name(aside.name + ".part")):
                leftover.unlink(missing_ok=True)
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise BackupError(
                f"无法先保存当前数据库到 {aside_folder}：{detail}。"
                "为避免丢失数据，恢复已取消，当前数据库未改动。"
            ) from exc
    part = database.with_name(database.name + ".restore-part")
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup, part)  # checked above; copied next to the database, then swapped in at once
        make_private(part)
        for suffix in ("-wal", "-shm"):
            Path(str(database) + suffix).unlink(missing_ok=True)
        part.replace(database)
    except OSError as exc:
        part.unlink(missing_ok=True)
        if aside is not None and not database.exists():
            shutil.copyfile(aside, database)
        raise BackupError(
            f"恢复失败：{exc.strerror or exc}。当前数据库未被替换，请检查磁盘空间和文件夹权限。"
        ) from exc
    return aside


_DAMAGED = ("not a database", "malformed", "corrupt")


def _copy_aside(database: Path, aside: Path) -> None:
    """Copy the current file: with the backup API when it opens (consistent, includes the WAL), else — only
    when SQLite finds it damaged — its bytes as they are. Written as ``….part`` and renamed when complete,
    so a full disk leaves no cut-short copy; any other failure is raised."""
    try:
        copy_sqlite_file(database, aside)
        return
    except sqlite3.DatabaseError as exc:
        if not any(n in str(exc).lower() for n in _DAMAGED):
            raise  # disk full, I/O error …: the restore is cancelled
    part = aside.with_name(aside.name + ".part")
    shutil.copyfile(database, part)
    make_private(part)
    for suffix in ("-wal", "-shm"):
        extra = Path(str(database) + suffix)
        if extra.exists():
            shutil.copyfile(extra, Path(str(aside) + suffix))
    part.replace(aside)


def restore(ctx: ServiceContext, backup: Path, aside_folder: Path) -> tuple[BackupCheck, Path | None]:
    """Restore from the program (admin): closes the engine's connections, restores (refused while another
    window or command has the office open), migrates the restored file if it is older, and logs the restore
    in it. Screens must reload everything afterwards."""
    ctx.require(Permission.BACKUP_RESTORE, "恢复数据库")
    db = sqlite_path(ctx.engine)
    if db is None:
        raise BackupError("PostgreSQL 数据库请由服务器管理员用 pg_restore 恢复。")
    ctx.engine.dispose()
    check, aside = restore_file(backup, db, aside_folder)
    accept_current_file(ctx.engine)  # this program replaced its own file: its writes go on in the new one
    from huifang_desktop.storage.db import upgrade

    upgrade(ctx.engine, backup_dir=aside_folder)  # an older backup is brought to this program's schema
    with ctx.sessions() as s, s.begin():  # logged in the restored database, which is the one kept
        audit(
            s,
            ctx,
            "恢复备份",
            "database",
            None,
            backup.name,
            new={"file": str(backup), "aside": str(aside) if aside else None},
        )
    return check, aside


__all__ = [
    "BackupCheck",
    "BackupError",
    "BackupInfo",
    "backup_folder",
    "check_backup",
    "clean_leftovers",
    "daily_backup_due",
    "ensure_daily_backup",
    "last_backup_time",
    "list_backups",
    "looks_like_backup",
    "make_backup",
    "note_instance",
    "pg_dump_command",
    "restore",
    "restore_file",
    "rotate",
    "rotation",
    "set_backup_folder",
]
