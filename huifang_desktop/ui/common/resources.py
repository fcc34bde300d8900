"""Find bundled resources, installed, from a source checkout, or frozen by PyInstaller."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import huifang_desktop


def resource_dir() -> Path:
    try:
        return Path(str(resources.files("huifang_desktop.resources")))
    except ModuleNotFoundError:
        return Path(huifang_desktop.__file__).resolve().parent.parent / "resources"


def icon_path(name: str = "huifang.png") -> Path:
    return resource_dir() / "icons" / name


def translations_dir() -> Path:
    return resource_dir() / "translations"
