"""Tamper evidence (issue 23 item 4): signatures bound to the signer's password, the audit hash chain, the
users' recorded state, the backups' chain heads, and imported history that is not a sign-off."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest
from nacl.signing import SigningKey
from openpyxl import Workbook
from sqlalchemy import select, text, update

from huifang_desktop.domain.customers import ContactDraft, CustomerDraft
from huifang_desktop.domain.signoff import (
    Integrity,
    ReviewKind,
    SignOff,
    content_hash,
    sign_message,
    signature_hash,
)
from huifang_desktop.services import importing, signing, tamper, users
from huifang_desktop.services import ledgers as lg
from huifang_desktop.services import review as rv
from huifang_desktop.services import visits as v
from huifang_desktop.services.context import ServiceContext, UserInfo
from huifang_desktop.services.customers import register_customer
from huifang_desktop.services.importing import ColumnMapping, ImportTarget
from huifang_desktop.storage.chain import hash_row
from huifang_desktop.storage.models import AuditLog, User, VisitRecord
from tests.conftest import PASSWORD

RECORD = ReviewKind.RECORD


_PHONES = iter(range(15199743456, 15199799999))


def _customer(cctx: ServiceContext, name: str = "杭州远纳运输有限公司") -> int:
    return register_customer(
        cctx,
        CustomerDraft(
            name=name,
            created_on="2026-11-01",
            contacts=(ContactDraft(name="张倩", mobile=str(next(_PHONES))),),
        ),
    ).id


def _record(cctx: ServiceContext, customer_id: int, day: int = 23) -> v.VisitRecordRow:
    return v.record_visit(
        cctx,
        v.VisitRecordDraft(
            customer_id=customer_id,
            result="成功",
            satisfaction="满意",
            visited_at=f"2026-11-{day} 09:00",
            feedback="一切正常",
        ),
    )


def _values(ctx: ServiceContext, record_id: int) -> dict[str, object]:
    with ctx.sessions() as s:
        row = s.get(VisitRecord, record_id)
        assert row is not None
        return {name: getattr(row, name) for name in rv.HASH_FIELDS[RECORD]} | {
            "signed_by_id": row.signed_by_id,
            "signed_role": row.signed_role,
            "signed_at": row.signed_at,
            "supervisor_comment": row.supervisor_comment,
            "revision": row.revision,
        }


def _rehash(ctx: ServiceContext, record_id: int, **changes: object) -> None:
    """What someone with the database file could always do: change the row and recompute both SHA-256
    hashes, exactly as the program computes them."""
    values = _values(ctx, record_id) | changes
    content = content_hash(RECORD, values)
    sig = signature_hash(
        content,
        SignOff(
            values["signed_by_id"],
            values["signed_role"],
            values["signed_at"],  # type: ignore[arg-type]
            values["supervisor_comment"],
            values["revision"],
        ),
    )  # type: ignore[arg-type]
    with ctx.engine.begin() as conn:
        conn.execute(
            update(VisitRecord)
            .where(VisitRecord.id == record_id)
            .values(**changes, content_hash=content, signature_hash=sig)
        )


@pytest.fixture
def signed(ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext) -> int:
    row = _record(cctx, _customer(cctx))
    assert rv.sign(sctx, RECORD, row.id, "同意", password=PASSWORD).status == "已签字"
    assert rv.verify(sctx, RECORD, row.id) is Integrity.INTACT
    return row.id


# --- signatures -----------------------------------------------------------------------------------------


def test_recomputing_the_hashes_after_editing_the_content_no_longer_reads_valid(
    ctx: ServiceContext, sctx: ServiceContext, signed: int
) -> None:
    _rehash(ctx, signed, feedback="客户非常满意，无任何问题")
    assert rv.verify(sctx, RECORD, signed) is Integrity.TAMPERED
    assert [i.id for i in rv.tampered_items(sctx)] == [signed]
    report = tamper.verify_all(ctx)
    number = _number(ctx, signed)
    assert not report.ok and any(number in line and "签字无效" in line for line in report.findings)


def test_replacing_the_signer_no_longer_reads_valid(
    ctx: ServiceContext, sctx: ServiceContext, manager: UserInfo, signed: int
) -> None:
    _rehash(ctx, signed, signed_by_id=manager.id, signed_role="manager")
    assert rv.verify(sctx, RECORD, signed) is Integrity.TAMPERED


def test_a_forged_sign_off_row_reads_invalid(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, supervisor: UserInfo
) -> None:
    row = _record(cctx, _customer(cctx))
    _rehash(
        ctx,
        row.id,
        status="已签字",
        signed_by_id=supervisor.id,
        signed_role="supervisor",
        signed_at=row.visited_at,
        supervisor_comment="同意",
    )
    assert rv.verify(sctx, RECORD, row.id) is Integrity.TAMPERED
    # even with an Ed25519 signature by a key of the forger's own and a plausible chain position
    forged = SigningKey.generate()
    values = _values(ctx, row.id)
    with ctx.sessions() as s:
        seq = int(s.execute(select(AuditLog.seq).order_by(AuditLog.seq.desc()).limit(1)).scalar() or 0)
    message = sign_message(
        RECORD,
        row.id,
        content_hash(RECORD, values),
        SignOff(supervisor.id, "supervisor", values["signed_at"], "同意", 0),
        seq,
    )  # type: ignore[arg-type]
    with ctx.engine.begin() as conn:
        conn.execute(
            update(VisitRecord)
            .where(VisitRecord.id == row.id)
            .values(signature=bytes(forged.sign(message).signature).hex(), signed_seq=seq)
        )
    assert rv.verify(sctx, RECORD, row.id) is Integrity.TAMPERED


def test_signing_needs_the_signers_password_and_a_wrong_one_signs_nothing(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext
) -> None:
    row = _record(cctx, _customer(cctx))
    with pytest.raises(signing.WrongPassword):
        rv.sign(sctx, RECORD, row.id, password="not-the-password")
    with pytest.raises(rv.ValidationError):
        rv.sign(sctx, RECORD, row.id)
    assert v.get_record(cctx, row.id).status == "待审阅"
    key = signing.unlock(sctx, PASSWORD)  # once for a batch: each sign-off then costs microseconds
    other = _record(cctx, _customer(cctx, "乙公司"), day=22)
    assert [
        i.integrity
        for i in rv.batch_sign(
            sctx,
            [rv.ItemRef(RECORD, row.id, row.version), rv.ItemRef(RECORD, other.id, other.version)],
            key=key,
        )
    ] == [Integrity.INTACT, Integrity.INTACT]
    assert tamper.verify_all(ctx).ok


def test_a_reset_gives_a_new_key_and_old_signatures_stay_valid(
    ctx: ServiceContext, admin: UserInfo, cctx: ServiceContext, sctx: ServiceContext, signed: int
) -> None:
    with ctx.sessions() as s:
        old_key = s.execute(select(User.public_key).where(User.username == "zhuguan")).scalar()
    users.reset_password(ctx.as_user(admin), "zhuguan", "new-secret-1")
    with ctx.sessions() as s:
        assert s.execute(select(User.public_key).where(User.username == "zhuguan")).scalar() != old_key
    assert rv.verify(sctx, RECORD, signed) is Integrity.INTACT
    with pytest.raises(signing.WrongPassword):
        signing.unlock(sctx, PASSWORD)
    row = _record(cctx, _customer(cctx, "乙公司"), day=22)
    rv.sign(sctx, RECORD, row.id, password="new-secret-1")
    assert rv.verify(sctx, RECORD, row.id) is Integrity.INTACT
    assert tamper.verify_all(ctx).ok


# --- the chain, users, backups -------------------------------------------------------------------------------


def _number(ctx: ServiceContext, record_id: int) -> str:
    with ctx.sessions() as s:
        return str(s.execute(select(VisitRecord.number).where(VisitRecord.id == record_id)).scalar())


def test_a_clean_office_verifies_and_the_chain_has_no_gaps(ctx: ServiceContext, signed: int) -> None:
    report = tamper.verify_all(ctx)
    assert report.ok, report.findings
    with ctx.sessions() as s:
        people = len(s.execute(select(User.id)).all())
    assert report.signatures == 1 and report.users == people == 3 and report.audit_rows >= 8
    assert report.summary().endswith("未发现问题")
    with ctx.sessions() as s:
        rows = s.execute(
            select(AuditLog.seq, AuditLog.prev_hash, AuditLog.row_hash).order_by(AuditLog.seq)
        ).all()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(b.prev_hash == a.row_hash for a, b in pairwise(rows))
    assert tamper.chain_head(ctx) == tamper.ChainHead(len(rows), rows[-1].row_hash)


def test_deleting_or_editing_an_audit_row_is_named_by_its_number(ctx: ServiceContext, signed: int) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
        conn.execute(text("UPDATE audit_log SET note = '改过' WHERE seq = 5"))
    findings = tamper.verify_all(ctx).findings
    assert "操作日志第 3 条缺失（被删除）。" in findings
    assert any(line.startswith("操作日志第 5 条") and "被修改" in line for line in findings)


def test_a_role_or_password_hash_changed_with_sql_names_the_user(
    ctx: ServiceContext, clerk: UserInfo, clerk2: UserInfo, signed: int
) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(update(User).where(User.id == clerk.id).values(role="admin"))
        conn.execute(
            update(User).where(User.id == clerk2.id).values(password_hash=users.hash_password("attacker-pw"))
        )
    findings = tamper.verify_all(ctx).findings
    assert "用户 xiaowang（小王）的角色在程序之外被修改（记录为 clerk，现为 admin）。" in findings
    assert "用户 xiaoli（小李）的密码在程序之外被修改。" in findings
    assert tamper.verify_tail(ctx).findings == findings  # the start-up check sees the users too


def test_a_chain_rewritten_after_a_backup_is_caught_by_the_backups_head(
    ctx: ServiceContext, signed: int, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    head = tamper.chain_head(ctx)
    tamper.write_sidecar(folder / "huifang-20261124-100000-000000-manual.db", head)
    with (
        ctx.engine.begin() as conn
    ):  # edit row 2 and recompute every hash after it: the chain itself is whole
        conn.execute(text("UPDATE audit_log SET label = '改写' WHERE seq = 2"))
        rows = conn.execute(select(AuditLog).order_by(AuditLog.seq)).all()
        prev = rows[0].row_hash
        for r in rows[1:]:
            digest = hash_row(r.seq, prev, r._mapping)
            conn.execute(update(AuditLog).where(AuditLog.id == r.id).values(prev_hash=prev, row_hash=digest))
            prev = digest
    report = tamper.verify_all(ctx, folder)
    assert report.findings == [
        (
            f"备份 huifang-20261124-100000-000000-manual.db 记录的审计链 #{head.seq} "
            f"{head.hash[:12]} 与当前操作日志不符（审计链在备份之后被改写）。"
        )
    ]


def test_the_start_up_check_reads_only_the_new_tail(
    ctx: ServiceContext, signed: int, cctx: ServiceContext
) -> None:
    first = tamper.verify_tail(ctx)
    assert first.ok and first.audit_rows >= 8
    _record(cctx, _customer(cctx, "乙公司"), day=22)
    again = tamper.verify_tail(ctx)
    assert again.ok and 0 < again.audit_rows < 5  # only the rows written since
    with ctx.engine.begin() as conn:
        last = conn.execute(text("SELECT max(seq) FROM audit_log")).scalar()
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": last})
    assert tamper.verify_tail(ctx).findings == [f"操作日志第 {last} 条（上次校验过的位置）被删除或修改。"]


# --- imported history ------------------------------------------------------------------------------------


def test_imported_visit_history_is_its_own_status_and_raises_no_false_alarm(
    ctx: ServiceContext, cctx: ServiceContext, sctx: ServiceContext, tmp_path: Path
) -> None:
    _customer(cctx, "老客户车队")
    wb = Workbook()
    ws = wb.active
    ws.append(["客户名称", "回访日期", "回访方式", "回访人", "回访内容", "满意度", "回访结果"])
    for i in range(50):
        ws.append(
            [
                "老客户车队",
                f"2026-{1 + i // 28}-{1 + i % 28}",
                "电话回访",
                "小王",
                f"第 {i} 次回访",
                "满意",
                "",
            ]
        )
    wb.save(tmp_path / "history.xlsx")
    p = importing.preview(cctx, tmp_path / "history.xlsx", None, ImportTarget.VISITS)
    assert p.header_row is not None
    report = importing.validate(
        cctx, tmp_path / "history.xlsx", p.sheet, ImportTarget.VISITS, ColumnMapping(p.header_row, p.mapping)
    )
    assert importing.run_import(cctx, report).imported == 50
    with ctx.sessions() as s:
        rows = s.execute(select(VisitRecord.status, VisitRecord.signed_by_id)).all()
    assert rows == [("历史导入", None)] * 50
    assert rv.tampered_items(sctx) == []
    assert tamper.verify_all(ctx).ok
    visits = lg.Ledger.VISITS
    assert {lg.named(visits, row)["state"] for row in lg.stream(cctx, visits)} == {
        "历史导入"
    }  # 回访台账 状态


def test_audit_rows_record_the_user_state_without_the_password_hash(
    ctx: ServiceContext, clerk: UserInfo
) -> None:
    with ctx.sessions() as s:
        news = [
            json.loads(n)
            for (n,) in s.execute(
                select(AuditLog.new).where(AuditLog.entity == "user", AuditLog.entity_id == clerk.id)
            )
        ]
        pw = s.execute(select(User.password_hash).where(User.id == clerk.id)).scalar()
    assert news[-1]["state"]["public_key"] and all(pw not in json.dumps(n) for n in news)


def test_the_monthly_report_carries_the_chain_head(
    ctx: ServiceContext, sctx: ServiceContext, signed: int, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from huifang_desktop.printing.stats_report import report_values
    from huifang_desktop.services import stats

    head = tamper.chain_head(ctx)
    report, out = stats.export_report(sctx, "2026-11", tmp_path / "月度回访统计表.xlsx")
    label = f"审计链 #{head.seq} {head.hash[:12]}"
    assert any(
        line.startswith(label) for line in report_values(report)["notes"].splitlines()
    )  # the PDF's notes
    cells = [c.value for ws in load_workbook(out).worksheets for row in ws.iter_rows() for c in row]
    assert any(isinstance(v, str) and v.startswith(label) for v in cells)


def test_a_password_change_keeps_the_key_pair_under_the_new_password(
    ctx: ServiceContext, sctx: ServiceContext, supervisor: UserInfo, signed: int
) -> None:
    with ctx.sessions() as s, s.begin():  # as a change-password service does, old password known
        user = s.get(User, supervisor.id)
        assert user is not None
        before = user.public_key
        user.password_hash = users.hash_password("changed-pw-1")
        signing.password_changed(s, sctx, user, PASSWORD, "changed-pw-1")
    with ctx.sessions() as s:
        assert s.execute(select(User.public_key).where(User.id == supervisor.id)).scalar() == before
    assert signing.unlock(sctx, "changed-pw-1").user_id == supervisor.id
    with pytest.raises(signing.WrongPassword):
        signing.unlock(sctx, PASSWORD)
    assert rv.verify(sctx, RECORD, signed) is Integrity.INTACT
    assert tamper.verify_all(ctx).ok  # the new password hash is the recorded state
