"""Migration 0011 (department head supervisor) on a database made at 0010: departments and users kept, every
department without a head, and a head can be set afterwards."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, text

from huifang_desktop.services import tamper, users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.storage import db

pytestmark = pytest.mark.sqlite_only  # the 0010 file is made by downgrading a SQLite copy


def test_upgrade_from_0010_adds_the_department_head(
    engine: Engine, ctx: ServiceContext, admin: UserInfo, supervisor: UserInfo, clerk2: UserInfo
) -> None:
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    with engine.connect() as conn:
        assert "head_id" not in {c[1] for c in conn.execute(text("PRAGMA table_info(department)"))}
        before = conn.execute(text("SELECT id, name FROM department ORDER BY id")).all()

    result = db.upgrade(engine, "0011")  # pinned: later revisions come after it

    assert (result.before, result.after) == ("0010", "0011")
    with engine.connect() as conn:
        after = conn.execute(text("SELECT id, name, head_id FROM department ORDER BY id")).all()
    assert [(i, n) for i, n, _h in after] == [tuple(b) for b in before] and {h for *_x, h in after} == {None}
    db.upgrade(engine)  # the services use the head's models
    users.set_department_head(ctx.as_user(admin), "客服部", "zhuguan")
    assert {r.name: r.head_id for r in users.department_rows(ctx)}["客服部"] == supervisor.id
    assert users.get_user(ctx, clerk2.id).department == "销售部"
    assert tamper.verify_all(ctx).ok
