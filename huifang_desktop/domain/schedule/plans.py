"""Planning from the visit rules: triggers and their plans, routine and technical visits (§3), follow-ups
(再次回访). The rules themselves are in :mod:`.rules`; the package re-exports both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.schedule.rules import (
    _MAX_OCCURRENCES,
    _PERIODIC_KEYS,
    Assignee,
    FollowUpPolicy,
    RuleSet,
    Trigger,
    Unit,
    VisitRule,
    Window,
    _split,
    add_months,
    is_sampled,
    plan_key,
)
from huifang_desktop.domain.visits import VisitMethod, VisitResult, VisitType
from huifang_desktop.domain.workcal import WorkCalendar

# --- triggers and plans -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """A visit to plan (回访计划). ``source_key`` is the idempotency key (see :func:`plan_key`); ``origin``
    the triggering record's key; ``due_at`` the exact due moment of an hour rule when it stays that day."""

    rule_key: str
    visit_type: VisitType
    method: VisitMethod
    earliest: date
    due: date
    who: Assignee
    source_key: str
    attempt: int = 1
    origin: str = ""
    occurrence: int = 1
    due_at: datetime | None = None


def _window_dates(
    anchor: date, months: int, days: int, window: Window, shift: bool, cal: WorkCalendar
) -> tuple[date, date, date]:
    """(earliest, due, unshifted due) for ``window`` applied to ``anchor`` + (months, days)."""
    em, ed = _split(window.earliest, window.unit)
    dm, dd = _split(window.due, window.unit)
    earliest = add_months(anchor, months + em) + timedelta(days=days + ed)
    raw_due = add_months(anchor, months + dm) + timedelta(days=days + dd)
    if not shift:
        return earliest, raw_due, raw_due
    due = cal.next_workday(raw_due)
    return min(cal.next_workday(earliest), due), due, raw_due


def _hour_plan(
    trigger: Trigger, window: Window, shift: bool, cal: WorkCalendar
) -> tuple[date, date, datetime | None]:
    moment = trigger.moment or datetime.combine(trigger.start, time())
    earliest_at = moment + timedelta(hours=window.earliest)
    due_at: datetime | None = moment + timedelta(hours=window.due)
    assert due_at is not None
    due = due_at.date()
    if shift and not cal.is_workday(due):
        due, due_at = cal.next_workday(due), None
    if trigger.moment is None:
        due_at = None
    earliest = cal.next_workday(earliest_at.date()) if shift else earliest_at.date()
    return min(earliest, due), due, due_at


def _occurrences(
    rule: VisitRule, trigger: Trigger, rules: RuleSet, cal: WorkCalendar, horizon: date | None
) -> Iterator[tuple[int | None, date, date, datetime | None]]:
    """(occurrence, earliest, due, due_at) of one rule for one trigger."""
    start = trigger.start
    anchor = trigger.anchor_date(rule.anchor)
    if anchor is None and rule.fallback_months:
        anchor = add_months(start, rule.fallback_months)
    if anchor is None:
        return
    shift = rule.shift_to_workday
    if not rule.repeat_every:
        many = len(rule.windows) > 1
        for index, window in enumerate(rule.windows, start=1):
            if window.unit is Unit.HOUR:
                earliest, due, due_at = _hour_plan(trigger, window, shift, cal)
                yield (index if many else None), earliest, due, due_at
                continue
            earliest, due, raw_due = _window_dates(anchor, 0, 0, window, shift, cal)
            if raw_due >= start:
                yield (index if many else None), earliest, due, None
        return
    limit = horizon or add_months(start, rules.horizon_months)
    if rule.until is not None:
        until = trigger.anchor_date(rule.until)
        if until is None and rule.fallback_months:
            until = add_months(start, rule.fallback_months)
        if until is not None:
            limit = min(limit, until)
    window = rule.windows[0]
    step_months, step_days = _split(rule.repeat_every, rule.repeat_unit)
    for k in range(_MAX_OCCURRENCES):
        earliest, due, raw_due = _window_dates(anchor, k * step_months, k * step_days, window, shift, cal)
        if raw_due > limit:
            return
        if raw_due >= start:
            yield k + 1, earliest, due, None


def plans_for_trigger(
    trigger: Trigger,
    rules: RuleSet,
    cal: WorkCalendar,
    *,
    horizon: date | None = None,
    salt: str | None = None,
) -> list[PlannedVisit]:
    """Every visit the enabled rules plan for one triggering record, sorted by due date then rule order.

    Sampling (``sample_rate``) is decided per rule and record by :func:`is_sampled` with ``salt`` (default:
    the rule set's ``sampling_salt``); a repeating chain is in or out as a whole. ``horizon`` overrides the
    end of repeating chains (default: trigger day + ``rules.horizon_months``). Pure and deterministic:
    the same inputs give equal plans with the same keys.
    """
    salt = rules.sampling_salt if salt is None else salt
    plans: list[PlannedVisit] = []
    for rule in rules.rules:
        if not rule.applies_to(trigger):
            continue
        if not is_sampled(rule.key, trigger.source_key, rule.sample_rate, salt):
            continue
        who = rules.who_for_severity(trigger.severity) if rule.who is Assignee.BY_SEVERITY else rule.who
        for occurrence, earliest, due, due_at in _occurrences(rule, trigger, rules, cal, horizon):
            plans.append(
                PlannedVisit(
                    rule_key=rule.key,
                    visit_type=rule.visit_type,
                    method=rule.method,
                    earliest=earliest,
                    due=due,
                    who=who,
                    source_key=plan_key(trigger.source_key, rule.key, occurrence),
                    origin=trigger.source_key,
                    occurrence=occurrence or 1,
                    due_at=due_at,
                )
            )
    order = {r.key: i for i, r in enumerate(rules.rules)}
    plans.sort(key=lambda p: (p.due, order[p.rule_key], p.occurrence))
    return plans


# --- routine and technical visits (§3) --------------------------------------------------------------

ROUTINE_RULE = "routine"
TECHNICAL_RULE = "technical"
FOLLOW_UP_RULE = "follow_up"


def satisfies(visit_type: VisitType | str, rule_key: str, rules: RuleSet) -> bool:
    """Whether a visit of ``visit_type`` may complete a plan of ``rule_key``: a routine or technical plan
    only by the types the office's table lists for it (a 生日 SMS never completes a routine visit, 001
    §3.2); any other plan by any type (it is the plan the visit was made for)."""
    if rule_key not in _PERIODIC_KEYS:
        return True
    return VisitType(visit_type).value in rules.types_satisfying(rule_key)


def _periodic(
    rule_key: str,
    visit_type: VisitType,
    method: VisitMethod,
    base: date,
    due_raw: date,
    cal: WorkCalendar,
    origin: str,
) -> PlannedVisit:
    due = cal.next_workday(due_raw)
    earliest = min(cal.next_workday(base + timedelta(days=1)), due)
    occurrence = int(f"{base:%Y%m%d}")
    return PlannedVisit(
        rule_key=rule_key,
        visit_type=visit_type,
        method=method,
        earliest=earliest,
        due=due,
        who=Assignee.OWNER,
        source_key=plan_key(origin, rule_key, occurrence),
        origin=origin,
        occurrence=occurrence,
    )


def routine_due(
    grade: str | None,
    last_visit: date | None,
    since: date,
    rules: RuleSet,
    cal: WorkCalendar,
    *,
    origin: str = "",
) -> PlannedVisit | None:
    """The next routine visit (例行回访) of a customer, or None for a class without one (D).

    Counted from the last visit that counts (see :func:`satisfies`), but never from before ``since`` (the
    day the file was made, the class began or the customer was imported): a new cadence starts on the
    change day, so a class change never makes a plan fall due in the past. The window opens the day after. ``origin`` names the customer (``"customer:7"``) and,
    with the base date, makes the key (``customer:7#routine@20260105``).
    """
    days = rules.routine_interval(grade)
    if days is None:
        return None
    base = max(last_visit, since) if last_visit is not None else since
    return _periodic(
        ROUTINE_RULE, VisitType.ROUTINE, rules.routine_method, base, base + timedelta(days=days), cal, origin
    )


def technical_due(
    grade: str | None,
    last_technical: date | None,
    since: date,
    rules: RuleSet,
    cal: WorkCalendar,
    *,
    origin: str = "",
) -> PlannedVisit | None:
    """The next technical visit (技术回访), every ``technical_months`` for ``technical_grades`` (A)."""
    wanted = (grade or "").strip().upper()
    if wanted not in {g.upper() for g in rules.technical_grades}:
        return None
    base = max(last_technical, since) if last_technical is not None else since
    return _periodic(
        TECHNICAL_RULE,
        VisitType.TECHNICAL,
        rules.technical_method,
        base,
        add_months(base, rules.technical_months),
        cal,
        origin,
    )


def routine_plans(
    grade: str | None,
    last_visit: date | None,
    last_technical: date | None,
    since: date,
    rules: RuleSet,
    cal: WorkCalendar,
    *,
    origin: str = "",
) -> list[PlannedVisit]:
    """Routine and (for A) technical visit together, by due date."""
    plans = [
        routine_due(grade, last_visit, since, rules, cal, origin=origin),
        technical_due(grade, last_technical, since, rules, cal, origin=origin),
    ]
    return sorted((p for p in plans if p is not None), key=lambda p: p.due)


# --- follow-ups (再次回访) ----------------------------------------------------------------------------


def chain_base(source_key: str, attempt: int) -> str:
    """The key of a chain's first plan: ``K#3`` → ``K`` (a first attempt is its own base)."""
    return source_key if attempt <= 1 else source_key.rsplit("#", 1)[0]


def follow_up_key(previous_key: str, previous_attempt: int) -> str:
    """The key of the attempt after ``previous_key``: ``K`` → ``K#2``, ``K#2`` → ``K#3``."""
    return f"{chain_base(previous_key, previous_attempt)}#{previous_attempt + 1}"


def needs_follow_up(
    result: VisitResult | str, satisfied: bool | None, policy: FollowUpPolicy, refusals: int = 0
) -> bool:
    """Not reached / call again, reached but not satisfied (when the policy says so), or refused while
    the policy still contacts refusers again (``refusals``: earlier refusals in the chain, this one not
    counted)."""
    result = VisitResult(result)
    if result is VisitResult.REFUSED:
        return policy.refused_after_days > 0 and refusals < policy.refused_recontacts
    if result in policy.retry_results:
        return True
    return policy.retry_unsatisfied and result is VisitResult.SUCCESS and satisfied is False


def follow_up(
    result: VisitResult | str,
    satisfied: bool | None,
    attempt: int,
    visit_day: date,
    rules: RuleSet,
    cal: WorkCalendar,
    *,
    previous: PlannedVisit | None = None,
    origin: str = "",
    first_method: VisitMethod | None = None,
    severity: str | None = None,
    refusals: int = 0,
) -> PlannedVisit | None:
    """The next attempt after attempt number ``attempt`` ended with ``result`` on ``visit_day``.

    None when no follow-up is needed (success and satisfied or unknown; refused once too often) or the
    policy's ``max_attempts`` is reached (0: never). The new plan keeps the earlier plan's rule, type,
    who and key (plus ``#n``). Its method: the first visit's (``first_method``, else the earlier plan's)
    for the second attempt, ``phone_method`` from ``phone_from_attempt`` on (000 §1.9) — except for a
    complaint whose ``severity`` is in ``on_site_severities``, which stays on site. A refusal (拒绝) is
    contacted again ``refused_after_days`` later (001 §47) instead of the usual window. Without
    ``previous`` it is a generic follow-up under ``origin`` with the policy's type and method.
    """
    policy = rules.follow_up
    if attempt < 1:
        raise ValidationError(FieldError("attempt", "回访次数", "至少为 1"))
    if not needs_follow_up(result, satisfied, policy, refusals) or not policy.allows(attempt):
        return None
    nxt = attempt + 1
    if VisitResult(result) is VisitResult.REFUSED:
        due = cal.next_workday(visit_day + timedelta(days=policy.refused_after_days))
        earliest = due
    else:
        earliest, due, _ = _window_dates(visit_day, 0, 0, policy.window, True, cal)
    first = first_method or (previous.method if previous is not None else policy.method)
    forced = policy.closing_method(severity)
    if forced is not None:
        method = forced
    elif nxt >= policy.phone_from_attempt:
        method = policy.phone_method
    else:
        method = first
    if previous is not None:
        return replace(
            previous,
            method=method,
            earliest=earliest,
            due=due,
            source_key=follow_up_key(previous.source_key, previous.attempt),
            attempt=nxt,
            due_at=None,
        )
    return PlannedVisit(
        rule_key=FOLLOW_UP_RULE,
        visit_type=policy.visit_type,
        method=method,
        earliest=earliest,
        due=due,
        who=Assignee.OWNER,
        source_key=plan_key(origin, FOLLOW_UP_RULE, None, nxt),
        attempt=nxt,
        origin=origin,
    )
