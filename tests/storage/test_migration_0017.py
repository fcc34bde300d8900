"""Migration 0017 (the satisfying-reply deadline, 002 制度9) on a database of the revision before it, holding a
complaint: the complaint keeps its deadlines and gets ``reply_due`` / ``reply_chased_at`` empty (it was taken
under the old rules); a complaint registered after the upgrade gets its reply due. (Chained after 0016.)"""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from huifang_desktop.services import complaints as cs
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage import db
from huifang_desktop.storage.models import Complaint


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0017")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def test_upgrade_keeps_the_complaints_and_adds_the_reply_due(
    engine: Engine, ctx: ServiceContext, cctx: ServiceContext
) -> None:
    old = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="空调漏水",
            complainant="张先生",
            phone="13812345678",
            category="维修",
            received_at="2026-11-24 09:00",
        ),
    )
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())
    assert _previous_revision() == "0016"
    assert "reply_due" not in {col["name"] for col in inspect(engine).get_columns("complaint")}

    result = db.upgrade(engine)

    assert (result.before, result.after) == ("0016", db.head_revision())
    with ctx.sessions() as s:
        c = s.get(Complaint, old.id)
        assert c is not None and c.number == old.number and (c.reply_due, c.reply_chased_at) == (None, None)
        assert str(c.handling_due) == "2026-11-27 17:30:00"
    assert len(cs.get_complaint(cctx, old.id).events) == 1  # the events were not lost with the new columns
    new = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="空调又漏水",
            complainant="李女士",
            phone="13912345678",
            category="维修",
            received_at="2026-11-24 09:30",
        ),
    )
    with ctx.sessions() as s:
        c = s.get(Complaint, new.id)
        assert c is not None and str(c.reply_due) == "2026-11-26 17:30:00"
