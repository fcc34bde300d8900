"""``packaging/datafiles.py`` loaded by path for the packaging tests ("packaging" is also the name of a PyPI
package, so it cannot be imported by name)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_datafiles() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "huifang_datafiles_under_test", ROOT / "packaging" / "datafiles.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there while it runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


datafiles = load_datafiles()
