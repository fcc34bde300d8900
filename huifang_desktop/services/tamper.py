"""Tamper evidence: checking the audit hash chain, every signature, the users and the backups' chain heads.

:func:`verify_all` (``huifang-desktop verify`` and the 操作日志 window's button) walks the whole chain:

* the **chain**: positions without gaps (a deleted row), each row's previous hash equal to the row before's
  hash, each row's hash recomputed from its fields (an edited row), no row outside the chain (inserted with
  SQL), and the head counter not beyond the last row (rows deleted at the end);
* every **signature**: the content hash recomputed from the row as stored now, the signature valid for the
  signer's key registered in the chain (a forged or re-hashed sign-off, a replaced signer);
* the **users**: each user's role, active flag, password hash (as a digest) and public key equal the state
  recorded by the last audited change of that user (a role or password hash changed with SQL);
* the **backups**: the chain heads recorded next to the backups (``*.chain.json``) still match the chain
  (a chain rewritten from some position on, hashes and all, no longer matches what was backed up before).

:func:`verify_tail` is the cheap check at start: from the last verified position (a settings row) to the head,
plus the users; a break is shown to supervisors, managers and administrators.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from huifang_desktop.domain.chain import GENESIS, head_label, user_state
from huifang_desktop.domain.roles import Permission
from huifang_desktop.domain.signoff import Integrity, ReviewKind, ReviewStatus
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage import chain
from huifang_desktop.storage.models import (
    AuditLog,
    Complaint,
    Counter,
    Setting,
    User,
    VisitRecord,
    VisitReport,
)

VERIFIED_KEY = "audit_chain_verified"  # settings row: {"seq": n, "hash": h} of the last verified position
SIDECAR_SUFFIX = ".chain.json"
_BATCH = 5000
_LISTED = 50  # invalid signatures listed one by one per kind (a deleted key registration voids hundreds)
_STATE_LABELS = {"role": "角色", "active": "启用状态", "password": "密码", "public_key": "签字公钥"}
_MODELS: dict[ReviewKind, Any] = {
    ReviewKind.RECORD: VisitRecord,
    ReviewKind.REPORT: VisitReport,
    ReviewKind.COMPLAINT: Complaint,
}

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: str

    @property
    def label(self) -> str:
        """``审计链 #1234 1a2b3c4d5e6f``, as printed on reports and kept with backups."""
        return head_label(self.seq, self.hash)


@dataclass
class VerifyReport:
    audit_rows: int = 0
    signatures: int = 0
    users: int = 0
    backups: int = 0
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        text = f"已检查 {self.audit_rows} 条操作日志、{self.signatures} 个签字、{self.users} 个用户"
        if self.backups:
            text += f"、{self.backups} 个备份的审计链记录"
        return text + ("：未发现问题" if self.ok else f"：发现 {len(self.findings)} 处问题")


def chain_head(ctx: ServiceContext) -> ChainHead:
    """The committed head of the audit chain (for backups and printed reports)."""
    with ctx.sessions() as s:
        seq, digest = chain.chain_head(s)
    return ChainHead(seq, digest)


def write_sidecar(backup: Path, head: ChainHead) -> Path:
    """The chain head next to a backup file (``NAME.chain.json``), read back by :func:`verify_all`."""
    target = backup.with_name(backup.name + SIDECAR_SUFFIX)
    target.write_text(
        json.dumps({"file": backup.name, "seq": head.seq, "hash": head.hash}, ensure_ascii=False),
        encoding="utf-8",
    )
    return target


# --- the chain ----------------------------------------------------------------------------------------------


def _rows(s: Session, after: int) -> Iterator[AuditLog]:
    last = after
    while True:
        batch = list(
            s.execute(
                select(AuditLog).where(AuditLog.seq > last).order_by(AuditLog.seq).limit(_BATCH)
            ).scalars()
        )
        if not batch:
            return
        yield from batch
        last = int(batch[-1].seq or 0)
        s.expunge_all()


def _check_chain(s: Session, start_seq: int, start_hash: str, report: VerifyReport) -> tuple[int, str]:
    """Walk the chain after position ``start_seq`` (whose hash is ``start_hash``); returns the last position
    and hash read."""
    expected, prev = start_seq + 1, start_hash
    for row in _rows(s, start_seq):
        seq = int(row.seq or 0)
        report.audit_rows += 1
        if seq != expected:
            gap = f"第 {expected} 条" if seq == expected + 1 else f"第 {expected}–{seq - 1} 条"
            report.findings.append(f"操作日志{gap}缺失（被删除）。")
        elif row.prev_hash != prev:
            report.findings.append(f"操作日志第 {seq} 条与前一条不衔接（前一条被修改或替换）。")
        if chain.hash_row(seq, row.prev_hash, _values(row)) != row.row_hash:
            report.findings.append(
                f"操作日志第 {seq} 条（{row.action}，{row.username}，{row.at:%Y-%m-%d %H:%M}）"
                "在写入后被修改。"
            )
        expected, prev = seq + 1, row.row_hash
    return expected - 1, prev


def _values(row: AuditLog) -> dict[str, Any]:
    return {
        "at": row.at,
        "user_id": row.user_id,
        "username": row.username,
        "action": row.action,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "label": row.label,
        "old": row.old,
        "new": row.new,
        "note": row.note,
    }


def _check_head(s: Session, last: int, report: VerifyReport) -> None:
    head = int(s.execute(select(Counter.value).where(Counter.name == chain.CHAIN_COUNTER)).scalar() or 0)
    if head > last:
        gap = f"第 {head} 条" if head == last + 1 else f"第 {last + 1}–{head} 条"
        report.findings.append(f"操作日志{gap}缺失（链尾被删除）。")
    outside = int(s.execute(select(func.count(AuditLog.id)).where(AuditLog.seq.is_(None))).scalar() or 0)
    if outside:
        report.findings.append(f"有 {outside} 条操作日志不在审计链中（在程序之外插入）。")


# --- users --------------------------------------------------------------------------------------------------


def _check_users(s: Session, report: VerifyReport) -> None:
    recorded: dict[int, dict[str, Any]] = {}
    q = (
        select(AuditLog.entity_id, AuditLog.new)
        .where(AuditLog.entity == "user", AuditLog.seq.is_not(None), AuditLog.new.like('%"state"%'))
        .order_by(AuditLog.seq)
    )
    for uid, new in s.execute(q):
        try:
            state = json.loads(new or "{}").get("state")
        except ValueError:
            continue
        if isinstance(state, dict) and uid is not None:
            recorded[int(uid)] = state
    for u in s.execute(select(User).order_by(User.id)).scalars():
        report.users += 1
        who = f"用户 {u.username}（{u.display_name}）"
        state = recorded.get(u.id)
        if state is None:
            report.findings.append(f"{who}在操作日志中没有记录（在程序之外添加）。")
            continue
        current = user_state(u.role, bool(u.active), u.password_hash, u.public_key or "")
        for key, label in _STATE_LABELS.items():
            if state.get(key) != current[key]:
                if key == "role":
                    detail = f"（记录为 {state.get(key)}，现为 {current[key]}）"
                elif key == "active":
                    detail = f"（记录为{'启用' if state.get(key) else '停用'}，现为{'启用' if current[key] else '停用'}）"
                else:
                    detail = ""
                report.findings.append(f"{who}的{label}在程序之外被修改{detail}。")


# --- signatures ---------------------------------------------------------------------------------------------


def _check_signatures(s: Session, report: VerifyReport) -> None:
    from huifang_desktop.services.review import _attachments, _checked

    for kind, model in _MODELS.items():
        status = Complaint.review_status if kind is ReviewKind.COMPLAINT else model.status
        last = bad = 0
        while True:
            rows = list(
                s.execute(
                    select(model)
                    .where(
                        or_(
                            status == ReviewStatus.SIGNED.value,
                            model.content_hash != "",
                            model.signature != "",
                        ),
                        model.id > last,
                    )
                    .order_by(model.id)
                    .limit(_BATCH)
                ).scalars()
            )
            if not rows:
                break
            files = _attachments(s, [r.id for r in rows]) if kind is ReviewKind.COMPLAINT else {}
            for r in rows:
                signed = (
                    r.review_status if kind is ReviewKind.COMPLAINT else r.status
                ) == ReviewStatus.SIGNED.value
                report.signatures += int(signed)
                if _checked(s, kind, r, files.get(r.id)) is Integrity.TAMPERED:
                    bad += 1
                    if bad <= _LISTED:
                        report.findings.append(
                            f"{kind.value} {r.number}：签字无效（内容、签字人或签字在签字后被改动，"
                            "或签字是伪造的）。"
                        )
            last = rows[-1].id
            s.expunge_all()
        if bad > _LISTED:
            report.findings.append(f"……另有 {bad - _LISTED} 份{kind.value}签字无效（共 {bad} 份）。")


def _check_assessments(s: Session, report: VerifyReport) -> None:
    from huifang_desktop.services.stats import _row_integrity
    from huifang_desktop.storage.models import MonthlyAssessment

    for row in s.execute(select(MonthlyAssessment).order_by(MonthlyAssessment.month)).scalars():
        if row.status == "已确认":
            report.signatures += 1
        if _row_integrity(s, row) is Integrity.TAMPERED:
            report.findings.append(f"{row.month} 月度考核：确认签字无效（考核内容、确认人或签字被改动）。")


# --- backups ------------------------------------------------------------------------------------------------


def _check_backups(s: Session, folder: Path | None, last: int, report: VerifyReport) -> None:
    if folder is None or not folder.is_dir():
        return
    for side in sorted(folder.glob("*" + SIDECAR_SUFFIX)):
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
            seq, digest = int(data["seq"]), str(data["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            report.findings.append(f"备份的审计链记录 {side.name} 无法读取。")
            continue
        report.backups += 1
        name = str(data.get("file") or side.name[: -len(SIDECAR_SUFFIX)])
        if seq == 0:
            continue
        if seq > last:
            report.findings.append(
                f"备份 {name} 记录的审计链到第 {seq} 条，当前只有 {last} 条（操作日志被删除）。"
            )
            continue
        found = s.execute(select(AuditLog.row_hash).where(AuditLog.seq == seq)).scalar()
        if found != digest:
            report.findings.append(
                f"备份 {name} 记录的审计链 #{seq} {digest[:12]} 与当前操作日志不符"
                "（审计链在备份之后被改写）。"
            )


# --- the checks ---------------------------------------------------------------------------------------------


def verify_all(
    ctx: ServiceContext, backup_folder: Path | None = None, progress: Progress | None = None
) -> VerifyReport:
    """The full check (see the module). Reads everything once; for a million audit rows about half a minute."""
    ctx.require(Permission.VIEW_AUDIT, "校验审计链")
    report = VerifyReport()
    with ctx.sessions() as s:
        if progress:
            progress("正在校验操作日志…")
        last, digest = _check_chain(s, 0, GENESIS, report)
        _check_head(s, last, report)
        if progress:
            progress("正在校验签字…")
        _check_signatures(s, report)
        _check_assessments(s, report)
        _check_users(s, report)
        _check_backups(s, backup_folder, last, report)
    if report.ok:
        _remember(ctx, last, digest)
    return report


def verify_tail(ctx: ServiceContext) -> VerifyReport:
    """The start-up check: the chain from the last verified position to the head, and the users. Cheap on a
    large office (only the new rows are read). Remembers the new position when nothing is broken. What it
    finds is for those who may read the audit log."""
    ctx.require(Permission.VIEW_AUDIT, "校验审计链")
    report = VerifyReport()
    with ctx.sessions() as s:
        row = s.get(Setting, VERIFIED_KEY)
        seq, digest = 0, GENESIS
        if row is not None:
            try:
                data = json.loads(row.value)
                seq, digest = int(data["seq"]), str(data["hash"])
            except (ValueError, KeyError, TypeError):
                seq, digest = 0, GENESIS
        if seq:
            found = s.execute(select(AuditLog.row_hash).where(AuditLog.seq == seq)).scalar()
            if found != digest:
                report.findings.append(f"操作日志第 {seq} 条（上次校验过的位置）被删除或修改。")
                return report
        last, head_hash = _check_chain(s, seq, digest, report)
        _check_head(s, last, report)
        _check_users(s, report)
    if report.ok:
        _remember(ctx, last, head_hash)
    return report


def _remember(ctx: ServiceContext, seq: int, digest: str) -> None:
    value = json.dumps({"seq": seq, "hash": digest})
    with ctx.sessions() as s, s.begin():
        row = s.get(Setting, VERIFIED_KEY)
        if row is None:
            s.add(Setting(key=VERIFIED_KEY, value=value))
        else:
            row.value = value


__all__ = [
    "SIDECAR_SUFFIX",
    "ChainHead",
    "VerifyReport",
    "chain_head",
    "verify_all",
    "verify_tail",
    "write_sidecar",
]
