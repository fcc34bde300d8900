"""The code printed as a QR on every form: the form's 编号 plus a short check (pure Python).

``encode("HF20240605-002")`` gives ``"HF20240605-002*QGJ"``: the number, ``*``, and three characters of a
keyed hash of the number in an alphabet without look-alikes. A scanned code is read back with :func:`parse`,
which returns the number only when the check matches (a misread or a hand-typed code is refused). The check
is not a secret signature — its purpose is to catch a wrong number, not forgery — so the key is a constant.

An empty form (nothing filled in yet) carries only its kind: ``"HF-FORM:visit_record"``
(:func:`encode_kind`, :func:`parse_kind`).
"""

from __future__ import annotations

import hashlib
import hmac

SEPARATOR = "*"
KIND_PREFIX = "HF-FORM:"
CHECK_LENGTH = 3
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 characters: no 0/O, 1/I
_KEY = b"huifang-desktop form code v1"


def check_of(number: str) -> str:
    """The check characters of ``number`` (HMAC-SHA256, first 15 bits as 3 characters of the alphabet)."""
    digest = hmac.new(_KEY, number.strip().upper().encode("utf-8"), hashlib.sha256).digest()
    value = int.from_bytes(digest[:2], "big")
    out = []
    for _ in range(CHECK_LENGTH):
        out.append(_ALPHABET[value % len(_ALPHABET)])
        value //= len(_ALPHABET)
    return "".join(out)


def encode(number: str) -> str:
    """The QR text of a form with ``number``."""
    number = number.strip()
    if not number or SEPARATOR in number:
        raise ValueError(f"不能用作表单二维码的编号：{number!r}")
    return f"{number}{SEPARATOR}{check_of(number)}"


def parse(code: str) -> str | None:
    """The number in a scanned code, or None when it is not a form code or its check does not match."""
    number, sep, check = code.strip().rpartition(SEPARATOR)
    if not sep or not number or len(check) != CHECK_LENGTH:
        return None
    return number if hmac.compare_digest(check.upper(), check_of(number)) else None


def verify(code: str) -> bool:
    """The code is a form code whose check matches."""
    return parse(code) is not None


def encode_kind(kind: str) -> str:
    """The QR text of an empty form of ``kind`` (visit_record, complaint …)."""
    return f"{KIND_PREFIX}{kind}"


def parse_kind(code: str) -> str | None:
    """The form kind of an empty form's code, else None."""
    text = code.strip()
    return text[len(KIND_PREFIX) :] or None if text.startswith(KIND_PREFIX) else None
