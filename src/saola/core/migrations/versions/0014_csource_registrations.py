"""context: context source registrations and their subscriptions

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saola.core.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('ngsi_csource_registrations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=255), nullable=False),
    sa.Column('reg_id', sa.String(length=1024), nullable=False),
    sa.Column('definition', JSON_DOCUMENT, nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ngsi_csource_registrations')),
    sa.UniqueConstraint('tenant', 'reg_id', name=op.f('uq_ngsi_csource_registrations_tenant'))
    )
    op.create_table('ngsi_csource_subscriptions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=255), nullable=False),
    sa.Column('sub_id', sa.String(length=1024), nullable=False),
    sa.Column('definition', JSON_DOCUMENT, nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('times_sent', sa.Integer(), nullable=False),
    sa.Column('times_failed', sa.Integer(), nullable=False),
    sa.Column('last_notification', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_failure', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_matched', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_sequence', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ngsi_csource_subscriptions')),
    sa.UniqueConstraint('tenant', 'sub_id', name=op.f('uq_ngsi_csource_subscriptions_tenant'))
    )
    op.create_table('ngsi_csource_notifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sub_pk', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('payload', JSON_DOCUMENT, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['sub_pk'], ['ngsi_csource_subscriptions.id'],
                            name=op.f('fk_ngsi_csource_notifications_sub_pk_ngsi_csource_subscriptions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ngsi_csource_notifications'))
    )
    with op.batch_alter_table('ngsi_csource_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_ngsi_csource_notifications_pending', ['delivered', 'sub_pk', 'sequence'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_ngsi_csource_notifications_sub_pk'), ['sub_pk'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ngsi_csource_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ngsi_csource_notifications_sub_pk'))
        batch_op.drop_index('ix_ngsi_csource_notifications_pending')
    op.drop_table('ngsi_csource_notifications')
    op.drop_table('ngsi_csource_subscriptions')
    op.drop_table('ngsi_csource_registrations')
