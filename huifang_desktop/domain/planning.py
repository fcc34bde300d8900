"""Planning helpers shared by the visit services and the demo office (pure: no database).

* :class:`TriggerPlanner` — :func:`~huifang_desktop.domain.schedule.plans_for_trigger` with a memo, for the
  catch-up over many purchases (and the demo's simulation of years of them);
* :func:`purchase_triggers` — the trigger a purchase or delivery starts, after the office's options (the
  end-customer chain for the end-customer categories, else the kind's mapped trigger);
* :func:`assignee_for` — who makes a planned visit (rule ``who``): the customer's owner, or the supervisor /
  manager of its department (else the first one).

They lived in ``services/visits.py``; they are here so the catch-up, the purchase hook and the demo office
call the same rule (a change here shows in the demo's history too).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from huifang_desktop.domain.roles import Role
from huifang_desktop.domain.schedule import (
    Assignee,
    PlannedVisit,
    RuleSet,
    Trigger,
    TriggerKind,
    plans_for_trigger,
)
from huifang_desktop.domain.workcal import WorkCalendar


class TriggerPlanner:
    """:func:`plans_for_trigger` with a memo for the catch-up over many purchases.

    A trigger's windows depend on its kind and dates, and on its units only through the rules' unit limits;
    so triggers of the same shape get the same plans, under their own keys (``origin#rule…``, see
    :func:`huifang_desktop.domain.schedule.plan_key`). Kinds with a sampled rule (0 < rate < 1) are
    planned one by one, since sampling depends on the record's key.
    """

    _TEMPLATE = "t"

    def __init__(self, rules: RuleSet, cal: WorkCalendar) -> None:
        self.rules, self.cal = rules, cal
        self._memo: dict[Any, list[PlannedVisit]] = {}
        self._sampled = {r.trigger for r in rules.rules if r.enabled and 0.0 < r.sample_rate < 1.0}
        self._by_kind: dict[TriggerKind, list[Any]] = {}
        for r in rules.rules:
            self._by_kind.setdefault(r.trigger, []).append(r)

    def plans(self, trigger: Trigger, horizon: date | None = None) -> list[tuple[PlannedVisit, str]]:
        if trigger.kind in self._sampled:
            planned = plans_for_trigger(trigger, self.rules, self.cal, horizon=horizon)
            return [(p, p.source_key) for p in planned]
        shape = replace(trigger, source_key=self._TEMPLATE, units=0)
        applies = tuple(r.applies_to(trigger) for r in self._by_kind.get(trigger.kind, ()))
        memo_key = (shape, applies, horizon)
        template = self._memo.get(memo_key)
        if template is None:
            template = plans_for_trigger(
                replace(trigger, source_key=self._TEMPLATE), self.rules, self.cal, horizon=horizon
            )
            self._memo[memo_key] = template
        cut = len(self._TEMPLATE)
        return [(p, trigger.source_key + p.source_key[cut:]) for p in template]


def purchase_triggers(
    purchase_id: int,
    day: date,
    kind: str,
    quantity: int,
    warranty_end: date | None,
    category: str,
    end_customer_categories: Collection[str],
    purchase_map: Mapping[str, str],
) -> list[Trigger]:
    """The trigger of one 购货/交货 row: the end-customer chain when the buyer's category is one of
    ``end_customer_categories``, else the trigger ``purchase_map`` maps its kind to (none when unmapped)."""
    source = f"purchase:{purchase_id}"
    if category in end_customer_categories:
        return [
            Trigger(
                TriggerKind.END_CUSTOMER_PURCHASE,
                source,
                day=day,
                units=max(quantity, 0),
                warranty_end=warranty_end,
            )
        ]
    mapped = purchase_map.get(kind)
    if mapped is None:
        return []
    return [Trigger(TriggerKind(mapped), source, day=day, units=max(quantity, 0), warranty_end=warranty_end)]


def assignee_for(
    who: Assignee,
    owner_id: int | None,
    department_id: int | None,
    people: Mapping[str, Sequence[tuple[int, int | None]]],
) -> int | None:
    """Who makes a planned visit. ``people``: the active users by role value, each ``(id, department_id)`` by
    id. The owner for ``owner`` (and ``by_severity``: the complaint hook resolves the severity before
    planning); else the supervisor / manager of the customer's department, else the first one, else the
    owner."""
    if who is Assignee.OWNER or who is Assignee.BY_SEVERITY:
        return owner_id
    role = Role.SUPERVISOR if who is Assignee.SUPERVISOR else Role.MANAGER
    candidates = people.get(role.value, ())
    same = [uid for uid, dep in candidates if dep == department_id]
    if same:
        return same[0]
    return candidates[0][0] if candidates else owner_id
