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
    return [
        {"suffix": suffix, "customer_id": customer_id}
        for suffix in sorted(phone_suffixes(numbers) | code_endings(code))
    ]


def bulk_rows(
    customers: Iterable[Mapping[str, Any]], contacts: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The rows of customer and contact rows as bulk inserts hand them over (customer rows need ``id``,
    ``code`` and ``primary_phone``; contact rows ``customer_id``, ``phone`` and ``mobile``)."""
    return [{"suffix": suffix, "customer_id": cid} for suffix, cid in bulk_pairs(customers, contacts)]


def bulk_pairs(
    customers: Iterable[Mapping[str, Any]], contacts: Iterable[Mapping[str, Any]]
) -> list[tuple[str, int]]:
    """:func:`bulk_rows` as (suffix, customer id) pairs, what :func:`insert_pairs` writes: the import's form
    (a 10,000-customer sheet makes about 170,000 of them; no dict, no sort per customer)."""
    numbers: dict[int, list[str | None]] = defaultdict(list)
    for k in contacts:
        numbers[k["customer_id"]] += [k.get("phone"), k.get("mobile")]
    out: list[tuple[str, int]] = []
    for c in customers:
        cid = c["id"]
        own = dict.fromkeys([c.get("primary_phone"), *numbers[cid]])  # 主要电话 repeats a contact's number
        out.extend((suffix, cid) for suffix in phone_suffixes(own) | code_endings(c["code"]))
    return out


def insert_rows(executor: Session | Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write rows given as ``{"suffix": …, "customer_id": …}`` (see :func:`insert_pairs`)."""
    insert_pairs(executor, [(r["suffix"], r["customer_id"]) for r in rows])


def insert_pairs(executor: Session | Connection, pairs: Sequence[tuple[str, int]]) -> None:
    """Write (suffix, customer id) pairs on the session's connection: about 12–17 rows a customer, derived
    from numbers whose length the write already checked, so neither the ORM's bulk machinery, nor the per-row
    length check of ``storage/limits.py``, nor Core's per-row parameter processing (nothing to convert for a
    text and an integer) has anything to add — they took most of a 10,000-customer import's write. On SQLite
    the pairs go :data:`_ROWS_PER_STATEMENT` to an ``INSERT … VALUES (…), (…)`` (a third less time than one
    row per statement); elsewhere as the driver's executemany."""
    if not pairs:
        return
    conn = executor.connection() if isinstance(executor, Session) else executor
    if conn.dialect.name == "sqlite":
        full = len(pairs) - len(pairs) % _ROWS_PER_STATEMENT
        if full:
            sql = _values_sql(_ROWS_PER_STATEMENT)
            conn.exec_driver_sql(
                sql,
                [
                    tuple(v for pair in pairs[i : i + _ROWS_PER_STATEMENT] for v in pair)
                    for i in range(0, full, _ROWS_PER_STATEMENT)
                ],
            )
        if full < len(pairs):
            rest = pairs[full:]
            conn.exec_driver_sql(_values_sql(len(rest)), tuple(v for pair in rest for v in pair))
        return
    compiled = _INSERT.compile(dialect=conn.dialect)
    if compiled.positional:
        order = [_PAIR_INDEX[name] for name in compiled.positiontup or ()]
        params: list[Any] = [tuple(pair[i] for i in order) for pair in pairs]
    else:
        params = [{"suffix": suffix, "customer_id": cid} for suffix, cid in pairs]
    conn.exec_driver_sql(compiled.string, params)


_INSERT = cast(Table, PhoneSuffix.__table__).insert()
_PAIR_INDEX = {"suffix": 0, "customer_id": 1}
_ROWS_PER_STATEMENT = 400  # 800 parameters: below the 999 of SQLite builds before 3.32


def _values_sql(rows: int) -> str:
    return f"INSERT INTO {PhoneSuffix.__tablename__} (suffix, customer_id) VALUES " + ", ".join(
        ["(?, ?)"] * rows
    )


def replace(
    executor: Session | Connection, customer_id: int, code: str, numbers: Iterable[str | None]
) -> None:
    """Make one customer's rows those of ``numbers`` (its contacts' numbers and its 主要电话) and its code."""
    executor.execute(delete(PhoneSuffix).where(PhoneSuffix.customer_id == customer_id))
    insert_rows(executor, rows_for(customer_id, code, numbers))


def delete_for(executor: Session | Connection, customer_ids: Sequence[int]) -> None:
    executor.execute(delete(PhoneSuffix).where(PhoneSuffix.customer_id.in_(list(customer_ids))))
