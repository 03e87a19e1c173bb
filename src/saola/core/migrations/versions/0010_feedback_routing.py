"""feedback: routing rules and anonymisation of reporters

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import saola.core.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback_routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('field_id', sa.Integer(), nullable=True),
    sa.Column('ward_codes', sa.JSON(), nullable=False),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('time_from', sa.Time(), nullable=True),
    sa.Column('time_to', sa.Time(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('created_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_feedback_routing_rules_agency_id_agencies')),
    sa.ForeignKeyConstraint(['category_id'], ['feedback_categories.id'], name=op.f('fk_feedback_routing_rules_category_id_feedback_categories')),
    sa.ForeignKeyConstraint(['field_id'], ['feedback_fields.id'], name=op.f('fk_feedback_routing_rules_field_id_feedback_fields')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_routing_rules'))
    )
    with op.batch_alter_table('feedback_routing_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_routing_rules_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_routing_rules_position'), ['position'], unique=False)

    with op.batch_alter_table('feedback_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', saola.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_feedback_reports_merged_into_case_id'), ['merged_into_case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_feedback_reports_merged_into_case_id_cases'), 'cases', ['merged_into_case_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('feedback_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_feedback_reports_merged_into_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_feedback_reports_merged_into_case_id'))
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('merged_into_case_id')

    with op.batch_alter_table('feedback_routing_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_routing_rules_position'))
        batch_op.drop_index(batch_op.f('ix_feedback_routing_rules_agency_id'))

    op.drop_table('feedback_routing_rules')
