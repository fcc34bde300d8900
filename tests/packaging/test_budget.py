"""The frozen build stays inside its size budget and is made from pinned versions.

The size check needs a build (``HUIFANG_FROZEN_EXE``, as ``test_frozen.py``); the rules that keep the size
down (system libraries left out, Python's TLS left out) and the constraints file are checked without one.
"""

from __future__ import annotations

import _sqlite3
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.packaging.datafiles_module import load_datafiles

ROOT = Path(__file__).resolve().parents[2]


datafiles = load_datafiles()

FROZEN_ENV = "HUIFANG_FROZEN_EXE"
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("objdump") is None,
    reason="ELF files and binutils' objdump",
)


def apparent_size(folder: Path) -> int:
    """Bytes as ``du -sb`` counts them: the apparent size of every file, folder and link, hard links once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in [folder, *folder.rglob("*")]:
        st = path.lstat()
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        total += st.st_size
    return total


def test_apparent_size_counts_like_du(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x" * 5000)
    os.link(tmp_path / "a" / "f", tmp_path / "hard")
    (tmp_path / "link").symlink_to("a/f")
    dirs = tmp_path.lstat().st_size + (tmp_path / "a").lstat().st_size
    assert apparent_size(tmp_path) == dirs + 5000 + len("a/f")


@pytest.mark.packaging
@pytest.mark.skipif(not os.environ.get(FROZEN_ENV), reason=f"no frozen build: set {FROZEN_ENV}")
def test_build_stays_inside_the_size_budget(capsys: pytest.CaptureFixture[str]) -> None:
    bundle = Path(os.environ[FROZEN_ENV]).expanduser().resolve().parent
    size = apparent_size(bundle)
    files = sorted(
        (p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()),
        key=lambda p: p.stat().st_size,
        reverse=True,
    )
    with capsys.disabled():
        print(
            f"\nbuild size {size / 1e6:.1f} MB ({size} bytes; budget {datafiles.SIZE_BUDGET_BYTES / 1e6:.0f} MB)"
            f" in {bundle}; the ten largest parts:"
        )
        for path in files[:10]:
            print(f"  {path.stat().st_size / 1e6:6.2f} MB  {path.relative_to(bundle)}")
    assert size <= datafiles.SIZE_BUDGET_BYTES, (
        f"the build is {size / 1e6:.1f} MB, over the budget of {datafiles.SIZE_BUDGET_BYTES / 1e6:.0f} MB"
    )


@pytest.mark.parametrize(
    ("dest", "platform", "system"),
    [
        ("libcups.so.2", "linux", True),
        ("libdbus-1.so.3", "linux", True),
        ("libxcb-icccm.so.4", "linux", True),
        ("libX11.so.6", "linux", True),
        ("libglib-2.0.so.0", "linux", True),
        ("libfontconfig.so.1", "linux", True),
        ("pillow.libs/libxcb-9065bb12.so.1.1.0", "linux", False),  # Pillow's private copy
        ("PySide6/Qt/lib/libQt6Gui.so.6", "linux", False),
        ("libicudata.so.73", "linux", False),
        ("libstdc++.so.6", "linux", False),
        ("libcups.so.2", "win32", False),
    ],
)
def test_system_libraries_are_the_desktop_s_own(dest: str, platform: str, system: bool) -> None:
    assert datafiles.system_library(dest, platform) is system


def test_every_system_library_left_out_has_a_deb_dependency() -> None:
    depends = {d.split()[0] for d in datafiles.DEB_DEPENDS}
    # Debian's package names of the libraries in SYSTEM_LIBRARIES_LINUX.
    assert {
        "libcups2",
        "libdbus-1-3",
        "libglib2.0-0",
        "libfontconfig1",
        "libfreetype6",
        "libx11-6",
        "libx11-xcb1",
        "libxcb1",
        "libxcb-cursor0",
        "libxcb-icccm4",
        "libxcb-keysyms1",
        "libxkbcommon0",
        "libxkbcommon-x11-0",
        "libegl1",
        "libgl1",
        "libc6",
    } <= depends


def test_python_tls_and_openssl_hashes_stay_out_and_hashlib_still_works() -> None:
    assert {"ssl", "_ssl", "_hashlib"} <= set(datafiles.excludes("win32"))
    # Linux keeps the module (psycopg's ctypes libpq imports it) with the system's OpenSSL, and psycopg's own
    # bundled libpq stays out for the system's
    linux = set(datafiles.excludes("linux"))
    assert "ssl" not in linux and "psycopg_binary" in linux
    assert datafiles.system_library("libssl.so.3", "linux") and datafiles.system_library(
        "libcrypto.so.3", "linux"
    )
    assert {"libssl3", "libpq5"} <= {d.split()[0] for d in datafiles.DEB_DEPENDS}
    # The program's services (audit hash chain, signatures, backups, exports) import and hash without them,
    # as in the frozen build: hashlib falls back to its built-in SHA-2.
    code = (
        "import sys\n"
        "for name in ('ssl', '_ssl', '_hashlib'):\n"
        "    sys.modules[name] = None\n"
        "import hashlib, hmac\n"
        "import huifang_desktop.app, huifang_desktop.services.backups, huifang_desktop.services.context\n"
        "import huifang_desktop.exports.ledger_xlsx, huifang_desktop.printing.render\n"
        "print(hashlib.sha256(b'abc').hexdigest()[:8], hmac.new(b'k', b'm', 'sha256').hexdigest()[:8])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ba7816bf", "b60090e3"]


@linux_only
def test_elf_needed_reads_the_direct_links_only() -> None:
    ext = Path(_sqlite3.__file__)
    needed = datafiles.elf_needed(str(ext))
    assert needed is not None and any(n.startswith("libsqlite3") for n in needed)
    # What libsqlite3 links to (libm) is its own need, not the extension's: ldd would list it here too, and a
    # library only a system library needed could then never be dropped.
    sqlite_lib = next(
        line.split()[2]
        for line in subprocess.run(
            ["ldd", str(ext)], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if line.strip().startswith("libsqlite3")
    )
    sqlite_needs = set(datafiles.elf_needed(sqlite_lib) or [])
    assert sqlite_needs - {"libc.so.6"}, "libsqlite3 links to nothing but libc here"
    assert not (sqlite_needs - {"libc.so.6"}) <= set(needed)
    assert datafiles.elf_needed(__file__) is None  # not an ELF file


@linux_only
def test_glibc_floor_is_the_newest_symbol_version(tmp_path: Path) -> None:
    some = sorted(Path(_sqlite3.__file__).parent.glob("*.so"))[:5]
    assert some
    for path in some:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "notes.txt").write_text("GLIBC_9.99 in a text file does not count\n", encoding="utf-8")
    floor = datafiles.glibc_floor(tmp_path)
    assert floor is not None and re.fullmatch(r"2\.\d+", floor)
    (tmp_path / "empty").mkdir()
    assert datafiles.glibc_floor(tmp_path / "empty") is None


def _requirement_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"]]
    for extra in ("test", "postgres", "packaging"):
        specs += project["optional-dependencies"][extra]
    return {re.split(r"[\s\[<>=!~;]", s, maxsplit=1)[0] for s in specs}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_constraints_pin_every_dependency_the_build_and_ci_install() -> None:
    pins = {}
    for line in (ROOT / "packaging" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: '{line}' is not pinned with =="
            pins[_norm(name)] = version
    missing = {_norm(n) for n in _requirement_names()} - set(pins)
    assert missing == set(), f"not pinned (run packaging/update_constraints): {sorted(missing)}"
    assert "huifang-desktop" not in pins


def test_ci_and_build_install_with_the_constraints() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install ".[test]" && pytest\n' in ci  # the README's test line, unchanged
    assert re.search(r'pip install .*-c packaging/constraints\.txt "\.\[packaging\]"', ci)
    assert "-c packaging/constraints.txt" in (ROOT / "packaging" / "build").read_text(encoding="utf-8")
