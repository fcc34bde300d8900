"""import runs: every Excel import remembered with the rows it created, so it can be undone as one step

``import_run``: one import (台账, file, sheet, rows, who and when; when and by whom it was undone).
``import_item``: the id of every record the run created (customers, visit records or complaints, per the
run's target). Nothing else changes: existing imports (before this revision) simply cannot be undone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 01:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("sheet", sa.String(length=100), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_import_run_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["user_account.id"], name=op.f("fk_import_run_undone_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
    )
    op.create_table(
        "import_item",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_run.id"], name=op.f("fk_import_item_run_id_import_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "entity_id", name=op.f("pk_import_item")),
    )


def downgrade() -> None:
    op.drop_table("import_item")
    op.drop_table("import_run")
