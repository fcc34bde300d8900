"""Complaint register rules: routing, deadlines, workflow, numbering, repeats (domain.md §7).

Severity decides who handles a complaint and who makes its closing visit (一般 → clerk, 重要 → 部门主管,
重大 → 公司经理). Deadlines count working days on the same holiday/调休 calendar as visits and end at the
close of the office day (17:30 by default). Every number here is a setting in :class:`ComplaintPolicy`.

Workflow::

    待受理 → 处理中 → 待回访 → 已关闭
       └──────┴─────────┴──→ 已撤销 (with a reason)
    待回访 → 处理中           (closing visit not satisfied: handled again, a new visit is planned)
    处理中 → 已关闭           (anonymous / written-reply-only complaints, with the reply letter attached)

已关闭 and 已撤销 are final: a customer who rejects the result opens a new complaint linked to the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Role, reaches_level
from huifang_desktop.domain.validation import clean_text, normalize_phone, to_halfwidth
from huifang_desktop.domain.workcal import WorkCalendar

T = TypeVar("T")


class MessageKind(StrEnum):
    """What the intake logs: 投诉, 咨询 (answer within 24 h) or 建议 (give a reply date)."""

    COMPLAINT = "投诉"
    CONSULTATION = "咨询"
    SUGGESTION = "建议"


class Channel(StrEnum):
    PHONE = "电话"
    VISIT = "来访"
    LETTER = "信函"
    EMAIL = "邮件"
    ONLINE = "网络"
    REFERRED = "上级转办"


class Severity(StrEnum):
    NORMAL = "一般"
    IMPORTANT = "重要"
    MAJOR = "重大"

    @property
    def handler_role(self) -> Role:
        """The default handler level; an office may change it in :attr:`ComplaintPolicy.handler_roles`."""
        return _DEFAULT_HANDLERS[self]


_DEFAULT_HANDLERS = {
    Severity.NORMAL: Role.CLERK,
    Severity.IMPORTANT: Role.SUPERVISOR,
    Severity.MAJOR: Role.MANAGER,
}


class ComplaintState(StrEnum):
    PENDING = "待受理"
    IN_PROGRESS = "处理中"
    AWAITING_VISIT = "待回访"
    CLOSED = "已关闭"
    WITHDRAWN = "已撤销"

    @property
    def is_final(self) -> bool:
        return self in (ComplaintState.CLOSED, ComplaintState.WITHDRAWN)

    @property
    def is_open(self) -> bool:
        return not self.is_final


OPEN_STATES = frozenset(s for s in ComplaintState if s.is_open)

# 类别: a configurable list, so plain strings.
DEFAULT_CATEGORIES: tuple[str, ...] = ("产品质量", "服务态度", "交付物流", "维修", "收费", "其他")

DEFAULT_NUMBER_PATTERN = "TS{yyyymmdd}-{seq:03}"
MONTHLY_NUMBER_PATTERN = "{yymm}{seq:02}"


# --------------------------------------------------------------------------------------------- policy


@dataclass(frozen=True, slots=True)
class BySeverity(Generic[T]):
    """One value per severity; serialised as ``{"一般": …, "重要": …, "重大": …}``."""

    normal: T
    important: T
    major: T

    def __getitem__(self, severity: Severity) -> T:
        severity = Severity(severity)
        if severity is Severity.NORMAL:
            return self.normal
        if severity is Severity.IMPORTANT:
            return self.important
        return self.major

    def to_dict(self, encode: Callable[[T], Any] = lambda v: v) -> dict[str, Any]:
        return {str(s): encode(self[s]) for s in Severity}

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], decode: Callable[[Any], T], default: BySeverity[T]
    ) -> BySeverity[T]:
        def get(s: Severity) -> T:
            return decode(data[str(s)]) if str(s) in data else default[s]

        return cls(get(Severity.NORMAL), get(Severity.IMPORTANT), get(Severity.MAJOR))


@dataclass(frozen=True, slots=True)
class ComplaintPolicy:
    """An office's complaint rules (domain.md §7); every field is a setting with a default."""

    first_reply_workdays: BySeverity[int] = BySeverity(1, 1, 1)
    handling_workdays: BySeverity[int] = BySeverity(3, 3, 3)
    special_handling_workdays: int = 7  # special cases (特殊情况) ≤ 7 working days (002)
    handler_roles: BySeverity[Role] = BySeverity(Role.CLERK, Role.SUPERVISOR, Role.MANAGER)
    workday_end: time = time(17, 30)  # a working-day deadline ends at this time
    closing_visit_days: int = 3  # closing visit within N days of the handling
    closing_visit_in_workdays: bool = (
        False  # count those days as working days (property offices: 2 working days)
    )
    consultation_reply_hours: int = 24  # 咨询: on the spot, else within 24 h
    suggestion_reply_workdays: int = 5  # 建议: default reply date
    escalate_overdue: bool = True  # overdue complaints escalate one level
    number_pattern: str = DEFAULT_NUMBER_PATTERN
    repeat_window_days: int = 90
    repeat_similarity: float = 0.4  # subject similarity (bigram Jaccard) counted as "similar"
    categories: tuple[str, ...] = DEFAULT_CATEGORIES

    @classmethod
    def default(cls) -> ComplaintPolicy:
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_reply_workdays": self.first_reply_workdays.to_dict(),
            "handling_workdays": self.handling_workdays.to_dict(),
            "special_handling_workdays": self.special_handling_workdays,
            "handler_roles": self.handler_roles.to_dict(str),
            "workday_end": self.workday_end.strftime("%H:%M"),
            "closing_visit_days": self.closing_visit_days,
            "closing_visit_in_workdays": self.closing_visit_in_workdays,
            "consultation_reply_hours": self.consultation_reply_hours,
            "suggestion_reply_workdays": self.suggestion_reply_workdays,
            "escalate_overdue": self.escalate_overdue,
            "number_pattern": self.number_pattern,
            "repeat_window_days": self.repeat_window_days,
            "repeat_similarity": self.repeat_similarity,
            "categories": list(self.categories),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComplaintPolicy:
        """Build from stored settings; missing keys keep their defaults, bad values raise ValidationError."""
        d = cls()
        errors: list[FieldError] = []

        def take(key: str, label: str, convert: Callable[[Any], Any], default: Any) -> Any:
            if key not in data:
                return default
            try:
                return convert(data[key])
            except (TypeError, ValueError, KeyError) as exc:
                message = "；".join(e.message for e in exc.errors) if isinstance(exc, ValidationError) else ""
                errors.append(FieldError(key, label, message or f"设置值“{data[key]}”无效"))
                return default

        def days(default: BySeverity[int]) -> Callable[[Any], BySeverity[int]]:
            def convert(value: Any) -> BySeverity[int]:
                if not isinstance(value, Mapping):
                    raise TypeError(value)
                return BySeverity.from_dict(value, _non_negative_int, default)

            return convert

        def roles(value: Any) -> BySeverity[Role]:
            if not isinstance(value, Mapping):
                raise TypeError(value)
            return BySeverity.from_dict(value, _business_role, d.handler_roles)

        policy = cls(
            first_reply_workdays=take(
                "first_reply_workdays", "首次答复期限", days(d.first_reply_workdays), d.first_reply_workdays
            ),
            handling_workdays=take(
                "handling_workdays", "处理期限", days(d.handling_workdays), d.handling_workdays
            ),
            special_handling_workdays=take(
                "special_handling_workdays",
                "特殊情况处理期限",
                _non_negative_int,
                d.special_handling_workdays,
            ),
            handler_roles=take("handler_roles", "处理人级别", roles, d.handler_roles),
            workday_end=take("workday_end", "下班时间", _parse_time, d.workday_end),
            closing_visit_days=take(
                "closing_visit_days", "结案回访期限", _non_negative_int, d.closing_visit_days
            ),
            closing_visit_in_workdays=take(
                "closing_visit_in_workdays", "结案回访按工作日计", _bool, d.closing_visit_in_workdays
            ),
            consultation_reply_hours=take(
                "consultation_reply_hours", "咨询答复时限", _non_negative_int, d.consultation_reply_hours
            ),
            suggestion_reply_workdays=take(
                "suggestion_reply_workdays", "建议答复期限", _non_negative_int, d.suggestion_reply_workdays
            ),
            escalate_overdue=take("escalate_overdue", "逾期自动升级", _bool, d.escalate_overdue),
            number_pattern=take("number_pattern", "编号规则", validate_number_pattern, d.number_pattern),
            repeat_window_days=take(
                "repeat_window_days", "重复投诉提示天数", _non_negative_int, d.repeat_window_days
            ),
            repeat_similarity=take("repeat_similarity", "主题相似度", _fraction, d.repeat_similarity),
            categories=take("categories", "投诉类别", _categories, d.categories),
        )
        if errors:
            raise ValidationError(errors)
        return policy


def _non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(value)  # from_dict's take() reports either as an invalid setting
    return value


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(value)
    return float(value)


def _parse_time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def _business_role(value: Any) -> Role:
    role = Role(value)
    if role is Role.ADMIN:
        raise ValueError(value)
    return role


def _categories(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(value)
    items = tuple(clean_text(str(v)) for v in value)
    if not items or any(not v for v in items) or len(set(items)) != len(items):
        raise ValueError(value)
    return items


# --------------------------------------------------------------------------------------- routing


def handler_role(severity: Severity, policy: ComplaintPolicy) -> Role:
    """Who handles the complaint and makes its closing visit."""
    return policy.handler_roles[severity]


def escalated_role(current: Role) -> Role | None:
    """One level up: clerk → supervisor → manager → None (admin is outside the chain)."""
    return _ESCALATION.get(current)


_ESCALATION = {Role.CLERK: Role.SUPERVISOR, Role.SUPERVISOR: Role.MANAGER}


def pick_user(
    people: Sequence[tuple[int, int | None]], department_id: int | None, prefer: Iterable[int | None] = ()
) -> int | None:
    """Who takes a complaint at a level: of the active users at that level (``(id, department_id)``, by id),
    a preferred one first (the customer's owner, the acting user), then the first of the complaint's
    department, then the first at all; None when nobody is at that level."""
    ids = [uid for uid, _dep in people]
    for uid in prefer:
        if uid is not None and uid in ids:
            return uid
    for uid, dep in people:
        if dep == department_id:
            return uid
    return ids[0] if ids else None


def closing_visit_owner(
    handler_id: int | None, handler_level: Role, severity: Severity, policy: ComplaintPolicy
) -> int | None:
    """The handler makes the closing visit when at the level the severity asks (or above); None: somebody at
    that level is picked (:func:`pick_user`, the customer's owner preferred)."""
    if handler_id and reaches_level(handler_level, closing_visit_role(severity, policy)):
        return handler_id
    return None


# -------------------------------------------------------------------------------------- deadlines


@dataclass(frozen=True, slots=True)
class Deadlines:
    first_reply: datetime
    handling: datetime


def deadlines(
    received_at: datetime,
    kind: MessageKind,
    severity: Severity,
    policy: ComplaintPolicy,
    cal: WorkCalendar,
    *,
    special: bool = False,
) -> Deadlines:
    """Reply and handling deadlines for a message received at ``received_at``.

    投诉: N working days after the day it was received, ending at ``policy.workday_end``. A message received
    on a non-working day or after the end of the working day counts as received on the next working day.
    ``special`` uses the special-case handling limit (≤ 7 working days). 咨询: ``consultation_reply_hours``
    after receipt, by the clock. 建议: ``suggestion_reply_workdays`` working days. For 咨询 and 建议 the
    reply is the whole handling, so both deadlines are the same.
    """
    kind, severity = MessageKind(kind), Severity(severity)
    if kind is MessageKind.CONSULTATION:
        due = received_at + timedelta(hours=policy.consultation_reply_hours)
        return Deadlines(due, due)
    if kind is MessageKind.SUGGESTION:
        due = _workday_deadline(received_at, policy.suggestion_reply_workdays, policy, cal)
        return Deadlines(due, due)
    handling_days = policy.special_handling_workdays if special else policy.handling_workdays[severity]
    return Deadlines(
        _workday_deadline(received_at, policy.first_reply_workdays[severity], policy, cal),
        _workday_deadline(received_at, handling_days, policy, cal),
    )


def _intake_day(received_at: datetime, policy: ComplaintPolicy, cal: WorkCalendar) -> date:
    day = received_at.date()
    if cal.is_workday(day) and received_at.time() <= policy.workday_end:
        return day
    return cal.next_workday(day + timedelta(days=1))


def _workday_deadline(received_at: datetime, n: int, policy: ComplaintPolicy, cal: WorkCalendar) -> datetime:
    day = cal.add_workdays(_intake_day(received_at, policy, cal), n)
    return datetime.combine(day, policy.workday_end, tzinfo=received_at.tzinfo)


def closing_visit_due(handled_at: datetime, policy: ComplaintPolicy, cal: WorkCalendar) -> date:
    """Due date of the closing visit planned when a complaint enters 待回访 (moved to a working day)."""
    day = handled_at.date()
    if policy.closing_visit_in_workdays:
        return cal.add_workdays(day, policy.closing_visit_days)
    return cal.next_workday(day + timedelta(days=policy.closing_visit_days))


def closing_visit_role(severity: Severity, policy: ComplaintPolicy) -> Role:
    """The closing visit is made at the level the severity asks (same as the handler)."""
    return handler_role(severity, policy)


def current_deadline(
    state: ComplaintState, dl: Deadlines, visit_due: datetime | None = None
) -> datetime | None:
    """The deadline that applies in ``state``: first reply while 待受理, handling while 处理中, the closing
    visit while 待回访 (the handling deadline if no visit is planned); None once final."""
    state = ComplaintState(state)
    if state is ComplaintState.PENDING:
        return dl.first_reply
    if state is ComplaintState.IN_PROGRESS:
        return dl.handling
    if state is ComplaintState.AWAITING_VISIT:
        return visit_due if visit_due is not None else dl.handling
    return None


def is_overdue(state: ComplaintState, deadline: datetime | None, now: datetime) -> bool:
    """An open complaint past its deadline (逾期). Closed and withdrawn complaints are never overdue."""
    return ComplaintState(state).is_open and deadline is not None and now > deadline


def should_escalate(
    state: ComplaintState, deadline: datetime | None, now: datetime, policy: ComplaintPolicy
) -> bool:
    return policy.escalate_overdue and is_overdue(state, deadline, now)


def needs_chase(state: ComplaintState, deadline: datetime | None, now: datetime) -> bool:
    """An overdue open complaint gets a 催办 (chaser)."""
    return is_overdue(state, deadline, now)


def needs_inquiry(closed_at: datetime | None, deadline: datetime | None) -> bool:
    """A complaint closed after its deadline gets a 查办 (inquiry into why it was late)."""
    return closed_at is not None and deadline is not None and closed_at > deadline


def queue_sort_key(state: ComplaintState, deadline: datetime | None, now: datetime) -> tuple[int, int, float]:
    """Sort key for complaint lists: overdue first, then open by nearest deadline, then final ones."""
    state = ComplaintState(state)
    overdue = is_overdue(state, deadline, now)
    stamp = deadline.timestamp() if deadline is not None else float("inf")
    return (0 if overdue else 1, 0 if state.is_open else 1, stamp)


def is_convertible(kind: MessageKind) -> bool:
    """咨询 and 建议 can be converted into a complaint."""
    return MessageKind(kind) is not MessageKind.COMPLAINT


# --------------------------------------------------------------------------------------- workflow


@dataclass(frozen=True, slots=True)
class TransitionFacts:
    """What the record holds when a state change is asked for."""

    anonymous: bool = False
    reply_only: bool = False  # a higher office asks only for a written reply
    reply_letter_attached: bool = False
    closing_visit_satisfied: bool | None = None  # None: no closing visit recorded yet
    handling_result: str = ""  # 处理结果
    withdraw_reason: str = ""


_ALLOWED: dict[ComplaintState, frozenset[ComplaintState]] = {
    ComplaintState.PENDING: frozenset({ComplaintState.IN_PROGRESS, ComplaintState.WITHDRAWN}),
    ComplaintState.IN_PROGRESS: frozenset(
        {ComplaintState.AWAITING_VISIT, ComplaintState.CLOSED, ComplaintState.WITHDRAWN}
    ),
    ComplaintState.AWAITING_VISIT: frozenset(
        {ComplaintState.IN_PROGRESS, ComplaintState.CLOSED, ComplaintState.WITHDRAWN}
    ),
    ComplaintState.CLOSED: frozenset(),
    ComplaintState.WITHDRAWN: frozenset(),
}

# Moves that finish or drop work need the level the severity asks.
_LEVEL_CHECKED = frozenset({ComplaintState.AWAITING_VISIT, ComplaintState.CLOSED, ComplaintState.WITHDRAWN})

_ACTION = {
    ComplaintState.AWAITING_VISIT: "办结转回访",
    ComplaintState.CLOSED: "关闭",
    ComplaintState.WITHDRAWN: "撤销",
}


def needs_closing_visit(anonymous: bool, reply_only: bool) -> bool:
    """Anonymous complaints and written-reply-only ones get the reply letter instead of a visit."""
    return not (anonymous or reply_only)


def closing_outcome(visit_satisfied: bool) -> ComplaintState:
    """Satisfied closing visit → 已关闭; unsatisfied → back to 处理中 (and a new visit is planned)."""
    return ComplaintState.CLOSED if visit_satisfied else ComplaintState.IN_PROGRESS


def needs_new_visit(visit_satisfied: bool) -> bool:
    return not visit_satisfied


def check_transition(
    state: ComplaintState,
    target: ComplaintState,
    *,
    actor_role: Role,
    severity: Severity,
    facts: TransitionFacts = TransitionFacts(),
    policy: ComplaintPolicy | None = None,
) -> None:
    """Raise :class:`ValidationError` with a Chinese message when ``state → target`` is not allowed."""
    policy = policy or ComplaintPolicy.default()
    state, target = ComplaintState(state), ComplaintState(target)
    actor_role, severity = Role(actor_role), Severity(severity)

    def fail(field_: str, label: str, message: str) -> None:
        raise ValidationError(FieldError(field_, label, message))

    if state is target:
        fail("state", "状态", f"投诉已是“{state}”，状态未变化")
    if state is ComplaintState.CLOSED:
        fail("state", "状态", "投诉已关闭，不能再变更；客户不认可处理结果的，请新建投诉并关联原投诉")
    if state is ComplaintState.WITHDRAWN:
        fail("state", "状态", "投诉已撤销，不能再变更；如需继续处理，请新建投诉并关联原投诉")
    if target not in _ALLOWED[state]:
        hint = "须先受理" if state is ComplaintState.PENDING else "不是允许的状态变更"
        fail("state", "状态", f"不能从“{state}”直接改为“{target}”：{hint}")

    if actor_role is Role.ADMIN:
        fail("actor", "操作人", f"{actor_role.label}不处理投诉业务，不能将投诉改为“{target}”")
    required = handler_role(severity, policy)
    if target in _LEVEL_CHECKED and actor_role.rank < required.rank:
        fail(
            "actor",
            "操作人",
            f"{severity}投诉须由{required.label}或更高级别{_ACTION[target]}，{actor_role.label}无权{_ACTION[target]}",
        )

    if target is ComplaintState.WITHDRAWN:
        if not clean_text(facts.withdraw_reason):
            fail("withdraw_reason", "撤销原因", "撤销投诉须填写撤销原因")
        return

    visit_needed = needs_closing_visit(facts.anonymous, facts.reply_only)
    why_no_visit = "匿名投诉" if facts.anonymous else "只需书面答复的投诉"

    if target is ComplaintState.AWAITING_VISIT:
        if not clean_text(facts.handling_result):
            fail("handling_result", "处理结果", "填写处理结果后才能转入待回访")
        if not visit_needed:
            fail("state", "状态", f"{why_no_visit}不做回访：请附答复函后直接关闭")
        return

    if target is ComplaintState.CLOSED:
        if not clean_text(facts.handling_result):
            fail("handling_result", "处理结果", "填写处理结果后才能关闭投诉")
        if not visit_needed:
            if not facts.reply_letter_attached:
                fail("reply_letter", "答复函", f"{why_no_visit}须附答复函后才能关闭")
            return
        if state is not ComplaintState.AWAITING_VISIT:
            fail("closing_visit", "结案回访", "须先转入待回访并完成结案回访，回访满意后才能关闭")
        if facts.closing_visit_satisfied is None:
            fail("closing_visit", "结案回访", "尚未完成结案回访，回访满意后才能关闭")
        if not facts.closing_visit_satisfied:
            fail("closing_visit", "结案回访", "结案回访结果为不满意，不能关闭：请退回处理中并重新安排回访")
        return
    # 待受理 → 处理中 (accept) and 待回访 → 处理中 (visit not satisfied / handled again) need no more facts.


# -------------------------------------------------------------------------------------- numbering

_TOKEN = re.compile(r"\{(\w+)(?::(\d+))?\}")
_DATE_TOKENS: dict[str, tuple[str, str]] = {  # token → (strftime format, scope)
    "yyyymmdd": ("%Y%m%d", "day"),
    "yymmdd": ("%y%m%d", "day"),
    "dd": ("%d", "day"),
    "yyyymm": ("%Y%m", "month"),
    "yymm": ("%y%m", "month"),
    "mm": ("%m", "month"),
    "yyyy": ("%Y", "year"),
    "yy": ("%y", "year"),
}
_SCOPE_ORDER = {"all": 0, "year": 1, "month": 2, "day": 3}


def validate_number_pattern(pattern: Any) -> str:
    """Check a number pattern: ``{seq}`` / ``{seq:03}`` exactly once plus date tokens
    (``yyyymmdd yymmdd yyyymm yymm yyyy yy mm dd``); everything else is literal text."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValidationError(FieldError("number_pattern", "编号规则", "不能为空"))
    names = [m.group(1) for m in _TOKEN.finditer(pattern)]
    unknown = [n for n in names if n != "seq" and n not in _DATE_TOKENS]
    if unknown:
        raise ValidationError(FieldError("number_pattern", "编号规则", f"不认识的占位符 {{{unknown[0]}}}"))
    literal = _TOKEN.sub("", pattern)
    if "{" in literal or "}" in literal:
        raise ValidationError(FieldError("number_pattern", "编号规则", "含有无法识别的花括号内容"))
    if names.count("seq") != 1:
        raise ValidationError(FieldError("number_pattern", "编号规则", "须包含且只包含一个流水号 {seq}"))
    return pattern


def format_complaint_number(pattern: str, when: date, serial: int) -> str:
    """``TS{yyyymmdd}-{seq:03}`` → ``TS20261124-003``; ``{yymm}{seq:02}`` → ``261103``.

    A serial wider than its width is written in full (``{seq:02}`` with 100 → ``100``), never cut.
    """
    validate_number_pattern(pattern)
    if serial < 1:
        raise ValueError(f"serial must be ≥ 1, got {serial}")

    def render(m: re.Match[str]) -> str:
        name, width = m.group(1), m.group(2)
        if name == "seq":
            return str(serial).zfill(int(width)) if width else str(serial)
        return when.strftime(_DATE_TOKENS[name][0])

    return _TOKEN.sub(render, pattern)


def sequence_scope(pattern: str, when: date) -> str:
    """The counter a serial belongs to: ``day:2026-11-24``, ``month:2026-11``, ``year:2026`` or ``all``,
    after the finest date token in the pattern. Storage keeps one counter per scope key."""
    validate_number_pattern(pattern)
    scope = "all"
    for m in _TOKEN.finditer(pattern):
        if m.group(1) in _DATE_TOKENS:
            candidate = _DATE_TOKENS[m.group(1)][1]
            if _SCOPE_ORDER[candidate] > _SCOPE_ORDER[scope]:
                scope = candidate
    if scope == "day":
        return f"day:{when.isoformat()}"
    if scope == "month":
        return f"month:{when:%Y-%m}"
    if scope == "year":
        return f"year:{when.year}"
    return "all"


_MESSAGE_PREFIX = {MessageKind.CONSULTATION: "ZX", MessageKind.SUGGESTION: "JY"}


def number_pattern(kind: MessageKind, policy: ComplaintPolicy) -> str:
    """投诉 are numbered by the office's pattern; 咨询 and 建议 by their own (``ZX``/``JY`` + date + serial)."""
    kind = MessageKind(kind)
    if kind in _MESSAGE_PREFIX:
        return _MESSAGE_PREFIX[kind] + "{yyyymmdd}-{seq:03}"
    return policy.number_pattern


def number_counter(kind: MessageKind, pattern: str, when: date) -> str:
    """The counter a number's serial is drawn from: one per kind and scope (``complaint:投诉:day:2026-11-24``)."""
    return f"complaint:{MessageKind(kind).value}:{sequence_scope(pattern, when)}"


# ------------------------------------------------------------------------------- repeat detection


@dataclass(frozen=True, slots=True)
class RepeatCandidate:
    """What is being typed at intake."""

    customer_id: int | None = None
    phone: str = ""
    subject: str = ""


@dataclass(frozen=True, slots=True)
class ExistingComplaint:
    customer_id: int | None
    phone: str
    subject: str
    received_on: date
    state: ComplaintState


def _clean_subject(text: str) -> str:
    return "".join(ch for ch in to_halfwidth(text or "").lower() if ch.isalnum())


def _grams(text: str) -> frozenset[str]:
    if len(text) < 2:
        return frozenset(text)
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def subject_similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams, ignoring punctuation, spaces, width and case (0.0–1.0)."""
    ca, cb = _clean_subject(a), _clean_subject(b)
    if not ca or not cb:
        return 0.0
    if ca == cb:
        return 1.0
    ga, gb = _grams(ca), _grams(cb)
    return len(ga & gb) / len(ga | gb)


def _phone_key(raw: str) -> str:
    if not raw or not raw.strip():
        return ""
    try:
        return normalize_phone(raw)
    except ValidationError:
        return "".join(ch for ch in to_halfwidth(raw) if ch.isdigit())


def is_likely_repeat(
    candidate: RepeatCandidate, existing: ExistingComplaint, policy: ComplaintPolicy, now: datetime | date
) -> bool:
    """Same customer or phone, a similar subject, and the existing complaint received within the repeat
    window (90 days) or still open."""
    today = now.date() if isinstance(now, datetime) else now
    recent = (today - existing.received_on).days <= policy.repeat_window_days
    if not (recent or ComplaintState(existing.state).is_open):
        return False
    same_customer = candidate.customer_id is not None and candidate.customer_id == existing.customer_id
    phone = _phone_key(candidate.phone)
    same_phone = bool(phone) and phone == _phone_key(existing.phone)
    if not (same_customer or same_phone):
        return False
    return subject_similarity(candidate.subject, existing.subject) >= policy.repeat_similarity


def likely_repeats(
    candidate: RepeatCandidate,
    existing: Iterable[ExistingComplaint],
    policy: ComplaintPolicy,
    now: datetime | date,
) -> list[ExistingComplaint]:
    """The likely repeats among ``existing``, most similar subject first."""
    hits = [e for e in existing if is_likely_repeat(candidate, e, policy, now)]
    return sorted(hits, key=lambda e: subject_similarity(candidate.subject, e.subject), reverse=True)


__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_NUMBER_PATTERN",
    "MONTHLY_NUMBER_PATTERN",
    "OPEN_STATES",
    "BySeverity",
    "Channel",
    "ComplaintPolicy",
    "ComplaintState",
    "Deadlines",
    "ExistingComplaint",
    "MessageKind",
    "RepeatCandidate",
    "Severity",
    "TransitionFacts",
    "check_transition",
    "closing_outcome",
    "closing_visit_due",
    "closing_visit_role",
    "current_deadline",
    "deadlines",
    "escalated_role",
    "format_complaint_number",
    "handler_role",
    "is_convertible",
    "is_likely_repeat",
    "is_overdue",
    "likely_repeats",
    "needs_chase",
    "needs_closing_visit",
    "needs_inquiry",
    "needs_new_visit",
    "queue_sort_key",
    "sequence_scope",
    "should_escalate",
    "subject_similarity",
    "validate_number_pattern",
]
