"""The CJK TrueType font every printed form embeds (a subset of it, in each PDF).

The font ships in ``resources/fonts/``. Installed, that folder is the package
``huifang_desktop.resources``; in a source checkout it sits next to the ``huifang_desktop`` folder.
Nothing is read or registered at import time: :func:`register_font` does it once, on first use.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

import huifang_desktop

FONT_FILE = "wqy-microhei.ttc"
FONT_NAME = "WenQuanYiMicroHei"
SUBFONT_INDEX = 0  # the .ttc holds "WenQuanYi Micro Hei" (0) and its monospaced twin (1)


def resources_dir() -> Path:
    """The ``resources/`` folder: the installed package, else the source checkout's folder."""
    try:
        base = importlib.resources.files("huifang_desktop.resources")
    except ModuleNotFoundError:
        return Path(huifang_desktop.__file__).resolve().parent.parent / "resources"
    return Path(str(base))


def font_path(name: str = FONT_FILE) -> Path:
    """Path of a font file in ``resources/fonts/``."""
    return resources_dir() / "fonts" / name


@functools.cache
def register_font() -> str:
    """Register the CJK font with reportlab (once per process) and return its reportlab name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = font_path()
    if not path.is_file():
        raise FileNotFoundError(f"找不到打印字体文件：{path}")
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=SUBFONT_INDEX))
    return FONT_NAME
