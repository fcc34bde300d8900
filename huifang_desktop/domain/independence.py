"""Visitor independence (回访独立性, 001 篇11 第三条(二)、第四条): the person making a satisfaction or a
complaint-closing visit is neither the customer's salesperson (业务员, the file's 负责人) nor the
complaint's handler. Pure rules: who may not visit, and which colleague the planner picks instead.

The pick rule (one clear order, so a supervisor can predict it): of the active users whose role is in
``roles`` (in that order of preference — 客服专员 first for ordinary visits), never an excluded person,
the ones in the customer's department first, then the one with the fewest pending visits, then the
lowest user id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Colleague:
    """A possible visitor: an active user, their role value, department and pending visits (待回访)."""

    id: int
    role: str
    department_id: int | None
    load: int = 0


def conflict(visitor_id: int | None, owner_id: int | None, handler_id: int | None = None) -> str | None:
    """Why ``visitor_id`` may not make the visit (Chinese, for the form), or None when independent."""
    if visitor_id is None:
        return None
    if owner_id is not None and visitor_id == owner_id:
        return "回访人不得为该客户的业务员（负责人）本人"
    if handler_id is not None and visitor_id == handler_id:
        return "回访人不得为该投诉的处理人本人"
    return None


def pick_independent(
    colleagues: Iterable[Colleague],
    roles: Sequence[str],
    department_id: int | None,
    excluded: Iterable[int | None],
) -> int | None:
    """The colleague to plan the visit for (see the module docstring), or None when nobody qualifies."""
    banned = {u for u in excluded if u is not None}
    rank = {role: i for i, role in enumerate(roles)}
    pool = [c for c in colleagues if c.role in rank and c.id not in banned]
    if not pool:
        return None
    best = min(pool, key=lambda c: (rank[c.role], c.department_id != department_id, c.load, c.id))
    return best.id


def keep_or_pick(
    current: int | None,
    colleagues: Iterable[Colleague],
    roles: Sequence[str],
    department_id: int | None,
    owner_id: int | None,
    handler_id: int | None = None,
) -> int | None:
    """``current`` when it is independent, else :func:`pick_independent` (``current`` again when nobody
    else qualifies: the visit then needs a supervisor to assign it, and recording it is refused)."""
    if conflict(current, owner_id, handler_id) is None and current is not None:
        return current
    picked = pick_independent(colleagues, roles, department_id, (owner_id, handler_id))
    return picked if picked is not None else current
