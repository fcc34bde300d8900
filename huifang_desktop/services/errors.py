"""Errors a service raises; each carries a Chinese message fit to show the user as it is."""

from __future__ import annotations

from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError

__all__ = [
    "ConflictError",
    "DuplicateWarning",
    "FieldError",
    "LockedError",
    "NotFound",
    "PermissionDenied",
    "ServiceError",
    "ValidationError",
]


class ServiceError(Exception):
    """Base class: ``str(exc)`` is a complete Chinese sentence."""


class PermissionDenied(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class LockedError(ServiceError):
    pass


class ConflictError(ServiceError):
    """Someone else saved the record since it was opened (version column)."""

    def __init__(self, message: str, changes: dict[str, tuple[object, object]] | None = None) -> None:
        super().__init__(message)
        self.changes = changes or {}


class DuplicateWarning(ServiceError):
    """Likely duplicates found; the caller may confirm and save anyway."""

    def __init__(self, hits: list[Any]) -> None:  # list[DuplicateHit]
        self.hits = hits
        lines = "；".join(f"{h.code} {h.name}（{h.reason}）" if h.code else h.reason for h in hits[:5])
        super().__init__(f"可能与已有客户重复：{lines}")
