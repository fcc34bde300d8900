"""Where the program keeps its files. Nothing is created at import time."""

from __future__ import annotations

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
        """Create the folders; raise OSError with the path when the folder cannot be written."""
        for d in (self.data_dir, self.backups, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        probe = self.data_dir / ".write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
