"""Tables of the NGSI-LD broker.

``ngsi_entities`` holds each entity in its stored form (:mod:`saola.context.representation`) as
one JSON document (JSONB on PostgreSQL). Side tables, rewritten with the entity, make queries
cheap: ``ngsi_entity_types`` (type IRIs), ``ngsi_attribute_values`` (one row per attribute as an
existence marker plus one per numeric/short-text value, for ``q`` pre-filters),
``ngsi_geo_boxes`` (bounding box of each GeoProperty instance, for geo pre-filters).
``ngsi_attribute_history`` keeps every attribute instance ever written (the temporal API).
Entities are ordered by their integer primary key, so paging is stable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

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
        Index("ix_ngsi_attribute_values_num", "tenant", "attr_iri", "num_value"),
        Index("ix_ngsi_attribute_values_text", "tenant", "attr_iri", "text_value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_pk: Mapped[int] = mapped_column(ForeignKey("ngsi_entities.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    attr_iri: Mapped[str] = mapped_column(String(IRI))
    attr_type: Mapped[str] = mapped_column(String(32), default="")
    num_value: Mapped[float | None] = mapped_column(Float, default=None)
    text_value: Mapped[str | None] = mapped_column(String(SHORT_TEXT), default=None)


class NgsiGeoBox(Base):
    __tablename__ = "ngsi_geo_boxes"
    __table_args__ = (Index("ix_ngsi_geo_boxes_box", "attr_iri", "min_lon", "max_lon", "min_lat", "max_lat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_pk: Mapped[int] = mapped_column(ForeignKey("ngsi_entities.id", ondelete="CASCADE"), index=True)
    attr_iri: Mapped[str] = mapped_column(String(IRI))
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class NgsiAttributeHistory(Base):
    __tablename__ = "ngsi_attribute_history"
    __table_args__ = (Index("ix_ngsi_attribute_history_attr", "tenant", "entity_id", "attr_iri", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(255), default="")
    entity_id: Mapped[str] = mapped_column(String(IRI))
    attr_iri: Mapped[str] = mapped_column(String(IRI))
    dataset_id: Mapped[str | None] = mapped_column(String(IRI), default=None)
    instance_id: Mapped[str] = mapped_column(String(128))
    observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    instance: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT, default=None)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


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
