"""The statistics' settings (``stats_options``, ``assessment_rules``), names and titles, and its error."""

from __future__ import annotations

from typing import Literal

from huifang_desktop.domain.complaints import ComplaintState, MessageKind
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.stats import AssessmentRules, StatsOptions
from huifang_desktop.domain.visits import PlanState
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import PermissionDenied, ServiceError
from huifang_desktop.services.settings import get_value, set_value

OPTIONS_KEY = "stats_options"
ASSESSMENT_RULES_KEY = "assessment_rules"

StatsGroup = Literal["clerk", "grade", "type", "department", "month"]
GROUP_LABELS: dict[str, str] = {
    "clerk": "回访人",
    "grade": "客户等级",
    "type": "回访类型",
    "department": "部门",
    "month": "月份",
}
ASSESSMENT_ENTITY = "monthly_assessment"
CONFIRM_ACTION = "确认考核"
UNASSIGNED = "未分配"
MONTH_TITLE = "月度回访统计表"
QUARTER_TITLE = "季度客户服务报告"
YEAR_TITLE = "年度客户服务报告"
CUSTOM_TITLE = "回访统计表"
MONTH_FORM = "stats_month"
QUARTER_FORM = "stats_quarter"
EXPORT_ACTION = "导出统计报表"

_DONE = PlanState.DONE.value
_PENDING = PlanState.PENDING.value
_CANCELLED = PlanState.CANCELLED.value
_COMPLAINT = MessageKind.COMPLAINT.value
_OPEN = tuple(s.value for s in ComplaintState if s.is_open)


class StatsError(ServiceError):
    """A report that cannot be made or written; the message names the file or the period."""


# --- settings ----------------------------------------------------------------------------------------


def load_stats_options(ctx: ServiceContext) -> StatsOptions:
    data = get_value(ctx, OPTIONS_KEY)
    return StatsOptions.from_dict(data) if isinstance(data, dict) else StatsOptions()


def save_stats_options(ctx: ServiceContext, options: StatsOptions) -> None:
    ctx.require(Permission.MANAGE_SETTINGS, "修改统计设置")
    set_value(ctx, OPTIONS_KEY, options.to_dict(), what="统计设置")


def load_assessment_rules(ctx: ServiceContext) -> AssessmentRules:
    data = get_value(ctx, ASSESSMENT_RULES_KEY)
    return AssessmentRules.from_dict(data) if isinstance(data, dict) else AssessmentRules()


def save_assessment_rules(ctx: ServiceContext, rules: AssessmentRules) -> None:
    """The 考核 table (amounts, points, doubling): a manager's decision, stored and audited."""
    ctx.require(Permission.MANAGE_SETTINGS, "修改考核规则")
    if not ctx.may(Permission.CONFIRM_ASSESSMENT):
        raise PermissionDenied("考核规则只能由公司经理修改。")
    set_value(ctx, ASSESSMENT_RULES_KEY, rules.to_dict(), what="考核规则")
