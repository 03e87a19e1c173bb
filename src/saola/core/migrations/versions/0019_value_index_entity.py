"""NGSI-LD value indexes end with the entity: a q pre-filter is answered from the index alone, in entity order

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-25 03:10:00

``ix_ngsi_attribute_values_num``/``_text`` (tenant, attr_iri, value) made an equality pre-filter
that matches a thousand entities of a million fetch a thousand table rows for their ``entity_pk``
and sort them, to return the first 20 (PostgreSQL, bench/context_bench.py at 1M entities: 150 ms).
With ``entity_pk`` last, the candidates come from the index alone, already in entity order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# (old index, new index, its columns, the fixed sqlite_stat1 row of the new one; see 0005_history)
INDEXES = [
    ("ix_ngsi_attribute_values_num", "ix_ngsi_attribute_values_num_entity",
     ["tenant", "attr_iri", "num_value", "entity_pk"], "7000000 7000000 700000 10 1"),
    ("ix_ngsi_attribute_values_text", "ix_ngsi_attribute_values_text_entity",
     ["tenant", "attr_iri", "text_value", "entity_pk"], "7000000 7000000 700000 1000 1"),
]


def _sqlite_stats() -> bool:
    bind = op.get_bind()
    return bind.dialect.name == "sqlite" and bool(bind.execute(sa.text(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")).first())


def upgrade() -> None:
    with op.batch_alter_table('ngsi_attribute_values', schema=None) as batch_op:
        for old, new, columns, _stat in INDEXES:
            batch_op.drop_index(old)
            batch_op.create_index(new, columns, unique=False)
    if _sqlite_stats():
        for old, new, _columns, stat in INDEXES:
            op.execute(sa.text("DELETE FROM sqlite_stat1 WHERE tbl = 'ngsi_attribute_values' AND idx = :i")
                       .bindparams(i=old))
            op.execute(sa.text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('ngsi_attribute_values', :i, :s)")
                       .bindparams(i=new, s=stat))


def downgrade() -> None:
    with op.batch_alter_table('ngsi_attribute_values', schema=None) as batch_op:
        for old, new, columns, _stat in INDEXES:
            batch_op.drop_index(new)
            batch_op.create_index(old, columns[:-1], unique=False)
    if _sqlite_stats():
        op.execute(sa.text("DELETE FROM sqlite_stat1 WHERE tbl = 'ngsi_attribute_values' AND idx LIKE '%_entity'"))
