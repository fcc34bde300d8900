"""Pinyin initials for the names of a whole sheet (:func:`name_initials`): what
``domain.customers.pinyin_initials`` gives, without reading pypinyin's dictionaries for every name.

``pinyin_initials`` asks pypinyin, and importing pypinyin reads its character and phrase dictionaries
(about 0.2 s, a sixth of reading a 10,000-row sheet), then segments each name into the words of its phrase
dictionary. For initials, the words matter only where a word reads a character otherwise than the
character alone (多音字: 重庆 → ``cq``, not ``zq``; 银行 → ``yh``). :mod:`.initials_table` holds, made from
pypinyin by :func:`build_table_text`:

* every character's initial as ``pinyin_initials`` gives it for the character alone (the characters of
  the Basic Multilingual Plane: 26,800 of pypinyin's 42,000, the others are rare in a name);
* the phrases whose initials are not those of their characters one by one (about 2,100 of 47,000), and
  the characters whose initial is not one letter.

A name holding none of those has the initials of its characters one by one — exactly what
``pinyin_initials`` gives, since a word of the dictionary that is not listed reads as its characters, and
a run of characters that is no word is read character by character. A name holding one of them or a
character beyond the Basic Multilingual Plane (and any name when the table was made from another pypinyin
version than the one installed, or when pypinyin's phrases are switched off) goes to ``pinyin_initials``. ``tests/domain/test_import_initials.py`` checks the
table against the installed pypinyin; after upgrading pypinyin, write it again::

    python -m huifang_desktop.domain.importing.initials
"""

from __future__ import annotations

import base64
import functools
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from huifang_desktop.domain.customers import pinyin_initials

_NOT_KEPT = re.compile(r"[^0-9A-Za-z]+")  # what pinyin_initials drops: all but ASCII letters and digits
_LAST_IN_TABLE = "\uffff"  # the table's characters: the Basic Multilingual Plane


@dataclass(frozen=True, slots=True)
class _Table:
    letters: dict[int, str]  # code point → its initial (a str.translate table)
    phrases: frozenset[str]  # read otherwise than their characters one by one (and single characters)
    starts: frozenset[str]  # the first characters of those
    longest: int


def _installed_pypinyin() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pypinyin")
    except PackageNotFoundError:
        return None


@functools.cache
def _table() -> _Table | None:
    """The table, or None when it does not describe the pypinyin that ``pinyin_initials`` would ask."""
    from huifang_desktop.domain.importing.initials_table import CHUNKS

    text = zlib.decompress(base64.b64decode("".join(CHUNKS))).decode("utf-8")
    head, runs, phrases = text.split("\n\n")
    if os.environ.get("PYPINYIN_NO_PHRASES") or head != f"pypinyin {_installed_pypinyin()}":
        return None
    letters: dict[int, str] = {}
    for line in runs.splitlines():
        start, run = line.split(" ")
        first = int(start, 16)
        letters.update(zip(range(first, first + len(run)), run, strict=True))
    listed = frozenset(phrases.splitlines())
    return _Table(letters, listed, frozenset(p[0] for p in listed), max(map(len, listed), default=0))


def _holds_listed(text: str, table: _Table) -> bool:
    starts, phrases, longest = table.starts, table.phrases, table.longest
    for i, ch in enumerate(text):
        if ch in starts:
            for end in range(i + 1, min(len(text), i + longest) + 1):
                if text[i:end] in phrases:
                    return True
    return False


def name_initials(name: str) -> str:
    """``pinyin_initials(name)``, from the table when the name allows (see the module's notes)."""
    table = _table()
    if table is None or (name and max(name) > _LAST_IN_TABLE) or _holds_listed(name, table):
        return pinyin_initials(name)
    return _NOT_KEPT.sub("", name.translate(table.letters)).lower()


def build_table_text() -> str:
    """The source of :mod:`.initials_table`, made from the installed pypinyin through ``pinyin_initials``
    (a few seconds)."""
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

    letters: dict[int, str] = {}
    listed: set[str] = set()
    for code in sorted(c for c in PINYIN_DICT if c <= ord(_LAST_IN_TABLE)):
        got = pinyin_initials(chr(code))
        if len(got) == 1:
            letters[code] = got
        else:  # no initial, or more than one letter: left to pinyin_initials
            listed.add(chr(code))
    listed.update(
        p
        for p in PHRASES_DICT
        if max(p) <= _LAST_IN_TABLE and pinyin_initials(p) != "".join(letters.get(ord(c), "") for c in p)
    )
    runs: list[str] = []
    codes = sorted(letters)
    start = 0
    for i in range(1, len(codes) + 1):
        if i == len(codes) or codes[i] != codes[i - 1] + 1:
            runs.append(f"{codes[start]:x} " + "".join(letters[c] for c in codes[start:i]))
            start = i
    payload = f"pypinyin {_installed_pypinyin()}\n\n" + "\n".join(runs) + "\n\n" + "\n".join(sorted(listed))
    packed = base64.b64encode(zlib.compress(payload.encode("utf-8"), 9)).decode("ascii")
    width = 100
    lines = "\n".join(f'    "{packed[i : i + width]}"' for i in range(0, len(packed), width))
    return (
        '"""Made by ``python -m huifang_desktop.domain.importing.initials`` from pypinyin (see '
        "that module): each\ncharacter's pinyin initial and the phrases read otherwise, packed "
        '(zlib, base64). Do not edit."""\n\n'
        f"CHUNKS = (\n{lines}\n)\n"
    )


if __name__ == "__main__":  # write the table again (after a pypinyin upgrade)
    Path(__file__).with_name("initials_table.py").write_text(build_table_text(), encoding="utf-8")
