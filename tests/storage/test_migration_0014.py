"""Migration 0014 (the frozen 考核) on a database of the revision before it holding plans: the event and entry
tables are made, the data is kept, and a month can then be confirmed with its events frozen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

from huifang_desktop.services import stats
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.storage import db
from huifang_desktop.storage.models import AssessmentEvent, Customer, VisitPlan
from tests.conftest import PASSWORD


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0014")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def test_upgrade_from_0013_keeps_confirmed_months_and_freezes_new_ones(
    engine: Engine,
    ctx: ServiceContext,
    clerk: UserInfo,
    manager: UserInfo,
    as_user: Callable[[ServiceContext, UserInfo], ServiceContext],
) -> None:
    with ctx.sessions() as s, s.begin():
        c = Customer(
            code="KH000001",
            name="甲公司",
            initials="jgs",
            grade="A",
            created_on=date(2026, 1, 5),
            owner_id=clerk.id,
            updated_at=datetime(2026, 1, 5),
        )
        s.add(c)
        s.flush()
        for n, due in enumerate((date(2026, 9, 10), date(2026, 10, 10))):
            s.add(
                VisitPlan(
                    customer_id=c.id,
                    source_key=f"t:{n}",
                    rule_key="routine",
                    visit_type="例行",
                    method="电话",
                    earliest=due,
                    due=due,
                    owner_id=clerk.id,
                    state="待回访",
                    created_at=datetime(2026, 9, 1),
                )
            )
    mctx = as_user(ctx, manager)
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())
    assert "assessment_event" not in inspect(engine).get_table_names()

    result = db.upgrade(engine)

    assert (result.before, result.after) == ("0013", db.head_revision())
    assert {"assessment_event", "assessment_entry"} <= set(inspect(engine).get_table_names())
    assert stats.compute_assessment(ctx, "2026-09").amount == 50
    october = stats.confirm_assessment(mctx, "2026-10", password=PASSWORD)
    assert october.assessment.amount == 50
    with ctx.sessions() as s:
        frozen = s.execute(
            select(AssessmentEvent.month, AssessmentEvent.source, AssessmentEvent.amount)
        ).all()
    assert [tuple(r) for r in frozen] == [("2026-10", "visit_plan", 50)]
