"""Web back office: sign-in links, sessions, TOTP secrets, report assignment, saved replies

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-28 23:16:58.276822
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import storage.types  # noqa: F401 - UTCDateTime columns


revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('web_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('second_factor_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('ended_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_telegram_id'), ['telegram_id'], unique=False)

    op.create_table('web_sign_in_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('web_sign_in_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sign_in_token_telegram_id'), ['telegram_id'], unique=False)

    op.create_table('web_totp_secret',
    sa.Column('telegram_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('totp_secret', sa.Text(), nullable=False),
    sa.Column('confirmed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('telegram_id')
    )
    op.create_table('report_assignment',
    sa.Column('report_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('agent_telegram_id', sa.BigInteger(), nullable=False),
    sa.Column('assigned_by', sa.BigInteger(), nullable=True),
    sa.Column('assigned_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id')
    )
    with op.batch_alter_table('report_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_assignment_agent_telegram_id'), ['agent_telegram_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_assignment_agent_telegram_id'))

    op.drop_table('report_assignment')
    op.drop_table('web_totp_secret')
    with op.batch_alter_table('web_sign_in_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sign_in_token_telegram_id'))

    op.drop_table('web_sign_in_token')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_telegram_id'))

    op.drop_table('web_session')
    op.drop_table('saved_reply')
