"""Migration 0012 (phone suffixes) on a database of the revision before it, holding customers with contacts:
the suffix table is made and filled, so the files made before it are found by the last four digits."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft, code_endings, phone_suffixes
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import list_customers, register_customer
from huifang_desktop.storage import db
from huifang_desktop.storage.models import PhoneSuffix
from huifang_desktop.storage.queries import CustomerFilter


def _previous_revision() -> str:
    """The revision 0012 upgrades from (whatever the chain puts before it)."""
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0012")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def _downgrade_before_0012(engine: Engine) -> None:
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())
    assert "contact_phone_suffix" not in inspect(engine).get_table_names()


def test_upgrade_fills_the_suffixes_of_the_existing_contacts(
    engine: Engine, ctx: ServiceContext, cctx: ServiceContext
) -> None:
    a = register_customer(
        cctx, CustomerDraft(name="杭州明达贸易", contacts=(ContactDraft(name="张三", mobile="13812345678"),))
    )
    b = register_customer(
        cctx,
        CustomerDraft(
            name="济南恒通机械",
            contacts=(
                ContactDraft(name="李四", phone="0531-26485794 转 12", is_primary=True),
                ContactDraft(name="王五", mobile="13900001111"),
            ),
        ),
    )
    _downgrade_before_0012(engine)
    with engine.begin() as conn:  # a file the old program added after the suffixes were gone
        conn.execute(text("UPDATE contact SET mobile = '13822225555' WHERE customer_id = :id"), {"id": a.id})
        conn.execute(text("UPDATE customer SET primary_phone = '13822225555' WHERE id = :id"), {"id": a.id})

    result = db.upgrade(engine)

    assert (result.before, result.after) == (_previous_revision(), db.head_revision())
    with ctx.sessions() as s:
        rows = s.execute(select(PhoneSuffix.customer_id, PhoneSuffix.suffix)).all()
    got: dict[int, set[str]] = {}
    for cid, suffix in rows:
        got.setdefault(cid, set()).add(suffix)
    assert got == {
        a.id: phone_suffixes(["13822225555"]) | code_endings(a.code),
        b.id: phone_suffixes(["053126485794x12", "13900001111"]) | code_endings(b.code),
    }
    assert "#000002" in got[b.id]
    assert len(rows) == sum(len(v) for v in got.values())
    assert [r.name for r in list_customers(cctx, CustomerFilter(text="5555"))] == ["杭州明达贸易"]
    assert [r.name for r in list_customers(cctx, CustomerFilter(text="5678"))] == []
    assert [r.name for r in list_customers(cctx, CustomerFilter(text="26485794"))] == ["济南恒通机械"]
    assert [r.name for r in list_customers(cctx, CustomerFilter(text="1111"))] == ["济南恒通机械"]
    assert [r.name for r in list_customers(cctx, CustomerFilter(text="000002"))] == ["济南恒通机械"]
