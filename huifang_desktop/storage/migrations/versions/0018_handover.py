"""hand-over of a leaver's work: handover, plan_owner_change

``handover`` records when a supervisor moved a leaving user's customers, pending plans, open complaints
and report drafts to successors (nothing is charged to the leaver from that day); ``plan_owner_change``
keeps every change of a plan's owner, so the 考核 can charge whoever owned a plan when its window closed.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("handed_over_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["user_account.id"], name=op.f("fk_handover_from_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_handover_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover")),
    )
    op.create_index(op.f("ix_handover_from_user_id"), "handover", ["from_user_id"], unique=False)
    op.create_table(
        "plan_owner_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("old_owner_id", sa.Integer(), nullable=True),
        sa.Column("new_owner_id", sa.Integer(), nullable=True),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["visit_plan.id"],
            name=op.f("fk_plan_owner_change_plan_id_visit_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["old_owner_id"], ["user_account.id"], name=op.f("fk_plan_owner_change_old_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["new_owner_id"], ["user_account.id"], name=op.f("fk_plan_owner_change_new_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handover.id"],
            name=op.f("fk_plan_owner_change_handover_id_handover"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_owner_change")),
    )
    op.create_index(op.f("ix_plan_owner_change_plan_id"), "plan_owner_change", ["plan_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_owner_change_plan_id"), table_name="plan_owner_change")
    op.drop_table("plan_owner_change")
    op.drop_index(op.f("ix_handover_from_user_id"), table_name="handover")
    op.drop_table("handover")
