"""Migration 0018 (hand-over) on a database of the revision before it, holding a customer and a pending plan:
the ``handover`` and ``plan_owner_change`` tables are made and a hand-over works on the upgraded data."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import handover
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.storage import db


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0018")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def test_upgrade_keeps_the_data_and_adds_the_hand_over_tables(
    engine: Engine,
    ctx: ServiceContext,
    cctx: ServiceContext,
    sctx: ServiceContext,
    clerk: UserInfo,
    clerk2: UserInfo,
) -> None:
    c = register_customer(
        cctx, CustomerDraft(name="杭州明达贸易", contacts=(ContactDraft(name="张三", mobile="13812345678"),))
    )
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())
    assert not {"handover", "plan_owner_change"} & set(inspect(engine).get_table_names())

    result = db.upgrade(engine)

    assert (result.before, result.after) == (_previous_revision(), db.head_revision())
    assert {"handover", "plan_owner_change"} <= set(inspect(engine).get_table_names())
    moved = handover.hand_over(sctx, clerk.id, [clerk2.id], "调岗")
    assert (moved.customers, moved.handover_id) == (1, 1)
    assert c.id
