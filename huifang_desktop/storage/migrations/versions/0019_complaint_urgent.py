"""complaint urgent: complaint.urgent, dispatch_due, report_back_due, dispatch_chased_at, report_back_chased_at

A property office's urgent matter (紧急, 002 制度5): ``dispatch_due`` is when the customer centre must have
passed it to the department (§2 “于12小时内向相关部门传递”; met when the complaint is taken on, 受理);
``report_back_due`` is when the department must report back after dealing with it (§5 “相关部门将问题处理
妥善后，须于2小时内反馈客户中心”; set when the handling result is first written down, met when the handling is
finished, 办结转回访). Both are clock hours, as the rule book says (小时, not working hours). The two
``*_chased_at`` are when the one 催办 of a missed timing was sent. Existing complaints are not urgent.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 06:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: a batch rebuild of ``complaint`` would cascade-delete its events and occurrences on a
    # connection with foreign keys on
    op.add_column("complaint", sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("complaint", sa.Column("dispatch_due", sa.DateTime(), nullable=True))
    op.add_column("complaint", sa.Column("report_back_due", sa.DateTime(), nullable=True))
    op.add_column("complaint", sa.Column("dispatch_chased_at", sa.DateTime(), nullable=True))
    op.add_column("complaint", sa.Column("report_back_chased_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    for name in ("report_back_chased_at", "dispatch_chased_at", "report_back_due", "dispatch_due", "urgent"):
        op.drop_column("complaint", name)
