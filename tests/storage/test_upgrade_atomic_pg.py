"""On PostgreSQL too an upgrade is one transaction, and another program's database is refused untouched."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text

from huifang_desktop.storage import db
from huifang_desktop.storage.db import DatabaseError, current_revision, head_revision, make_engine, upgrade
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL only")


@pytest.fixture
def empty_pg(request: pytest.FixtureRequest) -> Iterator[Engine]:
    server = request.getfixturevalue("pg_server")
    name = f"u{os.getpid()}_{request.node.name.lower()[:30]}"
    server.admin_sql(f"CREATE DATABASE {name}")  # type: ignore[attr-defined]
    eng = make_engine(server.url(name))  # type: ignore[attr-defined]
    yield eng
    eng.dispose()


def test_a_failure_in_the_last_revision_undoes_the_whole_run_on_postgres(
    empty_pg: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(empty_pg, "0006")

    def cut_in_the_last_revision(point: str) -> None:
        if point == f"after-{head_revision()}":
            raise RuntimeError("cut in the last revision")

    monkeypatch.setattr(db, "_pause_for_test", cut_in_the_last_revision)
    with pytest.raises(DatabaseError, match="没有改动"):
        upgrade(empty_pg)
    assert current_revision(empty_pg) == "0006"
    assert "import_run" not in inspect(empty_pg).get_table_names()  # 0008's table went with the rollback
    indexes = {i["name"] for i in inspect(empty_pg).get_indexes("visit_plan")}
    assert "ix_visit_plan_due_state" in indexes and "ix_visit_plan_state_due" not in indexes  # 0007 undone


def test_a_postgres_database_of_another_program_is_refused_and_left_as_it_was(empty_pg: Engine) -> None:
    with empty_pg.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT)"))
        conn.execute(text("INSERT INTO notes (body) VALUES ('another program''s data')"))
    with pytest.raises(DatabaseError, match="不是本程序的数据库"):
        upgrade(empty_pg)
    assert inspect(empty_pg).get_table_names() == ["notes"]
