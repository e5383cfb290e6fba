"""consultations: consultations, responses, answers, native polls

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:03:09.759558
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types  # noqa: F401 - UTCDateTime columns


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consultation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('neighbourhoods', sa.JSON(), nullable=False),
    sa.Column('opens_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('closes_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('reminders', sa.JSON(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_slug'), ['slug'], unique=True)
        batch_op.create_index(batch_op.f('ix_consultation_status'), ['status'], unique=False)

    op.create_table('consultation_poll',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('poll_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('consultation_id', 'resident_id', name='uq_poll_consultation_resident'),
    sa.UniqueConstraint('poll_id')
    )
    with op.batch_alter_table('consultation_poll', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_poll_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('consultation_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=True),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('draft', sa.JSON(), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('consultation_id', 'resident_id', name='uq_response_consultation_resident')
    )
    with op.batch_alter_table('consultation_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_response_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_response_resident_id'), ['resident_id'], unique=False)

    op.create_table('consultation_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('other_text', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('answered_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['consultation_response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id', 'question_id', name='uq_answer_response_question')
    )
    with op.batch_alter_table('consultation_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_answer_response_id'), ['response_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('consultation_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_answer_response_id'))

    op.drop_table('consultation_answer')
    with op.batch_alter_table('consultation_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_response_resident_id'))
        batch_op.drop_index(batch_op.f('ix_consultation_response_consultation_id'))

    op.drop_table('consultation_response')
    with op.batch_alter_table('consultation_poll', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_poll_consultation_id'))

    op.drop_table('consultation_poll')
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_status'))
        batch_op.drop_index(batch_op.f('ix_consultation_slug'))

    op.drop_table('consultation')
