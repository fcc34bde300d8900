"""The built executable starts, passes its smoke test, and shares databases with the source version.

Needs a build: ``bash packaging/build``, then ``HUIFANG_FROZEN_EXE=dist/huifang-desktop/huifang-desktop``
(on Windows ``dist\\huifang-desktop\\huifang-desktop-cli.exe``, the console twin). Skipped otherwise.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

import huifang_desktop
from huifang_desktop import app
from huifang_desktop.storage.db import head_revision

FROZEN_ENV = "HUIFANG_FROZEN_EXE"
TIMEOUT_S = 180
PASSWORD = "Frozen-test-2026"
# Lines Qt may print that do not mean anything is wrong (same list as packaging/smoke_test).
HARMLESS_STDERR = re.compile(
    r"^(This plugin does not support propagateSizeHints\(\)"
    r"|QStandardPaths: XDG_RUNTIME_DIR not set.*"
    r"|QStandardPaths: runtime directory .* permissions .*"
    r"|qt\.qpa\.fonts: Populating font family aliases took .*)$"
)

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get(FROZEN_ENV),
        reason=f"no frozen build: run packaging/build and set {FROZEN_ENV} to the executable",
    ),
]


@pytest.fixture(scope="module")
def frozen_exe() -> Path:
    exe = Path(os.environ[FROZEN_ENV]).expanduser().resolve()
    if not exe.is_file() or not os.access(exe, os.X_OK):
        pytest.fail(f"{FROZEN_ENV}={exe} is not an executable file")
    return exe


def _env() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8")
    env.pop("PYTHONPATH", None)  # must not matter to the frozen program
    return env


def _run(
    command: Sequence[str | Path], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=TIMEOUT_S,
        env=env or _env(),
        check=False,
    )


def _unexpected_stderr(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip() and not HARMLESS_STDERR.match(line)]


def _run_frozen(exe: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    result = _run([exe, *args])
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert _unexpected_stderr(result.stderr) == []
    return result


def _run_source_subprocess(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m huifang_desktop`` in a new process (the smoke test makes a QApplication)."""
    env = _env()
    source_root = str(Path(huifang_desktop.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([source_root, *filter(None, [os.environ.get("PYTHONPATH")])])
    return _run([sys.executable, "-m", "huifang_desktop", *args], env=env)


def _run_source_in_process(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """``huifang_desktop.app.main(args)`` here, closing the engine and log file it opens."""
    contexts = []
    open_context = app.open_context

    def recording_open_context(*a, **kw):  # type: ignore[no-untyped-def]
        ctx = open_context(*a, **kw)
        contexts.append(ctx)
        return ctx

    monkeypatch.setattr(app, "open_context", recording_open_context)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return app.main(args)
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
        for ctx in contexts:
            ctx.engine.dispose()


def _schema_revision(data_dir: Path) -> str:
    con = sqlite3.connect(data_dir / "huifang.db")
    try:
        return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        con.close()


def test_frozen_version_prints_the_source_version(frozen_exe: Path) -> None:
    result = _run_frozen(frozen_exe, "--version")
    assert result.stdout.strip() == f"huifang-desktop {huifang_desktop.__version__}"


def test_frozen_smoke_test_on_a_fresh_data_dir_migrates_and_prints(frozen_exe: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = _run_frozen(frozen_exe, "--data-dir", data, "--smoke-test")
    assert "smoke test ok" in result.stdout
    assert _schema_revision(data) == head_revision()  # the bundled migrations ran
    assert list((data / "tmp").glob("*.pdf")) == []  # the test PDF passed its font check and was removed


def test_frozen_opens_a_database_made_by_the_source_version(
    frozen_exe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code = _run_source_in_process(
        [
            "--data-dir",
            str(data),
            "users",
            "add",
            "wang.fang",
            "--name",
            "王芳",
            "--role",
            "supervisor",
            "--password",
            PASSWORD,
        ],
        monkeypatch,
    )
    assert code == 0, capsys.readouterr().err
    assert "wang.fang" in capsys.readouterr().out

    result = _run_frozen(frozen_exe, "--data-dir", data, "--smoke-test")
    assert "smoke test ok" in result.stdout
    listing = _run_frozen(frozen_exe, "--data-dir", data, "users", "list")
    assert re.search(r"^wang\.fang\s+王芳\s", listing.stdout, re.MULTILINE), listing.stdout


def test_source_opens_a_database_made_by_the_frozen_executable(
    frozen_exe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    _run_frozen(frozen_exe, "--data-dir", data, "--smoke-test")
    _run_frozen(
        frozen_exe,
        "--data-dir",
        data,
        "users",
        "add",
        "li.ming",
        "--name",
        "李明",
        "--role",
        "clerk",
        "--password",
        PASSWORD,
    )

    result = _run_source_subprocess("--data-dir", data, "--smoke-test")
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "smoke test ok" in result.stdout
    assert _run_source_in_process(["--data-dir", str(data), "users", "list"], monkeypatch) == 0
    assert re.search(r"^li\.ming\s+李明\s", capsys.readouterr().out, re.MULTILINE)
