"""alerts: alerts, their events, alert subscriptions and the on-duty roster

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saola.core.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('tenant', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=1024), nullable=False),
    sa.Column('entity_type', sa.String(length=1024), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=15), nullable=False),
    sa.Column('open_key', sa.String(length=64), nullable=True),
    sa.Column('title_vi', sa.String(length=500), nullable=False),
    sa.Column('title_en', sa.String(length=500), nullable=False),
    sa.Column('value', JSON_DOCUMENT, nullable=True),
    sa.Column('details', JSON_DOCUMENT, nullable=False),
    sa.Column('location', JSON_DOCUMENT, nullable=True),
    sa.Column('owner_agency', sa.String(length=40), nullable=True),
    sa.Column('incident_type', sa.String(length=41), nullable=True),
    sa.Column('started_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('acknowledged_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
    sa.Column('cleared_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sa.String(length=64), nullable=True),
    sa.Column('cleared_reason', sa.String(length=500), nullable=False),
    sa.Column('escalated_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('notified_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('open_key', name=op.f('uq_alerts_open_key'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_state_severity', ['state', 'severity'], unique=False)
        batch_op.create_index('ix_alerts_rule_subject', ['rule_id', 'subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_subject'), ['subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_owner_agency'), ['owner_agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_notified_at'), ['notified_at'], unique=False)
    op.create_table('alert_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', JSON_DOCUMENT, nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_events_alert_id_alerts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_events'))
    )
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_events_alert_id'), ['alert_id'], unique=False)
    op.create_table('alert_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('min_severity', sa.String(length=10), nullable=False),
    sa.Column('channels', JSON_DOCUMENT, nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=False),
    sa.Column('entity_types', JSON_DOCUMENT, nullable=False),
    sa.Column('agencies', JSON_DOCUMENT, nullable=False),
    sa.Column('quiet_start', sa.Time(), nullable=True),
    sa.Column('quiet_end', sa.Time(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_subscriptions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_subscriptions'))
    )
    with op.batch_alter_table('alert_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_subscriptions_user_id'), ['user_id'], unique=False)
    op.create_table('alert_duty_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_duty_shifts_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_duty_shifts'))
    )
    with op.batch_alter_table('alert_duty_shifts', schema=None) as batch_op:
        batch_op.create_index('ix_alert_duty_shifts_period', ['starts_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_duty_shifts_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_duty_shifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_duty_shifts_user_id'))
        batch_op.drop_index('ix_alert_duty_shifts_period')
    op.drop_table('alert_duty_shifts')
    with op.batch_alter_table('alert_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_subscriptions_user_id'))
    op.drop_table('alert_subscriptions')
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_events_alert_id'))
    op.drop_table('alert_events')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_notified_at'))
        batch_op.drop_index(batch_op.f('ix_alerts_started_at'))
        batch_op.drop_index(batch_op.f('ix_alerts_owner_agency'))
        batch_op.drop_index(batch_op.f('ix_alerts_subject'))
        batch_op.drop_index(batch_op.f('ix_alerts_rule_id'))
        batch_op.drop_index('ix_alerts_rule_subject')
        batch_op.drop_index('ix_alerts_state_severity')
    op.drop_table('alerts')
