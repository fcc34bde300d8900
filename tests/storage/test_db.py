"""Engine set-up, migrations with backups, refusing foreign or newer databases, unique counters."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huifang_desktop.storage import db
from huifang_desktop.storage.counters import next_serial
from huifang_desktop.storage.db import (
    BUSY_TIMEOUT_MS,
    DatabaseError,
    backup_sqlite,
    current_revision,
    head_revision,
    known_revisions,
    make_engine,
    make_session_factory,
    sqlite_url,
    upgrade,
)
from huifang_desktop.storage.models import Contact, Counter, Customer, Department, Purchase, User

FIRST_REVISION = "0001"
TABLES_0001 = {
    "alembic_version",
    "audit_log",
    "contact",
    "counter",
    "customer",
    "department",
    "purchase",
    "setting",
    "user_account",
}


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "office.db"


@pytest.fixture
def new_engine(db_file: Path) -> Iterator[Engine]:
    """An engine on a file that does not exist yet (no schema)."""
    eng = make_engine(sqlite_url(db_file))
    yield eng
    eng.dispose()


def _sqlite_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _tables(path: Path) -> set[str]:
    return {r[0] for r in _sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def _fill_0001(engine: Engine) -> None:
    """Rows written with plain SQL against the 0001 schema, as a program of that version would have."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO department (id, name) VALUES (1, '客服部')"))
        conn.execute(
            text(
                "INSERT INTO user_account (id, username, display_name, role, department_id, password_hash, active,"
                " must_change_password, created_at) VALUES (1, 'xiaowang', '小王', 'clerk', 1, 'x', 1, 0,"
                " '2026-01-05 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customer (id, code, name, initials, kind, category, grade, grade_pinned, grade_reason,"
                " annual_volume, address, region, source, industry, birthday, created_on, status, notes, owner_id,"
                " department_id, archived, primary_phone, primary_contact, version, updated_at) VALUES"
                " (1, 'KH000001', '杭州明达贸易', 'hzmdmy', '单位', '经销商', 'B', 0, '', 60, '文三路 1 号', '西湖',"
                " '转介绍', '汽车', NULL, '2026-01-05', '正常', '老客户', 1, 1, 0, '13812345678', '张三', 7,"
                " '2026-01-05 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO contact (id, customer_id, name, phone, mobile, email, title, is_primary) VALUES"
                " (1, 1, '张三', '057188886666x801', '13812345678', 'zs@example.com', '经理', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO purchase (id, customer_id, day, kind, product, spec, quantity, amount, warranty_end,"
                " created_at) VALUES (1, 1, '2026-03-01', '购货', '货车', 'HF-1', 60, 1234567.89, '2028-03-01',"
                " '2026-03-01 10:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (id, at, user_id, username, action, entity, entity_id, label, old, new, note)"
                " VALUES (1, '2026-01-05 09:00:00', 1, 'xiaowang', '新建客户', 'customer', 1, 'KH000001', NULL,"
                " '{}', '')"
            )
        )
        conn.execute(text("INSERT INTO counter (name, value) VALUES ('customer', 1)"))
        conn.execute(text("INSERT INTO setting (key, value) VALUES ('office', '{\"company\": \"明达\"}')"))


def _assert_0001_rows_readable(engine: Engine) -> None:
    """The current models read what the 0001 program wrote, value for value."""
    with make_session_factory(engine)() as s:
        dep = s.get(Department, 1)
        assert dep is not None and dep.name == "客服部"
        user = s.get(User, 1)
        assert user is not None
        assert (user.username, user.display_name, user.role, user.department_id, user.active) == (
            "xiaowang",
            "小王",
            "clerk",
            1,
            True,
        )
        c = s.get(Customer, 1)
        assert c is not None
        assert (c.code, c.name, c.initials, c.category, c.grade, c.annual_volume, c.region, c.notes) == (
            "KH000001",
            "杭州明达贸易",
            "hzmdmy",
            "经销商",
            "B",
            60,
            "西湖",
            "老客户",
        )
        assert (c.created_on, c.owner_id, c.archived, c.primary_phone, c.version) == (
            date(2026, 1, 5),
            1,
            False,
            "13812345678",
            7,
        )
        assert [(k.name, k.phone, k.mobile, k.email, k.is_primary) for k in c.contacts] == [
            ("张三", "057188886666x801", "13812345678", "zs@example.com", True)
        ]
        p = s.get(Purchase, 1)
        assert p is not None
        assert (p.day, p.product, p.quantity, p.amount, p.warranty_end) == (
            date(2026, 3, 1),
            "货车",
            60,
            Decimal("1234567.89"),
            date(2028, 3, 1),
        )
        assert s.get(Counter, "customer").value == 1  # type: ignore[union-attr]


def _assert_0001_rows_kept(engine: Engine) -> None:
    """After a downgrade (the models are the head's, so read with SQL): the 0001 rows are still there."""
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username, role FROM user_account WHERE id = 1")).all() == [
            ("xiaowang", "clerk")
        ]
        assert conn.execute(text("SELECT code, name FROM customer WHERE id = 1")).all() == [
            ("KH000001", "杭州明达贸易")
        ]


# --- engine -----------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_make_engine_sqlite_pragmas_are_on(new_engine: Engine) -> None:
    with new_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: a commit survives a power cut


def test_make_engine_pragmas_apply_to_every_pooled_connection(new_engine: Engine) -> None:
    with new_engine.connect() as a, new_engine.connect() as b:
        assert a.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert b.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_make_engine_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), Session(engine) as s, s.begin():
        s.add(Contact(customer_id=999, name="孤儿", is_primary=False, title=""))


@pytest.mark.sqlite_only
def test_make_engine_file_stays_in_wal_mode(engine: Engine, tmp_path: Path) -> None:
    assert _sqlite_rows(tmp_path / "huifang.db", "PRAGMA journal_mode") == [("wal",)]


def test_sqlite_path_of_memory_database_is_none() -> None:
    eng = make_engine("sqlite://")
    try:
        assert db.sqlite_path(eng) is None
        with pytest.raises(DatabaseError, match="SQLite"):
            backup_sqlite(eng, Path("unused"))
    finally:
        eng.dispose()


# --- upgrade --------------------------------------------------------------------------------------------


def test_upgrade_from_empty_creates_every_table(new_engine: Engine, db_file: Path, tmp_path: Path) -> None:
    result = upgrade(new_engine, backup_dir=tmp_path / "backups")
    assert result.before is None
    assert result.after == head_revision()
    assert result.backup is None  # nothing to protect in a new file
    assert current_revision(new_engine) == head_revision()
    assert TABLES_0001 <= _tables(db_file)
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())


def test_upgrade_schema_matches_the_models(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from huifang_desktop.storage.models import Base

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_upgrade_twice_is_a_no_op(engine: Engine, tmp_path: Path) -> None:
    result = upgrade(engine, backup_dir=tmp_path / "backups")
    assert result.before == result.after == head_revision()
    assert result.backup is None


@pytest.mark.sqlite_only
def test_upgrade_refuses_a_newer_database_and_leaves_it_unchanged(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "huifang.db"
    _fill_0001(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    schema_before = _sqlite_rows(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    customers_before = _sqlite_rows(path, "SELECT * FROM customer")
    audit_before = _sqlite_rows(path, "SELECT * FROM audit_log")

    with pytest.raises(DatabaseError) as info:
        upgrade(engine, backup_dir=tmp_path / "backups")
    engine.dispose()

    message = str(info.value)
    assert "9999_from_the_future" in message
    assert "比本程序新" in message and "最新版本" in message
    assert _sqlite_rows(path, "SELECT version_num FROM alembic_version") == [("9999_from_the_future",)]
    assert _sqlite_rows(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema_before
    assert _sqlite_rows(path, "SELECT * FROM customer") == customers_before
    assert _sqlite_rows(path, "SELECT * FROM audit_log") == audit_before
    assert not (tmp_path / "backups").exists()


@pytest.mark.parametrize("content", [b"This is a spreadsheet, not a database.\n" * 200, b"\x00\xff" * 4096])
def test_upgrade_of_a_file_that_is_not_a_database(db_file: Path, tmp_path: Path, content: bytes) -> None:
    db_file.write_bytes(content)
    eng = make_engine(sqlite_url(db_file))
    try:
        with pytest.raises(DatabaseError) as info:
            upgrade(eng, backup_dir=tmp_path / "backups")
    finally:
        eng.dispose()
    assert "无法打开数据库" in str(info.value)
    assert "备份" in str(info.value)
    assert db_file.read_bytes() == content


def test_known_revisions_include_first_and_head() -> None:
    assert {FIRST_REVISION, head_revision()} <= known_revisions()


def test_upgrade_database_made_by_first_revision_keeps_its_rows(
    new_engine: Engine, db_file: Path, tmp_path: Path
) -> None:
    """The migration-upgrade test: a file from the first released schema, filled, then brought to head."""
    first = upgrade(new_engine, FIRST_REVISION)
    assert (first.before, first.after) == (None, FIRST_REVISION)
    assert current_revision(new_engine) == FIRST_REVISION
    _fill_0001(new_engine)

    result = upgrade(new_engine, backup_dir=tmp_path / "backups")

    assert result.before == FIRST_REVISION
    assert result.after == head_revision() == current_revision(new_engine)
    if head_revision() == FIRST_REVISION:
        assert result.backup is None  # nothing to migrate yet
    else:
        assert result.backup is not None
        assert _sqlite_rows(result.backup, "SELECT version_num FROM alembic_version") == [(FIRST_REVISION,)]
    _assert_0001_rows_readable(new_engine)
    with make_session_factory(new_engine)() as s, s.begin():
        assert next_serial(s, "customer") == 2  # the counter carries on, no number handed out twice


# --- upgrade with a further revision (a copy of the real scripts plus one test revision) ------------------

_EXTRA_OK = """
from alembic import op
import sqlalchemy as sa

revision = "t9001"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("test_extra", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("customer") as batch_op:
        batch_op.add_column(sa.Column("test_flag", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("customer") as batch_op:
        batch_op.drop_column("test_flag")
    op.drop_table("test_extra")
"""

_EXTRA_FAILS = """
from alembic import op
import sqlalchemy as sa

revision = "t9001"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the whole run is one transaction: this table and the change to the rows are rolled back
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("UPDATE customer SET name = 'broken'")
    raise RuntimeError("simulated failure in the middle of a migration")


def downgrade() -> None:
    pass
"""


@pytest.fixture
def with_extra_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Point the migrations at a copy of the real scripts plus one more revision on top of head."""

    def install(template: str) -> str:
        real_head = head_revision()
        src = Path(str(resources.files("huifang_desktop.storage") / "migrations"))
        scripts = tmp_path / "migrations"
        shutil.copytree(src, scripts, ignore=shutil.ignore_patterns("__pycache__"))
        (scripts / "versions" / "t9001_test_extra.py").write_text(
            template.format(down=real_head), encoding="utf-8"
        )

        def config():  # type: ignore[no-untyped-def]
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(scripts))
            return cfg

        monkeypatch.setattr(db, "_alembic_config", config)
        monkeypatch.setattr(db, "quick_head_revision", lambda: None)  # the scripts are elsewhere: ask Alembic
        return real_head

    return install


@pytest.mark.sqlite_only
def test_upgrade_existing_database_makes_verified_backup_first(
    engine: Engine, tmp_path: Path, with_extra_revision: Callable[[str], str]
) -> None:
    path = tmp_path / "huifang.db"
    _fill_0001(engine)
    real_head = with_extra_revision(_EXTRA_OK)
    backups = tmp_path / "backups"

    result = upgrade(engine, backup_dir=backups)

    assert (result.before, result.after) == (real_head, "t9001")
    assert current_revision(engine) == "t9001"
    assert result.backup is not None and result.backup.parent == backups
    assert result.backup.name.endswith(f"pre-migrate-{real_head}.db")
    assert list(backups.glob("*.part")) == []
    # the backup is a complete, consistent copy of the database as it was before the migration
    assert _sqlite_rows(result.backup, "PRAGMA integrity_check") == [("ok",)]
    assert _sqlite_rows(result.backup, "SELECT version_num FROM alembic_version") == [(real_head,)]
    assert _sqlite_rows(result.backup, "SELECT code, name FROM customer") == [("KH000001", "杭州明达贸易")]
    assert "test_extra" not in _tables(result.backup)
    # the migrated database has the new schema and still every row
    assert "test_extra" in _tables(path)
    assert _sqlite_rows(path, "SELECT code, test_flag FROM customer") == [("KH000001", 0)]
    _assert_0001_rows_readable(engine)


@pytest.mark.sqlite_only
def test_upgrade_failure_leaves_the_old_schema_and_rows(
    engine: Engine, tmp_path: Path, with_extra_revision: Callable[[str], str]
) -> None:
    path = tmp_path / "huifang.db"
    _fill_0001(engine)
    real_head = with_extra_revision(_EXTRA_FAILS)

    with pytest.raises(DatabaseError) as info:
        upgrade(engine, backup_dir=tmp_path / "backups")

    assert "数据库升级失败" in str(info.value) and "没有改动" in str(info.value)
    engine.dispose()
    assert _sqlite_rows(path, "SELECT version_num FROM alembic_version") == [(real_head,)]
    assert "half_done" not in _tables(path)
    assert _sqlite_rows(path, "SELECT name FROM customer") == [("杭州明达贸易",)]
    assert _sqlite_rows(path, "PRAGMA integrity_check") == [("ok",)]
    _assert_0001_rows_readable(engine)


def test_upgrade_without_backup_dir_makes_no_backup(
    engine: Engine, tmp_path: Path, with_extra_revision: Callable[[str], str]
) -> None:
    with_extra_revision(_EXTRA_OK)
    result = upgrade(engine)
    assert result.backup is None
    assert result.after == "t9001"


# --- backups --------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_backup_sqlite_copies_committed_data_while_the_database_is_open(
    engine: Engine, tmp_path: Path
) -> None:
    _fill_0001(engine)
    with engine.connect() as reader:  # another connection stays open during the backup
        reader.execute(text("SELECT count(*) FROM customer")).scalar()
        copy = backup_sqlite(engine, tmp_path / "backups", reason="manual")
    assert copy.exists() and copy.suffix == ".db"
    assert "manual" in copy.name
    assert _sqlite_rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert _sqlite_rows(copy, "SELECT code FROM customer") == [("KH000001",)]


@pytest.mark.sqlite_only
def test_backup_sqlite_names_are_unique(engine: Engine, tmp_path: Path) -> None:
    first = backup_sqlite(engine, tmp_path / "b")
    second = backup_sqlite(engine, tmp_path / "b")
    assert first != second
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted([first.name, second.name])


@pytest.mark.sqlite_only
def test_copy_sqlite_file_puts_the_backup_back(engine: Engine, tmp_path: Path) -> None:
    _fill_0001(engine)
    copy = backup_sqlite(engine, tmp_path / "backups")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
        conn.execute(text("UPDATE customer SET name = '改坏了'"))
    engine.dispose()
    db.copy_sqlite_file(copy, tmp_path / "huifang.db")
    _assert_0001_rows_readable(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1


# --- counters -------------------------------------------------------------------------------------------


def test_next_serial_starts_at_one_and_counts_per_name(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as s, s.begin():
        assert [next_serial(s, "customer") for _ in range(3)] == [1, 2, 3]
        assert next_serial(s, "visit:2026") == 1
    with sessions() as s, s.begin():
        assert next_serial(s, "customer") == 4


def test_next_serial_rolled_back_transaction_gives_the_number_again(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions() as s, s.begin():
        assert next_serial(s, "customer") == 1
    with pytest.raises(RuntimeError), sessions() as s, s.begin():
        assert next_serial(s, "customer") == 2
        raise RuntimeError("save failed")
    with sessions() as s, s.begin():
        assert next_serial(s, "customer") == 2


def _hammer(engines: list[Engine], per_thread: int, name: str) -> list[int]:
    results: list[list[int]] = [[] for _ in engines]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def work(i: int) -> None:
        sessions = make_session_factory(engines[i])
        try:
            start.wait()
            for _ in range(per_thread):
                with sessions() as s, s.begin():
                    results[i].append(next_serial(s, name))
        except BaseException as exc:  # noqa: BLE001  (reported in the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert all(not t.is_alive() for t in threads)
    return [v for r in results for v in r]


def test_next_serial_unique_across_two_connections(engine: Engine, tmp_path: Path) -> None:
    """Two 'PCs' (two engines, own connections) on one database (the SQLite file, or the PostgreSQL server
    with HUIFANG_TEST_DB=postgres); the counter row does not exist yet."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        values = _hammer([engine, other], 200, "customer")
    finally:
        other.dispose()
    assert len(values) == 400
    assert sorted(values) == list(range(1, 401))


def test_next_serial_unique_across_threads_sharing_an_engine(engine: Engine) -> None:
    with make_session_factory(engine)() as s, s.begin():
        s.execute(insert(Counter).values(name="visit", value=1000))
    values = _hammer([engine, engine], 200, "visit")
    assert sorted(values) == list(range(1001, 1401))


def test_next_serial_value_is_committed_with_the_record(engine: Engine) -> None:
    with make_session_factory(engine)() as s, s.begin():
        next_serial(s, "customer")
        next_serial(s, "customer")
    with make_session_factory(engine)() as s:
        assert s.execute(select(Counter.value).where(Counter.name == "customer")).scalar() == 2
    assert "counter" in inspect(engine).get_table_names()


def test_models_timestamps_round_trip(engine: Engine) -> None:
    at = datetime(2026, 11, 24, 10, 0, 5)
    with make_session_factory(engine)() as s, s.begin():
        s.add(User(username="u", display_name="甲", role="clerk", password_hash="x", created_at=at))
    with make_session_factory(engine)() as s:
        assert s.execute(select(User.created_at)).scalar() == at


# --- a database made by the 0002 (visits) program -------------------------------------------------------


def _fill_0002(engine: Engine) -> None:
    """0001 rows plus a plan and its visit record, written with plain SQL against the 0002 schema."""
    _fill_0001(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO visit_plan (id, customer_id, source_key, rule_key, visit_type, method, earliest, due,"
                " owner_id, attempt, state, cancel_reason, manual, done_on, record_id, created_at, version) VALUES"
                " (1, 1, 'delivery:1#delivery_usage', 'delivery_usage', '使用', '电话', '2026-03-02', '2026-03-06',"
                " 1, 1, '已回访', '', 0, '2026-03-05', 1, '2026-03-01 10:00:00', 2)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO visit_record (id, number, plan_id, customer_id, contact_name, contact_phone, visit_type,"
                " method, visited_at, visitor_id, content, feedback, problems, measures, satisfaction, handling,"
                " transfer_department, transfer_answer, result, customer_signed, status, supervisor_comment,"
                " content_hash, revision, created_at, version) VALUES (1, 'HF20260305-001', 1, 1, '张三',"
                " '13812345678', '使用', '电话', '2026-03-05 09:30:00', 1, '了解使用情况', '满意', '', '', '满意',"
                " '', '', '', '成功', 0, '待审阅', '', '', 0, '2026-03-05 09:40:00', 1)"
            )
        )
        conn.execute(text("INSERT INTO counter (name, value) VALUES ('visit:20260305', 1)"))


def test_upgrade_database_made_by_visits_revision_keeps_plans_and_records(
    new_engine: Engine, tmp_path: Path
) -> None:
    upgrade(new_engine, "0002")
    _fill_0002(new_engine)

    result = upgrade(new_engine, backup_dir=tmp_path / "backups")

    assert (result.before, result.after) == ("0002", head_revision())
    assert result.backup is not None
    _assert_0001_rows_readable(new_engine)
    from huifang_desktop.storage.models import Complaint, VisitPlan, VisitRecord

    with make_session_factory(new_engine)() as s:
        plan = s.get(VisitPlan, 1)
        rec = s.get(VisitRecord, 1)
        assert plan is not None and rec is not None
        assert (plan.source_key, plan.state, plan.record_id, plan.version) == (
            "delivery:1#delivery_usage",
            "已回访",
            1,
            2,
        )
        assert (rec.number, rec.satisfaction, rec.visited_at) == (
            "HF20260305-001",
            "满意",
            datetime(2026, 3, 5, 9, 30),
        )
        assert s.query(Complaint).count() == 0
    with make_session_factory(new_engine)() as s, s.begin():
        assert next_serial(s, "visit:20260305") == 2


# --- a database made by the 0003 (complaints) program ---------------------------------------------------


def _fill_0003(engine: Engine) -> None:
    """0002 rows plus a closed complaint and a report, written with plain SQL against the 0003 schema."""
    _fill_0002(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO visit_report (id, number, clerk_id, period_start, period_end, summary, problems, actions,"
                " evaluation, status, due_on, supervisor_comment, content_hash, revision, created_at, version) VALUES"
                " (1, 'BG20260306-001', 1, '2026-03-05', '2026-03-05', '{\"total\": 1}', '', '', '客户满意', '待审阅',"
                " '2026-03-06', '', '', 0, '2026-03-06 09:00:00', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO complaint (id, number, kind, received_at, channel, complainant, anonymous, phone,"
                " customer_id, subject, content, category, severity, special, reply_only, handler_id, handler_role,"
                " state, first_reply_due, handling_due, investigation, cause, measures, result, reply_way, reply_text,"
                " visit_round, satisfaction, visit_note, withdraw_reason, escalation_level, escalation_seen,"
                " chase_count, converted_from, occurrences, created_at, updated_at, closed_at, review_status,"
                " supervisor_comment, content_hash, revision, version) VALUES (1, 'TS20260310-001', '投诉',"
                " '2026-03-10 09:00:00', '电话', '张三', 0, '13812345678', 1, '送货延误', '晚了两天', '交付物流', '一般',"
                " 0, 0, 1, 'clerk', '已关闭', '2026-03-11 17:30:00', '2026-03-13 17:30:00', '物流延误', '', '补偿运费',"
                " '已补偿', '', '', 1, '满意', '', '', 0, 1, 0, '', 1, '2026-03-10 09:00:00', '2026-03-12 10:00:00',"
                " '2026-03-12 10:00:00', '', '', '', 0, 3)"
            )
        )


def test_upgrade_database_made_by_complaints_revision_keeps_reviews_unsigned(
    new_engine: Engine, tmp_path: Path
) -> None:
    upgrade(new_engine, "0003")
    _fill_0003(new_engine)

    result = upgrade(new_engine, backup_dir=tmp_path / "backups")

    assert (result.before, result.after) == ("0003", head_revision())
    assert result.backup is not None
    _assert_0001_rows_readable(new_engine)
    from huifang_desktop.storage.models import Complaint, VisitRecord, VisitReport

    with make_session_factory(new_engine)() as s:
        rec, report, c = s.get(VisitRecord, 1), s.get(VisitReport, 1), s.get(Complaint, 1)
        assert rec is not None and report is not None and c is not None
        assert (rec.number, rec.status, rec.signed_role, rec.signature_hash) == (
            "HF20260305-001",
            "待审阅",
            "",
            "",
        )
        assert (
            report.number,
            report.status,
            report.evaluation,
            report.signed_role,
            report.signature_hash,
        ) == ("BG20260306-001", "待审阅", "客户满意", "", "")
        assert (c.number, c.state, c.review_status, c.result, c.version, c.signed_role, c.signature_hash) == (
            "TS20260310-001",
            "已关闭",
            "",
            "已补偿",
            3,
            "",
            "",
        )
    indexes = {i["name"] for i in inspect(new_engine).get_indexes("complaint")}
    assert "ix_complaint_review_status" in indexes
    assert "ix_visit_report_status" in {i["name"] for i in inspect(new_engine).get_indexes("visit_report")}


# --- a database made by the 0004 (review) program -------------------------------------------------------


def test_upgrade_database_made_by_review_revision_adds_the_assessment_table(
    new_engine: Engine, tmp_path: Path
) -> None:
    upgrade(new_engine, "0004")
    _fill_0003(new_engine)
    with new_engine.begin() as conn:  # a record signed by the 0004 program keeps its signature columns
        conn.execute(
            text(
                "UPDATE visit_record SET status = '已签字', signed_role = 'supervisor',"
                " signature_hash = 'ab12' WHERE id = 1"
            )
        )

    result = upgrade(new_engine, backup_dir=tmp_path / "backups")

    assert (result.before, result.after) == ("0004", head_revision())
    assert result.backup is not None
    _assert_0001_rows_readable(new_engine)
    from huifang_desktop.storage.models import MonthlyAssessment, VisitRecord

    with make_session_factory(new_engine)() as s:
        rec = s.get(VisitRecord, 1)
        assert rec is not None
        assert (rec.status, rec.signed_role, rec.signature_hash) == ("已签字", "supervisor", "ab12")
        assert s.query(MonthlyAssessment).count() == 0
    with make_session_factory(new_engine)() as s, s.begin():
        s.add(
            MonthlyAssessment(
                month="2026-10",
                status="已确认",
                snapshot="{}",
                total_count=2,
                total_amount=100,
                total_points=0,
                comment="",
                confirmed_by_id=1,
                confirmed_at=datetime(2026, 11, 3, 9, 0),
                signed_role="manager",
                content_hash="c" * 64,
                signature_hash="d" * 64,
                revision=0,
                created_at=datetime(2026, 11, 3, 9, 0),
            )
        )
    with (
        make_session_factory(new_engine)() as s,
        s.begin(),
        pytest.raises(IntegrityError),
    ):  # one confirmed assessment per month
        s.add(
            MonthlyAssessment(
                month="2026-10",
                status="已确认",
                snapshot="{}",
                total_count=0,
                total_amount=0,
                total_points=0,
                comment="",
                signed_role="",
                content_hash="",
                signature_hash="",
                revision=0,
                created_at=datetime(2026, 11, 3, 9, 5),
            )
        )
        s.flush()
    assert "monthly_assessment" in set(inspect(new_engine).get_table_names())


# --- a database made by the 0005 (assessment) program ---------------------------------------------------


def test_upgrade_database_made_by_assessment_revision_adds_the_service_ledger(
    new_engine: Engine, tmp_path: Path
) -> None:
    upgrade(new_engine, "0005")
    _fill_0003(new_engine)
    with new_engine.begin() as conn:  # a month the 0005 program confirmed
        conn.execute(
            text(
                "INSERT INTO monthly_assessment (id, month, status, snapshot, total_count, total_amount,"
                " total_points, comment, confirmed_by_id, confirmed_at, signed_role, content_hash,"
                " signature_hash, revision, created_at, version) VALUES (1, '2026-10', '已确认', '{}', 2, 100, 0,"
                " '', 1, '2026-11-03 09:00:00', 'manager', 'c', 'd', 0, '2026-11-03 09:00:00', 1)"
            )
        )

    result = upgrade(new_engine, backup_dir=tmp_path / "backups")

    assert (result.before, result.after) == ("0005", head_revision())
    assert result.backup is not None
    assert _sqlite_rows(result.backup, "SELECT version_num FROM alembic_version") == [("0005",)]
    _assert_0001_rows_readable(new_engine)
    from huifang_desktop.storage.models import MonthlyAssessment, ServiceFollowUp, ServiceRecord, VisitPlan

    with make_session_factory(new_engine)() as s:
        confirmed = s.get(MonthlyAssessment, 1)
        assert confirmed is not None and (confirmed.month, confirmed.total_amount) == ("2026-10", 100)
        assert s.get(VisitPlan, 1) is not None
        assert s.query(ServiceRecord).count() == 0
    indexes = {i["name"] for i in inspect(new_engine).get_indexes("service_record")}
    assert {
        "ix_service_record_served_on",
        "ix_service_record_status_served",
        "ix_service_record_customer_served",
        "ix_service_record_handler_served",
    } <= indexes
    now = datetime(2026, 11, 24, 10, 0)
    with make_session_factory(new_engine)() as s, s.begin():  # the upgraded file takes service records
        rec = ServiceRecord(
            number="FW20261120-001",
            customer_id=1,
            served_on=date(2026, 11, 20),
            kind="维修",
            product="货车",
            parts_amount=Decimal("86.50"),
            cost=Decimal("1200.00"),
            handler_id=1,
            status="已完成",
            completed_on=date(2026, 11, 21),
            visit_plan_id=1,
            created_at=now,
            updated_at=now,
        )
        s.add(rec)
        s.flush()
        s.add(ServiceFollowUp(record_id=rec.id, at=now, person="小王", result="已解决", created_at=now))
    with make_session_factory(new_engine)() as s:
        rec2 = s.execute(select(ServiceRecord)).scalar_one()
        assert (rec2.parts_amount, rec2.cost, rec2.status, rec2.version, rec2.follow_up_result) == (
            Decimal("86.50"),
            Decimal("1200.00"),
            "已完成",
            1,
            "",
        )
        assert s.query(ServiceFollowUp).count() == 1
    with (
        make_session_factory(new_engine)() as s,
        s.begin(),
        pytest.raises(IntegrityError),
    ):  # one record per 服务单号
        s.add(
            ServiceRecord(
                number="FW20261120-001",
                customer_id=1,
                served_on=date(2026, 11, 20),
                kind="保养",
                created_at=now,
                updated_at=now,
            )
        )
        s.flush()
    with (
        make_session_factory(new_engine)() as s,
        s.begin(),
        pytest.raises(IntegrityError),
    ):  # a record belongs to an existing customer
        s.add(
            ServiceRecord(
                number="FW20261120-002",
                customer_id=99,
                served_on=date(2026, 11, 20),
                kind="保养",
                created_at=now,
                updated_at=now,
            )
        )
        s.flush()


# --- a database made by the 0006 (service records) program ----------------------------------------------


def test_upgrade_database_made_by_service_records_revision_indexes_the_calendar(
    new_engine: Engine, tmp_path: Path
) -> None:
    upgrade(new_engine, "0006")
    _fill_0003(new_engine)
    with new_engine.begin() as conn:  # a plan still pending, and overdue by today
        conn.execute(
            text(
                "INSERT INTO visit_plan (id, customer_id, source_key, rule_key, visit_type, method, earliest, due,"
                " owner_id, attempt, state, cancel_reason, manual, done_on, record_id, created_at, version) VALUES"
                " (2, 1, 'customer:1#routine@20261110', 'routine', '例行', '电话', '2026-11-10', '2026-11-20',"
                " 1, 1, '待回访', '', 0, NULL, NULL, '2026-11-01 10:00:00', 1)"
            )
        )

    result = upgrade(new_engine, "0007", backup_dir=tmp_path / "backups")  # 0009 widens these indexes

    assert (result.before, result.after) == ("0006", "0007")
    assert result.backup is not None  # (the models are the head's: the rows are read at head further below)
    indexes = {i["name"]: i["column_names"] for i in inspect(new_engine).get_indexes("visit_plan")}
    assert indexes["ix_visit_plan_due_state_owner"] == ["due", "state", "owner_id"]
    assert indexes["ix_visit_plan_state_due"] == ["state", "due"]
    assert indexes["ix_visit_plan_owner_due"] == ["owner_id", "due"]
    assert "ix_visit_plan_due_state" not in indexes  # replaced: same leading columns
    pending = "SELECT id FROM visit_plan WHERE state = '待回访' AND due <= '2026-11-24'"
    with new_engine.connect() as conn:
        assert [r[0] for r in conn.execute(text(pending))] == [2]
        plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + pending)))
        assert "ix_visit_plan_state_due" in plan
        counts = conn.execute(
            text(
                "SELECT due, count(*) FROM visit_plan WHERE due >= '2026-03-01' AND due <= '2026-11-30'"
                " AND state != '已取消' GROUP BY due ORDER BY due"
            )
        ).all()
    assert [tuple(r) for r in counts] == [("2026-03-06", 1), ("2026-11-20", 1)]

    cfg = db._alembic_config()
    from alembic import command

    with new_engine.begin() as conn:  # and back: the 0006 index returns
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    indexes = {i["name"] for i in inspect(new_engine).get_indexes("visit_plan")}
    assert "ix_visit_plan_due_state" in indexes
    assert not {"ix_visit_plan_due_state_owner", "ix_visit_plan_state_due"} & indexes


def test_upgrade_quick_head_revision_is_alembics_head() -> None:
    assert db.quick_head_revision() == head_revision()


def test_upgrade_of_an_up_to_date_database_does_not_import_alembic(new_engine: Engine, db_file: Path) -> None:
    import subprocess
    import sys

    upgrade(new_engine)
    new_engine.dispose()
    probe = (
        "import sys\nfrom huifang_desktop.storage.db import make_engine, sqlite_url, upgrade\n"
        f"result = upgrade(make_engine(sqlite_url({str(db_file)!r})), backup_dir=None)\n"
        "print(result.before, result.after, result.backup, 'alembic' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    head = head_revision()
    assert out.stdout.split() == [head, head, "None", "False"]  # the usual start: no migration, no Alembic


# --- a database made by the 0007 (calendar indexes) program -----------------------------------------------


def test_upgrade_database_made_by_calendar_index_revision_adds_the_import_runs(
    new_engine: Engine, tmp_path: Path
) -> None:
    upgrade(new_engine, "0007")
    _fill_0003(new_engine)

    result = upgrade(new_engine, backup_dir=tmp_path / "backups")

    assert (result.before, result.after) == ("0007", head_revision())
    _assert_0001_rows_readable(new_engine)
    tables = set(inspect(new_engine).get_table_names())
    assert {"import_run", "import_item"} <= tables
    with new_engine.begin() as conn:  # an import of the old customer, then its undo record
        conn.execute(
            text(
                "INSERT INTO import_run (id, target, file_name, sheet, rows, created_by_id, created_at)"
                " VALUES (1, '客户台账', 'a.xlsx', 'Sheet1', 1, 1, '2026-11-25 09:00:00')"
            )
        )
        conn.execute(text("INSERT INTO import_item (run_id, entity_id) VALUES (1, 1)"))
    cfg = db._alembic_config()
    from alembic import command

    with new_engine.begin() as conn:  # and back: the two tables go, the old rows stay
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert not {"import_run", "import_item"} & set(inspect(new_engine).get_table_names())
    _assert_0001_rows_kept(new_engine)


# --- a database made by the 0008 (import runs) program ----------------------------------------------------

_PLAN_COUNTS = (
    "SELECT owner_id, visit_type, rule_key, count(*), sum(state = '已回访'), sum(done_on <= due)"
    " FROM visit_plan{} WHERE due >= '2026-01-01' AND due <= '2026-12-31' AND state != '已取消'"
    " GROUP BY owner_id, visit_type, rule_key"
)
_RECORD_COUNTS = (
    "SELECT visitor_id, visit_type, result, satisfaction, count(*),"
    " sum(transfer_done_at > transfer_due) FROM visit_record{}"
    " WHERE visited_at >= '2026-01-01' AND visited_at < '2027-01-01'"
    " GROUP BY visitor_id, visit_type, result, satisfaction"
)
_TREND = (
    "SELECT strftime('%Y-%m', visited_at), satisfaction, count(*) FROM visit_record{}"
    " WHERE visited_at >= '2026-01-01' AND visited_at < '2027-01-01' GROUP BY 1, 2"
)
_COUNTS = (_PLAN_COUNTS, _RECORD_COUNTS, _TREND)
_BY_INDEX = (
    " INDEXED BY ix_visit_plan_owner_due",
    " INDEXED BY ix_visit_record_visitor_at",
    " INDEXED BY ix_visit_record_visited_at",
)


def test_upgrade_database_made_by_import_runs_revision_widens_the_visit_indexes(
    new_engine: Engine, tmp_path: Path
) -> None:
    upgrade(new_engine, "0008")
    _fill_0003(new_engine)
    with new_engine.connect() as conn:
        before = [conn.execute(text(q.format(""))).all() for q in _COUNTS]
    assert all(before)

    result = upgrade(new_engine, backup_dir=tmp_path / "backups")

    assert (result.before, result.after) == ("0008", head_revision())
    _assert_0001_rows_readable(new_engine)
    plan_ix = {i["name"]: i["column_names"] for i in inspect(new_engine).get_indexes("visit_plan")}
    record_ix = {i["name"]: i["column_names"] for i in inspect(new_engine).get_indexes("visit_record")}
    assert plan_ix["ix_visit_plan_due_state_owner"][:3] == ["due", "state", "owner_id"]  # the calendar's
    assert plan_ix["ix_visit_plan_owner_due"][:2] == ["owner_id", "due"]
    assert record_ix["ix_visit_record_visited_at"] == ["visited_at", "satisfaction"]
    assert record_ix["ix_visit_record_visitor_at"][:2] == ["visitor_id", "visited_at"]
    with new_engine.connect() as conn:  # the same counts, which each index now holds by itself
        assert [conn.execute(text(q.format(""))).all() for q in _COUNTS] == before
        for q, index in zip(_COUNTS, _BY_INDEX, strict=True):
            assert conn.execute(text(q.format(index))).all() == conn.execute(text(q.format(""))).all()
            plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + q.format(index))))
            assert "COVERING INDEX" in plan, plan

    cfg = db._alembic_config()
    from alembic import command

    with new_engine.begin() as conn:  # and back: the narrow indexes return
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    plan_ix = {i["name"]: i["column_names"] for i in inspect(new_engine).get_indexes("visit_plan")}
    record_ix = {i["name"]: i["column_names"] for i in inspect(new_engine).get_indexes("visit_record")}
    assert plan_ix["ix_visit_plan_owner_due"] == ["owner_id", "due"]
    assert record_ix["ix_visit_record_visitor_at"] == ["visitor_id", "visited_at"]
    _assert_0001_rows_kept(new_engine)


def test_upgrade_from_0008_with_an_index_dropped_by_an_old_programs_cut_is_refused(
    new_engine: Engine, db_file: Path, tmp_path: Path
) -> None:
    """The old program committed each DROP INDEX by itself: a cut between 0009's drop and create left the file
    at 0008 without that index. That is detected (not patched over) and the pre-migrate backup offered."""
    upgrade(new_engine, "0008")
    _fill_0003(new_engine)
    intact = backup_sqlite(new_engine, tmp_path / "backups", reason="pre-migrate-0008")
    with new_engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_visit_plan_due_state_owner"))

    with pytest.raises(DatabaseError) as info:
        upgrade(new_engine, backup_dir=tmp_path / "backups")

    assert "中途被打断" in str(info.value) and str(intact) in str(info.value) and "restore" in str(info.value)
    assert current_revision(new_engine) == "0008"
    assert "ix_visit_plan_due_state_owner" not in {
        i["name"] for i in inspect(new_engine).get_indexes("visit_plan")
    }
    _assert_0001_rows_kept(new_engine)  # still at 0008: read with SQL (the models are the head's)
