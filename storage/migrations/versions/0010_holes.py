"""Issue 13: the sent message id of outbox rows (to edit the agents' posts on erasure), app_state (backup time)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 23:40:00
"""

import sqlalchemy as sa
from alembic import op

import sqlmodel

import storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("sent_message_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "app_state",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("app_state")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("sent_message_id")
