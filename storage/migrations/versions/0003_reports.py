"""Problem reports: categories, reports, photos, followers, status history

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-26 02:15:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types  # noqa: F401 - UTCDateTime columns


revision = '0003'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('group_name', sa.JSON(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('photo_required', sa.Boolean(), nullable=False),
    sa.Column('location_required', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_category_code'), ['code'], unique=True)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('neighbourhood', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('media_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('open311_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('closed_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['report_category.id'], ),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['report.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open311_token')
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_nearby', ['category_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_ref'), ['ref'], unique=True)
        batch_op.create_index(batch_op.f('ix_report_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index('ix_report_status', ['status', 'created_at'], unique=False)

    op.create_table('report_follower',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id', 'resident_id', name='uq_report_follower')
    )
    with op.batch_alter_table('report_follower', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_follower_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_follower_resident_id'), ['resident_id'], unique=False)

    op.create_table('report_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('file_unique_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_photo_report_id'), ['report_id'], unique=False)

    op.create_table('report_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('author_telegram_id', sa.BigInteger(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_status_change_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_status_change_report_id'))
    op.drop_table('report_status_change')
    with op.batch_alter_table('report_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_photo_report_id'))
    op.drop_table('report_photo')
    with op.batch_alter_table('report_follower', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_follower_resident_id'))
        batch_op.drop_index(batch_op.f('ix_report_follower_report_id'))
    op.drop_table('report_follower')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_status')
        batch_op.drop_index(batch_op.f('ix_report_resident_id'))
        batch_op.drop_index(batch_op.f('ix_report_ref'))
        batch_op.drop_index('ix_report_nearby')
    op.drop_table('report')
    with op.batch_alter_table('report_category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_category_code'))
    op.drop_table('report_category')
