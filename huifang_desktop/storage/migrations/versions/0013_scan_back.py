"""scan-back and attachments of visit records: visit_record_attachment, scan_page, signed_form_received_at

``visit_record_attachment(record_id, attachment_id)`` links a visit record to files kept in the database
(the ``attachment`` table complaints use: scanned signed forms, photos, recordings, documents), so they
travel with backups and work on PostgreSQL too. ``scan_page`` holds the scanned pages whose QR code could
not be read or matched (未识别), waiting to be filed to a record by hand. ``visit_record.signed_form_received_at``
is when the signed paper form of an on-site visit came back (签字单 已回收).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visit_record") as batch:
        batch.add_column(sa.Column("signed_form_received_at", sa.DateTime(), nullable=True))
    op.create_table(
        "visit_record_attachment",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["visit_record.id"],
            name=op.f("fk_visit_record_attachment_record_id_visit_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_visit_record_attachment_attachment_id_attachment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "attachment_id", name=op.f("pk_visit_record_attachment")),
    )
    op.create_index(
        op.f("ix_visit_record_attachment_attachment_id"),
        "visit_record_attachment",
        ["attachment_id"],
        unique=False,
    )
    op.create_table(
        "scan_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_scan_page_attachment_id_attachment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_scan_page_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_page")),
    )
    op.create_index(op.f("ix_scan_page_attachment_id"), "scan_page", ["attachment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_scan_page_attachment_id"), table_name="scan_page")
    op.drop_table("scan_page")
    op.drop_index(op.f("ix_visit_record_attachment_attachment_id"), table_name="visit_record_attachment")
    op.drop_table("visit_record_attachment")
    with op.batch_alter_table("visit_record") as batch:
        batch.drop_column("signed_form_received_at")
