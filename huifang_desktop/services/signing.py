"""Signing keys and signatures (tamper evidence, issue 23 item 4).

Every user has an Ed25519 key pair. The private key is stored only encrypted (libsodium ``SecretBox``, via
PyNaCl) under a key derived from the user's password with Argon2id (the same parameters as the password
hash), so whoever holds the database file but not the password cannot sign. The public key is registered
by an audit row (action :data:`KEY_ACTION`) in the hash chain: a signature is checked against the key the
chain registered for the signer before the signature's chain position, so old signatures stay verifiable
after a reset gives the user a new key pair.

Keys are made when a password is set (new user, reset — a new pair, the old password being unknown —, a
change — the same pair re-encrypted) and, for users from before migration 0010, at their next log-in or
sign-off (the password is known then). Every audited change of a user records the user's resulting state
(role, active, a SHA-256 of the password hash, public key) in the row's ``new.state``, so ``verify`` can
tell a role or password hash changed with SQL.

Signing asks for the password: :func:`unlock` derives the key once (the slow part, ~0.1 s with the
production Argon2id parameters) and returns an :class:`UnlockedKey` kept only in memory, which signs any
number of items of that batch in microseconds each.
"""

from __future__ import annotations

import json
import secrets
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.low_level import Type, hash_secret_raw
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.secret import SecretBox
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import Connection, Engine, event, select, update
from sqlalchemy.orm import Session

from huifang_desktop.domain import chain
from huifang_desktop.domain.errors import FieldError, ValidationError
from huifang_desktop.domain.signoff import (
    ReviewKind,
    ReviewStatus,
    SignOff,
    StoredSignature,
    sign_message,
)
from huifang_desktop.services import passwords
from huifang_desktop.services.context import ServiceContext, audit
from huifang_desktop.services.errors import ServiceError
from huifang_desktop.storage.chain import CHAIN_COUNTER, chain_head
from huifang_desktop.storage.models import AuditLog, Complaint, Counter, User, VisitRecord, VisitReport

KEY_ACTION = "登记签字密钥"
MARKER_ACTION = "启用电子签名"  # written by migration 0010: sign-offs before it carry no signature
SIGN_ACTION = "签字"
_BOX_VERSION = 1


class WrongPassword(ServiceError):
    pass


@dataclass(frozen=True)
class UnlockedKey:
    """A user's private key, decrypted for one signing session (never stored)."""

    user_id: int
    key: SigningKey

    def sign(self, message: bytes) -> str:
        return bytes(self.key.sign(message).signature).hex()


# --- the encrypted key -----------------------------------------------------------------------------------


def _kdf_parameters(hasher: PasswordHasher | None = None) -> tuple[int, int, int]:
    h = hasher or passwords.password_hasher()
    return h.time_cost, h.memory_cost, h.parallelism


def _derive(password: str, salt: bytes, t: int, m: int, p: int) -> bytes:
    return hash_secret_raw(password.encode("utf-8"), salt, t, m, p, SecretBox.KEY_SIZE, Type.ID)


def seal(key: SigningKey, password: str, hasher: PasswordHasher | None = None) -> str:
    """The private key encrypted under ``password`` (JSON: Argon2id parameters, salt, box). ``hasher``: whose
    Argon2id parameters derive the box key — the one the password itself is hashed with (the demo office's
    cheap one for its shown passwords); default the program's."""
    t, m, p = _kdf_parameters(hasher)
    salt = secrets.token_bytes(16)
    box = SecretBox(_derive(password, salt, t, m, p)).encrypt(bytes(key))
    return json.dumps(
        {
            "v": _BOX_VERSION,
            "kdf": "argon2id",
            "t": t,
            "m": m,
            "p": p,
            "salt": salt.hex(),
            "box": bytes(box).hex(),
        },
        sort_keys=True,
    )


def open_box(text: str, password: str) -> SigningKey:
    """The private key from its box; :class:`WrongPassword` when ``password`` does not open it."""
    try:
        data = json.loads(text)
        secret = _derive(
            password, bytes.fromhex(data["salt"]), int(data["t"]), int(data["m"]), int(data["p"])
        )
        return SigningKey(SecretBox(secret).decrypt(bytes.fromhex(data["box"])))
    except (CryptoError, ValueError, KeyError, TypeError):
        raise WrongPassword("密码不正确，未签字。") from None


def user_state(user: User) -> dict[str, Any]:
    """A user's security-relevant state, as recorded in ``new.state`` of every audited change of the user."""
    return chain.user_state(user.role, bool(user.active), user.password_hash, user.public_key or "")


def with_state(user: User, new: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``new`` of an audit row about ``user`` plus the user's resulting state."""
    return {**(new or {}), "state": user_state(user)}


def set_new_key(
    s: Session,
    ctx: ServiceContext,
    user: User,
    password: str,
    reason: str,
    *,
    hasher: PasswordHasher | None = None,
) -> UnlockedKey:
    """A new key pair for ``user`` under ``password``, registered in the chain (the caller's transaction);
    ``hasher``: as :func:`seal` takes it."""
    key = SigningKey.generate()
    user.public_key = bytes(key.verify_key).hex()
    user.key_box = seal(key, password, hasher)
    s.flush()
    audit(
        s,
        ctx,
        KEY_ACTION,
        "user",
        user.id,
        user.display_name,
        new=with_state(user, {"public_key": user.public_key, "reason": reason}),
    )
    return UnlockedKey(user.id, key)


def reseal(user: User, old_password: str, new_password: str) -> bool:
    """A password change: the same key pair, encrypted under the new password. False when the user has no
    key yet or the old password does not open it (the caller then makes a new pair with :func:`set_new_key`)."""
    if not user.key_box:
        return False
    try:
        key = open_box(user.key_box, old_password)
    except WrongPassword:
        return False
    user.key_box = seal(key, new_password)
    return True


def password_changed(
    s: Session,
    ctx: ServiceContext,
    user: User,
    old_password: str,
    new_password: str,
    action: str = "修改密码",
    note: str = "",
) -> None:
    """After ``user.password_hash`` was set from ``new_password`` (a change by the user, old password known):
    the same key pair re-encrypted under the new password (or a new pair when the user had none), and the
    audit row ``action`` with the user's resulting state, in the caller's transaction. A password set
    without the old one (an administrator's reset) makes a new pair instead: :func:`set_new_key`."""
    resealed = reseal(user, old_password, new_password)
    audit(s, ctx, action, "user", user.id, user.display_name, new=with_state(user), note=note)
    if not resealed:
        set_new_key(s, ctx, user, new_password, action)


def unlock(ctx: ServiceContext, password: str) -> UnlockedKey:
    """The acting user's private key for a signing session. A user from before signatures existed gets a key
    pair now (the password is checked against the log-in hash first)."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if not ctx.user.id:
        raise ServiceError("系统账户不能签字。")
    if not password:
        raise ValidationError(FieldError("password", "密码", "签字需要输入您的登录密码"))
    with ctx.sessions() as s, s.begin():
        user = s.get(User, ctx.user.id)
        if user is None or not user.active:
            raise ServiceError("当前用户已停用，不能签字。")
        if user.key_box:
            return UnlockedKey(user.id, open_box(user.key_box, password))
        ok: bool
        try:
            ok = passwords.password_hasher().verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            raise WrongPassword("密码不正确，未签字。")
        return set_new_key(s, ctx, user, password, "首次签字时生成")


def ensure_key_at_login(s: Session, ctx: ServiceContext, user: User, password: str) -> None:
    """At a successful log-in: a user from before migration 0010 gets a key pair (the password is known)."""
    if not user.key_box:
        set_new_key(s, ctx, user, password, "登录时生成")


def credential_key(ctx: ServiceContext, password: str | None, key: UnlockedKey | None) -> UnlockedKey:
    """The key a sign-off uses: an unlocked one of this user, or unlocked now from ``password``."""
    if key is not None:
        if key.user_id != ctx.user.id:
            raise ServiceError("签字密钥不属于当前用户。")
        return key
    if password is None:
        raise ValidationError(FieldError("password", "密码", "签字需要输入您的登录密码"))
    return unlock(ctx, password)


# --- signing and checking ----------------------------------------------------------------------------------


def signature_for(
    key: UnlockedKey, kind: ReviewKind | str, item_id: int, content: str, sign_off: SignOff, seq: int
) -> str:
    return key.sign(sign_message(kind, item_id, content, sign_off, seq))


_KEYS_CACHE = "huifang_registered_keys"
_MARKER_CACHE = "huifang_signature_marker"


def _read_key_rows(db: Session | Connection, user_id: int) -> list[tuple[int, str]]:
    q = (
        select(AuditLog.seq, AuditLog.new)
        .where(
            AuditLog.entity == "user",
            AuditLog.entity_id == user_id,
            AuditLog.action == KEY_ACTION,
            AuditLog.seq.is_not(None),
        )
        .order_by(AuditLog.seq)
    )
    rows = []
    for seq, new in db.execute(q):
        try:
            rows.append((int(seq or 0), str(json.loads(new or "{}").get("public_key", ""))))
        except ValueError:
            continue
    return rows


def _key_rows(db: Session | Connection, user_id: int) -> list[tuple[int, str]]:
    """(position, public key hex) of every key the chain registered for ``user_id``, in chain order."""
    cache: dict[int, list[tuple[int, str]]] = db.info.setdefault(_KEYS_CACHE, {})
    rows = cache.get(user_id)
    if rows is None:
        rows = cache[user_id] = _read_key_rows(db, user_id)
    return rows


class SignerKeys:
    """The keys the chain registered per signer, kept across sessions of one database (the printouts: one
    session per form, so the per-session cache of :func:`_key_rows` would read them again for each).

    Valid by the chain's order: the rows are read with the chain's head ``covered`` before them, and a key
    registered later gets a later position, so a signature at a position up to ``covered`` is decided by the
    rows at hand; one made after it reads them again (a new key pair after a reset is never missed). Emptied
    when the database gets a new connection (after a restore the file under the engine is another one). Not
    for :mod:`~huifang_desktop.services.tamper`: rows rewritten with SQL are found by reading them afresh."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, list[tuple[int, str]]]] = {}
        self._lock = threading.Lock()

    def rows(self, db: Session | Connection, user_id: int, seq: int) -> list[tuple[int, str]]:
        hit = self._rows.get(user_id)
        if hit is not None and seq <= hit[0]:
            return hit[1]
        covered = int(db.execute(select(Counter.value).where(Counter.name == CHAIN_COUNTER)).scalar() or 0)
        rows = _read_key_rows(db, user_id)  # after the head: nothing at or before it is missing
        with self._lock:
            self._rows[user_id] = (covered, rows)
        return rows

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


_SHARED_KEYS: weakref.WeakKeyDictionary[Engine, SignerKeys] = weakref.WeakKeyDictionary()


def shared_keys(engine: Engine) -> SignerKeys:
    """The :class:`SignerKeys` of the database behind ``engine`` (made at first use)."""
    keys = _SHARED_KEYS.get(engine)
    if keys is None:
        keys = _SHARED_KEYS.setdefault(engine, SignerKeys())
        event.listen(engine, "connect", lambda *_args: keys.clear())
    return keys


def registered_key(
    db: Session | Connection, user_id: int, seq: int, keys: SignerKeys | None = None
) -> str | None:
    """The public key (hex) the chain registered for ``user_id`` last at or before position ``seq``
    (``keys``: read through that cache instead of the session's)."""
    found = None
    for at, key in keys.rows(db, user_id, seq) if keys is not None else _key_rows(db, user_id):
        if at > seq:
            break
        found = key
    return found or None


def verifier(db: Session | Connection, keys: SignerKeys | None = None) -> Any:
    """A :data:`domain.signoff.SignatureCheck` reading keys from the chain (cached per session, or in
    ``keys`` across sessions)."""

    def check(message: bytes, signature: str, signer_id: int | None, seq: int) -> bool:
        if signer_id is None:
            return False
        public = registered_key(db, signer_id, seq, keys)
        if not public:
            return False
        try:
            VerifyKey(bytes.fromhex(public)).verify(message, bytes.fromhex(signature))
            return True
        except (BadSignatureError, ValueError):
            return False

    return check


def marker_seq(db: Session | Connection) -> int:
    """The chain position where signatures began (migration 0010); 0 when there is none."""
    if _MARKER_CACHE not in db.info:
        value = db.execute(
            select(AuditLog.seq).where(AuditLog.action == MARKER_ACTION).order_by(AuditLog.seq).limit(1)
        ).scalar()
        db.info[_MARKER_CACHE] = int(value or 0)
    return int(db.info[_MARKER_CACHE])


def legacy_checker(db: Session | Connection, kind: ReviewKind | str, action: str = SIGN_ACTION) -> Any:
    """A :data:`domain.signoff.LegacyCheck`: a sign-off without a signature is accepted only when made
    before signatures existed — its 签字 row, with the same content hash, lies in the chain before the
    migration's marker (a row marked signed with SQL later has none)."""
    entity = kind.entity if isinstance(kind, ReviewKind) else kind

    def check(item_id: int | None, stored: StoredSignature) -> bool:
        limit = marker_seq(db)
        if item_id is None or not limit:
            return False
        q = select(AuditLog.new).where(
            AuditLog.entity == entity,
            AuditLog.entity_id == item_id,
            AuditLog.action == action,
            AuditLog.seq < limit,
        )
        for (new,) in db.execute(q):
            try:
                if json.loads(new or "{}").get("content_hash") == stored.content_hash:
                    return True
            except ValueError:
                continue
        return False

    return check


# --- the demo office ---------------------------------------------------------------------------------------

_TABLES: dict[ReviewKind, tuple[Any, str]] = {
    ReviewKind.RECORD: (VisitRecord.__table__, "status"),
    ReviewKind.REPORT: (VisitReport.__table__, "status"),
    ReviewKind.COMPLAINT: (Complaint.__table__, "review_status"),
}


def sign_generated(conn: Connection, keys: Mapping[int, UnlockedKey]) -> int:
    """The demo generator writes signed items in bulk: sign each with its signer's key (the generator made
    the users and knows their passwords), at the chain's current head. An item whose signer's key is not
    at hand (a user that existed before) goes back to 待审阅 instead of carrying a signature that is not one.
    Returns the number signed."""
    head = max(chain_head(conn)[0], 1)
    signed = 0
    for kind, (table, status_col) in _TABLES.items():
        status = table.c[status_col]
        q = (
            select(
                table.c.id,
                table.c.content_hash,
                table.c.signed_by_id,
                table.c.signed_role,
                table.c.signed_at,
                table.c.supervisor_comment,
                table.c.revision,
            )
            .where(status == ReviewStatus.SIGNED.value, table.c.signature == "")
            .order_by(table.c.id)
        )
        rows = conn.execute(q).all()
        updates, orphans = [], []
        for r in rows:
            key = keys.get(r.signed_by_id) if r.signed_by_id is not None else None
            if key is None:
                orphans.append({"b_id": r.id})
                continue
            sign_off = SignOff(
                r.signed_by_id, r.signed_role or "", r.signed_at, r.supervisor_comment or "", r.revision or 0
            )
            updates.append(
                {
                    "b_id": r.id,
                    "b_sig": signature_for(key, kind, r.id, r.content_hash, sign_off, head),
                    "b_seq": head,
                }
            )
        from sqlalchemy import bindparam

        if updates:
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(signature=bindparam("b_sig"), signed_seq=bindparam("b_seq")),
                updates,
            )
        if orphans:
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    {
                        status_col: ReviewStatus.PENDING.value,
                        "signed_by_id": None,
                        "signed_at": None,
                        "signed_role": "",
                        "content_hash": "",
                        "signature_hash": "",
                        "supervisor_comment": "",
                    }
                ),
                orphans,
            )
        signed += len(updates)
    return signed


__all__ = [
    "KEY_ACTION",
    "MARKER_ACTION",
    "UnlockedKey",
    "WrongPassword",
    "credential_key",
    "ensure_key_at_login",
    "legacy_checker",
    "marker_seq",
    "open_box",
    "password_changed",
    "registered_key",
    "reseal",
    "seal",
    "set_new_key",
    "sign_generated",
    "signature_for",
    "unlock",
    "user_state",
    "verifier",
    "with_state",
]
