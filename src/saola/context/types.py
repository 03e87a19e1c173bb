"""Entity types and attributes (clause 5.7.5-5.7.10), computed over all entities with SQL aggregates."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from saola.context.errors import ResourceNotFound
from saola.context.jsonld import TermMap
from saola.context.models import NgsiAttributeValue, NgsiEntityType


def _attribute_names_by_type(session: Session, tenant: str) -> dict[str, set[str]]:
    rows = session.execute(
        select(NgsiEntityType.type_iri, NgsiAttributeValue.attr_iri).distinct()
        .join(NgsiAttributeValue, NgsiAttributeValue.entity_pk == NgsiEntityType.entity_pk)
        .where(NgsiEntityType.tenant == tenant)
    )
    out: dict[str, set[str]] = {}
    for type_iri, attr_iri in rows:
        out.setdefault(type_iri, set()).add(attr_iri)
    return out


def list_types(session: Session, *, tenant: str, tm: TermMap, details: bool) -> Any:
    types = list(session.scalars(select(NgsiEntityType.type_iri).distinct().where(NgsiEntityType.tenant == tenant)
                                 .order_by(NgsiEntityType.type_iri)))
    if not details:
        return {"id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}", "type": "EntityTypeList",
                "typeList": sorted(tm.compact(t) for t in types)}
    attrs = _attribute_names_by_type(session, tenant)
    return [{"id": t, "type": "EntityType", "typeName": tm.compact(t),
             "attributeNames": sorted(tm.compact(a) for a in attrs.get(t, ()))} for t in types]


def type_info(session: Session, *, tenant: str, tm: TermMap, type_name: str) -> dict[str, Any]:
    iri = tm.expand(type_name)
    count = session.scalar(select(func.count(distinct(NgsiEntityType.entity_pk)))
                           .where(NgsiEntityType.tenant == tenant, NgsiEntityType.type_iri == iri))
    if not count:
        raise ResourceNotFound(f"No entity of type {type_name!r}")
    rows = session.execute(
        select(NgsiAttributeValue.attr_iri, NgsiAttributeValue.attr_type).distinct()
        .join(NgsiEntityType, NgsiAttributeValue.entity_pk == NgsiEntityType.entity_pk)
        .where(NgsiEntityType.tenant == tenant, NgsiEntityType.type_iri == iri)
    )
    details: dict[str, set[str]] = {}
    for attr_iri, attr_type in rows:
        details.setdefault(attr_iri, set()).add(attr_type)
    return {"id": iri, "type": "EntityTypeInfo", "typeName": tm.compact(iri), "entityCount": count,
            "attributeDetails": [{"id": a, "type": "Attribute", "attributeName": tm.compact(a),
                                  "attributeTypes": sorted(kinds)} for a, kinds in sorted(details.items())]}


def list_attributes(session: Session, *, tenant: str, tm: TermMap, details: bool) -> Any:
    names = list(session.scalars(select(NgsiAttributeValue.attr_iri).distinct()
                                 .where(NgsiAttributeValue.tenant == tenant).order_by(NgsiAttributeValue.attr_iri)))
    if not details:
        return {"id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}", "type": "AttributeList",
                "attributeList": sorted(tm.compact(a) for a in names)}
    by_type = _attribute_names_by_type(session, tenant)
    return [{"id": a, "type": "Attribute", "attributeName": tm.compact(a),
             "typeNames": sorted(tm.compact(t) for t, attrs in by_type.items() if a in attrs)} for a in names]


def attribute_info(session: Session, *, tenant: str, tm: TermMap, attr_name: str) -> dict[str, Any]:
    iri = tm.expand(attr_name)
    count = session.scalar(select(func.count(distinct(NgsiAttributeValue.entity_pk)))
                           .where(NgsiAttributeValue.tenant == tenant, NgsiAttributeValue.attr_iri == iri))
    if not count:
        raise ResourceNotFound(f"No attribute {attr_name!r}")
    kinds = session.scalars(select(NgsiAttributeValue.attr_type).distinct()
                            .where(NgsiAttributeValue.tenant == tenant, NgsiAttributeValue.attr_iri == iri))
    types = session.scalars(
        select(NgsiEntityType.type_iri).distinct()
        .join(NgsiAttributeValue, NgsiAttributeValue.entity_pk == NgsiEntityType.entity_pk)
        .where(NgsiAttributeValue.tenant == tenant, NgsiAttributeValue.attr_iri == iri)
    )
    return {"id": iri, "type": "Attribute", "attributeName": tm.compact(iri), "attributeCount": count,
            "attributeTypes": sorted(kinds), "typeNames": sorted(tm.compact(t) for t in types)}
