"""Who follows a complaint and what happens when it is late (domain.md §1 and §7; seed 002).

* **首问责任人** (002 制度5 §8): the person who first took the call stays on the case as its follower. Every
  step (受理, 转交, 办结转回访, 答复客户, 结案回访, 关闭) is reported back to them within
  :attr:`FollowPolicy.feedback_hours` (default 2 h: “客户中心协调处理完毕，须于2小时内反馈首问责任人”).
* **催办 / 督办** (002 制度3 第十三条, 制度6 (十四), 制度15 第十四条): an overdue case is *chased* — the handler
  and the responsible department's head get a 催办 notice, and after more working days the next level is told
  (上报) — but the handler keeps the case. Only a supervisor's explicit 转交 moves it. A manager may put a
  重大 case under 督办 (a recorded event). The ladder is a setting: after N working days overdue → who.
* **查办**: a complaint closed after its 处理期限 (or still open past it by N working days) gets a 查办 record
  (why late, measures, who decided), entered by a supervisor (“对于处理时效逾期案件，应开具‘查办单’送有关部门
  追查逾期原因”, 002 制度3 第十三条).

Pure rules, no database: the services apply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from huifang_desktop.domain.complaints import ComplaintState, MessageKind, is_overdue
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.workcal import WorkCalendar


class Recipient(StrEnum):
    """Who a rung of the 催办 ladder notifies."""

    HANDLER = "handler"  # the complaint's 负责人
    DEPARTMENT_HEAD = "department_head"  # the responsible department's head (部门主管)
    NEXT_LEVEL = "next_level"  # the level above the handler's (clerk → 主管 → 经理)
    MANAGER = "manager"  # the 公司经理 (总经理室)
    FIRST_RESPONDER = "first_responder"  # the 首问责任人

    @property
    def label(self) -> str:
        return _RECIPIENT_LABELS[self]


_RECIPIENT_LABELS = {
    Recipient.HANDLER: "负责人",
    Recipient.DEPARTMENT_HEAD: "责任部门主管",
    Recipient.NEXT_LEVEL: "上一级",
    Recipient.MANAGER: "公司经理",
    Recipient.FIRST_RESPONDER: "首问责任人",
}


class NoticeKind(StrEnum):
    """What a follow-up notice (提醒) is about."""

    FEEDBACK = "进度反馈"  # a step of the case, to the 首问责任人
    CHASE = "催办"  # overdue: to the handler and the department
    REPORT = "上报"  # overdue longer: to the next level
    SUPERVISE = "督办"  # a manager supervises a 重大 case
    INQUIRY = "查办"  # a late case needs (or got) its 查办


class Lateness(StrEnum):
    """The 投诉台账's 是否逾期."""

    NONE = "否"
    CLOSED_LATE = "逾期办结"
    OPEN_LATE = "逾期未办"


class InquiryState(StrEnum):
    """The 投诉台账's 查办 column."""

    NOT_NEEDED = "无需"
    PENDING = "待查办"
    DONE = "已查办"


# Steps of a case reported back to the 首问责任人 (event actions of the complaint services → feedback text).
FEEDBACK_STEPS: Mapping[str, str] = {
    "受理": "已受理",
    "转交": "已转交",
    "办结转回访": "已处理完毕，待结案回访",
    "答复客户": "已答复客户",
    "答复": "已答复",
    "结案回访": "已结案回访",
    "回访不满意退回": "回访不满意，退回处理",
    "关闭": "已关闭",
    "撤销": "已撤销",
}


@dataclass(frozen=True, slots=True)
class ChaseRung:
    """After ``after_workdays`` working days overdue, ``notify`` are told (``kind``: 催办 or 上报)."""

    after_workdays: int
    notify: tuple[Recipient, ...]
    kind: NoticeKind = NoticeKind.CHASE

    def to_dict(self) -> dict[str, Any]:
        return {
            "after_workdays": self.after_workdays,
            "notify": [str(r) for r in self.notify],
            "kind": str(self.kind),
        }

    @classmethod
    def from_dict(cls, data: Any) -> ChaseRung:
        if not isinstance(data, Mapping):
            raise TypeError(data)
        after = data.get("after_workdays")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(after)
        notify = data.get("notify")
        if isinstance(notify, str) or not isinstance(notify, Iterable):
            raise TypeError(notify)
        who = tuple(Recipient(r) for r in notify)
        kind = NoticeKind(data.get("kind", NoticeKind.CHASE.value))
        if not who or kind not in (NoticeKind.CHASE, NoticeKind.REPORT):
            raise ValueError(data)
        return cls(after, who, kind)


DEFAULT_LADDER: tuple[ChaseRung, ...] = (
    ChaseRung(0, (Recipient.HANDLER, Recipient.DEPARTMENT_HEAD), NoticeKind.CHASE),
    ChaseRung(1, (Recipient.NEXT_LEVEL,), NoticeKind.REPORT),
    ChaseRung(3, (Recipient.MANAGER,), NoticeKind.REPORT),
)


@dataclass(frozen=True, slots=True)
class FollowPolicy:
    """The office's follow-up settings (key ``complaint_follow``); every number is a default."""

    feedback_hours: int = 2  # 首问责任人 told within N hours of each step (002 制度5 §8)
    ladder: tuple[ChaseRung, ...] = DEFAULT_LADDER
    inquiry_open_workdays: int = 3  # an open case this many working days past its 处理期限 needs a 查办

    def to_dict(self) -> dict[str, Any]:
        return {
            "feedback_hours": self.feedback_hours,
            "ladder": [r.to_dict() for r in self.ladder],
            "inquiry_open_workdays": self.inquiry_open_workdays,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FollowPolicy:
        """Missing keys keep their defaults; bad values raise ValidationError naming the setting."""
        d = cls()
        errors: list[FieldError] = []

        def count(key: str, label: str, default: int) -> int:
            value = data.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors.append(FieldError(key, label, f"设置值“{value}”无效"))
                return default
            return value

        ladder = d.ladder
        if "ladder" in data:
            try:
                raw = data["ladder"]
                if isinstance(raw, str) or not isinstance(raw, Iterable):
                    raise TypeError(raw)
                ladder = tuple(sorted((ChaseRung.from_dict(r) for r in raw), key=lambda r: r.after_workdays))
            except (TypeError, ValueError):
                errors.append(FieldError("ladder", "催办规则", "每一级须有逾期工作日数（≥0）和通知对象"))
        policy = cls(
            count("feedback_hours", "首问反馈时限（小时）", d.feedback_hours),
            ladder,
            count("inquiry_open_workdays", "逾期未办查办天数（工作日）", d.inquiry_open_workdays),
        )
        if errors:
            raise ValidationError(errors)
        return policy


# --------------------------------------------------------------------------------------- 首问责任人


def feedback_due(step_at: datetime, policy: FollowPolicy) -> datetime:
    """By when the 首问责任人 must have heard of a step made at ``step_at``."""
    return step_at + timedelta(hours=policy.feedback_hours)


def feedback_text(action: str) -> str | None:
    """The notice text for an event ``action``, or None when the step is not reported back."""
    return FEEDBACK_STEPS.get(action)


def needs_feedback(action: str, actor_id: int | None, first_responder_id: int | None) -> bool:
    """A reported step, and the 首问责任人 is someone other than who made it (nobody tells himself)."""
    return first_responder_id is not None and action in FEEDBACK_STEPS and actor_id != first_responder_id


# --------------------------------------------------------------------------------------- 催办 ladder


def overdue_workdays(deadline: datetime, now: datetime, cal: WorkCalendar) -> int:
    """Whole working days ``now`` is past ``deadline`` (0 on the day it went overdue); -1 when not overdue."""
    if now <= deadline:
        return -1
    days = cal.workdays_between(deadline.date(), now.date())
    if now.time() < deadline.time():  # the last working day is not yet a whole one
        days -= 1
    return max(0, days)


def rungs_due(ladder: Sequence[ChaseRung], sent: int, late_workdays: int) -> list[tuple[int, ChaseRung]]:
    """The ladder's rungs reached by ``late_workdays`` and not yet sent (``sent`` rungs already were), with
    their index; an overdue case runs up the ladder one start at a time or several at once."""
    if late_workdays < 0:
        return []
    return [(i, r) for i, r in enumerate(ladder) if i >= sent and r.after_workdays <= late_workdays]


# --------------------------------------------------------------------------------------- 查办


def lateness(
    kind: str,
    state: str,
    deadline: datetime | None,
    handling_due: datetime | None,
    closed_at: datetime | None,
    now: datetime,
) -> Lateness:
    """是否逾期: closed after its 处理期限 → 逾期办结; open past its current deadline → 逾期未办; else 否.
    Withdrawn cases and 咨询/建议 are never 逾期办结."""
    st = ComplaintState(state)
    if st is ComplaintState.CLOSED:
        late = (
            kind == MessageKind.COMPLAINT.value
            and closed_at is not None
            and handling_due is not None
            and closed_at > handling_due
        )
        return Lateness.CLOSED_LATE if late else Lateness.NONE
    return Lateness.OPEN_LATE if is_overdue(st, deadline, now) else Lateness.NONE


def inquiry_cutoff(now: datetime, policy: FollowPolicy, cal: WorkCalendar) -> datetime:
    """An open complaint whose 处理期限 is before this moment needs a 查办 (N working days past it)."""
    day, n = now.date(), policy.inquiry_open_workdays
    while n > 0:
        day -= timedelta(days=1)
        if cal.is_workday(day):
            n -= 1
    return datetime.combine(day, now.time())


def needs_inquiry(
    kind: str,
    state: str,
    handling_due: datetime | None,
    closed_at: datetime | None,
    now: datetime,
    policy: FollowPolicy,
    cal: WorkCalendar,
) -> bool:
    """A complaint closed after its 处理期限, or still open N working days past it (002 制度3 第十三条)."""
    if kind != MessageKind.COMPLAINT.value or handling_due is None:
        return False
    st = ComplaintState(state)
    if st is ComplaintState.CLOSED:
        return closed_at is not None and closed_at > handling_due
    return st.is_open and handling_due < inquiry_cutoff(now, policy, cal)


def inquiry_state(needed: bool, recorded: bool) -> InquiryState:
    if recorded:
        return InquiryState.DONE
    return InquiryState.PENDING if needed else InquiryState.NOT_NEEDED
