"""The password hasher (argon2id): the log-in (:mod:`.users`) and the encrypted signing keys (:mod:`.signing`)
both read it from here, so neither imports the other for it."""

from __future__ import annotations

from argon2 import PasswordHasher

_DEFAULT_HASHER = PasswordHasher()  # argon2id with the library's recommended (slow) parameters


def password_hasher() -> PasswordHasher:
    """The hasher for new passwords. Verification reads the parameters stored in each hash, so a test may
    monkeypatch this (``passwords.password_hasher``) to a cheap hasher without touching the production
    defaults."""
    return _DEFAULT_HASHER


__all__ = ["password_hasher"]
