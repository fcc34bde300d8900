"""Migration 0020 (one visitor-independence switch) on a database of the revision before it, holding the two
settings as an older program stored them: the complaint rules' ``independent_closing_visit`` leaves the
stored rules, the office-wide ``independent_visitor`` keeps its value and now decides the closing visit, and
each rewrite is an audit row in an unbroken chain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text

from huifang_desktop.domain.complaint_rules import ComplaintRules
from huifang_desktop.services import complaints as cs
from huifang_desktop.services import tamper
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage import db
from huifang_desktop.storage.models import AuditLog

_RETIRED = "independent_closing_visit"
_ABSENT = object()


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(db._alembic_config()).get_revision("0020")
    assert isinstance(script.down_revision, str)
    return script.down_revision


def _downgrade(engine: Engine) -> None:
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _previous_revision())


def _store(engine: Engine, key: str, value: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM setting WHERE key = :k"), {"k": key})
        conn.execute(
            text("INSERT INTO setting (key, value) VALUES (:k, :v)"),
            {"k": key, "v": json.dumps(value, ensure_ascii=False)},
        )


def _stored(engine: Engine, key: str) -> Any:
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT value FROM setting WHERE key = :k"), {"k": key}).scalar()
    return None if raw is None else json.loads(raw)


def _old_rules(complaint_on: object) -> dict[str, Any]:
    """The complaint rules as the older program stored them (every field, the retired one among them)."""
    data = {**ComplaintRules(satisfying_reply_workdays=3).to_dict()}
    if complaint_on is not _ABSENT:
        data[_RETIRED] = complaint_on
    return data


@pytest.mark.parametrize(
    ("office", "complaint", "after", "note"),
    [
        (True, True, True, "照旧安排给处理人以外的人"),  # both on
        (False, True, False, "不再另行安排处理人以外的人"),  # the office-wide check off
        (_ABSENT, False, True, "该项原为关闭，结案回访现由该开关决定"),  # only the complaint one off
        (False, False, False, "两者原都关闭，行为不变"),  # both off
        (_ABSENT, _ABSENT, True, None),  # neither key stored (the defaults)
    ],
    ids=["both-on", "office-wide-off", "complaint-only-off", "both-off", "neither-stored"],
)
def test_upgrade_folds_the_complaint_switch_into_the_office_wide_one(
    engine: Engine,
    ctx: ServiceContext,
    sctx: ServiceContext,
    office: object,
    complaint: object,
    after: bool,
    note: str | None,
) -> None:
    _downgrade(engine)
    if office is not _ABSENT:
        _store(engine, v.INDEPENDENT_KEY, office)
    _store(engine, cs.RULES_KEY, _old_rules(complaint))
    with ctx.sessions() as s:
        audit_rows = s.execute(select(AuditLog.id)).all()

    result = db.upgrade(engine)

    assert (result.before, result.after) == (_previous_revision(), db.head_revision())
    assert v.independence_on(ctx) is after
    assert v.independence_covers(ctx, "投诉") is after  # the closing visit follows the one switch
    assert _stored(engine, v.INDEPENDENT_KEY) == (None if office is _ABSENT else office)  # never rewritten
    stored = _stored(engine, cs.RULES_KEY)
    assert _RETIRED not in stored
    assert cs.load_complaint_rules(ctx).satisfying_reply_workdays == 3  # the other rules kept
    with ctx.sessions() as s:
        new_rows = s.execute(select(AuditLog).where(AuditLog.id.notin_([r.id for r in audit_rows]))).scalars()
        notes = [(r.username, r.action, r.label, r.note) for r in new_rows]
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1
        username, action, label, written = notes[0]
        assert (username, action, label) == ("system", "修改设置", "投诉规则：结案回访由他人验证")
        assert "已并入 设置 → 回访规则 的“回访人独立性”开关" in written and note in written
    assert tamper.verify_all(sctx).ok  # the audit row is chained like any other


def test_upgrade_without_complaint_rules_stored_changes_nothing(engine: Engine, ctx: ServiceContext) -> None:
    _downgrade(engine)
    _store(engine, v.INDEPENDENT_KEY, False)

    db.upgrade(engine)

    assert _stored(engine, cs.RULES_KEY) is None
    assert v.independence_on(ctx) is False
    assert cs.load_complaint_rules(ctx) == ComplaintRules()


def test_downgrade_puts_the_key_back_with_the_office_wide_value(engine: Engine, ctx: ServiceContext) -> None:
    _store(engine, v.INDEPENDENT_KEY, False)
    _store(engine, cs.RULES_KEY, ComplaintRules().to_dict())

    _downgrade(engine)

    assert _stored(engine, cs.RULES_KEY)[_RETIRED] is False
