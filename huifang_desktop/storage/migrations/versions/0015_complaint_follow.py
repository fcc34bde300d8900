"""complaint follow-up: 首问责任人, the 催办 ladder, follow-up notices and 查办 records (issue 20)

``complaint.first_responder_id`` is the 首问责任人 (002 制度5 §8); existing complaints get the user who
registered them. ``complaint.chase_rung`` counts the 催办 ladder's rungs sent for the current deadline.
``complaint_notice`` holds the follow-up notices (progress feedback, 催办, 上报, 督办, 查办) per user;
``complaint_inquiry`` the 查办 of a late complaint (002 制度3 第十三条).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch:
        batch.add_column(sa.Column("first_responder_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("chase_rung", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key(
            op.f("fk_complaint_first_responder_id_user_account"),
            "user_account",
            ["first_responder_id"],
            ["id"],
        )
    op.execute("UPDATE complaint SET first_responder_id = created_by_id")
    op.create_table(
        "complaint_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_notice_complaint_id_complaint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_complaint_notice_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_notice")),
    )
    op.create_index(
        op.f("ix_complaint_notice_complaint_id"), "complaint_notice", ["complaint_id"], unique=False
    )
    op.create_index("ix_complaint_notice_user_seen", "complaint_notice", ["user_id", "seen_at"], unique=False)
    op.create_table(
        "complaint_inquiry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("responsible", sa.String(length=50), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=50), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_inquiry_complaint_id_complaint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_complaint_inquiry_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_inquiry")),
        sa.UniqueConstraint("complaint_id", name=op.f("uq_complaint_inquiry_complaint_id")),
    )


def downgrade() -> None:
    op.drop_table("complaint_inquiry")
    op.drop_index("ix_complaint_notice_user_seen", table_name="complaint_notice")
    op.drop_index(op.f("ix_complaint_notice_complaint_id"), table_name="complaint_notice")
    op.drop_table("complaint_notice")
    with op.batch_alter_table("complaint") as batch:
        batch.drop_constraint(op.f("fk_complaint_first_responder_id_user_account"), type_="foreignkey")
        batch.drop_column("chase_rung")
        batch.drop_column("first_responder_id")
