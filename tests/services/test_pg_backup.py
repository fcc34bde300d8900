"""The PostgreSQL backup with the real pg_dump and pg_restore (``HUIFANG_TEST_DB=postgres``): verified,
counted, audited and owner-only."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from huifang_desktop.services import backups as b
from huifang_desktop.services.context import ServiceContext
from huifang_desktop.storage.models import AuditLog
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres" or shutil.which("pg_dump") is None, reason="PostgreSQL with pg_dump only"
)


def test_postgres_backup_is_verified_counted_audited_and_private(ctx: ServiceContext, tmp_path: Path) -> None:
    folder = tmp_path / "bk"
    info = b.make_backup(ctx, folder)
    assert info.path.suffix == ".dump" and info.size > 0
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert [i.path for i in b.list_backups(folder)] == [info.path]
    assert not list(folder.glob("*.part"))
    with ctx.sessions() as s:
        assert s.execute(select(AuditLog.action).where(AuditLog.action == "备份")).scalars().all() == ["备份"]
    assert not b.daily_backup_due(folder, ctx.now())
