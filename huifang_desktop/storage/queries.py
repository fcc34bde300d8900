"""Query builders returning ``select()`` objects: filters and keyset paging run in SQL on indexed columns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, or_, select, tuple_, union_all

from huifang_desktop.domain.customers import CODE_MARK, PHONE_RUN_MIN
from huifang_desktop.storage.models import Contact, Customer, PhoneSuffix, User

# Sortable customer columns (each has an index): key -> column
CUSTOMER_SORTS = {
    "code": Customer.code,
    "name": Customer.initials,  # Chinese names sort by pinyin initials
    "grade": Customer.grade,
    "category": Customer.category,
    "region": Customer.region,
    "status": Customer.status,
    "created_on": Customer.created_on,
}


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    text: str = ""
    grade: str = ""
    category: str = ""
    owner_id: int | None = None
    status: str = ""
    department_id: int | None = None  # scope limit (visibility setting), not a user filter
    department_scoped: bool = False  # True: only department_id's files (None: files of no department)
    include_archived: bool = False
    sort: str = "code"
    descending: bool = False


def _prefix(column: Any, prefix: str) -> Any:
    """``column LIKE 'prefix%'`` as an index-friendly range (works on SQLite and PostgreSQL)."""
    return and_(column >= prefix, column < prefix + "\U0010ffff")


_DIGITS = re.compile(r"^\d{3,}$")
_ASCII_WORD = re.compile(r"^[a-zA-Z]+$")
_CODE = re.compile(r"^[a-zA-Z]{2}\d+$")

# Rows the text probe reads at most; fewer means it found every match (see customer_text_probe).
TEXT_PROBE_CAP = 2000


def _search_text(text: str) -> str:
    return text.strip().replace(" ", "").replace("-", "")


def _phone_ids(digits: str) -> Select[Any]:
    """Customers with a phone number containing ``digits``: from PHONE_RUN_MIN digits on, anywhere in the
    number (a prefix of one of its suffixes, an index range on contact_phone_suffix); fewer digits match the
    beginning of a number only (a run of 3 is in nearly every number). Customer.primary_phone is a copy of the
    primary contact's number, so the contacts cover it."""
    if len(digits) >= PHONE_RUN_MIN:
        return select(PhoneSuffix.customer_id).where(_prefix(PhoneSuffix.suffix, digits))
    return select(Contact.customer_id).where(
        or_(_prefix(Contact.mobile, digits), _prefix(Contact.phone, digits))
    )


def _code_ending_ids(digits: str) -> Select[Any]:
    """Customers whose 客户编号 ends with ``digits`` (3+): one exact lookup of the marked code endings kept
    among the phone suffixes (``code LIKE '%…'`` read every code, 5–13 ms at 100,000 customers)."""
    return select(PhoneSuffix.customer_id).where(PhoneSuffix.suffix == CODE_MARK + digits)


def customer_text_condition(text: str) -> Any | None:
    """Search by name, 客户编号, any phone number (4+ digits anywhere in it, 3 at its start), pinyin
    initials (domain.md §2)."""
    q = _search_text(text)
    if not q:
        return None
    if _DIGITS.match(q):
        # ``code LIKE '%…'`` here, not the code-ending lookup of the probe: this condition pages a common
        # text (the probe hit its cap), and with a term no index serves SQLite scans in 客户编号 order and
        # stops at the page's end; two ``IN`` lookups would make it read every match and sort them.
        return or_(Customer.id.in_(_phone_ids(q)), Customer.code.endswith(q))
    if _CODE.match(q):
        return _prefix(Customer.code, q.upper())
    if _ASCII_WORD.match(q):
        return or_(_prefix(Customer.initials, q.lower()), Customer.name.contains(q, autoescape=True))
    return Customer.name.contains(q, autoescape=True)


def customer_text_probe(text: str, cap: int = TEXT_PROBE_CAP) -> Select[Any] | CompoundSelect[Any] | None:
    """Ids of the customers ``text`` matches (at most ``cap`` rows, an id may repeat), read from indexes only.

    ``name LIKE '%…%'`` can use no index: in 客户编号 order it costs a table lookup
    per customer when few match (a full scan, ~25 ms at 100,000 customers). Scanning the narrow name
    index instead costs a fraction of that, and UNION ALL with LIMIT stops once ``cap`` ids are found.
    Fewer than ``cap`` rows means every match was found, and the page reads just those ids
    (``customer_page(..., text_ids=...)``); ``cap`` rows means the text is common, and the ordered scan of
    ``customer_page`` without ids stops early by itself. None: nothing to probe (no text, or a 客户编号
    prefix, which is an index range already).
    """
    q = _search_text(text)
    if not q or _CODE.match(q):
        return None
    if _DIGITS.match(q) and len(q) >= PHONE_RUN_MIN:
        parts = [_phone_ids(q), _code_ending_ids(q)]
    elif _DIGITS.match(q):
        parts = [
            select(Contact.customer_id).where(_prefix(Contact.mobile, q)),
            select(Contact.customer_id).where(_prefix(Contact.phone, q)),
            _code_ending_ids(q),
        ]
    elif _ASCII_WORD.match(q):
        parts = [
            select(Customer.id).where(_prefix(Customer.initials, q.lower())),
            select(Customer.id).where(Customer.name.contains(q, autoescape=True)),
        ]
    else:
        return select(Customer.id).where(Customer.name.contains(q, autoescape=True)).limit(cap)
    return union_all(*parts).limit(cap)


def customer_conditions(f: CustomerFilter, text_ids: Sequence[int] | None = None) -> list[Any]:
    """``text_ids``: the ids a complete text probe found; they replace the text condition."""
    conds: list[Any] = []
    text_cond = customer_text_condition(f.text) if text_ids is None else Customer.id.in_(text_ids)
    if text_cond is not None:
        conds.append(text_cond)
    if f.grade:
        conds.append(Customer.grade == f.grade)
    if f.category:
        conds.append(Customer.category == f.category)
    if f.owner_id is not None:
        conds.append(Customer.owner_id == f.owner_id)
    if f.status:
        conds.append(Customer.status == f.status)
    if f.department_scoped and f.department_id is None:
        conds.append(Customer.department_id.is_(None))
    elif f.department_id is not None:
        conds.append(Customer.department_id == f.department_id)
    if not f.include_archived:
        # "IS NOT 1", not "IS 0": without ANALYZE statistics SQLite would pick ix_customer_archived for an
        # equality (half the table) over the 客户编号 order and the text probe; "IS NOT" uses no index.
        conds.append(Customer.archived.is_not(True))
    return conds


def customer_page(
    f: CustomerFilter, after: tuple[Any, int] | None, limit: int, text_ids: Sequence[int] | None = None
) -> Select[*tuple[Any, ...]]:
    """One page of customer rows after the keyset ``(sort_value, id)``; ``text_ids`` as in
    ``customer_conditions``."""
    sort_col = CUSTOMER_SORTS.get(f.sort, Customer.code)
    q = (
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            Customer.kind,
            Customer.category,
            Customer.grade,
            Customer.grade_pinned,
            Customer.primary_contact,
            Customer.primary_phone,
            Customer.region,
            Customer.status,
            Customer.created_on,
            Customer.archived,
            User.display_name.label("owner"),
            sort_col.label("sort_key"),
        )
        .outerjoin(User, User.id == Customer.owner_id)
        .where(*customer_conditions(f, text_ids))
    )
    if after is not None:
        key = tuple_(sort_col, Customer.id)
        q = q.where(key < tuple_(*after) if f.descending else key > tuple_(*after))
    if f.descending:
        q = q.order_by(sort_col.desc(), Customer.id.desc())
    else:
        q = q.order_by(sort_col, Customer.id)
    return q.limit(limit)
