"""Tables of the NGSI-LD broker.

``ngsi_entities`` holds each entity in its stored form (:mod:`saola.context.representation`) as
one JSON document (JSONB on PostgreSQL). Side tables, rewritten with the entity, make queries
cheap: ``ngsi_entity_types`` (type IRIs), ``ngsi_attribute_values`` (one row per attribute as an
existence marker plus one per numeric/short-text value, for ``q`` pre-filters),
``ngsi_geo_boxes`` (bounding box of each GeoProperty instance, for geo pre-filters).
``ngsi_attribute_history`` keeps every attribute instance ever written (the temporal API); on
PostgreSQL it is range-partitioned by month on ``time_index`` (see :mod:`saola.context.partitions`).
Entities are ordered by their integer primary key, so paging is stable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    bindparam,
    event,
    func,
    null,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Mapper, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from saola.context import geogrid
from saola.core.db import Base, UTCDateTime, utcnow

JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")
IRI = 1024
SHORT_TEXT = 256  # strings longer than this are not indexed (a q equality on them just scans)


class NgsiEntity(Base):
    __tablename__ = "ngsi_entities"
    __table_args__ = (UniqueConstraint("tenant", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    entity_id: Mapped[str] = mapped_column(String(IRI))
    data: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NgsiEntityType(Base):
    __tablename__ = "ngsi_entity_types"
    __table_args__ = (Index("ix_ngsi_entity_types_tenant_type", "tenant", "type_iri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_pk: Mapped[int] = mapped_column(ForeignKey("ngsi_entities.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    type_iri: Mapped[str] = mapped_column(String(IRI))


class NgsiAttributeValue(Base):
    __tablename__ = "ngsi_attribute_values"
    __table_args__ = (
        # entity_pk last: a q pre-filter reads its candidates from the index alone, in entity order (0019)
        Index("ix_ngsi_attribute_values_num_entity", "tenant", "attr_iri", "num_value", "entity_pk"),
        Index("ix_ngsi_attribute_values_text_entity", "tenant", "attr_iri", "text_value", "entity_pk"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_pk: Mapped[int] = mapped_column(ForeignKey("ngsi_entities.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    attr_iri: Mapped[str] = mapped_column(String(IRI))
    attr_type: Mapped[str] = mapped_column(String(32), default="")
    num_value: Mapped[float | None] = mapped_column(Float, default=None)
    text_value: Mapped[str | None] = mapped_column(String(SHORT_TEXT), default=None)


GEO_BOX_SQL = "box(point(min_lon, min_lat), point(max_lon, max_lat))"


class NgsiGeoBox(Base):
    __tablename__ = "ngsi_geo_boxes"
    __table_args__ = (
        Index("ix_ngsi_geo_boxes_box", "attr_iri", "min_lon", "max_lon", "min_lat", "max_lat"),
        # PostgreSQL: an R-tree (GiST) over the built-in ``box`` type, no PostGIS needed; geo pre-filters
        # use it through :class:`BoxOverlaps`. Chosen over the btree by measurement (bench/context_bench.py).
        Index("ix_ngsi_geo_boxes_gist", text(GEO_BOX_SQL), postgresql_using="gist").ddl_if(dialect="postgresql"),
        # other backends (SQLite): the grid cell holding the box, see saola.context.geogrid; covering, so
        # the box comparisons and the entity key are read from the index alone
        Index("ix_ngsi_geo_boxes_cell", "attr_iri", "cell", "min_lon", "max_lon", "min_lat", "max_lat", "entity_pk"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_pk: Mapped[int] = mapped_column(ForeignKey("ngsi_entities.id", ondelete="CASCADE"), index=True)
    attr_iri: Mapped[str] = mapped_column(String(IRI))
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    cell: Mapped[int] = mapped_column(BigInteger, default=0)


class BoxOverlaps(ColumnElement[bool]):
    """``ngsi_geo_boxes`` rows whose box meets ``(west, south, east, north)``, edges included.

    PostgreSQL: ``box(point(min_lon, min_lat), point(max_lon, max_lat)) && box(...)``, answered by the
    GiST index ``ix_ngsi_geo_boxes_gist``; other backends: the grid cells that can hold such boxes
    (:mod:`saola.context.geogrid`, index ``ix_ngsi_geo_boxes_cell``) and four comparisons on the box
    columns.
    """

    inherit_cache = True
    _traverse_internals = [("portable", InternalTraversal.dp_clauseelement),
                           ("postgresql", InternalTraversal.dp_clauseelement)]

    def __init__(self, west: float, south: float, east: float, north: float, *, dialect: str | None = None) -> None:
        """``dialect`` (the name of the one it will be compiled for) spares building the other's form."""
        w, s, e, n = (float(v) for v in (west, south, east, north))
        self.portable: ColumnElement[Any] = _portable_overlap(w, s, e, n) if dialect != "postgresql" else null()
        self.postgresql: ColumnElement[Any] = (
            _postgresql_overlap(w, s, e, n) if dialect in (None, "postgresql") else null())


def _portable_overlap(w: float, s: float, e: float, n: float) -> ColumnElement[bool]:
    b = NgsiGeoBox
    overlap = and_(b.min_lon <= e, b.max_lon >= w, b.min_lat <= n, b.max_lat >= s)
    cells = geogrid.cells_meeting(w, s, e, n)
    return overlap if cells is None else and_(b.cell.in_(cells), overlap)


def _postgresql_overlap(w: float, s: float, e: float, n: float) -> ColumnElement[bool]:
    b = NgsiGeoBox
    stored = func.box(func.point(b.min_lon, b.min_lat), func.point(b.max_lon, b.max_lat))
    # The corners are rendered inline (``literal_execute``): with bound parameters, PostgreSQL's generic plan
    # for a prepared statement cannot see how small the box is and scans every entity by primary key instead of
    # asking the GiST index (26 ms instead of 0.2 ms at 30k entities, measured with EXPLAIN ANALYZE).
    def corner(value: float) -> Any:
        return bindparam(None, value, type_=Float(), literal_execute=True)

    wanted = func.box(func.point(corner(w), corner(s)), func.point(corner(e), corner(n)))
    return stored.op("&&", return_type=Boolean())(wanted)


@compiles(BoxOverlaps)
def _compile_box_overlaps(element: BoxOverlaps, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.portable, **kw)})"


@compiles(BoxOverlaps, "postgresql")
def _compile_box_overlaps_pg(element: BoxOverlaps, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.postgresql, **kw))


def _time_index_default(context: DefaultExecutionContext) -> datetime:
    """``observed_at`` when the instance has one, else when it was recorded (also for executemany inserts)."""
    params = context.get_current_parameters()
    return params.get("observed_at") or params.get("modified_at") or utcnow()


class NgsiAttributeHistory(Base):
    """One attribute instance as written at some moment (or a deletion marker).

    ``time_index`` is the row's time: its ``observedAt``, else when it was recorded. Retention ages
    rows by it, and on PostgreSQL it is the partition key: migration 0005 makes this table
    ``PARTITION BY RANGE (time_index)`` with a partition per month in the ``ngsi_history`` schema
    plus a DEFAULT partition, so no insert is ever refused (see :mod:`saola.context.partitions`).
    PostgreSQL requires the partition key in every unique constraint, so there the primary key is
    ``(id, time_index)``; the model names ``id`` alone because SQLite can only autoincrement a
    single-column ``INTEGER PRIMARY KEY`` and ``id`` comes from one sequence, so it is unique anyway
    (Alembic's autogenerate does not compare primary keys, so both backends match the model).
    ``postgresql_partition_by`` below only matters to ``create_all``; the migration is the truth.
    The time index is BRIN on PostgreSQL (tiny, and rows arrive in time order), a btree on SQLite.
    """

    __tablename__ = "ngsi_attribute_history"
    __table_args__ = (
        Index("ix_ngsi_attribute_history_attr", "tenant", "entity_id", "attr_iri", "observed_at"),
        Index("ix_ngsi_attribute_history_time", "time_index", postgresql_using="brin"),
        # device measures carry a deterministic instance id (saola.devices.measures): a measure received
        # twice is inserted once (ON CONFLICT DO NOTHING); PostgreSQL needs the partition key in it
        Index("ux_ngsi_attribute_history_instance", "instance_id", "time_index", unique=True),
        {"postgresql_partition_by": "RANGE (time_index)"},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    entity_id: Mapped[str] = mapped_column(String(IRI))
    attr_iri: Mapped[str] = mapped_column(String(IRI))
    dataset_id: Mapped[str | None] = mapped_column(String(IRI), default=None)
    instance_id: Mapped[str] = mapped_column(String(128))
    observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    time_index: Mapped[datetime] = mapped_column(UTCDateTime, default=_time_index_default)
    instance: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT, default=None)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


@event.listens_for(NgsiAttributeHistory, "before_update")
def _keep_time_index(_mapper: Mapper[Any], _connection: Any, target: NgsiAttributeHistory) -> None:
    """An instance corrected through the temporal API moves with its new ``observedAt`` (and partition)."""
    target.time_index = target.observed_at or target.modified_at


class NgsiContext(Base):
    """An @context registered through ``/jsonldContexts`` (``kind`` hosted) or fetched and cached."""

    __tablename__ = "ngsi_contexts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="hosted")
    url: Mapped[str] = mapped_column(String(2048), default="", index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NgsiTenant(Base):
    """A tenant (``NGSILD-Tenant``), created by its first write; the default tenant is the empty name."""

    __tablename__ = "ngsi_tenants"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
