"""the frozen 考核: assessment_event (a confirmed month's charged events) and assessment_entry (graded events
and corrections entered by a manager)

A manager's confirmation (审定) stores each charged event of the month with its source (plan, record,
customer, entry) in ``assessment_event``; the month's sheet and ``stats --month`` read them from then on, so
later edits, imports, re-planning or class changes never change a confirmed month. ``assessment_entry``
holds the graded events of *002 制度9* and the explicit corrections (考核更正) of confirmed months.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["monthly_assessment.id"],
            name=op.f("fk_assessment_event_assessment_id_monthly_assessment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clerk_id"], ["user_account.id"], name=op.f("fk_assessment_event_clerk_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_event")),
    )
    op.create_index(
        op.f("ix_assessment_event_assessment_id"), "assessment_event", ["assessment_id"], unique=False
    )
    op.create_index(op.f("ix_assessment_event_month"), "assessment_event", ["month"], unique=False)
    op.create_index(op.f("ix_assessment_event_clerk_id"), "assessment_event", ["clerk_id"], unique=False)
    op.create_table(
        "assessment_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("graded_key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("corrects", sa.String(length=7), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clerk_id"], ["user_account.id"], name=op.f("fk_assessment_entry_clerk_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_assessment_entry_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_entry")),
    )
    op.create_index(op.f("ix_assessment_entry_month"), "assessment_entry", ["month"], unique=False)
    op.create_index(op.f("ix_assessment_entry_clerk_id"), "assessment_entry", ["clerk_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_assessment_entry_clerk_id"), table_name="assessment_entry")
    op.drop_index(op.f("ix_assessment_entry_month"), table_name="assessment_entry")
    op.drop_table("assessment_entry")
    op.drop_index(op.f("ix_assessment_event_clerk_id"), table_name="assessment_event")
    op.drop_index(op.f("ix_assessment_event_month"), table_name="assessment_event")
    op.drop_index(op.f("ix_assessment_event_assessment_id"), table_name="assessment_event")
    op.drop_table("assessment_event")
