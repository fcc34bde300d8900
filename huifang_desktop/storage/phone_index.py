"""The phone-number suffix index (``contact_phone_suffix``): what makes "5678" find ``139 1234 5678``.

A customer's rows are every ending of 4+ digits (``domain.customers.phone_suffixes``) of its contacts'
电话 and 手机 and of its 主要电话. Every write of contacts keeps them in step in the same transaction:
``services.customers`` (register, edit) through :func:`replace`, the bulk inserts of the Excel import and the
demo generator through :func:`rows_for`, migration 0012 for the files made before it. Deleting a customer
deletes its rows (foreign key ``ON DELETE CASCADE``; the import's undo deletes them itself).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert
from sqlalchemy.orm import Session

from huifang_desktop.domain.customers import phone_suffixes
from huifang_desktop.storage.models import PhoneSuffix


def rows_for(numbers: Iterable[tuple[int, str | None]]) -> list[dict[str, Any]]:
    """Suffix rows for ``(customer_id, stored number)`` pairs (a customer's numbers may come in any order)."""
    by_customer: dict[int, list[str | None]] = defaultdict(list)
    for customer_id, number in numbers:
        by_customer[customer_id].append(number)
    return [{"suffix": suffix, "customer_id": cid}
            for cid, nums in by_customer.items() for suffix in sorted(phone_suffixes(nums))]


def contact_numbers(customers: Iterable[Mapping[str, Any]], contacts: Iterable[Mapping[str, Any]]
                    ) -> list[tuple[int, str | None]]:
    """The ``(customer_id, number)`` pairs of customer and contact rows as bulk inserts hand them over
    (customer rows need ``id`` and ``primary_phone``; contact rows ``customer_id``, ``phone``, ``mobile``)."""
    pairs: list[tuple[int, str | None]] = [(c["id"], c.get("primary_phone")) for c in customers]
    for k in contacts:
        pairs += [(k["customer_id"], k.get("phone")), (k["customer_id"], k.get("mobile"))]
    return pairs


def insert_rows(executor: Session | Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        executor.execute(insert(PhoneSuffix), list(rows))


def replace(executor: Session | Connection, customer_id: int, numbers: Iterable[str | None]) -> None:
    """Make one customer's rows those of ``numbers`` (its contacts' numbers and its 主要电话)."""
    executor.execute(delete(PhoneSuffix).where(PhoneSuffix.customer_id == customer_id))
    insert_rows(executor, rows_for((customer_id, n) for n in numbers))


def delete_for(executor: Session | Connection, customer_ids: Sequence[int]) -> None:
    executor.execute(delete(PhoneSuffix).where(PhoneSuffix.customer_id.in_(list(customer_ids))))
