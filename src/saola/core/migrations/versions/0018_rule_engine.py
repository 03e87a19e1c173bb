"""rule engine: per-subject evaluation state and evaluation errors

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 23:12:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saola.core.db

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('rule_states',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=1100), nullable=False),
    sa.Column('state', JSON_DOCUMENT, nullable=False),
    sa.Column('updated_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_states')),
    sa.UniqueConstraint('rule_id', 'subject', name=op.f('uq_rule_states_rule_id'))
    )
    with op.batch_alter_table('rule_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_states_rule_id'), ['rule_id'], unique=False)
    op.create_table('rule_errors',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=1100), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_errors')),
    sa.UniqueConstraint('rule_id', 'subject', name=op.f('uq_rule_errors_rule_id'))
    )
    with op.batch_alter_table('rule_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_errors_rule_id'), ['rule_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rule_errors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_errors_rule_id'))
    op.drop_table('rule_errors')
    with op.batch_alter_table('rule_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_states_rule_id'))
    op.drop_table('rule_states')
