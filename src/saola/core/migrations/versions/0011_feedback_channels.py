"""feedback: SMS, chat and e-mail channels

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saola.core.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback_channel_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('received_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_feedback_channel_messages_case_id_cases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_channel_messages')),
    sa.UniqueConstraint('provider', 'message_id', name=op.f('uq_feedback_channel_messages_provider'))
    )
    with op.batch_alter_table('feedback_channel_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_channel_messages_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback_channel_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_channel_messages_case_id'))
    op.drop_table('feedback_channel_messages')
