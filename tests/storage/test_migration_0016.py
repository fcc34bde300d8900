"""Migration 0016 (class history) on a database of the revision before it, holding a graded customer: the
file keeps its class, gets ``grade_since`` empty (its cadence still counts from the 建档日期) and the
``customer_class`` table; the first recompute writes its starting row. (Chained after 0015,
the complaint follow-up.)"""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import classes
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import add_purchase, get_customer, register_customer
from huifang_desktop.storage import db


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0016")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def test_upgrade_keeps_the_classes_and_adds_the_history(
    engine: Engine, ctx: ServiceContext, cctx: ServiceContext
) -> None:
    c = register_customer(
        cctx,
        CustomerDraft(
            name="杭州明达贸易",
            created_on="2026-03-01",
            contacts=(ContactDraft(name="张三", mobile="13812345678"),),
        ),
    )
    add_purchase(cctx, c.id, day="2026-11-01", product="货箱", quantity=60)
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())
    assert "customer_class" not in inspect(engine).get_table_names()
    assert "grade_since" not in {col["name"] for col in inspect(engine).get_columns("customer")}

    result = db.upgrade(engine)

    assert (result.before, result.after) == (_previous_revision(), db.head_revision())
    assert "customer_class" in inspect(engine).get_table_names()
    assert get_customer(cctx, c.id).grade == "B"
    assert classes.class_history(cctx, c.id) == []
    assert classes.recompute_all(ctx) == []
    [start] = classes.class_history(cctx, c.id)
    assert (start.grade, start.source, str(start.since)) == ("B", "建档", "2026-03-01")
