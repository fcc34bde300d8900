"""Visits (回访): types, methods, results, plan states, satisfaction scales, numbering and phone scripts.

Pure domain code (domain.md §4–§5): no Qt, no database. The visit *rules* and planning live in
:mod:`huifang_desktop.domain.schedule`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.domain.validation import require_text


class VisitType(StrEnum):
    """回访类型."""

    ROUTINE = "例行"
    TECHNICAL = "技术"
    DELIVERY = "到货"
    USAGE = "使用"
    SATISFACTION = "满意度"
    REPAIR = "维修"
    COMPLAINT = "投诉"
    SPECIAL = "专项"
    HOLIDAY = "节日"
    EVENT = "活动"
    ACCOUNT = "开户"
    FIRST_SERVICE = "首保"
    INSPECTION = "年检"
    INSURANCE = "续保"
    BIRTHDAY = "生日"


class VisitMethod(StrEnum):
    """回访方式."""

    ON_SITE = "上门"
    PHONE = "电话"
    SMS = "短信"
    EMAIL = "邮件"
    WECHAT = "微信"
    LETTER = "书信"


class VisitResult(StrEnum):
    """结果 of one visit attempt."""

    SUCCESS = "成功"
    NO_ANSWER = "未接通"
    REFUSED = "拒绝"
    UNREACHABLE = "不可达"
    CALL_AGAIN = "需再次回访"


class PlanState(StrEnum):
    """Stored state of a planned visit. 逾期 (overdue) is never stored: see :func:`display_state`."""

    PENDING = "待回访"
    DONE = "已回访"
    CANCELLED = "已取消"


OVERDUE = "逾期"


# --- plan state -------------------------------------------------------------------------------------


_PLAN_STATES = frozenset(PlanState)  # a StrEnum member equals (and hashes as) its text


def _plan_state(state: PlanState | str) -> str:
    """``state`` checked against :class:`PlanState` (ValueError otherwise), as its text. A set look-up: the
    回访台账 export reads 100,000 states, and ``PlanState(state)`` costs several times as much."""
    if state in _PLAN_STATES:
        return str(state)
    return PlanState(state).value  # raises the enum's ValueError


def is_overdue(state: PlanState | str, due: date, today: date) -> bool:
    """Overdue (逾期): still 待回访 and today is after the due date. Done or cancelled plans never are."""
    return _plan_state(state) == PlanState.PENDING and today > due


def display_state(state: PlanState | str, due: date, today: date) -> str:
    """The state shown to users: the stored state, or ``"逾期"`` for an overdue pending plan."""
    text = _plan_state(state)
    if text == PlanState.PENDING and today > due:
        return OVERDUE
    return text


def done_on_time(done_on: date, due: date) -> bool:
    """A visit counts as on time (按时) when it was done on or before its (workday-shifted) due date."""
    return done_on <= due


# --- who may re-date or cancel a plan (改期 / 取消计划) ------------------------------------------------------
# One rule for the service that refuses and the calendar that enables its buttons (Stoq's ``can_*``).


def may_change_others_plans(role: Role) -> bool:
    """Another person's plan is re-dated or cancelled by who may reassign work (a supervisor); a clerk only
    changes plans that are their own or nobody's."""
    return can(role, Permission.REASSIGN)


def change_needs_supervisor(due: date, today: date) -> bool:
    """A miss stands (domain.md §9): once the due day has passed, a plan is re-dated or cancelled only by who
    may edit overdue plans, with a reason; until then (the visit can still be made that day) by its owner."""
    return today > due


def may_change_after_due(role: Role) -> bool:
    return can(role, Permission.EDIT_OVERDUE_PLANS)


def can_change_plan(role: Role, state: PlanState | str, due: date, today: date, *, own: bool) -> bool:
    """The plan may be re-dated or cancelled by a user of ``role`` (``own``: it is theirs or nobody's): it is
    pending, the user may change it, and before its due day has passed or by who may edit overdue plans."""
    return (
        PlanState(state) is PlanState.PENDING
        and can(role, Permission.EDIT_CUSTOMERS)
        and (own or may_change_others_plans(role))
        and (not change_needs_supervisor(due, today) or may_change_after_due(role))
    )


def cancel_reason(reason: str | None) -> str:
    """A cancelled plan (已取消) must say why; returns the cleaned reason or raises naming the field."""
    return require_text(reason, label="取消原因", field="cancel_reason", max_len=500)


# --- rates ------------------------------------------------------------------------------------------


def _rate(part: int, planned: int, part_label: str, part_field: str) -> float | None:
    if part < 0:
        raise ValidationError(FieldError(part_field, part_label, "不能为负数"))
    if planned < 0:
        raise ValidationError(FieldError("planned", "计划回访数", "不能为负数"))
    if planned == 0:
        return None
    return part / planned


def visit_rate(done: int, planned: int) -> float | None:
    """回访率 = done ÷ planned (a ratio, 1.0 = 100 %); None when nothing was planned."""
    return _rate(done, planned, "已回访数", "done")


def on_time_rate(on_time: int, planned: int) -> float | None:
    """按时回访率 = done by the due date ÷ planned; None when nothing was planned."""
    return _rate(on_time, planned, "按时回访数", "on_time")


# --- signatures -------------------------------------------------------------------------------------


_ON_SITE_ONLY = (VisitMethod.ON_SITE,)
_METHODS = frozenset(VisitMethod)


def needs_signature(
    method: VisitMethod | str, signed_methods: Iterable[VisitMethod | str] = _ON_SITE_ONLY
) -> bool:
    """An on-site visit (上门) needs the customer's signature (on paper or on screen), domain.md §5."""
    if signed_methods == _ON_SITE_ONLY and method in _METHODS:  # the usual call, without enum look-ups
        return method == VisitMethod.ON_SITE
    return VisitMethod(method) in {VisitMethod(m) for m in signed_methods}


def signature_substitute(method: VisitMethod | str) -> str | None:
    """What stands in the 客户签字 box when no signature is needed: ``"电话回访"`` for a phone visit."""
    if needs_signature(method):
        return None
    return f"{VisitMethod(method).value}回访"


FORM_RECEIVED = "已回收"
FORM_MISSING = "未回收"
FORM_NOT_NEEDED = "无需"


def signed_form_state(method: VisitMethod | str | None, received: bool) -> str:
    """The 签字单 column of the 回访台账: an on-site visit's signed paper form 已回收 / 未回收; 无需 for the other
    methods; "" when there is no visit (a plan not yet done)."""
    if not method:
        return ""
    try:
        needed = needs_signature(method)
    except ValueError:  # a method of an imported history row outside the list: nothing to collect
        needed = False
    if not needed:
        return FORM_NOT_NEEDED
    return FORM_RECEIVED if received else FORM_MISSING


# --- satisfaction scales ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SatisfactionScale:
    """A satisfaction scale (满意度). ``levels`` run from best to worst; ``satisfied`` are the levels that
    count as satisfied (满意率, and no follow-up visit)."""

    key: str
    levels: tuple[str, ...]
    satisfied: frozenset[str]
    name: str = ""

    def __post_init__(self) -> None:
        if len(self.levels) < 2:
            raise ValidationError(FieldError("levels", "满意度选项", "至少需要两个选项"))
        if len(set(self.levels)) != len(self.levels):
            raise ValidationError(FieldError("levels", "满意度选项", "选项不能重复"))
        unknown = self.satisfied - set(self.levels)
        if unknown:
            raise ValidationError(
                FieldError("satisfied", "满意选项", f"“{'、'.join(sorted(unknown))}”不在选项中")
            )

    def _index(self, value: str) -> int:
        try:
            return self.levels.index(str(value).strip())
        except ValueError:
            raise ValidationError(
                FieldError("satisfaction", "满意度", f"“{value}”不是{self.name or self.key}的选项")
            ) from None

    def is_satisfied(self, value: str) -> bool:
        self._index(value)
        return str(value).strip() in self.satisfied

    def score(self, value: str) -> float:
        """0..100, best level 100, worst 0, evenly spaced (for averages across scales)."""
        index = self._index(value)
        return 100.0 * (len(self.levels) - 1 - index) / (len(self.levels) - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "levels": list(self.levels),
            "satisfied": [lv for lv in self.levels if lv in self.satisfied],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SatisfactionScale:
        return cls(
            key=str(data["key"]),
            levels=tuple(str(v) for v in data["levels"]),
            satisfied=frozenset(str(v) for v in data.get("satisfied", ())),
            name=str(data.get("name", "")),
        )


FIVE_LEVEL = SatisfactionScale(
    "five_level", ("很满意", "满意", "一般", "不满意", "很不满意"), frozenset({"很满意", "满意"}), "五级"
)
# Assumption: on the 10-point scale 7 and above count as satisfied.
TEN_POINT = SatisfactionScale(
    "ten_point", tuple(str(n) for n in range(10, 0, -1)), frozenset(str(n) for n in range(7, 11)), "十分制"
)
TWO_LEVEL = SatisfactionScale("two_level", ("满意", "不满意"), frozenset({"满意"}), "两级")
DEFAULT_SCALE = FIVE_LEVEL
SATISFACTION_SCALES: Mapping[str, SatisfactionScale] = MappingProxyType(
    {s.key: s for s in (FIVE_LEVEL, TEN_POINT, TWO_LEVEL)}
)


def average_score(values: Iterable[str], scale: SatisfactionScale = DEFAULT_SCALE) -> float | None:
    """Mean :meth:`SatisfactionScale.score` of the given answers; None when there are none."""
    scores = [scale.score(v) for v in values]
    return sum(scores) / len(scores) if scores else None


# --- record numbers ---------------------------------------------------------------------------------


def format_visit_number(day: date, serial: int, prefix: str = "HF") -> str:
    """回访记录表 编号: ``HF`` + date + ``-`` + the day's serial, at least 3 digits (``HF20261122-003``)."""
    if serial < 1:
        raise ValidationError(FieldError("serial", "流水号", "应从 1 开始"))
    return f"{prefix}{day:%Y%m%d}-{serial:03d}"


def parse_visit_number(number: str, prefix: str = "HF") -> tuple[date, int]:
    """The date and serial of a visit number made by :func:`format_visit_number`."""
    m = re.fullmatch(re.escape(prefix) + r"(\d{4})(\d{2})(\d{2})-(\d{3,})", number.strip())
    if not m:
        raise ValidationError(FieldError("number", "回访编号", f"“{number}”格式不对"))
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValidationError(FieldError("number", "回访编号", f"“{number}”中的日期无效")) from None
    return day, int(m.group(4))


# --- phone scripts (回访话术) -------------------------------------------------------------------------

DEFAULT_PHONE_SCRIPTS: Mapping[VisitType, tuple[str, ...]] = MappingProxyType(
    {
        VisitType.ROUTINE: (
            "最近产品和我们的服务用得怎么样？",
            "近期有没有新的需求或采购计划？",
            "对我们还有什么意见和建议？",
        ),
        VisitType.TECHNICAL: (
            "设备目前运行是否正常？",
            "使用中遇到过哪些技术问题？",
            "操作人员是否需要培训或技术资料？",
        ),
        VisitType.DELIVERY: (
            "货物是否已经收到？",
            "数量和配件是否齐全？",
            "外包装和产品有没有破损？",
        ),
        VisitType.USAGE: (
            "产品使用情况怎么样？",
            "使用中有没有遇到问题或疑问？",
            "需要我们提供使用指导吗？",
        ),
        VisitType.SATISFACTION: (
            "您对产品质量是否满意？",
            "您对我们的服务是否满意？",
            "还有哪些地方需要我们改进？",
        ),
        VisitType.REPAIR: (
            "维修人员的服务态度怎么样？",
            "维修是否及时？",
            "问题是否已经彻底解决？",
        ),
        VisitType.COMPLAINT: (
            "您反映的问题是否已经解决？",
            "您对处理结果是否满意？",
            "对处理过程还有什么意见？",
        ),
        VisitType.SPECIAL: (
            "我们就此事已经采取了措施，目前情况如何？",
            "您还有什么需要我们协助的？",
        ),
        VisitType.HOLIDAY: (
            "节日问候，感谢您一直以来的支持。",
            "节日期间如需服务，可随时联系我们。",
        ),
        VisitType.EVENT: (
            "您对本次活动的安排是否满意？",
            "活动内容对您是否有帮助？",
            "希望我们以后举办什么样的活动？",
        ),
        VisitType.ACCOUNT: (
            "开户手续办理是否顺利？",
            "相关业务规则和服务渠道是否清楚？",
            "对开户服务还有什么意见？",
        ),
        VisitType.FIRST_SERVICE: (
            "提醒您首次保养的时间和里程。",
            "是否需要为您预约首保？",
        ),
        VisitType.INSPECTION: (
            "提醒您车辆年检到期时间。",
            "是否需要我们协助办理年检？",
        ),
        VisitType.INSURANCE: (
            "提醒您车辆保险即将到期。",
            "是否需要为您报价或办理续保？",
        ),
        VisitType.BIRTHDAY: (
            "祝您生日快乐！",
            "感谢您对我们的支持，如有需要请随时联系我们。",
        ),
    }
)


def default_phone_scripts() -> dict[str, list[str]]:
    """A fresh, JSON-ready copy of the default scripts (keyed by the visit type's Chinese label)."""
    return {t.value: list(questions) for t, questions in DEFAULT_PHONE_SCRIPTS.items()}


def phone_script(
    visit_type: VisitType | str, scripts: Mapping[str, Iterable[str]] | None = None
) -> tuple[str, ...]:
    """The questions to show beside the form for a visit type: the office's own (from Settings) when it
    has some for that type, else the default."""
    vt = VisitType(visit_type)
    if scripts is not None and vt.value in scripts:
        return tuple(scripts[vt.value])
    return DEFAULT_PHONE_SCRIPTS[vt]


def ordered_counts(counts: Mapping[str, int], order: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """The non-zero counts of a report (by type, result, satisfaction level) in ``order``, then any other
    key alphabetically (a type or level no longer in the settings)."""
    known = [k for k in order if counts.get(k)]
    rest = sorted(k for k in counts if k not in set(known) and counts[k])
    return tuple((k, int(counts[k])) for k in [*known, *rest])
