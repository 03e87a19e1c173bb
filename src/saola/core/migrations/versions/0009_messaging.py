"""messaging: the outbox of e-mail and SMS to citizens

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saola.core.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('messaging_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=5), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messaging_outbox'))
    )
    with op.batch_alter_table('messaging_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_messaging_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messaging_outbox_source'), ['source'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messaging_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messaging_outbox_source'))
        batch_op.drop_index('ix_messaging_outbox_due')
    op.drop_table('messaging_outbox')
