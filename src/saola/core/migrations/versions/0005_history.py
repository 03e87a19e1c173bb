"""history: NGSI-LD attribute history storage (partitions, indexes) and the spatial index

PostgreSQL: ``ngsi_attribute_history`` becomes ``PARTITION BY RANGE (time_index)`` (the row's
observedAt, else its recording time) with one partition per month in the ``ngsi_history`` schema
(kept out of ``public`` so the partitions are not mistaken for tables of the model) and a DEFAULT
partition, so an insert at any time is kept; rows are copied from the old table. The primary key
is ``(id, time_index)`` because PostgreSQL requires the partition key in it. Indexes: BRIN on
``time_index``, btree on ``(tenant, entity_id, attr_iri, observed_at)``. The geo boxes get a GiST
index on ``box(point(min_lon, min_lat), point(max_lon, max_lat))`` (built-in types, no PostGIS),
chosen by measurement (bench/context_bench.py, README).

SQLite: the same columns with plain btree indexes, and fixed planner statistics (below).

Both: each geo box gets its grid cell (saola.context.geogrid), the spatial index on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import saola.core.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = "id, tenant, entity_id, attr_iri, dataset_id, instance_id, observed_at, modified_at, instance, deleted"
GEO_GIST = ("CREATE INDEX ix_ngsi_geo_boxes_gist ON ngsi_geo_boxes USING gist "
            "(box(point(min_lon, min_lat), point(max_lon, max_lat)))")


def _columns(*, partitioned: bool) -> list[sa.Column]:
    return [
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant', sa.String(length=255), nullable=False),
        sa.Column('entity_id', sa.String(length=1024), nullable=False),
        sa.Column('attr_iri', sa.String(length=1024), nullable=False),
        sa.Column('dataset_id', sa.String(length=1024), nullable=True),
        sa.Column('instance_id', sa.String(length=128), nullable=False),
        sa.Column('observed_at', saola.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('modified_at', saola.core.db.UTCDateTime(timezone=True), nullable=False),
        *([sa.Column('time_index', saola.core.db.UTCDateTime(timezone=True), nullable=False)] if partitioned else []),
        sa.Column('instance', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=True),
        sa.Column('deleted', sa.Boolean(), nullable=False),
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()
    _add_grid_cells()
    if op.get_bind().dialect.name == "sqlite":
        _seed_sqlite_stats()  # last: SQLite drops a table's statistics when batch mode rebuilds it


def _add_grid_cells() -> None:
    """The grid cell of each geo box (the spatial index on SQLite, see saola.context.geogrid)."""
    from saola.context.geogrid import cell_of

    with op.batch_alter_table('ngsi_geo_boxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cell', sa.BigInteger(), nullable=False, server_default='0'))
    bind = op.get_bind()
    boxes = bind.execute(sa.text("SELECT id, min_lon, min_lat, max_lon, max_lat FROM ngsi_geo_boxes")).all()
    if boxes:
        bind.execute(sa.text("UPDATE ngsi_geo_boxes SET cell = :cell WHERE id = :id"),
                     [{"id": b[0], "cell": cell_of(b[1], b[2], b[3], b[4])} for b in boxes])
    with op.batch_alter_table('ngsi_geo_boxes', schema=None) as batch_op:
        batch_op.alter_column('cell', existing_type=sa.BigInteger(), server_default=None)
        batch_op.create_index('ix_ngsi_geo_boxes_cell',
                              ['attr_iri', 'cell', 'min_lon', 'max_lon', 'min_lat', 'max_lat', 'entity_pk'], unique=False)


# SQLite plans without statistics, and then starts an entity query from the tenant index (every
# entity) instead of the geo/q candidates. These rows describe a city-sized database (structure:
# one tenant, ~7 indexed values per entity, unique entity_pk per box); SQLite recommends shipping
# fixed sqlite_stat1 rows for predictable plans ("Manual Control Of Query Plans Using SQLITE_STAT
# Tables"). Rows already measured by ANALYZE are kept; ANALYZE replaces these with real ones.
SQLITE_STATS = [
    ("ngsi_entities", "sqlite_autoindex_ngsi_entities_1", "1000000 1000000 1"),
    ("ngsi_entity_types", "ix_ngsi_entity_types_tenant_type", "1000000 1000000 100000"),
    ("ngsi_entity_types", "ix_ngsi_entity_types_entity_pk", "1000000 1"),
    ("ngsi_attribute_values", "ix_ngsi_attribute_values_num", "7000000 7000000 700000 10"),
    ("ngsi_attribute_values", "ix_ngsi_attribute_values_text", "7000000 7000000 700000 1000"),
    ("ngsi_attribute_values", "ix_ngsi_attribute_values_entity_pk", "7000000 7"),
    ("ngsi_geo_boxes", "ix_ngsi_geo_boxes_box", "1000000 1000000 2 1 1 1"),
    ("ngsi_geo_boxes", "ix_ngsi_geo_boxes_entity_pk", "1000000 1"),
    ("ngsi_geo_boxes", "ix_ngsi_geo_boxes_cell", "1000000 1000000 5 2 1 1 1 1"),
    ("ngsi_attribute_history", "ix_ngsi_attribute_history_attr", "10000000 10000000 100 10 1"),
    ("ngsi_attribute_history", "ix_ngsi_attribute_history_time", "10000000 1"),
]


def _seed_sqlite_stats() -> None:
    op.execute("ANALYZE alembic_version")  # creates sqlite_stat1 (cheaply) if it does not exist yet
    for table, index, stat in SQLITE_STATS:
        op.execute(sa.text("INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT :t, :i, :s WHERE NOT EXISTS "
                           "(SELECT 1 FROM sqlite_stat1 WHERE tbl = :t AND idx = :i)")
                   .bindparams(t=table, i=index, s=stat))


def _upgrade_sqlite() -> None:
    with op.batch_alter_table('ngsi_attribute_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_index', saola.core.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE ngsi_attribute_history SET time_index = coalesce(observed_at, modified_at)")
    with op.batch_alter_table('ngsi_attribute_history', schema=None) as batch_op:
        batch_op.alter_column('time_index', existing_type=saola.core.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.drop_index('ix_ngsi_attribute_history_attr')
        batch_op.create_index('ix_ngsi_attribute_history_attr', ['tenant', 'entity_id', 'attr_iri', 'observed_at'],
                              unique=False)
        batch_op.create_index('ix_ngsi_attribute_history_time', ['time_index'], unique=False)


def _upgrade_postgresql() -> None:
    from saola.context.partitions import SCHEMA, ensure_partitions

    op.execute("ALTER TABLE ngsi_attribute_history RENAME TO ngsi_attribute_history_0004")
    op.execute("ALTER TABLE ngsi_attribute_history_0004 RENAME CONSTRAINT pk_ngsi_attribute_history "
               "TO pk_ngsi_attribute_history_0004")
    op.execute("ALTER INDEX ix_ngsi_attribute_history_attr RENAME TO ix_ngsi_attribute_history_0004_attr")
    op.execute("ALTER SEQUENCE ngsi_attribute_history_id_seq RENAME TO ngsi_attribute_history_0004_id_seq")
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.create_table('ngsi_attribute_history', *_columns(partitioned=True),
                    sa.PrimaryKeyConstraint('id', 'time_index', name=op.f('pk_ngsi_attribute_history')),
                    postgresql_partition_by='RANGE (time_index)')
    op.create_index('ix_ngsi_attribute_history_attr', 'ngsi_attribute_history',
                    ['tenant', 'entity_id', 'attr_iri', 'observed_at'], unique=False)
    op.create_index('ix_ngsi_attribute_history_time', 'ngsi_attribute_history', ['time_index'], unique=False,
                    postgresql_using='brin')
    op.execute(f"CREATE TABLE {SCHEMA}.ngsi_attribute_history_default PARTITION OF ngsi_attribute_history DEFAULT")
    op.execute(f"INSERT INTO ngsi_attribute_history ({COLUMNS}, time_index) "
               f"SELECT {COLUMNS}, coalesce(observed_at, modified_at) FROM ngsi_attribute_history_0004")
    op.execute("SELECT setval(pg_get_serial_sequence('ngsi_attribute_history', 'id'), "
               "coalesce((SELECT max(id) FROM ngsi_attribute_history), 0) + 1, false)")
    op.drop_table('ngsi_attribute_history_0004')
    # Months around now, plus those the copied rows fall in (moved out of the DEFAULT partition).
    ensure_partitions(op.get_bind(), now=datetime.now(UTC))
    op.execute(GEO_GIST)


def downgrade() -> None:
    with op.batch_alter_table('ngsi_geo_boxes', schema=None) as batch_op:
        batch_op.drop_index('ix_ngsi_geo_boxes_cell')
        batch_op.drop_column('cell')
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
        return
    with op.batch_alter_table('ngsi_attribute_history', schema=None) as batch_op:
        batch_op.drop_index('ix_ngsi_attribute_history_time')
        batch_op.drop_index('ix_ngsi_attribute_history_attr')
        batch_op.create_index('ix_ngsi_attribute_history_attr', ['tenant', 'entity_id', 'attr_iri', 'id'], unique=False)
        batch_op.drop_column('time_index')
    op.execute("DELETE FROM sqlite_stat1 WHERE tbl LIKE 'ngsi%'")


def _downgrade_postgresql() -> None:
    from saola.context.partitions import SCHEMA

    op.execute("DROP INDEX IF EXISTS ix_ngsi_geo_boxes_gist")
    op.execute("ALTER TABLE ngsi_attribute_history RENAME TO ngsi_attribute_history_0005")
    op.execute("ALTER TABLE ngsi_attribute_history_0005 RENAME CONSTRAINT pk_ngsi_attribute_history "
               "TO pk_ngsi_attribute_history_0005")
    op.execute("ALTER INDEX ix_ngsi_attribute_history_attr RENAME TO ix_ngsi_attribute_history_0005_attr")
    op.execute("ALTER INDEX ix_ngsi_attribute_history_time RENAME TO ix_ngsi_attribute_history_0005_time")
    op.execute("ALTER SEQUENCE ngsi_attribute_history_id_seq RENAME TO ngsi_attribute_history_0005_id_seq")
    op.create_table('ngsi_attribute_history', *_columns(partitioned=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_ngsi_attribute_history')))
    op.create_index('ix_ngsi_attribute_history_attr', 'ngsi_attribute_history',
                    ['tenant', 'entity_id', 'attr_iri', 'id'], unique=False)
    op.execute(f"INSERT INTO ngsi_attribute_history ({COLUMNS}) SELECT {COLUMNS} FROM ngsi_attribute_history_0005")
    op.execute("SELECT setval(pg_get_serial_sequence('ngsi_attribute_history', 'id'), "
               "coalesce((SELECT max(id) FROM ngsi_attribute_history), 0) + 1, false)")
    op.execute("DROP TABLE ngsi_attribute_history_0005")  # its partitions go with it
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
