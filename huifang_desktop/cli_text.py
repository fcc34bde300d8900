"""The command line's own words in Chinese: argparse's messages ("usage:", "error: argument …") and the
argument types that check a number before any query.

argparse looks its messages up through ``gettext`` at the moment it needs them (``argparse._`` and
``argparse.ngettext``, bound when argparse is imported), so :func:`chinese_argparse` puts a translation from
a dict in their place while the program's parser is built and used — no ``.mo`` file, and nothing else in the
process (pytest's own parser, a library's) is changed afterwards.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from huifang_desktop.domain.validation import MAX_DB_ID

# argparse 3.11–3.13's messages (the msgids of its gettext catalogue) → Chinese. A message missing here
# (a newer Python's) stays English rather than failing.
_MESSAGES: dict[str, str] = {
    "usage: ": "用法：",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "参数 %s 必须给出其中一个",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "多余的参数值 %r",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多一个值",
    "expected at least one argument": "至少需要一个值",
    "expected %s argument": "需要 %s 个值",
    "expected %s arguments": "需要 %s 个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是：%(matches)s",
    "unexpected option string: %s": "意外的选项：%s",
    "invalid %(type)s value: %(value)r": "%(value)r 不是有效的 %(type)s 值",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "invalid choice: %(value)r, maximum %(max)d": "无效的选择：%(value)r",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知命令 %(parser_name)r（可选：%(choices)s）",
}


def _translate(message: str) -> str:
    return _MESSAGES.get(message, message)


def _ntranslate(singular: str, plural: str, n: int) -> str:
    return _translate(singular if n == 1 else plural)


@contextmanager
def chinese_argparse() -> Iterator[None]:
    """argparse speaks Chinese inside the ``with`` block (building a parser, parsing, help, errors)."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = _translate  # type: ignore[attr-defined]
    argparse.ngettext = _ntranslate  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def whole_number(*, low: int = 0, high: int = MAX_DB_ID, what: str = "整数") -> Callable[[str], int]:
    """An argparse ``type`` for a whole number in ``low`` … ``high``; anything else is refused with a Chinese
    message that argparse prefixes with the argument's name (exit 2) — before the database is opened."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"应为{what}，收到“{text}”") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"应为 {low} 到 {high} 之间的{what}，收到“{text}”")
        return value

    return parse


def folder(text: str) -> Path:
    """An argparse ``type`` for a folder: an empty one ("") would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("不能为空")
    return Path(text)


#: A database id (回访记录、计划、报告、导入的序号): PostgreSQL's ``integer`` ends at 2,147,483,647.
record_id = whole_number(low=1, what="整数 ID")
