"""Who has the office's SQLite database open: one instance lock per running program.

Every program instance that opens a SQLite database (the window, and each command) holds an exclusive OS
lock on its own file ``<database>.instances/<id>.lock`` for as long as it runs, with a JSON note next to it
saying who it is (host, OS user, program user once logged in, pid, since when, which program). The OS
drops the lock when the process ends, even on a kill, so a stale note is recognised by being lockable.

A restore needs the office to itself: it takes ``gate.lock`` (which every instance also takes, briefly, to
register) and then tries each instance's lock. Any it cannot take belongs to a live instance, which is
named in the refusal. While the restore holds the gate no instance can register, so nobody opens the file
half-way through the swap.

POSIX uses ``fcntl.flock``, Windows ``msvcrt.locking``; both locks belong to the open file and vanish with
the process. Locks held by this process are known (``held_here``), so the window's own restore is allowed.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

GATE_WAIT_S = 60.0  # an instance starting during a restore waits this long for it to finish
_POLL_S = 0.05
RESTORE_GATE_WAIT_S = 5.0  # an instance registering holds the gate for milliseconds only

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


class InstanceBusy(RuntimeError):
    """The office is busy (another instance has it open, or a restore is running); the message says who."""


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    host: str
    os_user: str
    pid: int
    since: str
    program: str
    user: str = ""

    def describe(self) -> str:
        who = f"，已登录用户 {self.user}" if self.user else ""
        return (
            f"电脑 {self.host}（系统用户 {self.os_user}{who}）上的{self.program}，进程号 {self.pid}，"
            f"自 {self.since} 起打开"
        )


def instances_folder(database: Path) -> Path:
    return database.with_name(database.name + ".instances")


def _open_lock_file(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@contextlib.contextmanager
def _gate(database: Path, *, wait_s: float) -> Iterator[None]:
    folder = instances_folder(database)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = _open_lock_file(folder / "gate.lock")
    try:
        deadline = time.monotonic() + wait_s
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise InstanceBusy("正在恢复数据库（另一个窗口或电脑正在从备份恢复），请等恢复完成后再打开。")
            time.sleep(_POLL_S)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


class InstanceLock:
    """This process's registration as an instance that has ``database`` open."""

    def __init__(self, database: Path, lock_path: Path, fd: int, info: InstanceInfo) -> None:
        self.database, self.lock_path, self.fd, self.info = database, lock_path, fd, info
        self.refs = 1

    @property
    def note_path(self) -> Path:
        return self.lock_path.with_suffix(".json")

    def write_note(self) -> None:
        tmp = self.note_path.with_suffix(".json.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(self.info), f, ensure_ascii=False)
        os.replace(tmp, self.note_path)

    def update(self, *, program: str | None = None, user: str | None = None) -> None:
        self.info = replace(self.info, program=program or self.info.program, user=user or self.info.user)
        with contextlib.suppress(OSError):
            self.write_note()

    def release(self) -> None:
        self.refs -= 1
        if self.refs > 0:
            return
        _HELD.pop(_key(self.database), None)
        _unlock(self.fd)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        _remove_registration(self.lock_path)  # after closing: Windows does not delete a file still open


_HELD: dict[str, InstanceLock] = {}


def _key(database: Path) -> str:
    return os.path.normcase(str(database.resolve()))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (a service account without one)
        return "?"


def hold(database: Path, program: str = "回访管理", *, wait_s: float = GATE_WAIT_S) -> InstanceLock:
    """Register this process as an instance that has ``database`` open (once per process and file; a second
    call adds a reference). Raises :class:`InstanceBusy` when a restore does not finish within ``wait_s``."""
    existing = _HELD.get(_key(database))
    if existing is not None:
        existing.refs += 1
        return existing
    folder = instances_folder(database)
    with _gate(database, wait_s=wait_s):
        lock_path = folder / f"{uuid.uuid4().hex}.lock"
        fd = _open_lock_file(lock_path)
        if not _try_lock(fd):  # a fresh random name: nobody else can hold it
            os.close(fd)
            raise InstanceBusy(f"无法锁定 {lock_path}。")
        info = InstanceInfo(
            socket.gethostname(),
            _os_user(),
            os.getpid(),
            datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            program,
        )
        lock = InstanceLock(database, lock_path, fd, info)
        lock.write_note()
    _HELD[_key(database)] = lock
    return lock


def held_here(database: Path) -> InstanceLock | None:
    return _HELD.get(_key(database))


def describe_self(database: Path | None, *, program: str | None = None, user: str | None = None) -> None:
    """Say which program this is and who logged in, in this process's note (shown when a restore is
    refused)."""
    lock = held_here(database) if database is not None else None
    if lock is not None:
        lock.update(program=program, user=user)


def _read_note(lock_path: Path) -> InstanceInfo | None:
    try:
        data = json.loads(lock_path.with_suffix(".json").read_text(encoding="utf-8"))
        return InstanceInfo(
            str(data["host"]),
            str(data["os_user"]),
            int(data["pid"]),
            str(data["since"]),
            str(data["program"]),
            str(data.get("user") or ""),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remove_registration(lock_path: Path) -> None:
    """Delete an instance's lock file and its note (best effort: another process may be probing it)."""
    for path in (lock_path.with_suffix(".json"), lock_path):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _others(database: Path) -> list[InstanceInfo]:
    """The live instances other than this process's; stale registrations (their process is gone) are
    removed on the way. Call with the gate held."""
    folder = instances_folder(database)
    own = held_here(database)
    live: list[InstanceInfo] = []
    for lock_path in sorted(folder.glob("*.lock")):
        if lock_path.name == "gate.lock" or (own is not None and lock_path == own.lock_path):
            continue
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except OSError:
            continue  # removed meanwhile by its owner
        try:
            stale = _try_lock(fd)  # nobody holds it: the process that made it has ended
            if stale:
                _unlock(fd)
        finally:
            os.close(fd)
        if stale:
            _remove_registration(lock_path)  # closed first: Windows does not delete a file still open
            continue
        info = _read_note(lock_path)
        live.append(info or InstanceInfo("?", "?", 0, "?", "回访管理（未知）"))
    return live


def other_instances(database: Path) -> list[InstanceInfo]:
    """The other live instances that have ``database`` open right now."""
    if not instances_folder(database).is_dir():
        return []
    with _gate(database, wait_s=0):
        return _others(database)


@contextlib.contextmanager
def exclusive(database: Path, what: str = "恢复") -> Iterator[None]:
    """Hold the office to this process alone (for a restore): refuses, naming them, while any other instance
    has ``database`` open; keeps new instances out until the block ends."""
    try:
        with _gate(database, wait_s=RESTORE_GATE_WAIT_S):
            others = _others(database)
            if others:
                names = "；".join(i.describe() for i in others)
                raise InstanceBusy(
                    f"不能{what}：数据库正被其他程序打开——{names}。请先关闭它们（退出程序或等命令结束），"
                    f"再{what}。当前数据库未改动。"
                )
            yield
    except InstanceBusy as exc:
        if "正在恢复数据库" in str(exc):
            raise InstanceBusy(
                f"不能{what}：另一个恢复正在进行，或有程序正在打开数据库。请稍后再试。当前数据库未改动。"
            ) from exc
        raise


def only_instance(database: Path) -> bool:
    """True when no other instance has ``database`` open (checked without waiting)."""
    try:
        return not other_instances(database)
    except InstanceBusy:
        return False


def leave_no_trace(lock: InstanceLock) -> None:
    """Release ``lock`` and, when no other instance uses the folder, remove the registration folder too: a
    start that refused the file (a database of another program) leaves nothing beside it."""
    lock.release()
    folder = instances_folder(lock.database)
    if _HELD.get(_key(lock.database)) is not None or not only_instance(lock.database):
        return
    with contextlib.suppress(OSError):
        (folder / "gate.lock").unlink()
        folder.rmdir()


__all__ = [
    "InstanceBusy",
    "InstanceInfo",
    "InstanceLock",
    "describe_self",
    "exclusive",
    "held_here",
    "hold",
    "instances_folder",
    "leave_no_trace",
    "only_instance",
    "other_instances",
]
