"""Rendering: every PDF is read back with pypdf; texts are checked for presence and position."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from huifang_desktop.printing.fonts import register_font
from huifang_desktop.printing.render import (
    FieldBox,
    FormJob,
    FormLayout,
    RenderCancelled,
    SignatureInfo,
    format_value,
    layout_form,
    render_form,
    render_forms,
    render_table,
)
from huifang_desktop.printing.templates import FormTemplate, forms_dir, load_template

PRINTED_AT = datetime(2026, 12, 1, 8, 15)  # no demo value shares this date

VISIT: dict[str, Any] = {
    "number": "HF20261122-003",
    "customer_name": "上海宏达机械制造有限公司",
    "customer_code": "KH000123",
    "customer_grade": "A",
    "contact_name": "王建国",
    "contact_phone": "138 1234 5678",
    "visit_type": "使用",
    "method": "上门",
    "visited_at": datetime(2026, 11, 22, 14, 30),
    "visitor": "李晓梅",
    "content": "询问新购 HD-200 型数控机床的运行情况、操作培训是否到位，以及对交货和安装服务是否满意。",
    "feedback": "设备运行总体稳定，夜班时冷却系统偶有异响，希望厂家派人检查。",
    "problems": "冷却泵夜间异响",
    "measures": "转售后服务部 24 小时内派工程师上门检查",
    "satisfaction": "满意",
    "handling": "已转交售后服务部张工，约定 11 月 24 日上门。",
    "transfer_department": "售后服务部",
    "next_visit_on": date(2026, 11, 29),
    "result": "需再次回访",
    "customer_signed": "王建国",
    "supervisor_comment": "处理及时，请跟进到结案。",
    "supervisor": "陈主管",
    "signed_at": date(2026, 11, 23),
}
CHOICES = ("visit_type", "method", "satisfaction", "result")

COMPLAINT: dict[str, Any] = {
    "number": "TS2611-07",
    "received_at": datetime(2026, 11, 18, 10, 5),
    "channel": "电话",
    "complainant": "赵女士",
    "contact": "139 0000 1111",
    "customer_name": "杭州绿源物业管理有限公司",
    "subject": "维修人员未按约定时间上门",
    "content": "报修电梯门机故障，约定上午上门，维修人员下午才到。",
    "category": "服务态度",
    "severity": "重要",
    "handler": "刘经理",
    "department": "售后服务部",
    "deadline": date(2026, 11, 21),
    "investigation": "维修人员被临时调派，调度员未通知客户改期。",
    "cause": "调度流程缺少改期通知环节",
    "measures": "书面致歉；调度系统增加改期短信通知",
    "result": "客户接受道歉",
    "reply_at": datetime(2026, 11, 19, 15, 0),
    "reply_way": "电话",
    "closing_visit": "HF20261121-011",
    "satisfaction": "满意",
    "state": "已关闭",
    "history": [
        {"time": "2026-11-18 10:05", "user": "李晓梅", "action": "受理", "note": "电话受理"},
        {"time": "2026-11-18 11:20", "user": "陈主管", "action": "分派", "note": "交售后服务部处理"},
        ("2026-11-21 10:00", "陈主管", "关闭", "客户满意"),
    ],
    "signatures": {"处理人": ("刘经理", date(2026, 11, 19)), "部门主管": ("陈主管", date(2026, 11, 21))},
}

REPORT: dict[str, Any] = {
    "number": "BG20261123-01",
    "clerk": "李晓梅",
    "period": "2026-11-22",
    "counts": [
        {
            "type": "例行回访",
            "planned": 12,
            "done": 11,
            "success": 9,
            "no_answer": 2,
            "refused": 0,
            "again": 1,
        },
        {"type": "到货回访", "planned": 5, "done": 5, "success": 5, "no_answer": 0, "refused": 0, "again": 0},
    ],
    "satisfaction": "很满意 6 户，满意 8 户",
    "problems": "冷却泵异响",
    "actions": "转售后服务部",
    "evaluation": "完成率 94%",
    "supervisor_comment": "未接通客户换时段再拨。",
    "supervisor": "陈主管",
    "signed_at": date(2026, 11, 23),
}


# -- reading PDFs back --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Chunk:
    text: str
    x: float
    y: float
    size: float


def chunks(pdf: bytes) -> list[list[Chunk]]:
    """Every drawn string of every page with its origin in page space.

    pypdf calls the visitor once per text-show operator, and a string whose characters come from two
    font subsets is shown by two operators that pypdf reports at the string's origin: consecutive calls
    at the same origin are one string.
    """
    pages: list[list[Chunk]] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        found: list[Chunk] = []

        def visit(
            text: str, cm: list[float], tm: list[float], _font: Any, size: float, found: list[Chunk] = found
        ) -> None:
            text = text.replace("\n", "")
            if not text:
                return
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if found and (found[-1].x, found[-1].y, found[-1].size) == (x, y, size):
                found[-1] = Chunk(found[-1].text + text, x, y, size)
            elif text.strip():
                found.append(Chunk(text, x, y, size))

        page.extract_text(visitor_text=visit)
        pages.append(found)
    return pages


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_text(page: list[Chunk]) -> str:
    return squash("".join(c.text for c in page))


def render(template: FormTemplate, values: Mapping[str, Any] | None, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    kwargs.setdefault("printed_at", PRINTED_AT)
    render_form(template, values, buffer, **kwargs)
    return buffer.getvalue()


def assert_boxes_match_pdf(layout: FormLayout, pdf_pages: list[list[Chunk]], first_page: int = 0) -> None:
    """Each string the layout put in a field box is printed at a point inside that box, and ends inside it."""
    font = register_font()
    for index, page in enumerate(layout.pages):
        printed = pdf_pages[first_page + index]
        for box in page.fields:
            for text in box.texts:
                hits = [c for c in printed if c.text == text and box.rect.contains(c.x, c.y)]
                assert hits, f"{box.field}: {text!r} not printed inside {box.rect} on page {index + 1}"
                end = hits[0].x + stringWidth(text, font, hits[0].size)
                assert end <= box.rect.x + box.rect.w + 0.5, f"{box.field}: {text!r} runs out of its box"


def boxes(layout: FormLayout, field: str) -> list[FieldBox]:
    return [b for page in layout.pages for b in page.fields if b.field == field]


def printed_value(layout: FormLayout, field: str) -> set[str]:
    """What was printed for ``field`` in each of its boxes (lines joined, whitespace dropped)."""
    return {squash("".join(b.texts)) for b in boxes(layout, field) if b.texts}


@pytest.fixture(scope="module")
def visit_template() -> FormTemplate:
    return load_template("visit_record")


# -- the visit record -----------------------------------------------------------------------------------


def test_render_visit_record_prints_every_label_and_value(visit_template: FormTemplate) -> None:
    pdf = render(visit_template, VISIT, company="华东精工机械有限公司")
    pages = chunks(pdf)
    assert len(pages) == 1
    text = page_text(pages[0])
    for label in visit_template.labels():
        assert squash(label) in text, label
    assert "回访记录表" in text
    assert "华东精工机械有限公司" in text
    assert "HF/QR-01" in text
    layout = layout_form(visit_template, VISIT)
    formats = {c.field: c.format for row in visit_template.rows for c in row.cells}
    for name, value in VISIT.items():
        if name in CHOICES:
            continue
        fmt = "date" if name == "signed_at" else formats.get(name, "text")
        assert squash(format_value(value, fmt)) in printed_value(layout, name), name
    assert_boxes_match_pdf(layout, pages)


def test_render_visit_record_ticks_chosen_options(visit_template: FormTemplate) -> None:
    layout = layout_form(visit_template, VISIT)
    pages = chunks(render(visit_template, VISIT))
    page = layout.pages[0]
    for name in CHOICES:
        (box,) = boxes(layout, name)
        assert box.ticked == (VISIT[name],)
    ticked = [(x, y) for x, y, _, is_ticked in page.checks if is_ticked]
    assert len(ticked) == len(CHOICES)
    # every ticked box sits just left of its option's text in the PDF
    for name in CHOICES:
        (box,) = boxes(layout, name)
        option = [c for c in pages[0] if c.text == VISIT[name] and box.rect.contains(c.x, c.y)]
        assert option, name
        assert any(0 < option[0].x - x < 20 and abs(option[0].y - y) < 6 for x, y in ticked), name
    unticked = [c for c in page.checks if not c[3]]
    assert len(unticked) == 8 + 6 + 5 + 5 - len(CHOICES)


def test_render_unexpected_choice_value_is_still_printed(visit_template: FormTemplate) -> None:
    values = dict(VISIT, satisfaction="8 分")
    layout = layout_form(visit_template, values)
    (box,) = boxes(layout, "satisfaction")
    assert box.ticked == ("8 分",)
    assert "8分" in page_text(chunks(render(visit_template, values))[0])


def test_render_font_is_embedded_subset(visit_template: FormTemplate) -> None:
    reader = PdfReader(io.BytesIO(render(visit_template, VISIT)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert len(fonts) >= 1
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]
        assert re.match(r"^/[A-Z]{6}\+WenQuanYiMicroHei", str(font["/BaseFont"]))


def test_render_long_content_flows_to_continuation_page(visit_template: FormTemplate) -> None:
    body = "客户详细描述了设备使用过程中的情况，包括开机、加工、清洁和保养 ABC-123；" * 60
    content = (body + "完")[:2000]
    assert len(content) == 2000
    values = dict(VISIT, content=content)
    layout = layout_form(visit_template, values)
    pdf_pages = chunks(render(visit_template, values))
    assert len(pdf_pages) == len(layout.pages) >= 2
    content_boxes = boxes(layout, "content")
    assert len({id(b) for b in content_boxes}) >= 2
    assert squash("".join(t for b in content_boxes for t in b.texts)) == squash(content)
    assert_boxes_match_pdf(layout, pdf_pages)
    # read straight from the PDF: the text inside the content boxes, page after page, is all of it
    read = ""
    for page_layout, printed in zip(layout.pages, pdf_pages, strict=True):
        for box in page_layout.fields:
            if box.field == "content":
                read += "".join(
                    c.text for c in printed if box.rect.contains(c.x, c.y) and c.text in box.texts
                )
    assert squash(read) == squash(content)
    second = page_text(pdf_pages[1])
    assert "回访记录表" in second and "续页" in second and "HF20261122-003" in second
    assert "回访内容（续）" in second
    assert "第2页/共2页" in second


def test_render_unbreakable_text_wraps_inside_box(visit_template: FormTemplate) -> None:
    values = dict(VISIT, customer_name="X" * 150)
    layout = layout_form(visit_template, values)
    assert printed_value(layout, "customer_name") == {"X" * 150}
    assert_boxes_match_pdf(layout, chunks(render(visit_template, values)))


def test_render_long_signature_names_stay_in_their_boxes(visit_template: FormTemplate) -> None:
    values = dict(
        VISIT,
        customer_signed="电话回访（客户王建国口头确认，不便到场签字）",
        supervisor="客户服务部副主管（代）陈某某",
    )
    layout = layout_form(visit_template, values)
    assert printed_value(layout, "customer_signed") == {squash(values["customer_signed"])}
    assert printed_value(layout, "supervisor") == {squash(values["supervisor"])}
    assert_boxes_match_pdf(layout, chunks(render(visit_template, values)))
    very_long = "某" * 80
    layout = layout_form(visit_template, dict(values, customer_signed=very_long))
    assert printed_value(layout, "customer_signed") == {very_long}
    assert_boxes_match_pdf(layout, chunks(render(visit_template, dict(values, customer_signed=very_long))))


def test_render_check_cell_ticks_when_true(tmp_path: Path) -> None:
    text = (
        '[form]\ntitle = "测试表"\n\n[[row]]\ncells = [\n'
        '  { type = "check", label = "客户已签字", field = "signed_paper", span = 6 },\n'
        '  { type = "check", label = "已附扫描件", field = "scan", span = 6 },\n]\n'
    )
    (tmp_path / "checks.toml").write_text(text, encoding="utf-8")
    template = load_template("checks", tmp_path)
    layout = layout_form(template, {"signed_paper": True, "scan": False})
    assert [b.ticked for b in layout.pages[0].fields] == [("客户已签字",), ()]
    assert [c[3] for c in layout.pages[0].checks] == [True, False]
    assert {"客户已签字", "已附扫描件"} <= {
        c.text for c in chunks(render(template, {"signed_paper": True}))[0]
    }


def test_render_blank_form_has_labels_and_no_values(visit_template: FormTemplate) -> None:
    pdf_pages = chunks(render(visit_template, None))
    text = "".join(page_text(p) for p in pdf_pages)
    for label in visit_template.labels():
        assert squash(label) in text, label
    for name, value in VISIT.items():
        if name not in CHOICES:
            assert squash(format_value(value)) not in text, name
    layout = layout_form(visit_template, None)
    assert all(not b.texts and not b.ticked for p in layout.pages for b in p.fields)
    assert not any(ticked for p in layout.pages for *_, ticked in p.checks)
    # every empty field and text box has blank lines to write on, a 5-line box at least 4
    kinds = {c.field: c.type for row in visit_template.rows for c in row.cells}
    page = layout.pages[0]
    for box in page.fields:
        if kinds.get(box.field) in ("field", "text"):
            inside = [
                r for r in page.rules if box.rect.contains(r[0], r[1]) and box.rect.contains(r[2], r[3])
            ]
            assert inside, box.field
            if box.field == "content":
                assert len(inside) >= 4
    assert "年月日时分" in text  # the empty visit time


def test_render_blank_form_with_customer_preprinted(visit_template: FormTemplate) -> None:
    keys = ("customer_name", "customer_code", "customer_grade", "contact_name", "contact_phone")
    values = {k: VISIT[k] for k in keys}
    layout = layout_form(visit_template, values)
    pages = chunks(render(visit_template, values))
    text = page_text(pages[0])
    for k in keys:
        assert squash(VISIT[k]) in text
    assert "李晓梅" not in text and "HF20261122-003" not in text
    assert_boxes_match_pdf(layout, pages)


def test_render_draft_prints_watermark(visit_template: FormTemplate) -> None:
    assert "草稿" in page_text(chunks(render(visit_template, VISIT, draft=True))[0])
    assert "草稿" not in page_text(chunks(render(visit_template, VISIT))[0])


def test_render_signed_prints_signer_and_date(visit_template: FormTemplate) -> None:
    values = dict(VISIT, supervisor=None, signed_at=None)
    signed = SignatureInfo("张主管", date(2026, 11, 24))
    layout = layout_form(visit_template, values, signed=signed)
    assert printed_value(layout, "supervisor") == {"张主管"}
    assert printed_value(layout, "signed_at") == {"2026-11-24"}
    text = page_text(chunks(render(visit_template, values, signed=signed, revision=3))[0])
    assert "已审核" in text and "张主管2026-11-24" in text
    assert "版本3" in text
    assert "签字无效" not in text


def test_render_tampered_record_is_flagged(visit_template: FormTemplate) -> None:
    signed = SignatureInfo("张主管", date(2026, 11, 24))
    text = page_text(chunks(render(visit_template, VISIT, signed=signed, tampered=True))[0])
    assert "签字无效" in text
    assert "已审核" not in text


def test_render_tampered_warning_shares_the_number_line_when_it_fits(visit_template: FormTemplate) -> None:
    """The warning must not push the form's last row onto a page of its own: it stands on the 编号 line,
    and takes a line of its own (the body starting lower) only beside a number too long to leave room."""
    signed = SignatureInfo("张主管", date(2026, 11, 24))
    plain = layout_form(visit_template, VISIT, signed=signed)
    flagged = layout_form(visit_template, VISIT, signed=signed, tampered=True)
    assert flagged.header_height == plain.header_height and len(flagged.pages) == len(plain.pages)
    (page,) = chunks(render(visit_template, VISIT, signed=signed, tampered=True))
    number = next(c for c in page if c.text == VISIT["number"])
    warning = next(c for c in page if "签字后被修改" in c.text)
    code = next(c for c in page if c.text.startswith("表单编号"))
    assert warning.y == number.y == code.y
    font = register_font()
    assert number.x + stringWidth(number.text, font, number.size) < warning.x
    assert warning.x + stringWidth(warning.text, font, warning.size) < code.x

    long_number = dict(VISIT, number="HF20261122-003-补录-" + "九" * 18)
    crowded = layout_form(visit_template, long_number, signed=signed, tampered=True)
    assert crowded.header_height > plain.header_height
    page = chunks(render(visit_template, long_number, signed=signed, tampered=True))[0]
    warning = next(c for c in page if "签字后被修改" in c.text)
    assert warning.y < next(c for c in page if c.text.startswith("表单编号")).y


def test_render_override_template_prints_changes(tmp_path: Path) -> None:
    source = (forms_dir() / "visit_record.toml").read_text(encoding="utf-8")
    source = source.replace('title = "回访记录表"', 'title = "客户回访单"').replace(
        'company = ""', 'company = "某某物业"'
    )
    source += '\n[[row]]\ncells = [ { label = "备注", field = "extra_note" } ]\n'
    (tmp_path / "visit_record.toml").write_text(source, encoding="utf-8")
    template = load_template("visit_record", tmp_path)
    values = dict(VISIT, extra_note="需要带上新版操作手册")
    layout = layout_form(template, values, company="设置里的公司")
    pages = chunks(render(template, values, company="设置里的公司"))
    text = "".join(page_text(p) for p in pages)
    assert "客户回访单" in text and "某某物业" in text and "设置里的公司" not in text
    assert "备注" in text
    assert printed_value(layout, "extra_note") == {"需要带上新版操作手册"}
    assert_boxes_match_pdf(layout, pages)


# -- complaint and report -------------------------------------------------------------------------------


def test_render_complaint_with_history_and_signatures() -> None:
    template = load_template("complaint")
    layout = layout_form(template, COMPLAINT)
    pages = chunks(render(template, COMPLAINT))
    text = "".join(page_text(p) for p in pages)
    for label in template.labels():
        assert squash(label) in text, label
    history = {t for b in boxes(layout, "history") for t in b.texts}
    assert {
        "2026-11-18 10:05",
        "李晓梅",
        "受理",
        "交售后服务部处理",
        "2026-11-21 10:00",
        "客户满意",
    } <= history
    signatures = [t for b in boxes(layout, "signatures") for t in b.texts]
    assert signatures == ["刘经理", "2026-11-19", "陈主管", "2026-11-21"]
    assert (
        "处理人" in text
    )  # the level boxes (部门主管, 公司经理) come with the data: see test_complaint_authority
    for name in ("subject", "content", "investigation", "closing_visit", "state"):
        assert squash(format_value(COMPLAINT[name])) in printed_value(layout, name), name
    assert_boxes_match_pdf(layout, pages)


def test_render_copies_print_number_and_recipient() -> None:
    recipients = ("质量管理部", "制造部", "业务部", "会计", "总经理室")
    template = dataclasses.replace(load_template("complaint"), copies=recipients)
    buffer = io.BytesIO()
    count = render_form(template, COMPLAINT, buffer, printed_at=PRINTED_AT)
    per_copy = len(layout_form(template, COMPLAINT).pages)
    pages = chunks(buffer.getvalue())
    assert count == len(pages) == per_copy * 5
    numbers = "一二三四五"
    for copy, recipient in enumerate(recipients):
        for page in pages[copy * per_copy : (copy + 1) * per_copy]:
            text = page_text(page)
            assert f"第{numbers[copy]}联（一式五联）{recipient}" in text
            assert all(r not in text for r in recipients if r != recipient)


def test_render_report_counts_table_with_totals() -> None:
    template = load_template("visit_report")
    layout = layout_form(template, REPORT)
    pages = chunks(render(template, REPORT))
    assert len(pages) == 1
    texts = list(boxes(layout, "counts")[0].texts)
    assert texts[:7] == ["例行回访", "12", "11", "9", "2", "0", "1"]
    assert texts[-7:] == ["合计", "17", "16", "14", "2", "0", "1"]
    assert_boxes_match_pdf(layout, pages)


# -- batches -----------------------------------------------------------------------------------------------


def test_render_forms_batch_with_progress(tmp_path: Path, visit_template: FormTemplate) -> None:
    records = [dict(VISIT, number=f"HF20261122-{i:03d}") for i in range(1, 21)]
    jobs: list[Any] = [*records[:-1], FormJob(records[-1], draft=True)]
    seen: list[tuple[int, int]] = []
    out = tmp_path / "batch.pdf"
    count = render_forms(
        visit_template, jobs, out, printed_at=PRINTED_AT, progress=lambda i, n: seen.append((i, n)) is None
    )
    pages = chunks(out.read_bytes())
    assert count == len(pages) == 20
    assert seen == [(i, 20) for i in range(21)]
    for i, page in enumerate(pages, start=1):
        assert f"HF20261122-{i:03d}" in page_text(page)
    assert "草稿" in page_text(pages[-1]) and "草稿" not in page_text(pages[0])
    assert not list(tmp_path.glob(".*.part"))


def test_render_forms_cancel_writes_nothing(tmp_path: Path, visit_template: FormTemplate) -> None:
    out = tmp_path / "batch.pdf"
    with pytest.raises(RenderCancelled):
        render_forms(visit_template, [VISIT] * 10, out, printed_at=PRINTED_AT, progress=lambda i, n: i < 3)
    assert list(tmp_path.iterdir()) == []


# -- ledgers ---------------------------------------------------------------------------------------------


COLUMNS = [
    ("投诉编号", 2, "left"),
    ("投诉日期", 2, "center"),
    ("投诉主题", 4, "left"),
    ("投诉内容", 8, "left"),
    ("处理状态", 1.5, "center"),
    ("金额", 2, "right"),
]


def ledger_rows(n: int) -> list[tuple[Any, ...]]:
    return [
        (
            f"TS{i:04d}",
            date(2026, 11, 1 + i % 28),
            "维修人员未按约定时间上门",
            "客户称报修后维修人员迟到。" * (1 + i % 3),
            "已关闭",
            Decimal("10.25") * (i % 7),
        )
        for i in range(n)
    ]


def test_render_table_repeats_headers_and_prints_page_totals(tmp_path: Path) -> None:
    rows = ledger_rows(150)
    out = tmp_path / "ledger.pdf"
    count = render_table(
        "投诉台账", COLUMNS, rows, out, subtitle="2026年11月", totals_columns=["金额"], printed_at=PRINTED_AT
    )
    pages = chunks(out.read_bytes())
    assert count == len(pages) >= 3
    reader = PdfReader(out)
    assert float(reader.pages[0].mediabox.width) > float(reader.pages[0].mediabox.height)  # landscape
    amounts = {r[0]: r[5] for r in rows}
    seen: list[str] = []
    for number, page in enumerate(pages, start=1):
        texts = [c.text for c in page]
        header_y = {c.text: c.y for c in page if c.text in {label for label, _, _ in COLUMNS}}
        assert set(header_y) == {label for label, _, _ in COLUMNS}, f"header missing on page {number}"
        ids = [t for t in texts if re.fullmatch(r"TS\d{4}", t)]
        assert ids and all(c.y < min(header_y.values()) for c in page if c.text in ids)
        seen += ids
        total = texts[texts.index("本页合计") + 1]
        assert Decimal(total) == sum(amounts[i] for i in ids)
        assert f"第{number}页/共{count}页" in page_text(page)
    assert seen == [r[0] for r in rows]  # every row once, in order
    last = [c.text for c in pages[-1]]
    assert Decimal(last[last.index("总计") + 1]) == sum(amounts.values())


def test_render_table_giant_cell_is_split_not_clipped(tmp_path: Path) -> None:
    huge = "很长的投诉内容" * 700
    rows = [("TS0001", date(2026, 11, 1), "主题", huge, "处理中", Decimal("1.00"))]
    out = tmp_path / "ledger.pdf"
    count = render_table("投诉台账", COLUMNS, rows, out, totals_columns=[5], printed_at=PRINTED_AT)
    pages = chunks(out.read_bytes())
    assert count >= 2
    body = ""
    for page in pages:
        header_y = next(c.y for c in page if c.text == "投诉编号")
        body += "".join(c.text for c in page if c.y < header_y and set(c.text) <= set("很长的投诉内容"))
    assert body == huge
    totals = [c.text for page in pages for c in page]
    assert totals[totals.index("总计") + 1] == "1.00"


def test_render_complaint_signature_block_never_stands_alone_on_a_page() -> None:
    """However long the history, the 审批签字 block shares its page with the rows before it."""
    template = load_template("complaint")
    checked = 0
    for n in range(40):
        values = {
            "number": "TS20261124-001",
            "content": "夜班异响。" * 20,
            "history": [{"time": "2026-11-24 10:00", "user": "小王", "action": "处理", "note": "说明"}] * n,
        }
        layout = layout_form(template, values)
        (page,) = [pg for pg in layout.pages if any(f.field == "signatures" for f in pg.fields)]
        others = {f.field for f in page.fields} - {"signatures", "number"}
        assert others, f"{n} history rows: the signatures alone on page {layout.pages.index(page) + 1}"
        checked += len(layout.pages) > 1
    assert checked  # some of them ran onto a second page
