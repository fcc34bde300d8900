"""The printed 回访台账 (services/printing.py ``visit_ledger_pdf``'s layout): rows a page, sizes, no wrapped
names, satisfaction words or times, long texts cut to two lines with an appendix. Read back with pypdf."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

from pypdf import PdfReader

from huifang_desktop.printing import render_table
from huifang_desktop.services.ledgers import DONE_COLUMN, ledger_columns
from huifang_desktop.services.ledgers.visit_print import _ledger_fit

NOW = datetime(2026, 11, 24, 10, 0)
LONG_PROBLEM = "客户反映冷却泵在夜班时段持续异响，已两次报修仍未解决，要求厂家派工程师到现场检测并书面答复处理结果和时间。"
LONG_CANCEL = "已取消（客户已停业，经营地址变更，联系人离职，电话空号，需销售部重新核实客户资料后再安排回访）"


def _rows(n: int) -> list[tuple[Any, ...]]:
    names = ("朱丹松", "王思", "欧阳晓梅", "黎秀芳")
    rows = []
    for i in range(n):
        visited = i % 10 != 9
        when = datetime(2026, 10, 1, 9, 0) + timedelta(minutes=37 * i)
        state = "已回访" if visited else LONG_CANCEL
        rows.append(
            (
                f"HF20261001-{i:03d}" if visited else None,
                f"KH{i:06d}",
                "杭州远纳运输有限公司" if i % 5 else "浙江宝盛市政工程有限公司宁波分公司",
                "VIP",
                "满意度",
                "电话",
                date(2026, 10, 1),
                when if visited else None,
                names[i % 4] if visited else None,
                "需再次回访" if visited else None,
                "很不满意" if i % 2 else "很满意",
                state,
                names[(i + 1) % 4],
                LONG_PROBLEM if i % 13 == 0 else ("冷却泵异响" if i % 2 else None),
                "售后服务部" if i % 5 == 0 else None,
                1 if visited else 0,
            )
        )
    return rows


def _print(rows: list[tuple[Any, ...]], appendix: bool = True) -> list[list[tuple[str, float]]]:
    """Per page: every drawn string with its font size."""
    style, fit = _ledger_fit(appendix)
    buffer = io.BytesIO()
    render_table(
        "回访台账",
        ledger_columns(),
        rows,
        buffer,
        totals_columns=[DONE_COLUMN],
        subtitle="2026年10月",
        company="本公司",
        printed_at=NOW,
        style=style,
        fit=fit,
    )
    pages = []
    for page in PdfReader(io.BytesIO(buffer.getvalue())).pages:
        drawn: list[tuple[str, float]] = []

        def visit(text: str, _cm: Any, tm: Any, _font: Any, size: float, drawn: Any = drawn) -> None:
            if text.strip():
                drawn.append((text.strip(), size * tm[0]))

        page.extract_text(visitor_text=visit)
        pages.append(drawn)
    return pages


def test_ledger_prints_twenty_rows_a_page_at_a_legible_size() -> None:
    rows = _rows(400)
    pages = _print(rows, appendix=False)
    assert len(rows) / len(pages) >= 20, f"{len(rows)} rows on {len(pages)} pages"
    body = [size for page in pages for text, size in page if text.startswith("HF2026")]
    assert body and min(body) >= 7.5


def test_ledger_names_satisfaction_and_times_never_wrap() -> None:
    pages = _print(_rows(80))
    drawn = {text for page in pages for text, _ in page}
    for whole in ("朱丹松", "欧阳晓梅", "很不满意", "很满意", "需再次回访", "2026-10-01 09:37"):
        assert whole in drawn, whole
    for piece in ("朱丹", "松", "欧阳晓", "很满", "意", "需再次", "09:37"):  # a wrapped name, word or time
        assert piece not in drawn, piece


def test_ledger_cuts_long_texts_to_two_lines_with_the_whole_text_in_the_appendix() -> None:
    rows = _rows(60)
    with_appendix = _print(rows)
    text = ["".join(t for t, _ in page) for page in with_appendix]
    appendix = [i for i, t in enumerate(text) if "附录" in t]
    assert appendix and appendix[0] == len(text) - len(appendix)  # after the table, pages numbered through
    assert f"第{len(text)}页/共{len(text)}页" in text[-1].replace(" ", "")
    whole = "".join(text[i] for i in appendix)
    assert LONG_PROBLEM in whole and LONG_CANCEL in whole and "HF20261001-000" in whole and "问题点" in whole
    table = "".join(text[: appendix[0]])
    assert LONG_PROBLEM not in table and "…[1]" in table
    without = _print(rows, appendix=False)
    assert len(without) == appendix[0] and "附录" not in "".join(t for page in without for t, _ in page)
    assert "…[" not in "".join(t for page in without for t, _ in page)
