"""Backup rotation (architecture.md "Data safety"): which backups to keep. Pure; no file access.

The office keeps the newest backup of each of the last ``daily`` days, of the last ``weekly`` ISO weeks and
of the last ``monthly`` months (7 / 4 / 12 by default), plus every backup younger than a day, plus backups
made for a reason that must never be rotated away automatically (before a migration or a restore).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from huifang_desktop.domain.errors import FieldError, ValidationError

_NAME = re.compile(r"^huifang-(\d{8})-(\d{6})(?:-(\d{6}))?-([A-Za-z0-9_.-]+)\.db$")
KEEP_REASONS = ("pre-migrate", "pre-restore")


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
        return cls(int(data.get("daily", d.daily)), int(data.get("weekly", d.weekly)),
                   int(data.get("monthly", d.monthly)))


@dataclass(frozen=True, slots=True)
class BackupName:
    name: str
    at: datetime
    reason: str


def parse_backup_name(name: str) -> BackupName | None:
    """``huifang-20261124-093000-123456-daily.db`` → (time, reason); None for other files."""
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


def to_keep(backups: Iterable[BackupName], now: datetime, policy: RotationPolicy = RotationPolicy()
            ) -> set[str]:
    """Names of the backups rotation keeps; the rest may be deleted."""
    items = sorted(backups, key=lambda b: b.at, reverse=True)
    keep = {b.name for b in items if now - b.at < timedelta(days=1) or is_protected(b.reason)}
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


__all__ = ["BackupName", "KEEP_REASONS", "RotationPolicy", "is_protected", "parse_backup_name", "to_keep"]
