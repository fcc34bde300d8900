"""Form templates: the shipped ones load, mistakes name the file and line, the override folder wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from huifang_desktop.printing.fonts import FONT_NAME, font_path, register_font
from huifang_desktop.printing.templates import (
    FormTemplate,
    TemplateError,
    forms_dir,
    load_template,
    parse_template,
    template_names,
)

VISIT_FIELDS = [
    "number",
    "customer_name",
    "customer_code",
    "customer_grade",
    "contact_name",
    "contact_phone",
    "visit_type",
    "method",
    "visited_at",
    "visitor",
    "content",
    "feedback",
    "problems",
    "measures",
    "satisfaction",
    "handling",
    "transfer_department",
    "next_visit_on",
    "result",
    "customer_signed",
    "supervisor_comment",
    "supervisor",
    "signed_at",
]
COMPLAINT_FIELDS = [
    "number",
    "received_at",
    "channel",
    "complainant",
    "contact",
    "customer_name",
    "subject",
    "content",
    "category",
    "severity",
    "handler",
    "department",
    "first_responder",
    "deadline",
    "investigation",
    "cause",
    "measures",
    "result",
    "reply_at",
    "reply_way",
    "closing_visit",
    "satisfaction",
    "state",
    "history",
    "signatures",
]
INQUIRY_FIELDS = [
    "number",
    "complaint_number",
    "subject",
    "received_at",
    "handling_due",
    "closed",
    "overdue_days",
    "handler",
    "department",
    "first_responder",
    "reason",
    "measures",
    "responsible",
    "decided_by",
    "decided_at",
]
REPORT_FIELDS = [
    "number",
    "clerk",
    "period",
    "counts",
    "satisfaction",
    "problems",
    "actions",
    "evaluation",
    "supervisor_comment",
    "supervisor",
    "signed_at",
]

MINIMAL = """\
[form]
title = "测试表"

[[row]]
cells = [
  { label = "客户名称", field = "customer_name", span = 6 },
  { label = "联系人", field = "contact_name", span = 6 },
]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


@pytest.mark.parametrize(
    ("name", "title", "expected"),
    [
        ("visit_record", "回访记录表", VISIT_FIELDS),
        ("complaint", "投诉处理表", COMPLAINT_FIELDS),
        ("visit_report", "回访报告表", REPORT_FIELDS),
        ("inquiry", "投诉查办单", INQUIRY_FIELDS),
    ],
)
def test_templates_shipped_load_with_all_fields(name: str, title: str, expected: list[str]) -> None:
    template = load_template(name)
    assert template.title == title
    assert template.source == f"forms/{name}.toml"
    missing = [f for f in expected if f not in template.field_names()]
    assert missing == []


def test_templates_shipped_names_are_listed() -> None:
    assert {"visit_record", "complaint", "visit_report", "inquiry"} <= set(template_names())
    assert (forms_dir() / "visit_record.toml").is_file()


def test_templates_choice_options_from_domain() -> None:
    template = load_template("visit_record")
    cells = {c.field: c for row in template.rows for c in row.cells}
    assert cells["method"].options == ("上门", "电话", "短信", "邮件", "微信", "书信")
    assert cells["satisfaction"].options == ("很满意", "满意", "一般", "不满意", "很不满意")
    assert cells["result"].options == ("成功", "未接通", "拒绝", "不可达", "需再次回访")
    assert cells["method"].type == "choice"


def test_templates_complaint_defaults_to_one_copy() -> None:
    assert load_template("complaint").copies == ()


def test_templates_copies_list_and_count(tmp_path: Path) -> None:
    five = MINIMAL.replace(
        'title = "测试表"',
        'title = "测试表"\ncopies = ["质量管理部", "制造部", "业务部", "会计", "总经理室"]',
    )
    assert parse_template(five, source="x.toml").copies == (
        "质量管理部",
        "制造部",
        "业务部",
        "会计",
        "总经理室",
    )
    three = MINIMAL.replace('title = "测试表"', 'title = "测试表"\ncopies = 3')
    assert parse_template(three, source="x.toml").copies == ("", "", "")
    one = MINIMAL.replace('title = "测试表"', 'title = "测试表"\ncopies = 1')
    assert parse_template(one, source="x.toml").copies == ()


def test_templates_override_folder_wins(tmp_path: Path) -> None:
    text = (forms_dir() / "visit_record.toml").read_text(encoding="utf-8")
    text = text.replace('title = "回访记录表"', 'title = "客户回访记录单"').replace(
        'company = ""', 'company = "某某物业"'
    )
    text += '\n[[row]]\ncells = [ { label = "备注", field = "extra_note" } ]\n'
    write(tmp_path, "visit_record", text)
    template = load_template("visit_record", tmp_path)
    assert (template.title, template.company) == ("客户回访记录单", "某某物业")
    assert "extra_note" in template.field_names()
    assert template.source == str(tmp_path / "visit_record.toml")
    assert load_template("complaint", tmp_path).source == "forms/complaint.toml"  # not overridden


def test_templates_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('{ label = "联系人", field', '{ label = "联系人, field')
    path = write(tmp_path, "visit_record", text)
    with pytest.raises(TemplateError) as info:
        load_template("visit_record", tmp_path)
    assert info.value.file == str(path)
    assert info.value.line == line_of(text, "联系人")
    assert str(info.value).startswith(f"{path} 第 {info.value.line} 行：TOML 格式错误")


def test_templates_unknown_cell_type_names_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('{ label = "联系人", field', '{ type = "boxx", label = "联系人", field')
    path = write(tmp_path, "visit_record", text)
    with pytest.raises(TemplateError) as info:
        load_template("visit_record", tmp_path)
    line = line_of(text, "boxx")
    assert info.value.line == line == 7
    assert str(info.value).startswith(f"{path} 第 7 行：未知的字段类型 “boxx”")


def test_templates_packaged_source_appears_in_message() -> None:
    text = "\n".join(
        ["[form]", 'title = "回访记录表"', "", "[[row]]", 'cells = [ { type = "boxx", field = "a" } ]']
    )
    with pytest.raises(TemplateError) as info:
        parse_template(text, source="forms/visit_record.toml")
    assert str(info.value).startswith("forms/visit_record.toml 第 5 行：未知的字段类型 “boxx”")


def test_templates_unknown_key_names_its_line(tmp_path: Path) -> None:
    text = MINIMAL + '\n[[row]]\ncells = [\n  { label = "地址", field = "address", spna = 4 },\n]\n'
    write(tmp_path, "broken", text)
    with pytest.raises(TemplateError) as info:
        load_template("broken", tmp_path)
    assert info.value.line == line_of(text, "spna")
    assert "未知的设置项 “spna”" in info.value.message


def test_templates_second_cell_on_same_row_is_located(tmp_path: Path) -> None:
    text = (
        MINIMAL + '\n[[row]]\ncells = [\n  { label = "地址", field = "address", span = 6 },\n'
        '  { label = "邮编", field = "zip", span = 13 },\n]\n'
    )
    with pytest.raises(TemplateError) as info:
        parse_template(text, source="t.toml")
    assert info.value.line == line_of(text, "邮编")
    assert "“span” 应为 1 到 12 之间的整数" in info.value.message


def test_templates_row_wider_than_grid_is_rejected() -> None:
    text = MINIMAL.replace('field = "contact_name", span = 6', 'field = "contact_name", span = 7')
    with pytest.raises(TemplateError) as info:
        parse_template(text, source="t.toml")
    assert info.value.line == line_of(text, "cells = [")
    assert "13 列" in info.value.message


def test_templates_choice_without_options_is_rejected() -> None:
    text = MINIMAL + '\n[[row]]\ncells = [ { type = "choice", label = "方式", field = "method" } ]\n'
    with pytest.raises(TemplateError) as info:
        parse_template(text, source="t.toml")
    assert info.value.line == line_of(text, "方式")
    assert "options" in info.value.message


def test_templates_missing_title_is_rejected() -> None:
    text = MINIMAL.replace('title = "测试表"', 'form_code = "X"')
    with pytest.raises(TemplateError) as info:
        parse_template(text, source="t.toml")
    assert info.value.line == 1
    assert "title" in info.value.message


def test_templates_bad_page_setting_names_line() -> None:
    text = MINIMAL + "\n[page]\nfont_size = 200\n"
    with pytest.raises(TemplateError) as info:
        parse_template(text, source="t.toml")
    assert info.value.line == line_of(text, "font_size")


def test_templates_table_column_error_names_line() -> None:
    text = MINIMAL + (
        '\n[[row]]\ntype = "table"\nfield = "history"\ncolumns = [\n'
        '  { label = "时间", width = 2 },\n'
        '  { label = "说明", width = "宽" },\n]\n'
    )
    with pytest.raises(TemplateError) as info:
        parse_template(text, source="t.toml")
    assert info.value.line == line_of(text, '"宽"')


def test_templates_missing_template_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as info:
        load_template("no_such_form", tmp_path)
    assert str(info.value) == "forms/no_such_form.toml：找不到表单模板"


def test_templates_non_utf8_file_names_line(tmp_path: Path) -> None:
    (tmp_path / "gbk.toml").write_bytes(MINIMAL.encode("gbk"))
    with pytest.raises(TemplateError) as info:
        load_template("gbk", tmp_path)
    assert info.value.line == 2
    assert "UTF-8" in info.value.message


def test_templates_utf8_bom_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "bom.toml").write_bytes(MINIMAL.encode("utf-8-sig"))
    assert isinstance(load_template("bom", tmp_path), FormTemplate)


def test_fonts_font_found_and_registered_once() -> None:
    assert font_path().is_file()
    assert font_path().suffix == ".ttc"
    assert register_font() == FONT_NAME
    assert register_font() is register_font()
