"""complaint reply due: complaint.reply_due, complaint.reply_chased_at

``reply_due`` is the complaint's second deadline, the satisfying reply (满意答复) of 002 制度9 五 “二个工作日内
给予客户满意回覆”: N working days (the office's complaint rules, default 2) from the working day the complaint
came in; empty for 咨询/建议 and when the office switches the rule off. ``reply_chased_at`` is when the
催办 of a reply not given by then was sent (once per complaint). Existing complaints keep both empty: their
deadlines were set under the old rules.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 06:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: a batch rebuild of ``complaint`` would cascade-delete its events and occurrences on a
    # connection with foreign keys on
    op.add_column("complaint", sa.Column("reply_due", sa.DateTime(), nullable=True))
    op.add_column("complaint", sa.Column("reply_chased_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("complaint", "reply_chased_at")
    op.drop_column("complaint", "reply_due")
