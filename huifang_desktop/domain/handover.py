"""Hand-over of a leaver's work and the registration deadline of new files (domain.md §1–§2). Pure rules.

* :func:`spread` — the leaver's items go to the successors in turn (by item id), so a hand-over to two
  people splits the work evenly and the same inputs always give the same split.
* :func:`owner_on` — who owned a plan on a day, from its owner changes: the 考核 charges the owner when
  the plan's window closed, so a leaver is never charged for what was handed over before.
* :func:`registration_due` / :func:`missing_basics` — 002 §1.4 客户备案: "业务部门接触到新客户后，须在5个
  工作日内 … 备案，填写《客户基本信息表》" (and §1.3: 客户名称、类别、地址、联系人、联系电话 …). A file
  counts from its 建档日期 (the first contact); it is registered once its basic information is complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from huifang_desktop.domain.workcal import WorkCalendar

REGISTRATION_WORKDAYS = 5  # 002 §1.4


@dataclass(frozen=True, slots=True)
class OwnerChange:
    changed_on: date
    old_owner_id: int | None
    new_owner_id: int | None


def spread(item_ids: Iterable[int], successors: Sequence[int]) -> dict[int, int]:
    """item id → successor, in turn by item id (deterministic)."""
    if not successors:
        raise ValueError("no successor")
    return {item: successors[i % len(successors)] for i, item in enumerate(sorted(item_ids))}


def owner_on(current_owner: int | None, changes: Iterable[OwnerChange], day: date) -> int | None:
    """The owner of a plan on ``day``: a change made on a day takes effect that day."""
    ordered = sorted(changes, key=lambda c: c.changed_on)
    before = [c for c in ordered if c.changed_on <= day]
    if before:
        return before[-1].new_owner_id
    return ordered[0].old_owner_id if ordered else current_owner


def registration_due(first_contact: date, cal: WorkCalendar, workdays: int = REGISTRATION_WORKDAYS) -> date:
    """The last day to register a new customer file: ``workdays`` working days after the first contact."""
    day = first_contact
    for _ in range(workdays):
        day = cal.next_workday(day.fromordinal(day.toordinal() + 1))
    return day


#: the basic information a registered file has (002 §1.3), field → label
BASIC_FIELDS: Mapping[str, str] = {
    "category": "客户类别",
    "address": "地址",
    "contact": "联系人",
    "phone": "联系电话",
    "owner": "负责人",
}


def missing_basics(values: Mapping[str, object]) -> list[str]:
    """The labels of the basic fields still empty in ``values`` (keys of :data:`BASIC_FIELDS`)."""
    return [label for key, label in BASIC_FIELDS.items() if not str(values.get(key) or "").strip()]
