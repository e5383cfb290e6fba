"""Updates handled once and failures recorded: processed_update and failed_update

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 23:40:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index("ix_processed_update_at", "processed_update", ["at"], unique=False)
    op.create_table(
        "failed_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_failed_update_update_id", "failed_update", ["update_id"], unique=False)
    op.create_index("ix_failed_update_at", "failed_update", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_failed_update_at", table_name="failed_update")
    op.drop_index("ix_failed_update_update_id", table_name="failed_update")
    op.drop_table("failed_update")
    op.drop_index("ix_processed_update_at", table_name="processed_update")
    op.drop_table("processed_update")
