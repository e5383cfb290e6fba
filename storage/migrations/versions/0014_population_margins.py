"""Population margins for weighted results; the council's decision in several languages

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 23:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types  # noqa: F401 - UTCDateTime columns


revision = "0014"
down_revision = "0013"
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
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("translations", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_column("translations")
    op.drop_table("population_margins")
