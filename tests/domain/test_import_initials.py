"""Issue 21 item 10: the import's pinyin initials (``domain/importing/initials.py``) are exactly
``pinyin_initials``'s, without importing pypinyin for names that do not need it."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from huifang_desktop.domain.customers import pinyin_initials
from huifang_desktop.domain.importing import initials
from huifang_desktop.domain.importing.initials import build_table_text, name_initials


def test_the_table_is_the_one_the_installed_pypinyin_makes() -> None:
    """After a pypinyin upgrade: ``python -m huifang_desktop.domain.importing.initials``."""
    table = Path(initials.__file__).with_name("initials_table.py")
    assert table.read_text(encoding="utf-8") == build_table_text()
    assert initials._table() is not None


def _pool() -> list[str]:
    """Characters a name is made of, with the ones the table leaves to pypinyin well represented: the
    characters of the listed phrases (重庆, 银行, 长沙 …), common ones, letters, digits, punctuation,
    full-width forms, spaces and a character beyond the Basic Multilingual Plane."""
    table = initials._table()
    assert table is not None
    listed = sorted(table.phrases)
    chars = sorted({ch for p in listed for ch in p})
    common = list(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗杭州余杭工程机械有限公司运输建设物流土石方队重庆长沙银行"
    )
    return chars + common * 20 + list("AbZ09 -·（）()、，&") + ["\u3000", "Ａ", "１", "\U00020000", "〇"]


def test_name_initials_are_pinyin_initials() -> None:
    rng = random.Random(21)
    pool = _pool()
    table = initials._table()
    assert table is not None
    listed = sorted(table.phrases)
    names = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    # every listed phrase inside a name, between characters that may join it into a longer word
    names += [rng.choice(pool) + p + rng.choice(pool) for p in listed]
    names += [
        "",
        "ABC 有限公司",
        "王\u3000芳",
        "杭州西湖导入00012工程机械有限公司",
        "重庆长安",
        "中国银行杭州分行",
    ]
    wrong = [
        (n, name_initials(n), pinyin_initials(n)) for n in names if name_initials(n) != pinyin_initials(n)
    ]
    assert wrong == []


def test_names_without_listed_phrases_need_no_pypinyin() -> None:
    code = (
        "import sys\n"
        "from huifang_desktop.domain.importing.initials import name_initials\n"
        "assert name_initials('杭州西湖导入00012工程机械有限公司') == 'hzxhdr00012gcjxyxgs'\n"
        "assert name_initials('王 Li 芳') == 'wlif'\n"
        "assert 'pypinyin' not in sys.modules\n"
        "assert name_initials('重庆长安汽车') == 'cqcaqc'\n"  # 重 read chóng in 重庆: pypinyin asked
        "assert 'pypinyin' in sys.modules\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env={"PYTHONPATH": str(root)})


def test_another_pypinyin_version_is_asked_for_every_name(monkeypatch: pytest.MonkeyPatch) -> None:
    initials._table.cache_clear()
    monkeypatch.setattr(initials, "_installed_pypinyin", lambda: "0.0.1")
    try:
        assert initials._table() is None
        assert name_initials("杭州西湖") == pinyin_initials("杭州西湖") == "hzxh"
    finally:
        initials._table.cache_clear()
