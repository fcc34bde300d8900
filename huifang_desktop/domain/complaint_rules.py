"""Complaint rules from the office rule books that sit beside :class:`~huifang_desktop.domain.complaints.ComplaintPolicy`:
authority levels (核决权限), independent verification of the handling, and the deadlines the rule books add.

* **Authority levels** (002 制度3 第一条 “核决权限”; 第九条 6: “依据核决权限送…经理、副总经理或总经理审批”): the
  level that must sign a closed complaint file follows its severity — by default 一般 → 主管, 重要 → 主管,
  重大 → 经理. A lower level cannot sign it, and the printed 投诉处理表 carries that level's signature box.
* **Independent verification** (002 制度5 §5 “反馈客户中心，以便跟进验证和回访顾客”; 制度9: the closing visit is
  made by the 人事行政经理, not by the department that handled it): the closing visit is made by somebody other
  than the handler, at the level :func:`verifier_levels` asks. Whether it applies is not a complaint rule: the
  office-wide visitor independence (001 篇11, setting ``independent_visitor``, 设置 → 回访规则) decides it
  with the record-time check — one switch for one rule (the former ``independent_closing_visit`` was folded
  into it by migration 0020; a stored dict that still holds it is read without error, the key ignored).
* **Deadlines**: the satisfying reply (002 制度9: “2个工作日内给予客户满意答复”); 咨询 answered within N working
  hours, counted in office hours only, so never on a non-working day (002 制度11: “在24小时答复客户”); a
  建议's reply date promised per case; handling limits by customer origin (002 制度3 第十条: 14–21 days,
  制度6: 国内 13 / 国外 17 days, 制度15: 国内 15 / 国外 20 days); the property office's urgent timings (002
  制度5 §1–§5: report within 24 h, dispatch within 12 h, report back within 2 h of finishing).

Every number is a setting in :class:`ComplaintRules` (stored beside the complaint policy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from huifang_desktop.domain.complaints import (
    BySeverity,
    ComplaintPolicy,
    Deadlines,
    MessageKind,
    Severity,
    deadlines,
    pick_user,
)
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import TOP_LEVEL, Role, reaches_level
from huifang_desktop.domain.validation import clean_text
from huifang_desktop.domain.workcal import WorkCalendar

SIGN_LABELS = {Role.CLERK: "处理人", Role.SUPERVISOR: "部门主管", Role.MANAGER: "公司经理"}


@dataclass(frozen=True, slots=True)
class UrgentTimings:
    """Property offices' timings for urgent matters (002 制度5 §1, §2, §5), in clock hours."""

    report_hours: int = 24  # whoever takes the call reports it to the customer centre
    dispatch_hours: int = 12  # the centre passes it to the department
    report_back_hours: int = 2  # the department reports back after finishing

    def to_dict(self) -> dict[str, int]:
        return {
            "report_hours": self.report_hours,
            "dispatch_hours": self.dispatch_hours,
            "report_back_hours": self.report_back_hours,
        }


DEFAULT_SIGN_ROLES: BySeverity[Role] = BySeverity(Role.SUPERVISOR, Role.SUPERVISOR, Role.MANAGER)


@dataclass(frozen=True, slots=True)
class ComplaintRules:
    """The office's authority table, verification and extra deadlines; every field has a default."""

    sign_roles: BySeverity[Role] = DEFAULT_SIGN_ROLES  # 一般 → 主管, 重要 → 主管, 重大 → 经理
    # who makes the closing visit when visitor independence covers it; None: the level the severity asks
    verifier_role: Role | None = None
    satisfying_reply_workdays: int = 2  # 002 制度9
    consultation_workhours: int = 8  # 咨询: N office hours (≈ “24 小时” of working time)
    workday_start: time = time(8, 30)
    origin_days: Mapping[str, int] = field(default_factory=dict)  # 国内/国外 → calendar days to close
    urgent: UrgentTimings | None = None  # property offices only

    def to_dict(self) -> dict[str, Any]:
        return {
            "sign_roles": self.sign_roles.to_dict(str),
            "verifier_role": self.verifier_role.value if self.verifier_role else "",
            "satisfying_reply_workdays": self.satisfying_reply_workdays,
            "consultation_workhours": self.consultation_workhours,
            "workday_start": self.workday_start.strftime("%H:%M"),
            "origin_days": dict(self.origin_days),
            "urgent": self.urgent.to_dict() if self.urgent else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComplaintRules:
        """Build from stored settings; missing keys keep their defaults, unknown ones (such as the retired
        ``independent_closing_visit``) are ignored, bad values raise ValidationError."""
        d = cls()
        errors: list[FieldError] = []

        def take(key: str, label: str, convert: Callable[[Any], Any], default: Any) -> Any:
            if key not in data:
                return default
            try:
                return convert(data[key])
            except (TypeError, ValueError, KeyError):
                errors.append(FieldError(key, label, f"设置值“{data[key]}”无效"))
                return default

        def roles(value: Any) -> BySeverity[Role]:
            if not isinstance(value, Mapping):
                raise TypeError(value)
            return BySeverity.from_dict(value, _business_role, d.sign_roles)

        rules = cls(
            sign_roles=take("sign_roles", "核决权限", roles, d.sign_roles),
            verifier_role=take(
                "verifier_role", "验证回访人级别", lambda v: _business_role(v) if v else None, d.verifier_role
            ),
            satisfying_reply_workdays=take(
                "satisfying_reply_workdays", "满意答复期限", _count, d.satisfying_reply_workdays
            ),
            consultation_workhours=take(
                "consultation_workhours", "咨询答复工作小时", _count, d.consultation_workhours
            ),
            workday_start=take(
                "workday_start", "上班时间", lambda v: time.fromisoformat(str(v)), d.workday_start
            ),
            origin_days=take("origin_days", "按客户来源的处理期限", _origin_days, d.origin_days),
            urgent=take("urgent", "紧急事项时限", _urgent, d.urgent),
        )
        if errors:
            raise ValidationError(errors)
        return rules


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def _business_role(value: Any) -> Role:
    role = Role(value)
    if role is Role.ADMIN:
        raise ValueError(value)
    return role


def _origin_days(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise TypeError(value)
    out = {clean_text(str(k)): _count(v) for k, v in value.items()}
    if any(not k for k in out):
        raise ValueError(value)
    return out


def _urgent(value: Any) -> UrgentTimings | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(value)
    d = UrgentTimings()
    return UrgentTimings(
        _count(value.get("report_hours", d.report_hours)),
        _count(value.get("dispatch_hours", d.dispatch_hours)),
        _count(value.get("report_back_hours", d.report_back_hours)),
    )


# ------------------------------------------------------------------------------ authority levels


def sign_level(severity: Severity | str, rules: ComplaintRules) -> Role:
    """The level that must sign the complaint file of ``severity`` (核决权限)."""
    return rules.sign_roles[Severity(severity)]


def sign_refusal(actor: Role, severity: Severity | str, rules: ComplaintRules) -> str:
    """Why ``actor`` may not sign a complaint file of ``severity``; "" when he may."""
    required = sign_level(severity, rules)
    if reaches_level(actor, required):
        return ""
    return f"{Severity(severity)}投诉须由{required.label}或更高级别签字（核决权限），{actor.label}不能签署"


def own_file_signable(
    actor: Role, severity: Severity | str, rules: ComplaintRules, *, others_at_top: int
) -> bool:
    """Whether the handler may sign his own complaint file: when its 核决权限 asks for the top of the ladder
    (经理), he stands there and no other active person does (``others_at_top``), nobody else can — 002 制度3
    §6 sends a case up to the level it asks, the program's ladder ends at 公司经理, and domain.md §7 has 重大
    handled by 公司经理. With a second manager in the office, that one signs."""
    return sign_level(severity, rules) is TOP_LEVEL and actor is TOP_LEVEL and others_at_top == 0


OWN_TOP_LEVEL_NOTE = "本人签字：核决权限已是最高级别（公司经理），无更高级别可签"


def signature_boxes(
    severity: Severity | str, rules: ComplaintRules, signed_role: Role | None = None
) -> tuple[str, ...]:
    """The signature boxes of the printed 投诉处理表: the handler, the level that must sign, and the signer's
    level when somebody higher signed."""
    boxes = [SIGN_LABELS[Role.CLERK], SIGN_LABELS[sign_level(severity, rules)]]
    if signed_role is not None and signed_role in SIGN_LABELS and SIGN_LABELS[signed_role] not in boxes:
        boxes.append(SIGN_LABELS[signed_role])
    return tuple(boxes)


# ------------------------------------------------------------------------- independent verification


def verifier_levels(closing_level: Role, rules: ComplaintRules) -> tuple[Role, ...]:
    """The levels asked, in order, for the person who makes the closing visit: the configured verifier role
    (or the closing-visit level), then the levels above it, then the customer centre (客服专员)."""
    first = rules.verifier_role or closing_level
    out = [first] + [r for r in (Role.SUPERVISOR, Role.MANAGER) if r.rank > first.rank]
    if Role.CLERK not in out:
        out.append(Role.CLERK)
    return tuple(out)


def pick_verifier(
    people_by_level: Mapping[Role, Sequence[tuple[int, int | None]]],
    handler_id: int | None,
    closing_level: Role,
    department_id: int | None,
    rules: ComplaintRules,
    prefer: Sequence[int | None] = (),
) -> int | None:
    """Who makes the closing visit when verification is independent: somebody other than the handler, at the
    first of :func:`verifier_levels` that has such a person (the preferred ones first); None when nobody
    else is there (the caller then falls back to its usual pick)."""
    for level in verifier_levels(closing_level, rules):
        others = [(uid, dep) for uid, dep in people_by_level.get(level, ()) if uid != handler_id]
        chosen = pick_user(others, department_id, [p for p in prefer if p != handler_id])
        if chosen is not None:
            return chosen
    return None


# ----------------------------------------------------------------------------------- deadlines


def add_work_hours(
    start: datetime, hours: float, cal: WorkCalendar, day_start: time, day_end: time
) -> datetime:
    """``hours`` office hours after ``start``, counting only the hours between ``day_start`` and ``day_end``
    of working days; the result is always inside office hours of a working day."""
    remaining = timedelta(hours=hours)
    moment = start
    while True:
        day = moment.date()
        if not cal.is_workday(day) or moment.time() >= day_end:
            moment = datetime.combine(
                cal.next_workday(day + timedelta(days=1)), day_start, tzinfo=start.tzinfo
            )
            continue
        if moment.time() < day_start:
            moment = datetime.combine(day, day_start, tzinfo=start.tzinfo)
        left_today = datetime.combine(day, day_end, tzinfo=start.tzinfo) - moment
        if remaining <= left_today:
            return moment + remaining
        remaining -= left_today
        moment = datetime.combine(cal.next_workday(day + timedelta(days=1)), day_start, tzinfo=start.tzinfo)


def consultation_due(
    received_at: datetime, rules: ComplaintRules, cal: WorkCalendar, day_end: time
) -> datetime:
    """咨询: answered within ``consultation_workhours`` office hours of receipt (never on a non-working day)."""
    return add_work_hours(received_at, rules.consultation_workhours, cal, rules.workday_start, day_end)


def satisfying_reply_due(
    received_at: datetime, rules: ComplaintRules, cal: WorkCalendar, day_end: time
) -> datetime:
    """The satisfying reply (满意答复) of a complaint: ``satisfying_reply_workdays`` working days after the day
    it was received (a message after hours or on a non-working day counts from the next working day)."""
    day = received_at.date()
    if not cal.is_workday(day) or received_at.time() > day_end:
        day = cal.next_workday(day + timedelta(days=1))
    return datetime.combine(
        cal.add_workdays(day, rules.satisfying_reply_workdays), day_end, tzinfo=received_at.tzinfo
    )


def promised_reply_due(
    received_at: datetime, promised_on: date, cal: WorkCalendar, day_end: time
) -> datetime:
    """A 建议's reply date promised to the customer at intake: not before the day received, and a working
    day; the deadline is the end of that day."""
    if promised_on < received_at.date():
        raise ValidationError(FieldError("promised_reply_on", "答复日期", "承诺的答复日期不能早于受理日期"))
    if not cal.is_workday(promised_on):
        raise ValidationError(
            FieldError("promised_reply_on", "答复日期", f"{promised_on:%Y-%m-%d} 不是工作日，请另选答复日期")
        )
    return datetime.combine(promised_on, day_end, tzinfo=received_at.tzinfo)


def origin_handling_due(
    received_at: datetime, origin: str, rules: ComplaintRules, cal: WorkCalendar, day_end: time
) -> datetime | None:
    """The handling limit of a complaint from a customer of ``origin`` (国内/国外…) when the office sets one:
    N calendar days from receipt, moved to a working day; None when the origin has no limit of its own."""
    days = rules.origin_days.get(clean_text(origin or ""))
    if days is None:
        return None
    return datetime.combine(
        cal.next_workday(received_at.date() + timedelta(days=days)), day_end, tzinfo=received_at.tzinfo
    )


def rule_book_deadlines(
    received_at: datetime,
    kind: MessageKind | str,
    severity: Severity | str,
    policy: ComplaintPolicy,
    rules: ComplaintRules,
    cal: WorkCalendar,
    *,
    special: bool = False,
    promised_on: date | None = None,
    origin: str = "",
) -> Deadlines:
    """:func:`~huifang_desktop.domain.complaints.deadlines` with the rule books' variants: a 咨询 within
    N office hours (:func:`consultation_due`), a 建议 by the date promised at intake (else the default), and a
    complaint's handling limit by customer origin when the office sets one (not for 特殊情况)."""
    kind = MessageKind(kind)
    if kind is MessageKind.CONSULTATION:
        due = consultation_due(received_at, rules, cal, policy.workday_end)
        return Deadlines(due, due)
    if kind is MessageKind.SUGGESTION and promised_on is not None:
        due = promised_reply_due(received_at, promised_on, cal, policy.workday_end)
        return Deadlines(due, due)
    base = deadlines(received_at, kind, Severity(severity), policy, cal, special=special)
    by_origin = (
        None
        if special or kind is not MessageKind.COMPLAINT
        else origin_handling_due(received_at, origin, rules, cal, policy.workday_end)
    )
    return base if by_origin is None else Deadlines(base.first_reply, by_origin)


@dataclass(frozen=True, slots=True)
class UrgentDeadlines:
    reported_by: datetime  # to the customer centre
    dispatched_by: datetime  # to the department
    report_back_hours: int  # after the department finishes


def urgent_deadlines(received_at: datetime, timings: UrgentTimings) -> UrgentDeadlines:
    """Property offices' clock-hour timings of an urgent matter (002 制度5 §1, §2, §5)."""
    reported = received_at + timedelta(hours=timings.report_hours)
    return UrgentDeadlines(
        reported, received_at + timedelta(hours=timings.dispatch_hours), timings.report_back_hours
    )


def report_back_due(finished_at: datetime, timings: UrgentTimings) -> datetime:
    return finished_at + timedelta(hours=timings.report_back_hours)


__all__ = [
    "DEFAULT_SIGN_ROLES",
    "OWN_TOP_LEVEL_NOTE",
    "SIGN_LABELS",
    "ComplaintRules",
    "UrgentDeadlines",
    "UrgentTimings",
    "add_work_hours",
    "consultation_due",
    "origin_handling_due",
    "own_file_signable",
    "pick_verifier",
    "promised_reply_due",
    "report_back_due",
    "rule_book_deadlines",
    "satisfying_reply_due",
    "sign_level",
    "sign_refusal",
    "signature_boxes",
    "urgent_deadlines",
    "verifier_levels",
]
