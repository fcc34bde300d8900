"""class history: customer_class, customer.grade_since

``customer_class`` keeps every class a customer had (等级记录): the class, the day it began, where it came
from (自动 recomputed from the purchases, 指定 pinned by a supervisor with a reason, 取消指定, 导入 from an
Excel import, 建档 the class the file had before history was kept), the volume and value it was computed
from and who changed it. ``customer.grade_since`` is the day the current class began: a new routine cadence
counts from it, never from an earlier day (domain.md §3, §9). Existing files get no rows here; the first
recompute writes each file's starting row.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD / DROP COLUMN: a batch rebuild of ``customer`` would cascade-delete its purchases, visits
    # and contacts on a connection with foreign keys on
    op.add_column("customer", sa.Column("grade_since", sa.Date(), nullable=True))
    op.create_table(
        "customer_class",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=10), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_class_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["user_account.id"], name=op.f("fk_customer_class_changed_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_class")),
    )
    op.create_index(
        "ix_customer_class_customer_since", "customer_class", ["customer_id", "since"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_customer_class_customer_since", table_name="customer_class")
    op.drop_table("customer_class")
    op.drop_column("customer", "grade_since")
