"""The demo generators need the right to manage users (they create the office's users): every role without
it is refused before anything is read or written, through the one permission table (domain/roles.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from huifang_desktop import demo
from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.roles import Permission, Role, can
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.errors import PermissionDenied, ServiceError

CALLS: dict[str, Callable[[ServiceContext], Any]] = {
    "generate_demo": lambda c: demo.generate_demo(c, customers=-1),
    "generate_visits": lambda c: demo.generate_visits(c, -1),
    "generate_complaints": lambda c: demo.generate_complaints(c, -1),
    "seed_review_history": lambda c: demo.seed_review_history(c),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_only_roles_that_manage_users_may_generate(
    name: str, ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, manager: UserInfo, clerk: UserInfo
) -> None:
    for user in (admin, supervisor, manager, clerk):
        acting = ctx.as_user(user)
        if can(user.role, Permission.MANAGE_USERS):
            try:
                CALLS[name](acting)
            except (ValidationError, ServiceError) as exc:  # the tiny arguments may be refused, not the right
                assert not isinstance(exc, PermissionDenied), (name, user.role)
        else:
            with pytest.raises(PermissionDenied):
                CALLS[name](acting)
    assert any(can(r, Permission.MANAGE_USERS) for r in Role)
