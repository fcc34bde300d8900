"""The permission table's helpers and the complaint ladder's named rules (domain/roles.py)."""

from __future__ import annotations

from huifang_desktop.domain.roles import (
    PERMISSION_LABELS,
    PERMISSIONS,
    Permission,
    Role,
    business_roles,
    higher_level,
    reaches_level,
    roles_with,
)


def test_every_permission_has_a_label_and_a_holder() -> None:
    assert set(PERMISSION_LABELS) == set(Permission)
    assert all(roles_with(p) for p in Permission)
    assert set(PERMISSIONS) == set(Role)


def test_business_roles_are_those_who_do_business_work() -> None:
    assert business_roles() == ["clerk", "supervisor", "manager"]
    assert roles_with(Permission.MANAGE_USERS) == (Role.ADMIN,)


def test_the_ladder_names_who_may_take_a_level() -> None:
    assert reaches_level(Role.SUPERVISOR, Role.CLERK) and reaches_level(Role.MANAGER, Role.SUPERVISOR)
    assert not reaches_level(Role.CLERK, Role.SUPERVISOR)
    assert not any(reaches_level(Role.ADMIN, level) for level in (Role.CLERK, Role.SUPERVISOR, Role.MANAGER))
    assert higher_level(Role.CLERK, Role.MANAGER) is Role.MANAGER
    assert higher_level(Role.SUPERVISOR, Role.CLERK) is Role.SUPERVISOR
