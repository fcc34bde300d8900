"""departments as records: a head supervisor (负责主管) per department

``department.head_id`` (nullable, → ``user_account.id``): the supervisor who heads the department, chosen in
工具 → 用户与部门 (issue 18). Existing departments get no head.

Plain ``ALTER TABLE … ADD/DROP COLUMN`` (no batch rebuild): ``department`` is referenced by users and
customers, and rebuilding it (drop and rename) would trip their foreign keys.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_FK = "fk_department_head_id_user_account"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # Alembic has no ALTER of constraints there: one statement
        op.execute(
            f"ALTER TABLE department ADD COLUMN head_id INTEGER CONSTRAINT {_FK} REFERENCES user_account (id)"
        )
        return
    op.add_column("department", sa.Column("head_id", sa.Integer(), nullable=True))
    op.create_foreign_key(_FK, "department", "user_account", ["head_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":  # SQLite drops the column's REFERENCES with the column
        op.drop_constraint(_FK, "department", type_="foreignkey")
    op.drop_column("department", "head_id")
