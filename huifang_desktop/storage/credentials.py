"""The PostgreSQL password kept out of sight, and the SQLite file made owner-only from its first byte.

``--database-url postgresql+psycopg://huifang@192.168.1.10/huifang`` may leave the password out: it is then
read by libpq from the office's passfile ``DATA_DIR/pgpass`` (libpq's own format, one line
``host:port:database:user:password``, ``*`` matching anything), which must be readable by its owner only
(0600). A URL naming ``passfile=…`` itself is checked the same way. The password never appears on a
command line or in a process list: the program hands the passfile (or a password given in the URL) to
``pg_dump`` in its environment.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from huifang_desktop.storage.db import PRIVATE_FILE, DatabaseError

PASSFILE = "pgpass"


def check_passfile(path: Path) -> None:
    """Refuse a passfile that others may read (POSIX), with what to do."""
    try:
        st = path.stat()
    except OSError as exc:
        raise DatabaseError(f"无法读取密码文件 {path}：{exc.strerror or exc}。") from exc
    if os.name != "nt" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DatabaseError(
            f"密码文件 {path} 其他用户也能读取（权限 {stat.S_IMODE(st.st_mode):o}），为保护数据库密码，程序拒绝使用它。"
            f"请执行 chmod 600 {path} 后再启动。"
        )


def with_passfile(url: str, data_dir: Path) -> str:
    """``url`` unchanged when it is SQLite or carries its password; else, for PostgreSQL, with libpq's
    ``passfile`` pointing at ``DATA_DIR/pgpass`` when that file exists (checked to be 0600)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or parsed.password:
        return url
    named = parsed.query.get("passfile")
    if isinstance(named, str):
        check_passfile(Path(named))
        return url
    passfile = data_dir / PASSFILE
    if not passfile.exists():
        return url  # the server may need no password (trust, peer) or libpq finds ~/.pgpass itself
    check_passfile(passfile)
    return parsed.update_query_dict({"passfile": str(passfile)}).render_as_string(hide_password=False)


def create_private(database: Path) -> None:
    """Make an empty owner-only database file before SQLite creates it (SQLite gives its -wal and -shm the
    database file's mode); an existing file is left to :meth:`AppPaths.tighten`."""
    if database.exists():
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(fd)


__all__ = ["PASSFILE", "check_passfile", "create_private", "with_passfile"]
