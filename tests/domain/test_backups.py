"""Backup rotation: 7 daily, 4 weekly, 12 monthly; protected backups stay."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from huifang_desktop.domain.backups import RotationPolicy, parse_backup_name, to_keep
from huifang_desktop.domain.errors import ValidationError


def _name(at: datetime, reason: str = "daily") -> str:
    return f"huifang-{at:%Y%m%d-%H%M%S}-000000-{reason}.db"


def test_parse_backup_name_reads_time_and_reason() -> None:
    b = parse_backup_name("huifang-20261124-093000-123456-pre-migrate-0002.db")
    assert (
        b is not None and b.at == datetime(2026, 11, 24, 9, 30, 0, 123456) and b.reason == "pre-migrate-0002"
    )
    assert parse_backup_name("notes.txt") is None
    assert parse_backup_name("huifang-20261340-093000-000000-daily.db") is None  # impossible date


def test_to_keep_daily_weekly_monthly_over_two_years() -> None:
    now = datetime(2026, 11, 24, 12, 0)
    names = [parse_backup_name(_name(now - timedelta(days=d, hours=1))) for d in range(730)]
    keep = to_keep([n for n in names if n], now, RotationPolicy())
    kept = sorted((parse_backup_name(k).at for k in keep), reverse=True)  # type: ignore[union-attr]
    # 7 newest days are all kept
    assert [k.date() for k in kept[:7]] == [(now - timedelta(days=d, hours=1)).date() for d in range(7)]
    # one per month for the last 12 months, and never more than 7 + 4 + 12 (+ overlaps removed)
    months = {(k.year, k.month) for k in kept}
    assert len(months) == 12
    assert len(kept) <= 7 + 4 + 12
    assert min(kept) > now - timedelta(days=366)


def test_to_keep_keeps_recent_and_protected() -> None:
    now = datetime(2026, 11, 24, 12, 0)
    old = now - timedelta(days=900)
    items = [
        parse_backup_name(_name(old, "pre-migrate-0001")),
        parse_backup_name(_name(old, "manual")),
        parse_backup_name(_name(now - timedelta(hours=2), "manual")),
        parse_backup_name(_name(now - timedelta(hours=3), "manual")),
    ]
    keep = to_keep([i for i in items if i], now, RotationPolicy(daily=1, weekly=0, monthly=0))
    assert _name(old, "pre-migrate-0001") in keep
    assert _name(old, "manual") not in keep
    assert {_name(now - timedelta(hours=2), "manual"), _name(now - timedelta(hours=3), "manual")} <= keep


def test_rotation_policy_validates() -> None:
    with pytest.raises(ValidationError, match="保留天数"):
        RotationPolicy(daily=-1)
    with pytest.raises(ValidationError, match="至少要保留"):
        RotationPolicy(0, 0, 0)
    assert RotationPolicy.from_dict({"daily": 3}).to_dict() == {"daily": 3, "weekly": 4, "monthly": 12}


def test_pre_migrate_backups_keep_the_newest_per_revision_and_at_most_three() -> None:
    from huifang_desktop.domain.backups import PRE_MIGRATE_KEEP, pre_migrate_reason, pre_migrate_to_keep

    now = datetime(2026, 11, 24, 12, 0)
    made = [
        (now - timedelta(days=40), "0003"),
        (now - timedelta(days=30), "0004"),
        (now - timedelta(days=20), "0005"),
        (now - timedelta(hours=5), "0006"),
        (now - timedelta(hours=1), "0006"),
    ]
    items = [
        b for at, rev in made if (b := parse_backup_name(_name(at, pre_migrate_reason(rev)))) is not None
    ]
    expected = {
        _name(now - timedelta(hours=1), "pre-migrate-0006"),
        _name(now - timedelta(days=20), "pre-migrate-0005"),
        _name(now - timedelta(days=30), "pre-migrate-0004"),
    }
    assert PRE_MIGRATE_KEEP == 3
    assert pre_migrate_to_keep(items) == expected
    # the rotation of all backups follows the same rule for them: an older copy of 0006 goes, even today's
    keep = to_keep(items, now, RotationPolicy(daily=0, weekly=0, monthly=1))
    assert _name(now - timedelta(hours=5), "pre-migrate-0006") not in keep
    assert expected <= keep
