"""queue: queue tickets, counters and appointments at the service centre

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saola.core.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('queue_services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('slot_capacity', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_services')),
    sa.UniqueConstraint('prefix', name=op.f('uq_queue_services_prefix'))
    )
    op.create_table('queue_appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('slot_start', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('slot_end', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_in_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['queue_services.id'], name=op.f('fk_queue_appointments_service_id_queue_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_appointments')),
    sa.UniqueConstraint('code', name=op.f('uq_queue_appointments_code'))
    )
    with op.batch_alter_table('queue_appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_appointments_day'), ['day'], unique=False)
        batch_op.create_index('ix_queue_appointments_service_slot', ['service_id', 'slot_start'], unique=False)

    op.create_table('queue_day_counters',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['queue_services.id'], name=op.f('fk_queue_day_counters_service_id_queue_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'day', name=op.f('pk_queue_day_counters'))
    )
    op.create_table('queue_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opened_by'], ['users.id'], name=op.f('fk_queue_counters_opened_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_counters')),
    sa.UniqueConstraint('number', name=op.f('uq_queue_counters_number'))
    )
    op.create_table('queue_counter_services',
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['counter_id'], ['queue_counters.id'], name=op.f('fk_queue_counter_services_counter_id_queue_counters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['queue_services.id'], name=op.f('fk_queue_counter_services_service_id_queue_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('counter_id', 'service_id', name=op.f('pk_queue_counter_services'))
    )
    op.create_table('queue_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('prefix', sa.String(length=2), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('issued_service_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('target_counter_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.String(length=20), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('queued_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('called_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_called_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recalls', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['queue_appointments.id'], name=op.f('fk_queue_tickets_appointment_id_queue_appointments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['counter_id'], ['queue_counters.id'], name=op.f('fk_queue_tickets_counter_id_queue_counters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_service_id'], ['queue_services.id'], name=op.f('fk_queue_tickets_issued_service_id_queue_services')),
    sa.ForeignKeyConstraint(['service_id'], ['queue_services.id'], name=op.f('fk_queue_tickets_service_id_queue_services')),
    sa.ForeignKeyConstraint(['target_counter_id'], ['queue_counters.id'], name=op.f('fk_queue_tickets_target_counter_id_queue_counters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_tickets')),
    sa.UniqueConstraint('prefix', 'day', 'number', name='uq_queue_tickets_prefix_day_number'),
    sa.UniqueConstraint('public_id', name=op.f('uq_queue_tickets_public_id'))
    )
    with op.batch_alter_table('queue_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_tickets_counter_id'), ['counter_id'], unique=False)
        batch_op.create_index('ix_queue_tickets_day_status', ['day', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_tickets_service_id'), ['service_id'], unique=False)

    op.create_table('queue_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('clerk_id', sa.Integer(), nullable=True),
    sa.Column('queued_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('called_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['clerk_id'], ['users.id'], name=op.f('fk_queue_calls_clerk_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['counter_id'], ['queue_counters.id'], name=op.f('fk_queue_calls_counter_id_queue_counters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['queue_services.id'], name=op.f('fk_queue_calls_service_id_queue_services')),
    sa.ForeignKeyConstraint(['ticket_id'], ['queue_tickets.id'], name=op.f('fk_queue_calls_ticket_id_queue_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_calls'))
    )
    with op.batch_alter_table('queue_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_calls_counter_id'), ['counter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_calls_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_calls_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('queue_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_calls_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_queue_calls_day'))
        batch_op.drop_index(batch_op.f('ix_queue_calls_counter_id'))

    op.drop_table('queue_calls')
    with op.batch_alter_table('queue_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_tickets_service_id'))
        batch_op.drop_index('ix_queue_tickets_day_status')
        batch_op.drop_index(batch_op.f('ix_queue_tickets_counter_id'))

    op.drop_table('queue_tickets')
    op.drop_table('queue_counter_services')
    op.drop_table('queue_counters')
    op.drop_table('queue_day_counters')
    with op.batch_alter_table('queue_appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_appointments_service_slot')
        batch_op.drop_index(batch_op.f('ix_queue_appointments_day'))

    op.drop_table('queue_appointments')
    op.drop_table('queue_services')
