"""Migration 0010 (tamper evidence) on a database with history: the audit rows of the 0009 program are chained
in order, every user's state is recorded, and sign-offs made before signatures existed stay valid while one
forged afterwards does not."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from huifang_desktop.domain.signoff import Integrity, ReviewKind
from huifang_desktop.services import review as rv
from huifang_desktop.services import signing, tamper, users
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.storage import db
from huifang_desktop.storage.models import AuditLog, User
from tests.conftest import PASSWORD
from tests.services.test_tamper import _customer, _record, _rehash

pytestmark = pytest.mark.sqlite_only  # the 0009 file is made by downgrading a SQLite copy


def _to_0009(engine: Engine) -> None:
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    with engine.begin() as conn:  # a row as the 0009 program wrote it: no chain columns at all
        conn.execute(
            text(
                "INSERT INTO audit_log (at, user_id, username, action, entity, entity_id, label, old,"
                " new, note) VALUES ('2026-11-24 10:30:00', NULL, 'system', '备份', 'database', NULL,"
                " 'x.db', NULL, '{}', '')"
            )
        )
        assert "seq" not in {c[1] for c in conn.execute(text("PRAGMA table_info(audit_log)"))}


def test_upgrade_from_0009_chains_the_history_and_keeps_old_sign_offs_valid(
    engine: Engine, ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, supervisor: UserInfo
) -> None:
    signed = _record(cctx, _customer(cctx))
    rv.sign(sctx, ReviewKind.RECORD, signed.id, "同意", password=PASSWORD)
    pending = _record(cctx, _customer(cctx, "乙公司"), day=22)
    _to_0009(engine)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT id, action FROM audit_log ORDER BY id")).all()

    result = db.upgrade(engine)

    assert (result.before, result.after) == ("0009", db.head_revision())
    with ctx.sessions() as s:
        rows = s.execute(select(AuditLog).order_by(AuditLog.seq)).scalars().all()
        keys = s.execute(select(User.username, User.public_key, User.key_box)).all()
    assert [(r.id, r.action) for r in rows[: len(before)]] == [tuple(b) for b in before]  # chained in order
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert [r.action for r in rows[len(before) :]] == ["登记用户状态"] * len(keys) + ["启用电子签名"]
    assert all(not key and not box for _name, key, box in keys)  # made at the next log-in or sign-off
    assert rv.verify(sctx, ReviewKind.RECORD, signed.id) is Integrity.INTACT  # its 签字 row is in the chain
    report = tamper.verify_all(ctx)
    assert report.ok, report.findings
    assert report.signatures == 1 and report.audit_rows == len(rows)

    users.authenticate(ctx, "zhuguan", PASSWORD)  # the key pair comes with the next log-in
    with ctx.sessions() as s:
        assert s.execute(select(User.public_key).where(User.id == supervisor.id)).scalar()
    # a sign-off forged the old way (status and both SHA-256 hashes set with SQL) is not one
    _rehash(
        ctx,
        pending.id,
        status="已签字",
        signed_by_id=supervisor.id,
        signed_role="supervisor",
        signed_at=pending.visited_at,
        supervisor_comment="同意",
    )
    assert rv.verify(sctx, ReviewKind.RECORD, pending.id) is Integrity.TAMPERED
    assert len(tamper.verify_all(ctx).findings) == 1
    assert signing.unlock(sctx, PASSWORD).user_id == supervisor.id
