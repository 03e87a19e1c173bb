"""devices: service groups, devices, measures and health

Tables ``device_service_groups``, ``devices`` (registry and health) and ``device_rollups`` (1-minute
and 1-hour count/sum/min/max per entity attribute), and the unique index
``ux_ngsi_attribute_history_instance (instance_id, time_index)`` that makes device measures
idempotent (a deterministic instance id, inserted with ON CONFLICT DO NOTHING). On PostgreSQL the
index is created on the partitioned history table (it includes the partition key ``time_index``, as
PostgreSQL requires) and PostgreSQL builds it on every partition.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saola.core.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_rollups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sa.String(length=255), nullable=False),
    sa.Column('entity_id', sa.String(length=1024), nullable=False),
    sa.Column('attr_iri', sa.String(length=1024), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('bucket', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('sum', sa.Float(), nullable=False),
    sa.Column('min', sa.Float(), nullable=False),
    sa.Column('max', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_rollups')),
    sa.UniqueConstraint('tenant', 'entity_id', 'attr_iri', 'period', 'bucket', name=op.f('uq_device_rollups_tenant')),
    postgresql_with={'fillfactor': 70},
    )
    with op.batch_alter_table('device_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_device_rollups_bucket', ['bucket'], unique=False)

    op.create_table('device_service_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('apikey', sa.String(length=128), nullable=False),
    sa.Column('tenant', sa.String(length=255), nullable=False),
    sa.Column('service_path', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('entity_type', sa.String(length=255), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('protocol', sa.String(length=32), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('static_attributes', sa.JSON(), nullable=False),
    sa.Column('commands', sa.JSON(), nullable=False),
    sa.Column('autoprovision', sa.Boolean(), nullable=False),
    sa.Column('expected_interval', sa.Integer(), nullable=True),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_service_groups')),
    sa.UniqueConstraint('apikey', name=op.f('uq_device_service_groups_apikey'))
    )
    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('api_key', sa.String(length=128), nullable=False),
    sa.Column('tenant', sa.String(length=255), nullable=False),
    sa.Column('service_path', sa.String(length=255), nullable=False),
    sa.Column('device_id', sa.String(length=255), nullable=False),
    sa.Column('entity_id', sa.String(length=1024), nullable=False),
    sa.Column('entity_type', sa.String(length=255), nullable=False),
    sa.Column('protocol', sa.String(length=32), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('static_attributes', sa.JSON(), nullable=False),
    sa.Column('commands', sa.JSON(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('expected_interval', sa.Integer(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('auto_provisioned', sa.Boolean(), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_count', sa.BigInteger(), nullable=False),
    sa.Column('measure_count', sa.BigInteger(), nullable=False),
    sa.Column('rejected_count', sa.BigInteger(), nullable=False),
    sa.Column('message_rate', sa.Float(), nullable=False),
    sa.Column('rate_mark_count', sa.BigInteger(), nullable=False),
    sa.Column('rate_mark_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('battery', sa.Float(), nullable=True),
    sa.Column('signal', sa.Float(), nullable=True),
    sa.Column('online', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['device_service_groups.id'],
                            name=op.f('fk_devices_group_id_device_service_groups'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('tenant', 'device_id', name=op.f('uq_devices_tenant'))
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index('ix_devices_api_key_device_id', ['api_key', 'device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_group_id'), ['group_id'], unique=False)
        batch_op.create_index('ix_devices_tenant_entity', ['tenant', 'entity_id'], unique=False)

    op.create_index('ux_ngsi_attribute_history_instance', 'ngsi_attribute_history', ['instance_id', 'time_index'],
                    unique=True)


def downgrade() -> None:
    op.drop_index('ux_ngsi_attribute_history_instance', table_name='ngsi_attribute_history')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index('ix_devices_tenant_entity')
        batch_op.drop_index(batch_op.f('ix_devices_group_id'))
        batch_op.drop_index('ix_devices_api_key_device_id')
    op.drop_table('devices')
    op.drop_table('device_service_groups')
    with op.batch_alter_table('device_rollups', schema=None) as batch_op:
        batch_op.drop_index('ix_device_rollups_bucket')
    op.drop_table('device_rollups')
