"""The office's complaint rules beside the policy: authority levels (核决权限), independent verification and
the rule books' extra deadlines (:mod:`huifang_desktop.domain.complaint_rules`), stored under one setting.

Only a user with ``MANAGE_POLICY`` (经理, 管理员) may change the authority table (核决权限, 002 制度3 第一条);
the other rules are ordinary settings (``MANAGE_SETTINGS``)."""

from __future__ import annotations

from datetime import datetime

from huifang_desktop.domain.complaint_rules import ComplaintRules, satisfying_reply_due, urgent_deadlines
from huifang_desktop.domain.complaints import ComplaintPolicy, MessageKind
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.workcal import WorkCalendar
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.settings import get_value, set_value

RULES_KEY = "complaint_rules"


def load_complaint_rules(ctx: ServiceContext) -> ComplaintRules:
    data = get_value(ctx, RULES_KEY)
    return ComplaintRules.from_dict(data) if isinstance(data, dict) else ComplaintRules()


def save_complaint_rules(ctx: ServiceContext, rules: ComplaintRules) -> None:
    """Store the authority table, verification and deadlines (supervisor/admin: ``MANAGE_SETTINGS``, asked by
    :func:`set_value`); a changed authority table also needs ``MANAGE_POLICY``; a bad value raises
    ValidationError."""
    ComplaintRules.from_dict(rules.to_dict())  # validates
    if rules.sign_roles != load_complaint_rules(ctx).sign_roles:
        ctx.require(Permission.MANAGE_POLICY, "修改投诉核决权限")
    set_value(ctx, RULES_KEY, rules.to_dict(), what="投诉核决权限与时限")


def reply_due_of(
    kind: MessageKind | str,
    received_at: datetime,
    handling_due: datetime,
    *,
    special: bool,
    rules: ComplaintRules,
    policy: ComplaintPolicy,
    cal: WorkCalendar,
) -> datetime | None:
    """The satisfying-reply deadline (满意答复, 002 制度9 五 “二个工作日内给予客户满意回覆”) of a complaint:
    ``satisfying_reply_workdays`` working days from the working day it came in, never after its 处理期限;
    None for 咨询/建议, for 特殊情况 (a longer limit agreed) and when the office sets 0 days (rule off)."""
    if MessageKind(kind) is not MessageKind.COMPLAINT or special or rules.satisfying_reply_workdays <= 0:
        return None
    return min(satisfying_reply_due(received_at, rules, cal, policy.workday_end), handling_due)


def dispatch_due_of(kind: MessageKind | str, received_at: datetime, rules: ComplaintRules) -> datetime:
    """An urgent complaint's dispatch deadline (002 制度5 §2 “于12小时内向相关部门传递”): ``dispatch_hours``
    clock hours from receipt — the rule book counts 小时, not working hours. Only complaints, and only
    where the office's rules set urgent timings (the property preset); anything else is refused."""
    if rules.urgent is None:
        raise ValidationError(
            FieldError("urgent", "紧急", "本单位的投诉规则未设紧急事项时限，不能登记为紧急")
        )
    if MessageKind(kind) is not MessageKind.COMPLAINT:
        raise ValidationError(FieldError("urgent", "紧急", "只有投诉可以登记为紧急"))
    return urgent_deadlines(received_at, rules.urgent).dispatched_by
