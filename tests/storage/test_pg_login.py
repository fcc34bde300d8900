"""A PostgreSQL server that refuses the log-in (wrong password) is named as such, not as a network failure
or a damaged file. Runs with ``HUIFANG_TEST_DB=postgres`` (the server of tests/pgserver.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="needs the PostgreSQL test server")


@pytest.fixture
def password_user(pg_server: Any) -> str:
    """A role that must give its password (scram), on the session's trust-everyone server."""
    pg_server.admin_sql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pwuser') THEN "
        "CREATE ROLE pwuser LOGIN PASSWORD 'right-pw'; END IF; END $$"
    )
    hba = Path(pg_server.data) / "pg_hba.conf"
    text = hba.read_text()
    rule = "host all pwuser 127.0.0.1/32 scram-sha-256\n"
    if rule not in text:
        hba.write_text(rule + text)  # first match wins: before the trust lines
        pg_server.admin_sql("SELECT pg_reload_conf()")
    return f"127.0.0.1:{pg_server.port}"


def test_a_wrong_password_reads_as_a_refused_log_in(
    run_main: Any, tmp_path: Path, password_user: str
) -> None:
    url = f"postgresql+psycopg://pwuser:wrong-pw@{password_user}/huifang_template"
    code, _out, err = run_main(["--data-dir", str(tmp_path / "d"), "--database-url", url, "settings", "show"])
    assert code == 1
    assert err.startswith("错误：用户名或密码错误（PostgreSQL 拒绝登录）"), err
    assert "网络" not in err and "备份" not in err and "Traceback" not in err


def test_the_right_password_logs_in(password_user: str) -> None:
    """The refusal above is the password's, not a server that lets nobody in."""
    import psycopg

    psycopg.connect(f"postgresql://pwuser:right-pw@{password_user}/postgres").close()
