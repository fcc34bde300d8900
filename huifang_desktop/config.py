"""Where the program keeps its files. Nothing is created at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from huifang_desktop import APP_NAME

DB_FILE = "huifang.db"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True, slots=True)
class AppPaths:
    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / DB_FILE

    @property
    def backups(self) -> Path:
        return self.data_dir / "backups"

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "huifang.log"

    @property
    def forms_override(self) -> Path:
        return self.data_dir / "forms"

    def ensure(self) -> None:
        """Create the folders (owner-only on POSIX: 0700) and tighten what is already there (the database,
        backups and logs to 0600); raise OSError with the path when the folder cannot be written."""
        for d in (self.data_dir, self.backups, self.logs):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        probe = self.data_dir / ".write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
        self.tighten()

    def tighten(self) -> None:
        """Owner-only folders (0700) and files (0600) for the office's data on POSIX; a file system that
        keeps no modes (a share) is left as it is. Windows keeps the user profile's ACLs."""
        if os.name == "nt":  # pragma: no cover
            return
        files = [
            self.database,
            self.database.with_name(DB_FILE + "-wal"),
            self.database.with_name(DB_FILE + "-shm"),
        ]
        for folder in (self.backups, self.logs):
            try:
                files.extend(p for p in folder.iterdir() if p.is_file())
            except OSError:
                continue
        for path, mode in [(d, 0o700) for d in (self.data_dir, self.backups, self.logs)] + [
            (f, 0o600) for f in files
        ]:
            try:
                if path.exists() and (path.stat().st_mode & 0o777) != mode:
                    os.chmod(path, mode)
            except OSError:
                continue
