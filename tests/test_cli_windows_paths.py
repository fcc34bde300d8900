"""What differs on Windows, checked as far as Linux allows.

* Windows refuses to replace or delete a file any handle still has open (``os.replace`` onto an open
  database, deleting an open ``-wal`` file: ``[WinError 32]``). A ``sitecustomize`` put first on the
  child's ``PYTHONPATH`` gives ``os.replace``/``os.rename``/``os.unlink``/``os.remove`` that rule (open files
  read from ``/proc/self/fd``), and the whole command line runs under it: demo, export, print, backup, restore.
* Every path of that run has Chinese characters and spaces (``回访 数据``), as Windows user folders often do.
* The default data folder on Windows is under ``%LOCALAPPDATA%``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import huifang_desktop
from huifang_desktop import config

SOURCE_ROOT = Path(huifang_desktop.__file__).resolve().parent.parent
TIMEOUT_S = 300

WINDOWS_FILE_RULES = r'''
"""Test shim: Windows' rule that an open file can be neither replaced nor deleted (tests/test_cli_windows_paths.py)."""
import os

_LOG = os.environ["HUIFANG_WINDOWS_RULES_LOG"]


def _open_files():
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.add(os.path.realpath(os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:
            pass
    return out


def _guard(name, real):
    def checked(*args, **kwargs):
        paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
        targets = {os.path.realpath(os.fsdecode(p)) for p in paths}
        busy = targets & _open_files()
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{name} {' -> '.join(sorted(targets))} {'REFUSED' if busy else 'ok'}\n")
        if busy:
            raise PermissionError(13, "[WinError 32] 另一个程序正在使用此文件，进程无法访问。", sorted(busy)[0])
        return real(*args, **kwargs)
    return checked


for _name in ("replace", "rename", "unlink", "remove"):
    setattr(os, _name, _guard(_name, getattr(os, _name)))
'''


@pytest.fixture
def windows_cli(tmp_path: Path):
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to see which files are open")
    shim = tmp_path / "windows-rules"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(WINDOWS_FILE_RULES, encoding="utf-8")
    log = tmp_path / "file-ops.log"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYTHONIOENCODING="utf-8",
        HUIFANG_WINDOWS_RULES_LOG=str(log),
        PYTHONPATH=os.pathsep.join([str(shim), str(SOURCE_ROOT)]),
    )

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "huifang_desktop", *map(str, args)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=TIMEOUT_S,
            check=False,
        )
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result

    run.log = log  # type: ignore[attr-defined]
    return run


def test_cli_round_trip_in_chinese_folders_with_spaces_under_windows_file_rules(
    windows_cli, tmp_path: Path
) -> None:
    base = tmp_path / "x"
    data = base / "回访 数据"
    exports = base / "导出 文件"
    backup_dir = base / "备份 文件夹"
    exports.mkdir(parents=True)

    windows_cli(
        "--data-dir", data, "demo", "--customers", "40", "--visits", "60", "--complaints", "5", "--seed", "3"
    )
    assert (data / "huifang.db").is_file()
    windows_cli("--data-dir", data, "export", "customers", exports / "客户 台账.xlsx")
    windows_cli("--data-dir", data, "export", "visits", exports / "回访 台账.xlsx")
    windows_cli("--data-dir", data, "print", "visits", exports / "回访 台账.pdf")
    out = windows_cli("--data-dir", data, "backup", backup_dir).stdout
    assert "已校验" in out
    [backup] = sorted(backup_dir.glob("*.db"))
    restored = windows_cli("--data-dir", data, "restore", backup, "--yes").stdout
    assert "另存为" in restored
    for made in ("客户 台账.xlsx", "回访 台账.xlsx", "回访 台账.pdf"):
        assert (exports / made).stat().st_size > 1000, made
    assert not list(exports.glob("*.part"))

    ops = windows_cli.log.read_text(encoding="utf-8").splitlines()  # type: ignore[attr-defined]
    assert not [line for line in ops if line.endswith("REFUSED")]
    # Every command's instance registration was deleted when it ended (after closing it, as Windows needs).
    registrations = data / "huifang.db.instances"
    assert [p.name for p in registrations.glob("*.lock") if p.name != "gate.lock"] == []
    # The shim saw the moves that matter: each export's part file onto its name, the restore onto the database.
    replaces = [line for line in ops if line.startswith(("replace ", "rename "))]
    assert any("客户 台账.xlsx" in line for line in replaces)
    assert any("回访 台账.pdf" in line for line in replaces)
    assert any(line.split(" -> ")[-1].startswith(str(data / "huifang.db")) for line in replaces)


def test_windows_file_rules_shim_refuses_replacing_an_open_file(windows_cli, tmp_path: Path) -> None:
    """The shim itself: without this, the round trip above could pass with a shim that checks nothing."""
    script = tmp_path / "open_then_replace.py"
    target, part = tmp_path / "数据 库.db", tmp_path / "数据 库.db.part"
    script.write_text(
        "import os, sys\n"
        f"target, part = {str(target)!r}, {str(part)!r}\n"
        "open(part, 'w').close()\n"
        "handle = open(target, 'w')\n"
        "try:\n"
        "    os.replace(part, target)\n"
        "except PermissionError as exc:\n"
        "    print('refused', exc.strerror)\n"
        "handle.close()\n"
        "os.replace(part, target)\n"
        "print('replaced after close')\n",
        encoding="utf-8",
    )
    env = dict(
        os.environ,
        HUIFANG_WINDOWS_RULES_LOG=str(windows_cli.log),  # type: ignore[attr-defined]
        PYTHONPATH=str(tmp_path / "windows-rules"),
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=TIMEOUT_S,
        check=True,
    )
    assert result.stdout.splitlines() == [
        "refused [WinError 32] 另一个程序正在使用此文件，进程无法访问。",
        "replaced after close",
    ]


def test_default_data_dir_on_windows_is_under_localappdata(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import platformdirs

    local = tmp_path / "Users" / "张 三" / "AppData" / "Local"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    # platformdirs picks its Windows class when imported; ask that class directly, as a Windows import would.
    from platformdirs.windows import Windows

    monkeypatch.setattr(
        platformdirs,
        "user_data_dir",
        lambda appname=None, appauthor=None, **kw: Windows(appname, appauthor, **kw).user_data_dir,
    )
    monkeypatch.setattr(
        "platformdirs.windows.get_win_folder",
        lambda csidl: str(local) if csidl == "CSIDL_LOCAL_APPDATA" else str(tmp_path / csidl),
    )
    assert config.default_data_dir() == local / "huifang-desktop"
