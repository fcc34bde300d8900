"""Migration 0015 (complaint follow-up) on a database of the revision before it, holding a complaint: the
首问责任人 becomes whoever registered it, the notice and 查办 tables are made and work afterwards."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from huifang_desktop.services import complaints as cs
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.storage import db
from huifang_desktop.storage.models import Complaint


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0015")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def test_upgrade_from_the_previous_revision_sets_the_first_responder(
    engine: Engine, cctx: ServiceContext, clerk: UserInfo
) -> None:
    d = cs.register(
        cctx,
        cs.IntakeDraft(
            subject="空调漏水",
            complainant="张先生",
            phone="13812345678",
            category="交付物流",
            received_at="2026-11-24 09:00",
        ),
    )
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())
    tables = inspect(engine).get_table_names()
    assert "complaint_notice" not in tables and "complaint_inquiry" not in tables
    assert "first_responder_id" not in {c["name"] for c in inspect(engine).get_columns("complaint")}

    result = db.upgrade(engine)

    assert (result.before, result.after) == (_previous_revision(), db.head_revision())
    assert {"complaint_notice", "complaint_inquiry"} <= set(inspect(engine).get_table_names())
    with cctx.sessions() as s:
        row = s.get(Complaint, d.id)
        assert row is not None and row.first_responder_id == clerk.id and row.chase_rung == 0
    assert cs.notices(cctx).follow_unseen == 0
    assert cs.inquiries(cctx) == []
