"""Migration 0013 (scan-back) on a database of the revision before it, holding visit records: the new column
is empty (签字单 未回收 for on-site visits), the link and 未识别 tables are made, and the records can be given
scanned forms and attachments afterwards."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.services import ledgers, scans
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.visits import VisitRecordDraft, record_visit
from huifang_desktop.storage import db


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0013")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def _signed_form(ctx: ServiceContext, number: str) -> str:
    """The 回访台账's 签字单 cell of the visit ``number``."""
    visits = ledgers.Ledger.VISITS
    (cells,) = [
        c for c in (ledgers.named(visits, r) for r in ledgers.stream(ctx, visits)) if c["number"] == number
    ]
    return str(cells["signed_form"])


def test_upgrade_from_0012_keeps_the_records_and_adds_the_scan_tables(
    engine: Engine, ctx: ServiceContext, cctx: ServiceContext
) -> None:
    c = register_customer(
        cctx, CustomerDraft(name="杭州明达贸易", contacts=(ContactDraft(name="张三", mobile="13812345678"),))
    )
    rec = record_visit(
        cctx,
        VisitRecordDraft(
            customer_id=c.id,
            result="成功",
            method="上门",
            visited_at="2026-11-20 09:30",
            customer_signed=True,
            satisfaction="满意",
        ),
    )
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())
    tables = inspect(engine).get_table_names()
    assert "scan_page" not in tables and "visit_record_attachment" not in tables
    assert "signed_form_received_at" not in {
        col["name"] for col in inspect(engine).get_columns("visit_record")
    }

    result = db.upgrade(engine)

    assert (result.before, result.after) == ("0012", db.head_revision())
    assert {"scan_page", "visit_record_attachment"} <= set(inspect(engine).get_table_names())
    assert _signed_form(cctx, rec.number) == "未回收"
    scans.attach_to_record(cctx, rec.id, "签字单.jpg", b"\xff\xd8 scan", "签字单")
    assert _signed_form(cctx, rec.number) == "已回收"
    assert scans.unreturned_forms(cctx) == 0
