"""ioc: incidents, their links, dispatched units, checklists and timeline

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saola.core.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('incident_type', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('ward_code', sa.String(length=10), nullable=True),
    sa.Column('location', JSON_DOCUMENT, nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('source_alert_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=120), nullable=False),
    sa.Column('opened_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_incidents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_incidents_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('code', name=op.f('uq_incidents_code')),
    sa.UniqueConstraint('source_alert_id', name=op.f('uq_incidents_source_alert_id'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_incident_type'), ['incident_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_ward_code'), ['ward_code'], unique=False)

    op.create_table('incident_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', JSON_DOCUMENT, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_incident_events_actor_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_events_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_links',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ref', sa.String(length=500), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_links_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_links')),
    sa.UniqueConstraint('incident_id', 'kind', 'ref', name=op.f('uq_incident_links_incident_id'))
    )
    with op.batch_alter_table('incident_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_links_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_links_ref'), ['ref'], unique=False)

    op.create_table('incident_units',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('dispatched_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('arrived_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_units_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_units'))
    )
    with op.batch_alter_table('incident_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_units_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_checklist_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('text_vi', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('done_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by_name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                            name=op.f('fk_incident_checklist_items_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_checklist_items')),
    sa.UniqueConstraint('incident_id', 'key', name=op.f('uq_incident_checklist_items_incident_id'))
    )
    with op.batch_alter_table('incident_checklist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_checklist_items_incident_id'), ['incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_checklist_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_checklist_items_incident_id'))
    op.drop_table('incident_checklist_items')
    with op.batch_alter_table('incident_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_units_incident_id'))
    op.drop_table('incident_units')
    with op.batch_alter_table('incident_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_links_ref'))
        batch_op.drop_index(batch_op.f('ix_incident_links_incident_id'))
    op.drop_table('incident_links')
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_events_incident_id'))
    op.drop_table('incident_events')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        for name in ('ward_code', 'status', 'severity', 'opened_at', 'incident_type', 'agency_id'):
            batch_op.drop_index(batch_op.f(f'ix_incidents_{name}'))
    op.drop_table('incidents')
