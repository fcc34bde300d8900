"""Appending to the audit hash chain (domain.chain) inside the caller's transaction.

The head's position is the counter row ``audit_chain`` (storage.counters): its UPDATE takes the row's write
lock (PostgreSQL) or the database write lock (SQLite) before the previous hash is read, so two writers —
two processes on one SQLite file, two PCs on one PostgreSQL server — append one after the other and never
fork the chain. The previous hash is read from the row at the previous position (or remembered within the
same transaction when one transaction appends several rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.chain import CHAINED_FIELDS, GENESIS, row_hash
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.models import AuditLog, Counter

CHAIN_COUNTER = "audit_chain"
_CACHE_KEY = "huifang_audit_chain_head"


def hashed_value(name: str, value: Any) -> Any:
    """A field as the chain hashes it: datetimes as stored (no time zone), everything else as is."""
    if name == "at" and isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    return value


def hash_row(seq: int, prev: str, row: Mapping[str, Any]) -> str:
    return row_hash(seq, prev, {name: hashed_value(name, row.get(name)) for name in CHAINED_FIELDS})


def _previous_hash(db: Session | Connection, seq: int) -> str:
    if seq <= 1:
        return GENESIS
    tx = db.get_transaction()
    cached = db.info.get(_CACHE_KEY)
    if cached is not None and cached[0] is tx and cached[1] == seq - 1:
        return str(cached[2])
    found = db.execute(select(AuditLog.row_hash).where(AuditLog.seq == seq - 1)).scalar()
    return found or GENESIS  # a deleted previous row: the gap shows in verify, the new row still chains on


def _take(db: Session | Connection, count: int) -> int:
    """Reserve ``count`` positions; returns the first (the head lock is held until the caller commits)."""
    if isinstance(db, Session):
        last = next_serial(db, CHAIN_COUNTER) if count == 1 else _bump(db, count)
    else:
        last = _bump(db, count)
    return last - count + 1


def _bump(db: Session | Connection, count: int) -> int:
    from sqlalchemy import insert, update

    value = db.execute(
        update(Counter)
        .where(Counter.name == CHAIN_COUNTER)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    ).scalar()
    if value is None:
        db.execute(insert(Counter).values(name=CHAIN_COUNTER, value=count))
        value = count
    return int(value)


def chain_rows(db: Session | Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Give each audit-row dict (in order) its position, previous hash and hash, in place."""
    if not rows:
        return
    first = _take(db, len(rows))
    prev = _previous_hash(db, first)
    for offset, row in enumerate(rows):
        seq = first + offset
        row["seq"], row["prev_hash"] = seq, prev
        row["row_hash"] = prev = hash_row(seq, row["prev_hash"], row)
    db.info[_CACHE_KEY] = (db.get_transaction(), first + len(rows) - 1, prev)


def chain_head(db: Session | Connection) -> tuple[int, str]:
    """The head of the chain as committed: (position, hash); (0, GENESIS) for an empty chain."""
    seq = db.execute(select(Counter.value).where(Counter.name == CHAIN_COUNTER)).scalar()
    if not seq:
        return 0, GENESIS
    digest = db.execute(select(AuditLog.row_hash).where(AuditLog.seq == seq)).scalar()
    return int(seq), digest or ""


__all__ = ["CHAIN_COUNTER", "chain_head", "chain_rows", "hash_row", "hashed_value"]
