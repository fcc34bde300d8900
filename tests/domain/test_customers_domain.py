from datetime import date
from decimal import Decimal

import pytest

from huifang_desktop.domain.customers import (
    DEFAULT_CATEGORIES,
    ContactDraft,
    CustomerDraft,
    GradeThresholds,
    format_customer_code,
    grade_by_volume,
    grade_vip,
    pinyin_initials,
    validate_customer,
    vip_cutoff,
)
from huifang_desktop.domain.errors import ValidationError

TODAY = date(2026, 11, 24)


def _draft(**changes: object) -> CustomerDraft:
    base: dict[str, object] = {
        "name": "杭州明达贸易有限公司",
        "contacts": (ContactDraft(name="张三", mobile="138 1234 5678"),),
    }
    base.update(changes)
    return CustomerDraft(**base)  # type: ignore[arg-type]


def _errors(draft: CustomerDraft, **kwargs: object) -> dict[str, tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        validate_customer(draft, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return {e.field: (e.label, e.message) for e in info.value.errors}


# --- validate_customer ----------------------------------------------------------------------------------


def test_validate_customer_normalises_a_good_file() -> None:
    clean = validate_customer(
        _draft(
            name="  杭州明达　贸易 ",
            kind="单位",
            category="经销商",
            address=" 杭州市西湖区文三路 1 号 ",
            region=" 西湖 ",
            birthday="1980年5月6日",
            created_on="2026/11/01",
            contacts=(
                ContactDraft(
                    name=" 张三 ",
                    phone="0571-88886666 转801",
                    mobile="+86 139 1234 5678",
                    email="ZS@Example.com",
                    title="经理",
                ),
            ),
        ),
        today=TODAY,
    )
    assert clean.name == "杭州明达 贸易"
    assert clean.category == "经销商"
    assert clean.address == "杭州市西湖区文三路 1 号"
    assert clean.region == "西湖"
    assert clean.birthday == date(1980, 5, 6)
    assert clean.created_on == date(2026, 11, 1)
    (contact,) = clean.contacts
    assert contact.name == "张三"
    assert contact.phone == "057188886666x801"
    assert contact.mobile == "13912345678"
    assert contact.email == "zs@example.com"
    assert contact.title == "经理"
    assert contact.is_primary is True


def test_validate_customer_created_on_defaults_to_today() -> None:
    assert validate_customer(_draft(), today=TODAY).created_on == TODAY


def test_validate_customer_empty_category_means_ordinary() -> None:
    assert validate_customer(_draft(category=""), today=TODAY).category == "普通"


def test_validate_customer_uses_the_office_category_list() -> None:
    assert validate_customer(_draft(category="物业"), today=TODAY, categories=("物业",)).category == "物业"
    errors = _errors(_draft(category="经销商"), categories=("物业", "普通"))
    assert errors == {"category": ("类别", "“经销商”不在类别列表中")}


@pytest.mark.parametrize(
    ("changes", "field", "label"),
    [
        ({"name": ""}, "name", "客户名称"),
        ({"name": "   "}, "name", "客户名称"),
        ({"name": "张" * 101}, "name", "客户名称"),
        ({"kind": "公司"}, "kind", "类型"),
        ({"category": "VIP客户"}, "category", "类别"),
        ({"status": "删除"}, "status", "状态"),
        ({"address": "路" * 201}, "address", "地址"),
        ({"notes": "备" * 4001}, "notes", "备注"),
        ({"birthday": "2026-02-30"}, "birthday", "生日"),
        ({"birthday": "生日"}, "birthday", "生日"),
        ({"birthday": "2026-11-25"}, "birthday", "生日"),
        ({"birthday": "1899-12-31"}, "birthday", "生日"),
        ({"created_on": "2026-11-25"}, "created_on", "建档日期"),
        ({"created_on": "2026-13-01"}, "created_on", "建档日期"),
        ({"contacts": ()}, "contacts", "联系人"),
        ({"contacts": (ContactDraft(),)}, "contacts", "联系人"),
        ({"contacts": (ContactDraft(mobile="13812345678"),)}, "contacts[1].name", "联系人1姓名"),
        ({"contacts": (ContactDraft(name="张三", phone="12345"),)}, "contacts[1].phone", "联系人1电话"),
        (
            {"contacts": (ContactDraft(name="张三", mobile="1381234567"),)},
            "contacts[1].mobile",
            "联系人1手机",
        ),
        (
            {"contacts": (ContactDraft(name="张三", mobile="0571-88886666"),)},
            "contacts[1].mobile",
            "联系人1手机",
        ),
        ({"contacts": (ContactDraft(name="张三"),)}, "contacts[1].phone", "联系人1电话"),
        (
            {"contacts": (ContactDraft(name="张三", mobile="13812345678", email="zs@"),)},
            "contacts[1].email",
            "联系人1邮箱",
        ),
    ],
)
def test_validate_customer_field_error_names_field_and_label(
    changes: dict[str, object], field: str, label: str
) -> None:
    errors = _errors(_draft(**changes))
    assert list(errors) == [field]
    assert errors[field][0] == label


def test_validate_customer_reports_all_errors_at_once() -> None:
    draft = CustomerDraft(
        name="",
        kind="公司",
        category="不存在",
        status="删除",
        birthday="2026-02-30",
        created_on="2027-01-01",
        contacts=(
            ContactDraft(name="", phone="abc"),
            ContactDraft(name="李四", mobile="0571-88886666"),
            ContactDraft(name="王五"),
            ContactDraft(name="赵六", phone="13812345678", email="bad@"),
        ),
    )
    errors = _errors(draft)
    assert set(errors) == {
        "name",
        "kind",
        "category",
        "status",
        "birthday",
        "created_on",
        "contacts[1].name",
        "contacts[1].phone",
        "contacts[2].mobile",
        "contacts[3].phone",
        "contacts[4].email",
    }
    assert errors["birthday"] == ("生日", "“2026-02-30”不是存在的日期")
    assert errors["created_on"] == ("建档日期", "不能晚于今天")
    assert errors["contacts[2].mobile"][0] == "联系人2手机"


def test_validate_customer_error_message_is_readable_chinese() -> None:
    with pytest.raises(ValidationError) as info:
        validate_customer(_draft(name="", kind="公司"), today=TODAY)
    assert str(info.value) == "客户名称：不能为空；类型：应为 单位/个人"


def test_validate_customer_first_contact_becomes_primary_when_none_marked() -> None:
    clean = validate_customer(
        _draft(
            contacts=(
                ContactDraft(name="甲", phone="13812345678"),
                ContactDraft(name="乙", phone="13912345678"),
            )
        ),
        today=TODAY,
    )
    assert [c.is_primary for c in clean.contacts] == [True, False]


def test_validate_customer_keeps_the_marked_primary_contact() -> None:
    clean = validate_customer(
        _draft(
            contacts=(
                ContactDraft(name="甲", phone="13812345678"),
                ContactDraft(name="乙", phone="13912345678", is_primary=True),
            )
        ),
        today=TODAY,
    )
    assert [(c.name, c.is_primary) for c in clean.contacts] == [("甲", False), ("乙", True)]


def test_validate_customer_two_primary_contacts_refused() -> None:
    errors = _errors(
        _draft(
            contacts=(
                ContactDraft(name="甲", phone="13812345678", is_primary=True),
                ContactDraft(name="乙", phone="13912345678", is_primary=True),
            )
        )
    )
    assert errors == {"contacts": ("联系人", "只能有一位主要联系人")}


def test_validate_customer_skips_empty_contact_rows_but_keeps_row_numbers() -> None:
    clean = validate_customer(
        _draft(
            contacts=(ContactDraft(), ContactDraft(name="甲", phone="13812345678"), ContactDraft(title="  "))
        ),
        today=TODAY,
    )
    assert [c.name for c in clean.contacts] == ["甲"]
    assert clean.contacts[0].is_primary
    errors = _errors(_draft(contacts=(ContactDraft(), ContactDraft(name="甲", phone="bad"))))
    assert list(errors) == ["contacts[2].phone"]


def test_validate_customer_default_categories_are_the_documented_ones() -> None:
    assert DEFAULT_CATEGORIES == ("经销商", "终端客户", "业主", "普通")


# --- grading --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volume", "grade"),
    [(1000, "A"), (100, "A"), (99, "B"), (50, "B"), (49, "C"), (10, "C"), (9, "D"), (1, "D"), (0, "D")],
)
def test_grade_by_volume_boundaries(volume: int, grade: str) -> None:
    assert grade_by_volume(volume) == grade


def test_grade_by_volume_decimal_just_below_threshold() -> None:
    assert grade_by_volume(Decimal("99.99")) == "B"
    assert grade_by_volume(Decimal("100.00")) == "A"


def test_grade_by_volume_uses_office_thresholds() -> None:
    t = GradeThresholds(a=30, b=20, c=5)
    assert [grade_by_volume(v, t) for v in (30, 29, 20, 19, 5, 4)] == ["A", "B", "B", "C", "C", "D"]


def test_vip_cutoff_top_fifth_of_all_customers() -> None:
    values = [100, 50, 30, 20, 10, 0, 0, 0, 0, 0]  # 10 customers → 2 VIPs
    assert vip_cutoff(values) == Decimal(50)


def test_vip_cutoff_one_to_ten() -> None:
    assert vip_cutoff(list(range(1, 11))) == Decimal(9)


def test_vip_cutoff_ties_at_the_cutoff_all_count() -> None:
    cutoff = vip_cutoff([10, 10, 10, 1, 1, 1, 1, 1, 1, 1])
    assert cutoff == Decimal(10)
    assert [grade_vip(v, cutoff) for v in (10, 10, 10, 1)] == ["VIP", "VIP", "VIP", "普通"]


def test_vip_cutoff_at_least_one_vip() -> None:
    assert vip_cutoff([5]) == Decimal(5)
    assert vip_cutoff([5, 1]) == Decimal(5)


def test_vip_cutoff_none_without_positive_values() -> None:
    assert vip_cutoff([]) is None
    assert vip_cutoff([0, 0, 0]) is None


def test_vip_cutoff_share_is_a_parameter() -> None:
    assert vip_cutoff([Decimal("10.5"), 7, 3, 2, 1, 0, 0, 0, 0, 0], share=0.5) == Decimal(1)


def test_grade_vip_small_and_ordinary() -> None:
    assert grade_vip(Decimal(80), Decimal(50)) == "VIP"
    assert grade_vip(Decimal(49), Decimal(50)) == "普通"
    assert grade_vip(0, Decimal(50)) == "小客户"
    assert grade_vip(5, Decimal(50), small_below=5) == "小客户"
    assert grade_vip(0, None) == "小客户"
    assert grade_vip(3, None) == "普通"


# --- pinyin and codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("张三", "zs"),
        ("单田芳", "dtf"),
        ("重庆", "cq"),
        ("ABC公司", "abcgs"),
        ("3M中国", "3mzg"),
        ("张三 Co.", "zsco"),
        ("李四-王五", "lsww"),
        ("「华为」科技（深圳）有限公司", "hwkjszyxgs"),
        ("", ""),
        ("！？。", ""),
    ],
)
def test_pinyin_initials(name: str, initials: str) -> None:
    assert pinyin_initials(name) == initials


def test_format_customer_code_pads_to_six_digits() -> None:
    assert format_customer_code(1) == "KH000001"
    assert format_customer_code(123) == "KH000123"
    assert format_customer_code(1234567) == "KH1234567"
    assert format_customer_code(5, "WY", 4) == "WY0005"
