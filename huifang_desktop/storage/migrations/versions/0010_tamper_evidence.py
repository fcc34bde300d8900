"""tamper evidence: the audit hash chain, signing keys and Ed25519 signatures

``audit_log``: ``seq`` (position in the chain, unique), ``prev_hash``, ``row_hash`` (domain.chain.row_hash).
Existing rows are chained in their order (by id) at upgrade and the ``audit_chain`` counter is set to the
head. ``user_account``: ``public_key`` and ``key_box`` (the private key encrypted under the password; empty
until the user's password is next known: log-in, sign-off, reset, change). ``visit_record``, ``visit_report``,
``complaint``, ``monthly_assessment``: ``signature`` (Ed25519, hex) and ``signed_seq`` (the chain position it was signed at).

Then the chain gets, for every user, a row recording the user's state (role, active, a digest of the
password hash, no key yet) — from here on a role or password hash changed with SQL shows in ``verify`` — and
(on a database with any history) the marker row 启用电子签名: sign-offs made before it carry no signature and are accepted when their 签字
row, with the same content hash, lies in the chain before the marker.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:30:00.000000
"""

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from huifang_desktop.domain.chain import GENESIS, user_state
from huifang_desktop.storage.chain import hash_row

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_SIGNED_TABLES = ("visit_record", "visit_report", "complaint", "monthly_assessment")
_BATCH = 5000

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
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
_users = sa.table(
    "user_account",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("display_name", sa.String),
    sa.column("role", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("password_hash", sa.String),
)
_counter = sa.table("counter", sa.column("name", sa.String), sa.column("value", sa.Integer))
_FIELDS = ("at", "user_id", "username", "action", "entity", "entity_id", "label", "old", "new", "note")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)  # as services.context._json


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("row_hash", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("public_key", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("key_box", sa.Text(), nullable=False, server_default=""))
    for table in _SIGNED_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("signature", sa.String(length=128), nullable=False, server_default=""))
            batch.add_column(sa.Column("signed_seq", sa.Integer(), nullable=True))

    conn = op.get_bind()
    seq, prev = 0, GENESIS
    last_id = 0
    update = (
        sa.update(_audit)
        .where(_audit.c.id == sa.bindparam("b_id"))
        .values(seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), row_hash=sa.bindparam("b_hash"))
    )
    while True:  # in id order, a batch at a time (a million rows need not fit in memory)
        rows = conn.execute(
            sa.select(_audit.c.id, *(_audit.c[f] for f in _FIELDS))
            .where(_audit.c.id > last_id)
            .order_by(_audit.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        params = []
        for r in rows:
            seq += 1
            digest = hash_row(seq, prev, r._asdict())
            params.append({"b_id": r.id, "b_seq": seq, "b_prev": prev, "b_hash": digest})
            prev = digest
        conn.execute(update, params)
        last_id = rows[-1].id

    now = datetime.now().replace(microsecond=0)
    new_rows = []
    for u in conn.execute(sa.select(_users).order_by(_users.c.id)):
        state = user_state(u.role, bool(u.active), u.password_hash, "")
        new_rows.append(
            {
                "at": now,
                "user_id": None,
                "username": "system",
                "action": "登记用户状态",
                "entity": "user",
                "entity_id": u.id,
                "label": u.display_name,
                "old": None,
                "new": _json({"state": state}),
                "note": "升级到电子签名时记录",
            }
        )
    if seq or new_rows:  # a database with history (a new, empty one has nothing signed before signatures)
        new_rows.append(
            {
                "at": now,
                "user_id": None,
                "username": "system",
                "action": "启用电子签名",
                "entity": "audit_log",
                "entity_id": None,
                "label": "审计链与电子签名",
                "old": None,
                "new": _json({"chained_rows": seq}),
                "note": "此前的签字没有电子签名，以审计链中的签字记录为准",
            }
        )
    for row in new_rows:
        seq += 1
        row.update(seq=seq, prev_hash=prev, row_hash=hash_row(seq, prev, row))
        prev = row["row_hash"]
    if new_rows:
        op.bulk_insert(_audit, new_rows)
    if conn.execute(sa.select(_counter.c.value).where(_counter.c.name == "audit_chain")).first() is None:
        conn.execute(sa.insert(_counter).values(name="audit_chain", value=seq))
    else:
        conn.execute(sa.update(_counter).where(_counter.c.name == "audit_chain").values(value=seq))
    if seq:  # the chain was just built from these rows: the start-up check goes on from its head
        setting = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.Text))
        conn.execute(sa.delete(setting).where(setting.c.key == "audit_chain_verified"))
        conn.execute(
            sa.insert(setting).values(
                key="audit_chain_verified", value=json.dumps({"seq": seq, "hash": prev})
            )
        )
    op.create_index("ux_audit_log_seq", "audit_log", ["seq"], unique=True)


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+): a batch copy of user_account would trip the foreign keys pointing at it
    op.drop_index("ux_audit_log_seq", table_name="audit_log")
    for table in _SIGNED_TABLES:
        op.drop_column(table, "signed_seq")
        op.drop_column(table, "signature")
    op.drop_column("user_account", "key_box")
    op.drop_column("user_account", "public_key")
    conn = op.get_bind()
    conn.execute(
        sa.delete(_audit).where(_audit.c.action.in_(["登记用户状态", "启用电子签名", "登记签字密钥"]))
    )
    conn.execute(sa.delete(_counter).where(_counter.c.name == "audit_chain"))
    conn.execute(sa.text("DELETE FROM setting WHERE key = 'audit_chain_verified'"))
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
    op.drop_column("audit_log", "seq")
