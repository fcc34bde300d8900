"""one visitor-independence switch: the complaint rules' 结案回访由他人验证 folded into 回访人独立性检查

The rule book has one independence rule (001 篇11 独立性原则: the visitor is not the customer's 业务员 nor the
one who handled the matter; for complaints 002 制度5 §5, 制度9). It was two settings: the office-wide
``independent_visitor`` (设置 → 回访规则: the record-time check, and the planner's choice of visitor for the
visit types in ``visit_options.independent_visit_types``) and the complaint rules' ``independent_closing_visit``
(key of the ``complaint_rules`` JSON: the closing visit planned for somebody other than the handler). From
here on ``independent_visitor`` decides both; the key leaves the stored complaint rules.

What each stored office keeps — the office-wide value is never changed:

* both on, or neither key stored (the defaults): on, as before;
* the office-wide check off (the complaint one on, off or not stored): off. The office switched the rule off
  where it is the office's decision (the record-time check, the switch every office sees first); the one
  thing that changes is that a closing visit planned from now on is no longer moved away from the handler
  (the record-time check was already off). Closing-visit plans already made keep their visitor;
* only the complaint one off: on — the safest reading of the rule book is that independence stays on unless
  the office switched off the office-wide check. While 投诉 was among the checked visit types (the default)
  the office-wide check already moved a closing visit away from the handler (and the customer's 业务员) when
  planning it and refused the handler at recording, so what changes is only which colleague gets it (the
  complaint rules' 验证回访人级别 is asked first again); with 投诉 not among them nothing changes;
* both off: off, nothing changes.

Every stored ``complaint_rules`` that held the key is rewritten without it, with an audit row (``修改设置``
by ``system``, chained like any other) saying what the key was and that the office-wide switch now governs
the closing visit — the note office staff see in 操作日志. Downgrade puts the key back with the value of the
office-wide switch (the merged behaviour, as near as the old program can express it), without an audit row.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 11:00:00.000000
"""

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from huifang_desktop.domain.chain import GENESIS
from huifang_desktop.storage.chain import hash_row

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OFFICE_KEY = "independent_visitor"  # services.visits.options.INDEPENDENT_KEY
RULES_KEY = "complaint_rules"  # services.complaints.rules.RULES_KEY
RETIRED = "independent_closing_visit"

_setting = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.Text))
_audit = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime),
    sa.column("user_id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("label", sa.String),
    sa.column("old", sa.Text),
    sa.column("new", sa.Text),
    sa.column("note", sa.Text),
    sa.column("seq", sa.Integer),
    sa.column("prev_hash", sa.String),
    sa.column("row_hash", sa.String),
)
_counter = sa.table("counter", sa.column("name", sa.String), sa.column("value", sa.Integer))
_CHAIN = "audit_chain"  # storage.chain.CHAIN_COUNTER


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)  # as services.context._json


def _stored(conn: sa.Connection, key: str) -> Any:
    raw = conn.execute(sa.select(_setting.c.value).where(_setting.c.key == key)).scalar()
    return None if raw is None else json.loads(raw)


def note_for(office_on: bool, complaint_on: Any) -> str:
    """The audit note of an office whose complaint rules held ``complaint_on``, its office-wide switch being
    ``office_on``."""
    merged = "投诉规则“结案回访由他人验证”已并入 设置 → 回访规则 的“回访人独立性”开关"
    if office_on and complaint_on is False:
        return f"{merged}（当前开启）：该项原为关闭，结案回访现由该开关决定，安排给处理人以外的人"
    if office_on:
        return f"{merged}（当前开启），结案回访照旧安排给处理人以外的人"
    if complaint_on is False:
        return f"{merged}（当前关闭），两者原都关闭，行为不变"
    return f"{merged}（当前关闭）：该项原为开启，结案回访不再另行安排处理人以外的人"


def _append_audit(conn: sa.Connection, row: dict[str, Any]) -> None:
    """Append ``row`` to the audit hash chain (as storage.chain.chain_rows, on the schema of this revision)."""
    seq = conn.execute(sa.select(_counter.c.value).where(_counter.c.name == _CHAIN)).scalar()
    if seq is None:
        seq = 0
        conn.execute(sa.insert(_counter).values(name=_CHAIN, value=0))
    prev = GENESIS
    if seq:
        found = conn.execute(sa.select(_audit.c.row_hash).where(_audit.c.seq == seq)).scalar()
        prev = found or GENESIS
    seq += 1
    row.update(seq=seq, prev_hash=prev, row_hash=hash_row(seq, prev, row))
    conn.execute(sa.insert(_audit).values(**row))
    conn.execute(sa.update(_counter).where(_counter.c.name == _CHAIN).values(value=seq))


def upgrade() -> None:
    conn = op.get_bind()
    rules = _stored(conn, RULES_KEY)
    if not isinstance(rules, dict) or RETIRED not in rules:
        return
    complaint_on = rules.pop(RETIRED)
    office = _stored(conn, OFFICE_KEY)
    office_on = True if office is None else bool(office)  # services.visits.options.independence_on
    conn.execute(
        sa.update(_setting)
        .where(_setting.c.key == RULES_KEY)
        .values(value=json.dumps(rules, ensure_ascii=False))  # as services.settings.set_value
    )
    _append_audit(
        conn,
        {
            "at": datetime.now().replace(microsecond=0),
            "user_id": None,
            "username": "system",
            "action": "修改设置",
            "entity": "setting",
            "entity_id": None,
            "label": "投诉规则：结案回访由他人验证",
            "old": _json({RETIRED: complaint_on}),
            "new": _json({OFFICE_KEY: office_on}),
            "note": note_for(office_on, complaint_on),
        },
    )


def downgrade() -> None:
    conn = op.get_bind()
    rules = _stored(conn, RULES_KEY)
    if not isinstance(rules, dict) or RETIRED in rules:
        return
    office = _stored(conn, OFFICE_KEY)
    rules[RETIRED] = bool(True if office is None else office)
    conn.execute(
        sa.update(_setting)
        .where(_setting.c.key == RULES_KEY)
        .values(value=json.dumps(rules, ensure_ascii=False))
    )
