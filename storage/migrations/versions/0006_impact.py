"""Impact: residents' last activity, feedback on the channel, satisfaction rounds and answers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 03:20:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types  # noqa: F401 - UTCDateTime columns


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_active_at", storage.types.UTCDateTime(), nullable=True))

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_created_at"), ["created_at"], unique=False)

    op.create_table(
        "satisfaction_round",
        sa.Column("period", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("queued_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )

    op.create_table(
        "satisfaction_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period", "resident_id", name="uq_satisfaction_period_resident"),
    )
    with op.batch_alter_table("satisfaction_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_satisfaction_answer_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_satisfaction_answer_answered_at"), ["answered_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("satisfaction_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_satisfaction_answer_answered_at"))
        batch_op.drop_index(batch_op.f("ix_satisfaction_answer_period"))
    op.drop_table("satisfaction_answer")
    op.drop_table("satisfaction_round")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_created_at"))
        batch_op.drop_index(batch_op.f("ix_feedback_resident_id"))
    op.drop_table("feedback")
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_column("last_active_at")
