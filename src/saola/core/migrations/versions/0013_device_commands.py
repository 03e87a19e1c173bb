"""devices: downlink commands

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saola.core.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_commands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_pk', sa.Integer(), nullable=False),
    sa.Column('tenant', sa.String(length=255), nullable=False),
    sa.Column('api_key', sa.String(length=128), nullable=False),
    sa.Column('device_id', sa.String(length=255), nullable=False),
    sa.Column('entity_id', sa.String(length=1024), nullable=False),
    sa.Column('protocol', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('info', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_pk'], ['devices.id'], name=op.f('fk_device_commands_device_pk_devices'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_commands'))
    )
    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.create_index('ix_device_commands_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_device_commands_device', ['device_pk', 'name', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.drop_index('ix_device_commands_device')
        batch_op.drop_index('ix_device_commands_due')
    op.drop_table('device_commands')
