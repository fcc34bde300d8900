"""Alembic environment: migrates on the program's own connection (Config.attributes["connection"]).

The caller (storage.db.upgrade) has already begun the one transaction the whole run happens in (on SQLite an
explicit ``BEGIN IMMEDIATE``): Alembic sees an external transaction and neither commits between revisions
nor starts one per migration, so a cut leaves the old schema or the new one, never a mix.
"""

from alembic import context
from sqlalchemy import Connection

from huifang_desktop.storage.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        url = context.config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("alembic: no connection given and no sqlalchemy.url to open one")
        engine = create_engine(url)
        with engine.begin() as conn:
            _configure_and_run(conn)
        return
    _configure_and_run(connection)


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        transaction_per_migration=False,  # one transaction for the whole run, not one per revision
        transactional_ddl=True,  # SQLite's DDL is transactional once pysqlite does not commit before it
        on_version_apply=context.config.attributes.get("on_version_apply"),  # storage.db: the test pause hook
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
