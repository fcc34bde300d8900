"""The office's complaint rules beside the policy: authority levels (核决权限), independent verification and
the rule books' extra deadlines (:mod:`huifang_desktop.domain.complaint_rules`), stored under one setting."""

from __future__ import annotations

from huifang_desktop.domain.complaint_rules import ComplaintRules
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.settings import get_value, set_value

RULES_KEY = "complaint_rules"


def load_complaint_rules(ctx: ServiceContext) -> ComplaintRules:
    data = get_value(ctx, RULES_KEY)
    return ComplaintRules.from_dict(data) if isinstance(data, dict) else ComplaintRules()


def save_complaint_rules(ctx: ServiceContext, rules: ComplaintRules) -> None:
    """Store the authority table, verification and deadlines (supervisor/admin: ``MANAGE_SETTINGS``, asked by
    :func:`set_value`); a bad value raises ValidationError."""
    ComplaintRules.from_dict(rules.to_dict())  # validates
    set_value(ctx, RULES_KEY, rules.to_dict(), what="投诉核决权限与时限")
