"""One row of a 客户台账 as a checked customer (:func:`customer_from_row`): the customer file checked by
``domain.customers.validate_customer``, phones split into contacts, an unknown 负责人 kept by name; and the
keys two rows are the same customer by (:func:`customer_keys`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from huifang_desktop.domain.customers import (
    CleanCustomer,
    ContactDraft,
    CustomerDraft,
    GradeThresholds,
    grade_by_volume,
    validate_customer,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.importing.fields import DEFAULT_RULES, ImportRules
from huifang_desktop.domain.importing.rows import Columns, RowIssue, SheetRow, _Row, _users_key
from huifang_desktop.domain.importing.values import (
    parse_cell_date,
    parse_count,
    parse_customer_state,
    parse_grade,
    parse_kind,
    split_phone_cell,
)
from huifang_desktop.domain.validation import (
    validate_email,
)


@dataclass(frozen=True, slots=True)
class CustomerRowContext:
    today: date
    categories: tuple[str, ...]
    users: Mapping[str, int]  # from :func:`user_lookup`
    default_owner_id: int | None = None
    thresholds: GradeThresholds = field(default_factory=GradeThresholds)
    rules: ImportRules = DEFAULT_RULES


@dataclass(frozen=True, slots=True)
class CustomerCandidate:
    """A checked customer row, ready to be written. ``owner_name``: the 负责人 as written when that person
    is not a user (the customer is left unassigned, or gets the user the importer maps or creates).
    ``phone_columns``: number → the field (``phone``/``mobile``) it was found in, to name duplicates.
    ``purchase_on``/``product``: a 购买日期/交车日期 column (purchase history)."""

    row: int
    code: str  # '' → numbered on import
    clean: CleanCustomer
    grade: str
    annual_volume: int
    owner_name: str = ""
    phone_columns: Mapping[str, str] = field(default_factory=dict)
    purchase_on: date | None = None
    purchase_kind: str = "购货"
    product: str = ""
    archived: bool = False  # 状态 已归档 (the 客户台账（全部） export): written as an archived file
    phones: frozenset[str] = field(default=frozenset(), init=False)  # every number of every contact

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "phones", frozenset(p for c in self.clean.contacts for p in (c.phone, c.mobile) if p)
        )


_CONTACT_FIELD = re.compile(r"^contacts\[\d+\]\.(\w+)$")
_DELIVERY_HEADER = re.compile(r"交车|交货|到货|提车|交付")
_CODE = re.compile(r"[0-9A-Z_\-./]+")


def customer_from_row(
    row: SheetRow, cols: Columns, ctx: CustomerRowContext
) -> CustomerCandidate | list[RowIssue]:
    """Interpret one row of a 客户台账: the customer file checked by :func:`validate_customer`, its phones
    split into contacts (several numbers in one cell become more contacts of the same person). Every
    problem of the row is reported at once. A 负责人 who is not a user never blocks the row: the customer
    is left unassigned and the name is kept in ``owner_name``."""
    r = _Row(row, cols)
    name = r.text("name", max_len=100)
    code = r.text("code", max_len=20).upper()
    if code and not _CODE.fullmatch(code):
        r.issue("code", f"“{code}”只能由字母、数字和 - _ . / 组成")
    # A column not in the sheet reads as an empty cell: what the parser gives for one, without asking it.
    kind = r.take("kind", parse_kind, name) or "单位"
    status, archived = (r.take("status", parse_customer_state) if r.has("status") else None) or (
        "正常",
        False,
    )
    grade = r.take("grade", parse_grade) if r.has("grade") else None
    volume = r.take("volume", parse_count) if r.has("volume") else None
    category = r.text("category", max_len=20)
    birthday = r.take("birthday", parse_cell_date, rules=ctx.rules) if r.has("birthday") else None
    created_on = r.take("created_on", parse_cell_date, rules=ctx.rules) if r.has("created_on") else None
    purchase_on = (
        r.take("purchase_date", parse_cell_date, rules=ctx.rules) if r.has("purchase_date") else None
    )
    if purchase_on is not None and purchase_on > ctx.today:
        r.issue("purchase_date", "不能晚于今天")
    owner_id = ctx.default_owner_id
    owner_name = r.text("owner", max_len=40)
    unknown_owner = ""
    if owner_name:
        found = ctx.users.get(_users_key(owner_name))
        if found is None or found < 0:  # not a user (or two users share the name): unassigned, listed
            owner_id, unknown_owner = None, owner_name
        else:
            owner_id = found
    email = ""
    if r.has("email"):
        email = r.take("email", validate_email) or ""
    mobiles: list[str] = []
    landlines: list[str] = []
    found_in: dict[str, str] = {}
    for key in ("mobile", "phone"):
        for number in (r.take(key, split_phone_cell) if r.has(key) else None) or ():
            (mobiles if number.startswith("1") else landlines).append(number)
            found_in.setdefault(number, key)
    mobiles, landlines = list(dict.fromkeys(mobiles)), list(dict.fromkeys(landlines))
    contact_name = r.text("contact", max_len=50) or (name if kind == "个人" else "") or "联系人"
    title = r.text("title", max_len=50)
    contacts: list[ContactDraft] = []
    for i in range(max(len(mobiles), len(landlines), 1)):
        contacts.append(
            ContactDraft(
                name=contact_name,
                mobile=mobiles[i] if i < len(mobiles) else "",
                phone=landlines[i] if i < len(landlines) else "",
                email=email if i == 0 else "",
                title=title if i == 0 else "其他电话",
                is_primary=i == 0,
            )
        )
    draft = CustomerDraft(
        name=name,
        kind=kind,
        category=category or "普通",
        address=r.text("address", max_len=200),
        region=r.text("region", max_len=50),
        source=r.text("source", max_len=20),
        industry=r.text("industry", max_len=50),
        birthday=birthday,
        created_on=created_on,
        status=status,
        notes=r.text("notes", max_len=4000, multiline=True),
        owner_id=owner_id,
        contacts=tuple(contacts),
    )
    product = r.text("product", max_len=100)
    try:
        clean = validate_customer(draft, today=ctx.today, categories=ctx.categories)
    except ValidationError as exc:
        # Report the file's own checks too (all problems in one pass), except for a cell already named.
        named = {i.column for i in r.issues}
        for e in exc.errors:
            key = _customer_error_column(e, cols)
            if key == "phone" and (cols.letter("phone") in named or cols.letter("mobile") in named):
                continue
            if cols.letter(key) not in named or not cols.letter(key):
                r.issue(key, e.message)
        return r.issues
    if r.issues:
        return r.issues
    if "\u3000" in name:  # the file's check folds full-width spaces; inside a name they are kept
        clean = replace(clean, name=name)
    if grade is None:
        grade = grade_by_volume(volume, ctx.thresholds) if volume is not None else "D"
    header = cols.header("purchase_date") if r.has("purchase_date") else ""
    return CustomerCandidate(
        row.number,
        code,
        clean,
        grade,
        volume or 0,
        unknown_owner,
        found_in,
        purchase_on,
        "交货" if _DELIVERY_HEADER.search(header) else "购货",
        product,
        archived,
    )


def _customer_error_column(e: FieldError, cols: Columns) -> str:
    """The mapped field a validate_customer error belongs to (contacts[1].mobile → the 手机 or 电话 column)."""
    m = _CONTACT_FIELD.match(e.field)
    key = m.group(1) if m else e.field
    if key == "contacts":
        key = "phone"
    if key == "name" and m:
        key = "contact"
    if key in ("phone", "mobile") and key not in cols.index:
        key = "mobile" if key == "phone" else "phone"
    return key


def customer_keys(c: CustomerCandidate) -> list[tuple[str, Any]]:
    """What makes two customer rows the same customer (domain.md §2): any phone, or name and address
    (as ``services.customers.find_duplicates``), or the same 客户编号."""
    keys: list[tuple[str, Any]] = [("phone", p) for p in sorted(c.phones)]
    keys.append(("name_address", (c.clean.name, c.clean.address)))
    if c.code:
        keys.append(("code", c.code))
    return keys
