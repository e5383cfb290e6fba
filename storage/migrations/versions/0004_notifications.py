"""Notifications: topics, neighbourhoods, subscriptions, broadcasts, public meetings

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 02:02:58.881293
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types  # noqa: F401 - UTCDateTime columns


revision = '0004'
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('audience_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('audience_value', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('reminder_claimed_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_starts_at'), ['starts_at'], unique=False)

    op.create_table('neighbourhood',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('area', sa.JSON(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('topic',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('audience_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('audience_value', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=False),
    sa.Column('photo_file_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('photo_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('queued_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_status'), ['status'], unique=False)

    op.create_table('meeting_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('will_come', sa.Boolean(), nullable=False),
    sa.Column('answered_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'resident_id', name='uq_meeting_answer_resident')
    )
    with op.batch_alter_table('meeting_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_answer_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('topic_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_code'], ['topic.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('resident_id', 'topic_code', name='uq_subscription_resident_topic')
    )
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_topic_code'), ['topic_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_topic_code'))
        batch_op.drop_index(batch_op.f('ix_subscription_resident_id'))

    op.drop_table('subscription')
    with op.batch_alter_table('meeting_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_answer_meeting_id'))

    op.drop_table('meeting_answer')
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_status'))

    op.drop_table('broadcast')
    op.drop_table('topic')
    op.drop_table('neighbourhood')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_starts_at'))

    op.drop_table('meeting')
