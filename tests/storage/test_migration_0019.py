"""Migration 0019 (urgent complaints) on a database of the revision before it, holding a complaint: the
complaint keeps its data and is not urgent; an urgent one can be registered on the upgraded database."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from huifang_desktop.domain.complaint_rules import ComplaintRules, UrgentTimings
from huifang_desktop.services import complaints as cs
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage import db

_NEW = {"urgent", "dispatch_due", "report_back_due", "dispatch_chased_at", "report_back_chased_at"}


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0019")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("complaint")}


def test_upgrade_keeps_the_complaints_and_adds_the_urgent_columns(
    engine: Engine, ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    old = cs.register(
        cctx, cs.IntakeDraft(subject="空调漏水", complainant="张先生", phone="13812345678", category="维修")
    )
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())
    assert not _NEW & _columns(engine)

    result = db.upgrade(engine)

    assert (result.before, result.after) == (_previous_revision(), db.head_revision())
    assert _NEW <= _columns(engine)
    kept = cs.get_complaint(ctx, old.id)
    assert (kept.number, kept.row.subject, kept.urgent, kept.dispatch_due) == (
        old.number,
        "空调漏水",
        False,
        None,
    )
    cs.save_complaint_rules(sctx, ComplaintRules(urgent=UrgentTimings()))
    new = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="水管爆裂", complainant="李女士", phone="13912345678", category="维修", urgent=True
        ),
    )
    assert new.urgent and new.dispatch_due == datetime(2026, 11, 24, 22, 0)
