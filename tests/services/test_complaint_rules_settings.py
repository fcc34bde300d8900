"""Saving the complaint rules: the authority table (核决权限, 002 制度3 第一条) only by MANAGE_POLICY (经理,
管理员); the other rules by anybody who may change settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from huifang_desktop.domain.complaints import BySeverity
from huifang_desktop.domain.roles import Role
from huifang_desktop.services import complaints as cs
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.errors import PermissionDenied


def test_only_manage_policy_changes_the_authority_table(sctx: ServiceContext, mctx: ServiceContext) -> None:
    rules = cs.load_complaint_rules(sctx)
    stricter = replace(rules, sign_roles=BySeverity(Role.SUPERVISOR, Role.MANAGER, Role.MANAGER))
    with pytest.raises(PermissionDenied):
        cs.save_complaint_rules(sctx, stricter)
    cs.save_complaint_rules(
        sctx, replace(rules, satisfying_reply_workdays=3)
    )  # not the table: a supervisor may
    assert cs.load_complaint_rules(sctx).satisfying_reply_workdays == 3
    cs.save_complaint_rules(mctx, stricter)
    assert cs.load_complaint_rules(sctx).sign_roles.important is Role.MANAGER
