"""Backup rotation (architecture.md "Data safety"): which backups to keep. Pure; no file access.

The office keeps the newest backup of each of the last ``daily`` days, of the last ``weekly`` ISO weeks and
of the last ``monthly`` months (7 / 4 / 12 by default), plus every backup younger than a day, plus backups
made before a restore (never rotated away automatically). Backups made before a migration follow their own
rule: the newest one of each source revision, at most ``PRE_MIGRATE_KEEP`` in all (the newest).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError

_NAME = re.compile(r"^huifang-(\d{8})-(\d{6})(?:-(\d{6}))?-([A-Za-z0-9_.-]+)\.(?:db|dump)$")
KEEP_REASONS = ("pre-restore",)
PRE_MIGRATE = "pre-migrate"
PRE_MIGRATE_KEEP = 3


@dataclass(frozen=True, slots=True)
class RotationPolicy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12

    def __post_init__(self) -> None:
        for name, label in (("daily", "保留天数"), ("weekly", "保留周数"), ("monthly", "保留月数")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(FieldError(name, label, f"“{value}”应为不小于 0 的整数"))
        if self.daily + self.weekly + self.monthly == 0:
            raise ValidationError(FieldError("daily", "保留天数", "至少要保留一份备份"))

    def to_dict(self) -> dict[str, int]:
        return {"daily": self.daily, "weekly": self.weekly, "monthly": self.monthly}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RotationPolicy:
        d = cls()
        return cls(
            int(data.get("daily", d.daily)),
            int(data.get("weekly", d.weekly)),
            int(data.get("monthly", d.monthly)),
        )


@dataclass(frozen=True, slots=True)
class BackupName:
    name: str
    at: datetime
    reason: str


def parse_backup_name(name: str) -> BackupName | None:
    """``huifang-20261124-093000-123456-daily.db`` (SQLite) or ``….dump`` (pg_dump) → (time, reason); None
    for other files."""
    m = _NAME.match(name)
    if not m:
        return None
    try:
        at = datetime.strptime(m.group(1) + m.group(2) + (m.group(3) or "000000"), "%Y%m%d%H%M%S%f")
    except ValueError:
        return None
    return BackupName(name, at, m.group(4))


def is_protected(reason: str) -> bool:
    return any(reason.startswith(r) for r in KEEP_REASONS)


def pre_migrate_reason(revision: str) -> str:
    """The reason of the backup made before migrating a database at ``revision``."""
    return f"{PRE_MIGRATE}-{revision}"


def is_pre_migrate(reason: str) -> bool:
    return reason.startswith(PRE_MIGRATE + "-")


def pre_migrate_to_keep(backups: Iterable[BackupName], limit: int = PRE_MIGRATE_KEEP) -> set[str]:
    """Names of the pre-migrate backups to keep: the newest of each source revision (an older one of the
    same revision is superseded), and of those the ``limit`` newest."""
    newest: dict[str, BackupName] = {}
    for b in sorted((b for b in backups if is_pre_migrate(b.reason)), key=lambda b: b.at, reverse=True):
        newest.setdefault(b.reason, b)
    return {b.name for b in sorted(newest.values(), key=lambda b: b.at, reverse=True)[:limit]}


def to_keep(
    backups: Iterable[BackupName], now: datetime, policy: RotationPolicy = RotationPolicy()
) -> set[str]:
    """Names of the backups rotation keeps; the rest may be deleted."""
    items = sorted(backups, key=lambda b: b.at, reverse=True)
    keep = pre_migrate_to_keep(items)
    keep.update(
        b.name
        for b in items
        if is_protected(b.reason) or (now - b.at < timedelta(days=1) and not is_pre_migrate(b.reason))
    )
    buckets: dict[tuple[str, object], str] = {}
    for b in items:  # newest first: the first seen in a bucket is its newest
        day = b.at.date()
        iso = day.isocalendar()
        for kind, key in (("d", day), ("w", (iso[0], iso[1])), ("m", (day.year, day.month))):
            buckets.setdefault((kind, key), b.name)
    for kind, limit in (("d", policy.daily), ("w", policy.weekly), ("m", policy.monthly)):
        keys = sorted((k for k in buckets if k[0] == kind), key=lambda k: k[1], reverse=True)  # type: ignore[arg-type,return-value]
        keep.update(buckets[k] for k in keys[:limit])
    return keep


__all__ = [
    "KEEP_REASONS",
    "PRE_MIGRATE",
    "PRE_MIGRATE_KEEP",
    "BackupName",
    "RotationPolicy",
    "is_pre_migrate",
    "is_protected",
    "parse_backup_name",
    "pre_migrate_reason",
    "pre_migrate_to_keep",
    "to_keep",
]
