"""Population margins: inhabitants by neighbourhood and age bracket, for weighted results

Revision ID: 0014
Revises: 0007
Create Date: 2026-11-28 23:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types  # noqa: F401 - UTCDateTime columns


revision = "0014"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "population_margins",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("neighbourhoods", sa.JSON(), nullable=False),
        sa.Column("age_brackets", sa.JSON(), nullable=False),
        sa.Column("imported_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("population_margins")
