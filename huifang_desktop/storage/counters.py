"""Number sequences that stay unique with several PCs on one database."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huifang_desktop.storage.models import Counter


def next_serial(session: Session, name: str) -> int:
    """Increment the counter ``name`` inside the caller's transaction and return the new value.

    The UPDATE takes the row's write lock (PostgreSQL) or the database write lock (SQLite), so two
    PCs cannot get the same value; a missing row is created, racing creators retry.
    """
    for _ in range(3):
        value = session.execute(
            update(Counter)
            .where(Counter.name == name)
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        ).scalar()
        if value is not None:
            return int(value)
        try:
            with session.begin_nested():
                session.execute(insert(Counter).values(name=name, value=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a number from counter {name!r}")
