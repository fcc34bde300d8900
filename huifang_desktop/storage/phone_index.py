"""The phone-number suffix index (``contact_phone_suffix``): what makes "5678" find ``139 1234 5678``.

A customer's rows are every ending of 4+ digits (``domain.customers.phone_suffixes``) of its contacts'
电话 and 手机 and of its 主要电话, and the all-digit endings of its 客户编号 marked with "#"
(``domain.customers.code_endings``: "000123" finds KH000123 by an exact lookup, not a scan of every code).
Every write of contacts keeps them in step in the same transaction: ``services.customers`` (register, edit)
through :func:`replace`, the bulk inserts of the Excel import and the demo generator through
:func:`bulk_rows`, migration 0012 for the files made before it. Deleting a customer
deletes its rows (foreign key ``ON DELETE CASCADE``; the import's undo deletes them itself).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, delete
from sqlalchemy.orm import Session

from huifang_desktop.domain.customers import code_endings, phone_suffixes
from huifang_desktop.storage.models import PhoneSuffix


def rows_for(customer_id: int, code: str, numbers: Iterable[str | None]) -> list[dict[str, Any]]:
    """One customer's rows: the suffixes of its numbers and the marked endings of its 客户编号."""
    return [{"suffix": suffix, "customer_id": customer_id}
            for suffix in sorted(phone_suffixes(numbers) | code_endings(code))]


def bulk_rows(customers: Iterable[Mapping[str, Any]], contacts: Iterable[Mapping[str, Any]]
              ) -> list[dict[str, Any]]:
    """The rows of customer and contact rows as bulk inserts hand them over (customer rows need ``id``,
    ``code`` and ``primary_phone``; contact rows ``customer_id``, ``phone`` and ``mobile``)."""
    numbers: dict[int, list[str | None]] = defaultdict(list)
    for k in contacts:
        numbers[k["customer_id"]] += [k.get("phone"), k.get("mobile")]
    return [row for c in customers
            for row in rows_for(c["id"], c["code"], [c.get("primary_phone"), *numbers[c["id"]]])]


def insert_rows(executor: Session | Connection, rows: Sequence[dict[str, Any]]) -> None:
    """One Core executemany on the session's connection: about 17 rows a customer, derived from numbers whose
    length the write already checked, so neither the ORM's bulk machinery nor the per-row length check of
    ``storage/limits.py`` has anything to add (they took half of a 10,000-customer import's write)."""
    if rows:
        conn = executor.connection() if isinstance(executor, Session) else executor
        # declarative's __table__ is typed as a FromClause; for a mapped class it is the Table
        conn.execute(cast(Table, PhoneSuffix.__table__).insert(), list(rows))


def replace(executor: Session | Connection, customer_id: int, code: str, numbers: Iterable[str | None]) -> None:
    """Make one customer's rows those of ``numbers`` (its contacts' numbers and its 主要电话) and its code."""
    executor.execute(delete(PhoneSuffix).where(PhoneSuffix.customer_id == customer_id))
    insert_rows(executor, rows_for(customer_id, code, numbers))


def delete_for(executor: Session | Connection, customer_ids: Sequence[int]) -> None:
    executor.execute(delete(PhoneSuffix).where(PhoneSuffix.customer_id.in_(list(customer_ids))))
