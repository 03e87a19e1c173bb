"""rules: rules as data, their versions, the engine's per-entity state and errors

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saola.core.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('rules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('definition', JSON_DOCUMENT, nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('modified_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified_by', sa.String(length=80), nullable=False),
    sa.Column('archived_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules'))
    )
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rules_enabled'), ['enabled'], unique=False)
    op.create_table('rule_versions',
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', JSON_DOCUMENT, nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['rules.id'], name=op.f('fk_rule_versions_rule_id_rules'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'version', name=op.f('pk_rule_versions'))
    )


def downgrade() -> None:
    op.drop_table('rule_versions')
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rules_enabled'))
    op.drop_table('rules')
