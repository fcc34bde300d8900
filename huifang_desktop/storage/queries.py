"""Query builders returning ``select()`` objects: filters and keyset paging run in SQL on indexed columns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_, select, tuple_

from huifang_desktop.storage.models import Contact, Customer, User

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
    include_archived: bool = False
    sort: str = "code"
    descending: bool = False


def _prefix(column: Any, prefix: str) -> Any:
    """``column LIKE 'prefix%'`` as an index-friendly range (works on SQLite and PostgreSQL)."""
    return and_(column >= prefix, column < prefix + "\U0010ffff")


_DIGITS = re.compile(r"^\d{3,}$")
_ASCII_WORD = re.compile(r"^[a-zA-Z]+$")
_CODE = re.compile(r"^[a-zA-Z]{2}\d+$")


def customer_text_condition(text: str) -> Any | None:
    """Search by name, 客户编号, any phone number, pinyin initials (domain.md §2)."""
    q = text.strip().replace(" ", "").replace("-", "")
    if not q:
        return None
    if _DIGITS.match(q):
        phone_ids = select(Contact.customer_id).where(or_(_prefix(Contact.mobile, q), _prefix(Contact.phone, q)))
        return or_(Customer.id.in_(phone_ids), Customer.code.endswith(q), _prefix(Customer.primary_phone, q))
    if _CODE.match(q):
        return _prefix(Customer.code, q.upper())
    if _ASCII_WORD.match(q):
        return or_(_prefix(Customer.initials, q.lower()), Customer.name.contains(q, autoescape=True))
    return Customer.name.contains(q, autoescape=True)


def customer_conditions(f: CustomerFilter) -> list[Any]:
    conds: list[Any] = []
    text_cond = customer_text_condition(f.text)
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
    if f.department_id is not None:
        conds.append(Customer.department_id == f.department_id)
    if not f.include_archived:
        conds.append(Customer.archived.is_(False))
    return conds


def customer_page(f: CustomerFilter, after: tuple[Any, int] | None, limit: int) -> Select[Any]:
    """One page of customer rows after the keyset ``(sort_value, id)``."""
    sort_col = CUSTOMER_SORTS.get(f.sort, Customer.code)
    q = (
        select(
            Customer.id, Customer.code, Customer.name, Customer.kind, Customer.category, Customer.grade,
            Customer.grade_pinned, Customer.primary_contact, Customer.primary_phone, Customer.region,
            Customer.status, Customer.created_on, Customer.archived, User.display_name, sort_col,
        )
        .outerjoin(User, User.id == Customer.owner_id)
        .where(*customer_conditions(f))
    )
    if after is not None:
        key = tuple_(sort_col, Customer.id)
        q = q.where(key < tuple_(*after) if f.descending else key > tuple_(*after))
    if f.descending:
        q = q.order_by(sort_col.desc(), Customer.id.desc())
    else:
        q = q.order_by(sort_col, Customer.id)
    return q.limit(limit)
