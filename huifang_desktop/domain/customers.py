"""Customer file rules: the file's fields and checks, grading by volume, pinyin search keys (§2, §3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import ParamSpec, TypeVar

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.validation import (
    clean_text,
    normalize_phone,
    optional_text,
    parse_date,
    require_text,
    validate_email,
)

P = ParamSpec("P")
T = TypeVar("T")

CUSTOMER_KINDS = ("单位", "个人")
CUSTOMER_STATUSES = ("正常", "暂停", "流失", "注销")
DEFAULT_CATEGORIES = ("经销商", "终端客户", "业主", "普通")
DEFAULT_SOURCES = ("主动寻找", "网络", "地图", "转介绍", "来访", "其他")
GRADES_ABCD = ("A", "B", "C", "D")
GRADES_VIP = ("VIP", "普通", "小客户")


@dataclass(frozen=True, slots=True)
class GradeThresholds:
    """Annual volume (年提车量/采购量) lower bounds: A ≥ a, B ≥ b, C ≥ c, else D (domain.md §3)."""

    a: int = 100
    b: int = 50
    c: int = 10


def grade_by_volume(volume: int | Decimal, thresholds: GradeThresholds = GradeThresholds()) -> str:
    if volume >= thresholds.a:
        return "A"
    if volume >= thresholds.b:
        return "B"
    if volume >= thresholds.c:
        return "C"
    return "D"


def vip_cutoff(values: list[Decimal] | list[int], share: float = 0.2) -> Decimal | None:
    """The smallest value still in the top ``share`` of customers by value (domain.md §3, 004).

    Returns None when there is no customer with a positive value.
    """
    positive = sorted((Decimal(v) for v in values if v > 0), reverse=True)
    if not positive:
        return None
    count = max(1, round(len(values) * share))
    return positive[min(count, len(positive)) - 1]


def grade_vip(value: Decimal | int, cutoff: Decimal | None, small_below: Decimal | int = 0) -> str:
    if cutoff is not None and value >= cutoff:
        return "VIP"
    if value <= small_below:
        return "小客户"
    return "普通"


@lru_cache(maxsize=65536)
def pinyin_initials(name: str) -> str:
    """张三 → ``zs``; letters and digits kept lowercase; punctuation dropped."""
    from pypinyin import Style, lazy_pinyin  # heavy dictionary: imported on first use

    out = []
    # Characters without pinyin come back unchanged (errors="default"), one run of them per item; the loop
    # below keeps their letters and digits one by one.
    for syllable in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default"):
        for ch in syllable:
            if ch.isascii() and ch.isalnum():
                out.append(ch.lower())
    return "".join(out)


@dataclass(frozen=True, slots=True)
class ContactDraft:
    name: str = ""
    phone: str = ""  # landline or mobile, as typed
    mobile: str = ""
    email: str = ""
    title: str = ""
    is_primary: bool = False


@dataclass(frozen=True, slots=True)
class CleanContact:
    name: str
    phone: str | None
    mobile: str | None
    email: str | None
    title: str
    is_primary: bool


@dataclass(frozen=True, slots=True)
class CustomerDraft:
    """What a clerk typed into the customer editor, before validation."""

    name: str = ""
    kind: str = "单位"
    category: str = "普通"
    address: str = ""
    region: str = ""
    source: str = ""
    industry: str = ""
    birthday: str | date | None = None
    created_on: str | date | None = None
    status: str = "正常"
    notes: str = ""
    owner_id: int | None = None
    contacts: tuple[ContactDraft, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class CleanCustomer:
    name: str
    kind: str
    category: str
    address: str
    region: str
    source: str
    industry: str
    birthday: date | None
    created_on: date | None
    status: str
    notes: str
    owner_id: int | None
    contacts: tuple[CleanContact, ...]


def validate_customer(
    draft: CustomerDraft, *, today: date, categories: tuple[str, ...] = DEFAULT_CATEGORIES
) -> CleanCustomer:
    """Check every field and return the normalised file; all problems are reported together."""
    errors: list[FieldError] = []

    def take(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            errors.extend(exc.errors)
            return None

    name = take(require_text, draft.name, label="客户名称", field="name", max_len=100)
    if draft.kind not in CUSTOMER_KINDS:
        errors.append(FieldError("kind", "类型", f"应为 {'/'.join(CUSTOMER_KINDS)}"))
    category = clean_text(draft.category) or "普通"
    if category not in categories:
        errors.append(FieldError("category", "类别", f"“{category}”不在类别列表中"))
    if draft.status not in CUSTOMER_STATUSES:
        errors.append(FieldError("status", "状态", f"应为 {'/'.join(CUSTOMER_STATUSES)}"))
    address = take(optional_text, draft.address, label="地址", field="address", max_len=200) or ""
    notes = take(optional_text, draft.notes, label="备注", field="notes", max_len=4000) or ""
    birthday = take(parse_date, draft.birthday, label="生日", field="birthday")
    if birthday is not None and (birthday > today or birthday.year < 1900):
        errors.append(FieldError("birthday", "生日", f"“{birthday.isoformat()}”不是合理的生日"))
    created_on = take(parse_date, draft.created_on, label="建档日期", field="created_on")
    if created_on is not None and created_on > today:
        errors.append(FieldError("created_on", "建档日期", "不能晚于今天"))

    contacts: list[CleanContact] = []
    for i, c in enumerate(draft.contacts, start=1):
        if not any((clean_text(c.name), clean_text(c.phone), clean_text(c.mobile), clean_text(c.email))):
            continue  # an empty row in the contacts table
        prefix = f"联系人{i}"
        cname = take(require_text, c.name, label=f"{prefix}姓名", field=f"contacts[{i}].name", max_len=50)
        phone = mobile = None
        if clean_text(c.phone):
            phone = take(normalize_phone, c.phone, label=f"{prefix}电话", field=f"contacts[{i}].phone")
        if clean_text(c.mobile):
            mobile = take(normalize_phone, c.mobile, label=f"{prefix}手机", field=f"contacts[{i}].mobile")
            if mobile and not mobile.startswith("1"):
                errors.append(
                    FieldError(f"contacts[{i}].mobile", f"{prefix}手机", "手机栏请填写 11 位手机号码")
                )
        if not clean_text(c.phone) and not clean_text(c.mobile):
            errors.append(FieldError(f"contacts[{i}].phone", f"{prefix}电话", "电话和手机至少填一个"))
        email = take(validate_email, c.email, label=f"{prefix}邮箱", field=f"contacts[{i}].email") or None
        contacts.append(CleanContact(cname or "", phone, mobile, email, clean_text(c.title), c.is_primary))
    if not contacts:
        errors.append(FieldError("contacts", "联系人", "至少需要一位联系人（姓名和电话）"))
    elif not any(c.is_primary for c in contacts):
        contacts[0] = replace(contacts[0], is_primary=True)
    elif sum(c.is_primary for c in contacts) > 1:
        errors.append(FieldError("contacts", "联系人", "只能有一位主要联系人"))
    if errors:
        raise ValidationError(errors)
    return CleanCustomer(
        name=name or "",
        kind=draft.kind,
        category=category,
        address=address,
        region=clean_text(draft.region),
        source=clean_text(draft.source),
        industry=clean_text(draft.industry),
        birthday=birthday,
        created_on=created_on or today,
        status=draft.status,
        notes=notes,
        owner_id=draft.owner_id,
        contacts=tuple(contacts),
    )


PHONE_RUN_MIN = 4  # digits typed that match anywhere in a number; shorter runs match its beginning only


def phone_suffixes(numbers: Iterable[str | None]) -> set[str]:
    """Every ending of at least :data:`PHONE_RUN_MIN` digits of the stored numbers (an extension ``x801`` left
    out): any run of that many digits inside a number is the beginning of one of them, so a search for the
    last four digits, a landline without its area code or a middle run is a prefix lookup (domain.md §2)."""
    out: set[str] = set()
    for stored in numbers:
        digits = "".join(ch for ch in (stored or "").partition("x")[0] if ch.isdigit())
        out.update(digits[i:] for i in range(len(digits) - PHONE_RUN_MIN + 1))
    return out


CODE_MARK = "#"  # marks a 客户编号 ending among the phone suffixes ("#" sorts before every digit)


def code_endings(code: str) -> set[str]:
    """The all-digit endings of 3+ characters of a 客户编号, marked with :data:`CODE_MARK`: digits typed in the
    search box match a code that ends with them (``000123`` finds KH000123) by one exact lookup among the
    phone suffixes instead of a scan of every code."""
    return {CODE_MARK + code[i:] for i in range(len(code) - 2) if code[i:].isdigit()}


def format_customer_code(serial: int, prefix: str = "KH", width: int = 6) -> str:
    return f"{prefix}{serial:0{width}d}"
