"""The audit hash chain (tamper evidence): every audit row carries its position, the previous row's hash and
its own hash over a canonical serialization of the row, so a row edited, deleted or inserted outside the
program breaks the chain from there on. Pure: the storage layer appends, ``services.tamper`` verifies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from huifang_desktop.domain.signoff import canonical_json

CHAIN_VERSION = 1
GENESIS = "0" * 64  # the "previous hash" of the first row
CHAINED_FIELDS: tuple[str, ...] = (
    "at",
    "user_id",
    "username",
    "action",
    "entity",
    "entity_id",
    "label",
    "old",
    "new",
    "note",
)


def row_hash(seq: int, prev_hash: str, values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the row at ``seq``: the previous hash, the position and every logged field."""
    payload = {
        "v": CHAIN_VERSION,
        "seq": seq,
        "prev": prev_hash,
        "row": {name: values.get(name) for name in CHAINED_FIELDS},
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def password_digest(password_hash: str) -> str:
    """What the audit log records of a password hash (never the hash itself: the log is exported)."""
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()


def user_state(role: str, active: bool, password_hash: str, public_key: str) -> dict[str, Any]:
    """A user's security-relevant state, as every audited change of the user records it (``new.state``)."""
    return {
        "role": role,
        "active": bool(active),
        "password": password_digest(password_hash),
        "public_key": public_key or "",
    }


def head_label(seq: int, digest: str) -> str:
    """How a chain head is printed (reports, backups): ``审计链 #1234 1a2b3c4d5e6f``."""
    return f"审计链 #{seq} {digest[:12]}"


__all__ = [
    "CHAINED_FIELDS",
    "CHAIN_VERSION",
    "GENESIS",
    "head_label",
    "password_digest",
    "row_hash",
    "user_state",
]
