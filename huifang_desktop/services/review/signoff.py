"""Sign (one or a batch), return for rework, reopen and resubmit: each with its audit row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from huifang_desktop.domain.complaint_rules import OWN_TOP_LEVEL_NOTE
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.roles import Permission, can
from huifang_desktop.domain.signoff import (
    Integrity,
    ReviewAction,
    ReviewKind,
    ReviewRules,
    content_hash,
    next_status,
    require_reason,
    signature_hash,
)
from huifang_desktop.domain.validation import optional_text
from huifang_desktop.services import signing
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import ConflictError, PermissionDenied
from huifang_desktop.services.review.item import _complaint_sign_refusal, _own_top
from huifang_desktop.services.review.model import ItemRef, ReviewItem, load_review_rules
from huifang_desktop.services.review.rows import (
    _attachments,
    _check_version,
    _customer_name,
    _integrity,
    _item,
    _label,
    _limited,
    _load,
    _names,
    _owner_id,
    _person,
    _self_check,
    _set_status,
    _status,
    _stored,
    _values,
)

# --- sign, return, reopen, resubmit ------------------------------------------------------------------


def _guarded(fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StaleDataError:
            raise ConflictError("该表单刚被其他人修改，请重新阅读后再操作。") from None

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _sign_in(
    s: Session,
    ctx: ServiceContext,
    kind: ReviewKind,
    row: Any,
    comment: str,
    expected: int | None,
    rules: ReviewRules,
    names: Mapping[int, str],
    key: signing.UnlockedKey,
    note: str = "",
) -> str:
    """Sign ``row`` in ``s``; returns its customer's name (read before the row changes, so the query does
    not flush it half-signed; the caller's :func:`_item` reuses it)."""
    _check_version(kind, row, expected)
    before = _status(kind, row)
    new_status = next_status(ReviewAction.SIGN, before, f"{kind.short} {row.number} ")
    own_top = _own_top(ctx, kind, row)
    _self_check(ctx, kind, row, rules, "签署", own_top)
    _authority_check(ctx, kind, row)
    customer = _customer_name(s, kind, row)
    if own_top:  # signed by its own handler: said in the log
        note = f"{OWN_TOP_LEVEL_NOTE}；{note}" if note else OWN_TOP_LEVEL_NOTE
    row.supervisor_comment = comment
    row.signed_by_id = ctx.user.id
    row.signed_role = ctx.user.role.value
    row.signed_at = ctx.now()
    attachments = _attachments(s, [row.id])[row.id] if kind is ReviewKind.COMPLAINT else None
    row.content_hash = content_hash(kind, _values(kind, row, attachments))
    row.signature_hash = signature_hash(row.content_hash, _stored(kind, row).sign_off)
    _set_status(kind, row, new_status)
    entry = audit(
        s,
        ctx,
        ReviewAction.SIGN.value,
        kind.entity,
        row.id,
        _label(kind, row, customer),
        old={"status": before},
        new={
            "status": new_status.value,
            "signer": ctx.user.display_name,
            "role": ctx.user.role.label,
            "signed_at": row.signed_at.isoformat(sep=" "),
            "revision": row.revision or 0,
            "content_hash": row.content_hash,
            "comment": comment,
        },
        note=note,
    )
    assert entry.seq is not None
    row.signed_seq = entry.seq
    row.signature = signing.signature_for(
        key, kind, row.id, row.content_hash, _stored(kind, row).sign_off, entry.seq
    )
    return customer


def _authority_check(ctx: ServiceContext, kind: ReviewKind, row: Any) -> None:
    """核决权限: a complaint file is signed at the level its severity asks (002 制度3 §6) or above."""
    if kind is ReviewKind.COMPLAINT:
        why = _complaint_sign_refusal(ctx, row.severity)
        if why:
            raise PermissionDenied(f"投诉 {row.number}：{why}。")


@_guarded
def sign(
    ctx: ServiceContext,
    kind: ReviewKind | str,
    item_id: int,
    comment: str = "",
    expected_version: int | None = None,
    *,
    password: str | None = None,
    key: signing.UnlockedKey | None = None,
) -> ReviewItem:
    """签字通过: signer, role, time, 指导意见, the hashes of the content as stored now and the signer's
    Ed25519 signature over them (``password`` unlocks the signer's key; or a ``key`` already unlocked by
    :func:`huifang_desktop.services.signing.unlock` for a series of sign-offs); audited."""
    kind = ReviewKind.parse(kind)
    ctx.require(Permission.SIGN_OFF, "审阅签字")
    _person(ctx, "签字")
    text = optional_text(comment, label="指导意见", field="comment", max_len=4000)
    rules = load_review_rules(ctx)
    unlocked = signing.credential_key(ctx, password, key)
    with ctx.sessions() as s, s.begin():
        row = _load(s, ctx, kind, item_id)
        names = _names(s)
        customer = _sign_in(s, ctx, kind, row, text, expected_version, rules, names, unlocked)
        s.flush()
        return _item(s, ctx, kind, row, names, rules, integrity=Integrity.INTACT, customer=customer)


@_guarded
def batch_sign(
    ctx: ServiceContext,
    items: Sequence[ItemRef],
    comment: str = "",
    *,
    password: str | None = None,
    key: signing.UnlockedKey | None = None,
) -> list[ReviewItem]:
    """Sign several items (the UI lets a supervisor batch-sign visit records after reading each) in one
    transaction: all or none. Each item is checked like :func:`sign`, with the version that was read; the
    password unlocks the key once for the whole batch."""
    ctx.require(Permission.SIGN_OFF, "审阅签字")
    _person(ctx, "签字")
    if not items:
        raise ValidationError(FieldError("items", "签字", "请先勾选要签字的表单"))
    text = optional_text(comment, label="指导意见", field="comment", max_len=4000)
    rules = load_review_rules(ctx)
    unlocked = signing.credential_key(ctx, password, key)
    limited = _limited(ctx)
    with ctx.sessions() as s, s.begin():
        names = _names(s)
        rows = []
        for ref in dict.fromkeys(items):
            kind = ReviewKind.parse(ref.kind)
            row = _load(s, ctx, kind, ref.id, limited)
            customer = _sign_in(
                s,
                ctx,
                kind,
                row,
                text,
                ref.version,
                rules,
                names,
                unlocked,
                note=f"批量签字（共 {len(items)} 份）",
            )
            rows.append((kind, row, customer))
        s.flush()
        return [
            _item(s, ctx, kind, row, names, rules, integrity=Integrity.INTACT, customer=customer)
            for kind, row, customer in rows
        ]


@_guarded
def return_for_rework(
    ctx: ServiceContext,
    kind: ReviewKind | str,
    item_id: int,
    reason: str,
    expected_version: int | None = None,
) -> ReviewItem:
    """退回修改: back to the clerk with the reason (required), who corrects it and resubmits."""
    kind = ReviewKind.parse(kind)
    ctx.require(Permission.SIGN_OFF, "退回表单")
    _person(ctx, "退回")
    text = require_reason(reason, "退回原因")
    rules = load_review_rules(ctx)
    with ctx.sessions() as s, s.begin():
        row = _load(s, ctx, kind, item_id)
        _check_version(kind, row, expected_version)
        before = _status(kind, row)
        new_status = next_status(ReviewAction.RETURN, before, f"{kind.short} {row.number} ")
        _self_check(ctx, kind, row, rules, "退回")
        row.supervisor_comment = text
        _set_status(kind, row, new_status)
        audit(
            s,
            ctx,
            ReviewAction.RETURN.value,
            kind.entity,
            row.id,
            _label(kind, row, _customer_name(s, kind, row)),
            old={"status": before},
            new={"status": new_status.value, "reason": text},
            note=text,
        )
        s.flush()
        names = _names(s)
        return replace(
            _item(s, ctx, kind, row, names, rules), returned_by=ctx.user.display_name, returned_at=ctx.now()
        )


@_guarded
def reopen(
    ctx: ServiceContext,
    kind: ReviewKind | str,
    item_id: int,
    reason: str,
    expected_version: int | None = None,
) -> ReviewItem:
    """撤回签字 (supervisor or manager, reason required): the signature is cleared — the old one stays in the
    audit log, with the tamper check at that moment —, ``revision`` goes up by one and the item goes back to
    its clerk (退回); an edit or :func:`resubmit` puts it in the review queue again for a new signature."""
    kind = ReviewKind.parse(kind)
    ctx.require(Permission.REOPEN, "撤回签字")
    _person(ctx, "撤回签字")
    text = require_reason(reason, "撤回原因")
    rules = load_review_rules(ctx)
    with ctx.sessions() as s, s.begin():
        row = _load(s, ctx, kind, item_id)
        _check_version(kind, row, expected_version)
        before = _status(kind, row)
        new_status = next_status(ReviewAction.REOPEN, before, f"{kind.short} {row.number} ")
        integrity = _integrity(s, kind, row)
        names = _names(s)
        old = {
            "status": before,
            "signer": names.get(row.signed_by_id, "") if row.signed_by_id else "",
            "signed_at": row.signed_at.isoformat(sep=" ") if row.signed_at else None,
            "comment": row.supervisor_comment,
            "revision": row.revision or 0,
            "content_hash": row.content_hash,
            "integrity": integrity.value,
        }
        row.revision = (row.revision or 0) + 1
        row.signed_by_id, row.signed_at, row.signed_role = None, None, ""
        row.content_hash, row.signature_hash, row.signature, row.signed_seq = "", "", "", None
        row.supervisor_comment = text
        _set_status(kind, row, new_status)
        note = text if integrity is Integrity.INTACT else f"{text}（撤回前校验：{integrity.value}）"
        audit(
            s,
            ctx,
            ReviewAction.REOPEN.value,
            kind.entity,
            row.id,
            _label(kind, row, _customer_name(s, kind, row)),
            old=old,
            new={"status": new_status.value, "revision": row.revision, "reason": text},
            note=note,
        )
        s.flush()
        return replace(
            _item(s, ctx, kind, row, names, rules), returned_by=ctx.user.display_name, returned_at=ctx.now()
        )


@_guarded
def resubmit(
    ctx: ServiceContext,
    kind: ReviewKind | str,
    item_id: int,
    note: str = "",
    expected_version: int | None = None,
) -> ReviewItem:
    """重新提交: the clerk (or a supervisor) sends a returned item back to the review queue (待审阅)."""
    kind = ReviewKind.parse(kind)
    ctx.require(Permission.EDIT_CUSTOMERS, "重新提交审阅")
    text = optional_text(note, label="说明", field="note", max_len=2000)
    rules = load_review_rules(ctx)
    with ctx.sessions() as s, s.begin():
        row = _load(s, ctx, kind, item_id)
        _check_version(kind, row, expected_version)
        if (
            ctx.user.id
            and _owner_id(kind, row) != ctx.user.id
            and not can(ctx.user.role, Permission.SIGN_OFF)
        ):
            raise PermissionDenied(f"{kind.short} {row.number} 不是您的，不能重新提交。")
        before = _status(kind, row)
        new_status = next_status(ReviewAction.RESUBMIT, before, f"{kind.short} {row.number} ")
        _set_status(kind, row, new_status)
        audit(
            s,
            ctx,
            ReviewAction.RESUBMIT.value,
            kind.entity,
            row.id,
            _label(kind, row, _customer_name(s, kind, row)),
            old={"status": before},
            new={"status": new_status.value},
            note=text,
        )
        s.flush()
        return _item(s, ctx, kind, row, _names(s), rules)
