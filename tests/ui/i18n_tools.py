"""The translation tools the i18n tests share: the UI's source files, ``pyside6-lupdate`` over them (a .ts
file), a marker translation of every message and ``pyside6-lrelease`` (a .qm file). The tools come with
the PySide6 wheel; ``None`` when they are not installed (the tests that need them skip)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "huifang_desktop" / "ui", ROOT / "huifang_desktop" / "app.py")
HAN = re.compile(r"[\u3400-\u9fff]")
MARK = "EN:"


def source_files() -> Iterator[Path]:
    for source in SOURCES:
        yield from ([source] if source.is_file() else sorted(source.rglob("*.py")))


def tool(name: str) -> str | None:
    """``pyside6-lupdate`` / ``pyside6-lrelease``: beside this Python (the venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


def lupdate(target: Path) -> dict[str, set[str]]:
    """Extract the UI's marked text into ``target`` (.ts); returns the source texts by context."""
    lupdate_tool = tool("pyside6-lupdate")
    assert lupdate_tool is not None
    _run([lupdate_tool, *(str(p) for p in source_files()), "-ts", str(target)])
    found: dict[str, set[str]] = {}
    for context in ET.parse(target).getroot().iter("context"):
        name = context.findtext("name") or ""
        found.setdefault(name, set()).update(m.findtext("source") or "" for m in context.iter("message"))
    return found


def marked(source: str) -> str:
    """The marker translation of ``source``: ``EN:`` and every Chinese character replaced by ``x`` — the
    placeholders ({0}), accelerators (&P) and markup stay, and a Chinese character left on screen is text
    that was not translated."""
    return MARK + HAN.sub("x", source)


def mark_and_release(ts: Path, qm: Path) -> None:
    """Give every message of ``ts`` its marker translation (finished) and compile it into ``qm``."""
    tree = ET.parse(ts)
    for message in tree.getroot().iter("message"):
        translation = message.find("translation")
        if translation is None:
            translation = ET.SubElement(message, "translation")
        translation.attrib.pop("type", None)
        translation.text = marked(message.findtext("source") or "")
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    lrelease_tool = tool("pyside6-lrelease")
    assert lrelease_tool is not None
    _run([lrelease_tool, str(ts), "-qm", str(qm)])
