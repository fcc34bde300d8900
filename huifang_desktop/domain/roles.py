"""Roles and what each may do (domain.md §1). Checked by services, not only by hiding buttons."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def rank(self) -> int:
        """Seniority for business work: clerk < supervisor < manager. Admin is outside the chain."""
        return _RANK[self]


ROLE_LABELS: dict[Role, str] = {
    Role.CLERK: "客服专员",
    Role.SUPERVISOR: "客服主管",
    Role.MANAGER: "公司经理",
    Role.ADMIN: "系统管理员",
}

_RANK = {Role.CLERK: 1, Role.SUPERVISOR: 2, Role.MANAGER: 3, Role.ADMIN: 0}


class Permission(StrEnum):
    EDIT_CUSTOMERS = "edit_customers"
    VIEW_ALL_DEPARTMENTS = "view_all_departments"
    REASSIGN = "reassign"
    PIN_GRADE = "pin_grade"
    SIGN_OFF = "sign_off"
    REOPEN = "reopen"
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"
    BACKUP_RESTORE = "backup_restore"
    VIEW_AUDIT = "view_audit"
    EXPORT_TOP_SECRET = "export_top_secret"
    MERGE_CUSTOMERS = "merge_customers"
    WORK_FOR_OTHERS = "work_for_others"
    CONFIRM_ASSESSMENT = "confirm_assessment"
    MANAGE_POLICY = "manage_policy"
    EDIT_OVERDUE_PLANS = "edit_overdue_plans"
    RECORD_INQUIRY = "record_inquiry"
    SUPERVISE_COMPLAINTS = "supervise_complaints"


_BUSINESS = {Permission.EDIT_CUSTOMERS}
_SUPERVISOR = _BUSINESS | {
    Permission.REASSIGN,
    Permission.PIN_GRADE,
    Permission.SIGN_OFF,
    Permission.REOPEN,
    Permission.VIEW_AUDIT,
    Permission.EXPORT_TOP_SECRET,
    Permission.MERGE_CUSTOMERS,
    Permission.MANAGE_SETTINGS,
    Permission.WORK_FOR_OTHERS,
    Permission.EDIT_OVERDUE_PLANS,
    Permission.RECORD_INQUIRY,
}
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset(_BUSINESS),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.MANAGER: frozenset(
        _SUPERVISOR
        | {
            Permission.VIEW_ALL_DEPARTMENTS,
            Permission.CONFIRM_ASSESSMENT,
            Permission.MANAGE_POLICY,
            Permission.SUPERVISE_COMPLAINTS,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_USERS,
            Permission.MANAGE_SETTINGS,
            Permission.BACKUP_RESTORE,
            Permission.VIEW_AUDIT,
            Permission.VIEW_ALL_DEPARTMENTS,
            Permission.MANAGE_POLICY,
        }
    ),
}

PERMISSION_LABELS: dict[Permission, str] = {
    Permission.EDIT_CUSTOMERS: "编辑客户档案",
    Permission.VIEW_ALL_DEPARTMENTS: "查看其他部门客户",
    Permission.REASSIGN: "移交客户",
    Permission.PIN_GRADE: "手动指定客户等级",
    Permission.SIGN_OFF: "审阅签字",
    Permission.REOPEN: "撤回已签字记录",
    Permission.MANAGE_USERS: "管理用户",
    Permission.MANAGE_SETTINGS: "修改设置",
    Permission.BACKUP_RESTORE: "备份与恢复",
    Permission.VIEW_AUDIT: "查看操作日志",
    Permission.EXPORT_TOP_SECRET: "导出绝密资料",
    Permission.MERGE_CUSTOMERS: "合并客户档案",
    Permission.WORK_FOR_OTHERS: "处理他人负责的工作（投诉、服务记录、导入）",
    Permission.CONFIRM_ASSESSMENT: "确认考核和修改考核规则",
    Permission.MANAGE_POLICY: "修改客户可见范围和本人签字规则",
    Permission.EDIT_OVERDUE_PLANS: "调整或取消已到期的回访计划（须说明原因）",
    Permission.RECORD_INQUIRY: "填写投诉查办单",
    Permission.SUPERVISE_COMPLAINTS: "督办重大投诉",
}


def can(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


def roles_with(permission: Permission) -> tuple[Role, ...]:
    """The roles that hold ``permission``, in Role order."""
    return tuple(r for r in Role if can(r, permission))


def business_roles() -> list[str]:
    """The stored values of the roles that do business work (own customers, handle complaints and services:
    ``EDIT_CUSTOMERS``), for a ``User.role.in_(…)`` condition. Administrators are not among them."""
    return [r.value for r in roles_with(Permission.EDIT_CUSTOMERS)]


# --- the complaint escalation ladder (domain.md §7) ------------------------------------------------------
# Not rights but a business rule: a complaint's level (客服专员 → 客服主管 → 公司经理) says WHO handles it,
# and a person of that level or above may take it. Admins are outside the ladder.


def reaches_level(role: Role, level: Role) -> bool:
    """``role`` is on the ladder at ``level`` or above (an admin never is)."""
    return role is not Role.ADMIN and role.rank >= level.rank


TOP_LEVEL = Role.MANAGER  # the top of the ladder: nobody in the program stands above 公司经理


def roles_at_top() -> tuple[str, ...]:
    """The stored values of the roles at the top of the ladder (for a query: who else stands there)."""
    return tuple(r.value for r in Role if reaches_level(r, TOP_LEVEL))


def higher_level(a: Role, b: Role) -> Role:
    """The higher of two ladder levels."""
    return a if a.rank >= b.rank else b


def rights_table() -> list[tuple[str, str]]:
    """(role label, what it may) for every role, from :data:`PERMISSIONS` (the README's "Rights")."""
    return [
        (role.label, "、".join(PERMISSION_LABELS[p] for p in Permission if p in PERMISSIONS[role]))
        for role in Role
    ]
