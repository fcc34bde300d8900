"""Every Python package in the source tree is listed in pyproject.toml, so ``pip install .`` ships it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_lists_every_package_and_the_mapped_data_packages():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "huifang_desktop").rglob("__init__.py")
    }
    assert found - listed == set(), "add these packages to [tool.setuptools] packages"
    assert {"huifang_desktop.resources", "huifang_desktop.forms"} <= listed
    assert config["package-dir"] == {
        "huifang_desktop.resources": "resources",
        "huifang_desktop.forms": "forms",
    }
