"""One card per report in the agents' group, edited in place; the assigned agent's name

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 02:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types  # noqa: F401 - UTCDateTime columns


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_card",
        sa.Column("report_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox_message.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("report_id"),
    )
    with op.batch_alter_table("report_assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_name", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_assignment", schema=None) as batch_op:
        batch_op.drop_column("agent_name")
    op.drop_table("report_card")
