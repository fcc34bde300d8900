"""The .deb installs, starts through its launcher with the user's ordinary data folder, and uninstalls
without touching that data folder.

Needs the build (``HUIFANG_FROZEN_EXE``; ``packaging/build`` puts ``huifang-desktop_<version>_<arch>.deb`` next
to the program's folder), root (dpkg) and apt-get. Skipped otherwise. Installs the package system-wide: meant
for CI's machine, which ``.ci/run`` builds on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FROZEN_ENV = "HUIFANG_FROZEN_EXE"
PACKAGE = "huifang-desktop"
TIMEOUT_S = 600

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get(FROZEN_ENV), reason=f"no frozen build: set {FROZEN_ENV}"),
    pytest.mark.skipif(
        shutil.which("dpkg") is None or shutil.which("apt-get") is None, reason="no dpkg/apt-get"
    ),
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0, reason="installing a .deb needs root"
    ),
]


def _run(*command: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=TIMEOUT_S,
        env=env,
        check=False,
    )
    assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def _installed() -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and "install ok installed" in result.stdout


@pytest.fixture
def deb() -> Path:
    dist = Path(os.environ[FROZEN_ENV]).expanduser().resolve().parent.parent
    debs = sorted(dist.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        pytest.fail(f"no {PACKAGE}_*.deb in {dist}: packaging/build makes it where dpkg-deb exists")
    return debs[-1]


def test_deb_installs_runs_from_path_and_removes_keeping_the_data(deb: Path, tmp_path: Path) -> None:
    if _installed():
        pytest.skip(f"{PACKAGE} is already installed on this machine; not touching it")
    fields = _run("dpkg-deb", "-f", deb, "Depends", "Architecture").stdout
    assert "libc6 (>= 2." in fields and "libxcb-cursor0" in fields and "libcups2" in fields

    home = tmp_path / "home"
    home.mkdir()
    database = home / ".local" / "share" / "huifang-desktop" / "huifang.db"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run("apt-get", "install", "-y", "-q", "--no-install-recommends", deb, env=env)  # pulls the Depends
    try:
        launcher = Path("/usr/bin/huifang-desktop")
        assert os.access(launcher, os.X_OK)
        assert Path("/opt/huifang-desktop/huifang-desktop").is_file()
        entry = Path("/usr/share/applications/huifang-desktop.desktop").read_text(encoding="utf-8")
        assert "\nExec=huifang-desktop\n" in entry
        assert Path("/usr/share/icons/hicolor/256x256/apps/huifang-desktop.png").is_file()

        # An ordinary user's start: found on PATH, no --data-dir, so the data goes to the default folder.
        user_env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "QT_QPA_PLATFORM": "offscreen",
        }
        result = _run("huifang-desktop", "--smoke-test", env=user_env)
        assert result.stdout.startswith("smoke test ok")
        assert database.is_file()
        before = database.read_bytes()
    finally:
        _run("dpkg", "-r", PACKAGE)

    assert not _installed()
    assert not Path("/opt/huifang-desktop").exists()
    assert not Path("/usr/bin/huifang-desktop").exists()
    assert database.read_bytes() == before  # the user's data folder is untouched
