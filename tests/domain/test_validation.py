from datetime import date, datetime

import pytest

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.validation import (
    clean_text,
    format_phone,
    normalize_phone,
    parse_date,
    split_phones,
    to_halfwidth,
    validate_email,
)

# --- phone numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-13812345678",
        "+8613812345678",
        "0086 13812345678",
        "86 13812345678",
        "8613812345678",
        "１３８１２３４５６７８",
        "＋８６　１３８－１２３４－５６７８",
        "  138 1234 5678  ",
    ],
)
def test_normalize_phone_mobile_variants_give_eleven_digits(raw: str) -> None:
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_normalize_phone_mobile_accepts_every_mainland_prefix(prefix: str) -> None:
    number = prefix + "912345678"
    assert normalize_phone(number) == number


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("010-12345678", "01012345678"),
        ("(010)12345678", "01012345678"),
        ("（010）12345678", "01012345678"),
        ("010 1234 5678", "01012345678"),
        ("021-61234567", "02161234567"),
        ("021 6123 4567", "02161234567"),
        ("021-6123-4567", "02161234567"),
        ("0571-88886666", "057188886666"),
        ("0571 8888 6666", "057188886666"),
        ("057188886666", "057188886666"),
        ("0571-8888666", "05718888666"),
        ("０５７１－８８８８６６６６", "057188886666"),
    ],
)
def test_normalize_phone_landlines_keep_area_code(raw: str, stored: str) -> None:
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0571-88886666 转801", "057188886666x801"),
        ("0571-88886666转801", "057188886666x801"),
        ("0571-88886666 分机 801", "057188886666x801"),
        ("0571-88886666-801", "057188886666x801"),
        ("0571 88886666 801", "057188886666x801"),
        ("0571-88886666 ext 801", "057188886666x801"),
        ("0571-88886666 EXT.801", "057188886666x801"),
        ("0571-88886666x801", "057188886666x801"),
        ("0571-88886666#12", "057188886666x12"),
        ("010-12345678 转 8", "01012345678x8"),
        ("021-61234567-80123", "02161234567x80123"),
        ("010 1234 5678 转 801", "01012345678x801"),
    ],
)
def test_normalize_phone_landline_extensions(raw: str, stored: str) -> None:
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("400-812-3456", "4008123456"),
        ("4008123456", "4008123456"),
        ("400 812 3456", "4008123456"),
        ("800-812-3456", "8008123456"),
    ],
)
def test_normalize_phone_service_numbers(raw: str, stored: str) -> None:
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "不能为空"),
        ("   ", "不能为空"),
        ("abc", "非数字"),
        ("138 1234 567a", "非数字"),
        ("1381234567", "手机号码"),  # 10 digits
        ("138123456789", "手机号码"),  # 12 digits
        ("12812345678", "手机号码"),  # no mobile starts with 12
        ("12345678", "手机号码"),  # local number without area code
        ("13812345678 转8", "分机"),
        ("0571-888866", "固定电话"),  # 6-digit local part
        ("0571-0888666", "固定电话"),  # local part cannot start with 0
        ("010-123456789", "固定电话"),
        ("4008123", "电话号码"),
        ("88886666", "电话号码"),
    ],
)
def test_normalize_phone_malformed_raises_naming_the_field(raw: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_phone(raw, label="联系人1电话", field="contacts[1].phone")
    err = info.value
    assert err.fields == ["contacts[1].phone"]
    assert err.errors[0].label == "联系人1电话"
    assert fragment in err.errors[0].message
    assert str(err).startswith("联系人1电话：")


def test_normalize_phone_error_quotes_what_was_typed() -> None:
    with pytest.raises(ValidationError) as info:
        normalize_phone("0571-888866", label="电话")
    assert "“0571-888866”" in str(info.value)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("13812345678", "138 1234 5678"),
        ("01012345678", "010-12345678"),
        ("02161234567", "021-61234567"),
        ("057188886666", "0571-88886666"),
        ("05718888666", "0571-8888666"),
        ("057188886666x801", "0571-88886666 转801"),
        ("01012345678x8", "010-12345678 转8"),
        ("4008123456", "400-812-3456"),
        ("8008123456", "800-812-3456"),
        ("", ""),
        (None, ""),
        ("12345", "12345"),  # unknown shapes are shown unchanged
    ],
)
def test_format_phone_shows_stored_numbers(stored: str | None, shown: str) -> None:
    assert format_phone(stored) == shown


@pytest.mark.parametrize(
    "raw", ["+86 138-1234-5678", "0571 88886666 转 801", "(010)12345678", "400 812 3456", "021 6123 4567"]
)
def test_format_phone_round_trips_through_normalize(raw: str) -> None:
    stored = normalize_phone(raw)
    assert normalize_phone(format_phone(stored)) == stored


def test_split_phones_splits_on_chinese_and_ascii_separators() -> None:
    assert split_phones("13812345678/0571-88886666；400-812-3456，13912345678") == [
        "13812345678",
        "0571-88886666",
        "400-812-3456",
        "13912345678",
    ]
    assert split_phones("") == []


# --- text helpers ---------------------------------------------------------------------------------------


def test_clean_text_trims_and_collapses_spaces() -> None:
    assert clean_text("  张三\u3000\u3000有限  公司 ") == "张三 有限 公司"
    assert clean_text(None) == ""


def test_to_halfwidth_converts_digits_letters_and_punctuation() -> None:
    assert to_halfwidth("ＡＢｃ１２３（＋）") == "ABc123(+)"


def test_validate_email_lowercases_and_rejects_garbage() -> None:
    assert validate_email(" Zhang.San@Example.COM ") == "zhang.san@example.com"
    assert validate_email("") == ""
    with pytest.raises(ValidationError) as info:
        validate_email("zhang@", label="联系人1邮箱", field="contacts[1].email")
    assert info.value.fields == ["contacts[1].email"]
    assert "联系人1邮箱" in str(info.value)


# --- dates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-22",
        "2026/11/22",
        "2026.11.22",
        "2026年11月22日",
        "2026年11月22",
        "20261122",
        "２０２６－１１－２２",
        " 2026 - 11 - 22 ",
        "2026-11-22 ",
    ],
)
def test_parse_date_accepted_shapes(raw: str) -> None:
    assert parse_date(raw) == date(2026, 11, 22)


@pytest.mark.parametrize(
    ("raw", "expected"), [("2026-1-2", date(2026, 1, 2)), ("2026年1月2日", date(2026, 1, 2))]
)
def test_parse_date_single_digit_month_and_day(raw: str, expected: date) -> None:
    assert parse_date(raw) == expected


def test_parse_date_passes_dates_through_and_truncates_datetimes() -> None:
    assert parse_date(date(2026, 3, 1)) == date(2026, 3, 1)
    assert parse_date(datetime(2026, 3, 1, 15, 30)) == date(2026, 3, 1)


def test_parse_date_leap_day() -> None:
    assert parse_date("2028-02-29") == date(2028, 2, 29)


@pytest.mark.parametrize(
    "raw", ["2026-02-30", "2026-02-29", "2026-13-01", "2026-04-31", "20260230", "2026-00-10"]
)
def test_parse_date_impossible_dates_raise(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_date(raw, label="生日", field="birthday")
    assert info.value.fields == ["birthday"]
    assert "不是存在的日期" in str(info.value)
    assert str(info.value).startswith("生日：")


@pytest.mark.parametrize(
    "raw", ["garbage", "22/11/2026", "2026-11", "11-22", "2026--11-22", "二〇二六年十一月"]
)
def test_parse_date_garbage_raises_with_example(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_date(raw, label="建档日期", field="created_on")
    assert info.value.fields == ["created_on"]
    assert "2026-11-22" in str(info.value)


def test_parse_date_empty_is_none_unless_required() -> None:
    assert parse_date("") is None
    assert parse_date(None) is None
    assert parse_date("   ") is None
    with pytest.raises(ValidationError) as info:
        parse_date("", label="日期", field="day", required=True)
    assert info.value.fields == ["day"]
    assert "不能为空" in str(info.value)


def test_already_does_not_double_the_yi_of_a_state() -> None:
    from huifang_desktop.domain.validation import already

    assert already("已关闭") == "已关闭"
    assert already("已回访") == "已回访"
    assert already("受理") == "已受理"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+86-531-26485794", "053126485794"),
        ("+86 531 2648 5794", "053126485794"),
        ("0086-531-26485794", "053126485794"),
        ("+86 10 12345678", "01012345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
    ],
)
def test_normalize_phone_accepts_the_international_form_of_a_landline(raw, stored):
    """Issue 21: ``+86-531-26485794`` (the area code without its 0) was refused."""
    assert normalize_phone(raw) == stored
