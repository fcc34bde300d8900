"""Field validation and normalisation: phone numbers, dates, e-mail, text (domain.md §2).

Phone numbers are stored normalised (digits only, an extension after ``x``) and shown formatted:

* mainland mobile: 11 digits ``1[3-9]…`` → ``13812345678``, shown ``138 1234 5678``;
* landline with area code, optional extension → ``057188886666x801``, shown ``0571-88886666 转801``;
* national service numbers 400/800 → ``4008123456``, shown ``400-812-3456``.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from huifang_desktop.domain.errors import FieldError, ValidationError

_FULLWIDTH = {
    ord(c): ord(c) - 0xFEE0
    for c in "０１２３４５６７８９＋－（）．／ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ"
}
_FULLWIDTH[0x3000] = 0x20  # ideographic space


def to_halfwidth(text: str) -> str:
    """Full-width digits, letters and common punctuation to ASCII; ideographic space to a space."""
    return text.translate(_FULLWIDTH)


# The C0 control characters but tab, newline and carriage return (exactly what an .xlsx cell cannot hold):
# NUL, BEL, ESC… are never typed on purpose, print as nothing and break every Excel export.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_MESSAGE = "含有不可见的控制字符（如 NUL、BEL、ESC），请删除后再填写"


def check_controls(raw: str | None, *, label: str, field: str) -> None:
    """Raise :class:`ValidationError` naming the field when ``raw`` holds a control character (tab,
    newline and carriage return are allowed: multi-line text)."""
    if raw and CONTROL_CHARS.search(raw):
        raise ValidationError(FieldError(field, label, CONTROL_MESSAGE))


def clean_text(text: str | None) -> str:
    """Trim, fold full-width spaces, collapse runs of white space and drop control characters (the
    field-level entry points :func:`require_text` and :func:`optional_text` refuse them instead)."""
    if not text:
        return ""
    if text.isprintable() and "  " not in text:  # no control, no white space but single spaces: only trim
        return text.strip()
    return _WHITE_SPACE.sub(" ", CONTROL_CHARS.sub("", text.replace("\u3000", " "))).strip()


_WHITE_SPACE = re.compile(r"\s+")


_MOBILE = re.compile(r"1[3-9]\d{9}")
_EXT_SPLIT = re.compile(r"(?:转|分机|ext\.?|x|#|,)\s*(\d{1,6})$", re.IGNORECASE)
_THREE_DIGIT_AREAS = ("010", "020", "021", "022", "023", "024", "025", "027", "028", "029")


def normalize_phone(raw: str, *, label: str = "电话", field: str = "phone") -> str:
    """Return the stored form of a phone number or raise :class:`ValidationError` naming the field."""
    if isinstance(raw, str) and _MOBILE.fullmatch(
        raw
    ):  # already the stored form (as the import's cells and re-checked files are)
        return raw
    text = to_halfwidth(clean_text(raw))
    if not text:
        raise ValidationError(FieldError(field, label, "不能为空"))
    ext = ""
    m = _EXT_SPLIT.search(text)
    if m:
        ext = m.group(1)
        text = text[: m.start()]
    # A trailing "-801" after a full landline is an extension too (0571-88886666-801), but only when the
    # first two groups already make a whole number: "021 6123 4567" is one number written in groups.
    parts = [p for p in re.split(r"[\s\-()（）.]+", text) if p]
    if (
        not ext
        and len(parts) == 3
        and parts[0].startswith("0")
        and len(parts[0]) in (3, 4)
        and len(parts[1]) in (7, 8)
        and len(parts[2]) <= 5
    ):
        ext = parts.pop()
    digits = "".join(parts)
    plus = digits.startswith("+")
    if plus:
        digits = digits[1:]
    if not digits.isdigit():
        raise ValidationError(FieldError(field, label, f"“{raw}”含有非数字字符"))
    country = digits.startswith("0086") or (digits.startswith("86") and (plus or len(digits) == 13))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif country:
        digits = digits[2:]
    if country and (digits[:1] in "23456789" or digits.startswith("10")) and not _MOBILE.fullmatch(digits):
        digits = "0" + digits  # +86-531-26485794: the international form drops the area code's 0
    if _MOBILE.fullmatch(digits):
        if ext:
            raise ValidationError(FieldError(field, label, "手机号码不能带分机号"))
        return digits
    if digits.startswith("1"):
        raise ValidationError(
            FieldError(field, label, f"“{raw}”不是有效的手机号码（应为 11 位，以 13–19 开头）")
        )
    if digits[:3] in ("400", "800") and len(digits) == 10:
        return digits
    if digits.startswith("0"):
        area_len = 3 if digits[:3] in _THREE_DIGIT_AREAS else 4
        local = digits[area_len:]
        if len(local) in (7, 8) and not local.startswith("0"):
            return digits + (f"x{ext}" if ext else "")
        raise ValidationError(FieldError(field, label, f"“{raw}”不是有效的固定电话（区号后应为 7–8 位号码）"))
    raise ValidationError(
        FieldError(field, label, f"“{raw}”不是有效的电话号码：手机 11 位，固定电话需带区号，如 0571-88886666")
    )


def format_phone(stored: str | None) -> str:
    """Format a normalised phone number for display; unknown shapes are returned unchanged."""
    if not stored:
        return ""
    number, _, ext = stored.partition("x")
    if _MOBILE.fullmatch(number):
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if number[:3] in ("400", "800") and len(number) == 10:
        return f"{number[:3]}-{number[3:6]}-{number[6:]}"
    if number.startswith("0"):
        area_len = 3 if number[:3] in _THREE_DIGIT_AREAS else 4
        text = f"{number[:area_len]}-{number[area_len:]}"
        return f"{text} 转{ext}" if ext else text
    return stored


def split_phones(raw: str) -> list[str]:
    """Split a cell that holds several phone numbers (``138…/0571-…；…``) into candidates."""
    text = to_halfwidth(raw or "")
    return [p.strip() for p in re.split(r"[;；,，/、\n]+|\s{2,}", text) if p.strip()]


#: The largest id a query may ask for: PostgreSQL's ``integer`` (SQLite's ids go further, but the same program
#: runs on both, and a larger number cannot name a saved row on either).
MAX_DB_ID = 2**31 - 1

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)


def _in_range(day: date, raw: object, label: str, field: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            FieldError(
                field, label, f"“{raw}”超出可用的日期范围（{FIRST_DAY:%Y-%m-%d} 至 {LAST_DAY:%Y-%m-%d}）"
            )
        )
    return day


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(
    raw: str | date | None, *, label: str = "日期", field: str = "date", required: bool = False
) -> date | None:
    """Parse ``2026-11-22``, ``2026/11/22``, ``2026.11.22``, ``2026年11月22日`` or ``20261122``.

    An impossible date (2026-02-30), an unknown shape or a date outside :data:`FIRST_DAY` … :data:`LAST_DAY`
    (0001-01-01 would overflow the date arithmetic of plans and periods) raises :class:`ValidationError`.
    """
    if isinstance(raw, datetime):
        return _in_range(raw.date(), raw, label, field)
    if isinstance(raw, date):
        return _in_range(raw, raw, label, field)
    text = to_halfwidth(clean_text(raw)).replace(" ", "")
    if not text:
        if required:
            raise ValidationError(FieldError(field, label, "不能为空"))
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                day = date(y, mo, d)
            except ValueError:
                raise ValidationError(FieldError(field, label, f"“{raw}”不是存在的日期")) from None
            return _in_range(day, raw, label, field)
    raise ValidationError(FieldError(field, label, f"“{raw}”不是可识别的日期，请按 2026-11-22 的格式填写"))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_email(raw: str | None, *, label: str = "邮箱", field: str = "email") -> str:
    text = to_halfwidth(clean_text(raw))
    if text and not _EMAIL.match(text):
        raise ValidationError(FieldError(field, label, f"“{raw}”不是有效的邮箱地址"))
    return text.lower()


def require_text(raw: str | None, *, label: str, field: str, max_len: int = 200) -> str:
    check_controls(raw, label=label, field=field)
    text = clean_text(raw)
    if not text:
        raise ValidationError(FieldError(field, label, "不能为空"))
    if len(text) > max_len:
        raise ValidationError(FieldError(field, label, f"不能超过 {max_len} 个字"))
    return text


def optional_text(raw: str | None, *, label: str, field: str, max_len: int = 2000) -> str:
    check_controls(raw, label=label, field=field)
    text = clean_text(raw) if max_len <= 200 else (raw or "").strip()
    if len(text) > max_len:
        raise ValidationError(FieldError(field, label, f"不能超过 {max_len} 个字"))
    return text


def already(state: str) -> str:
    """ "已关闭" for a state that already says it happened, "已受理" for one that does not: the state in a
    sentence such as "投诉 X 已关闭" (formatting f"已{state}" gave "已已关闭")."""
    return state if state.startswith("已") else f"已{state}"
