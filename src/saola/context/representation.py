"""How the broker holds an entity internally: the *stored form*.

Every module of :mod:`saola.context` (storage, query language, geo-queries,
subscriptions, temporal history) works on this one shape, so it is defined once here.

The stored form is NGSI-LD's normalized representation with every **term expanded** to
its IRI by the @context of the request that wrote it, and every attribute held as a
**list of instances** (one per ``datasetId``; the default instance has no ``datasetId``
and comes first)::

    {
      "id": "urn:ngsi-ld:Building:b1",
      "type": ["https://ngsi-ld-test-suite/context#Building"],
      "scope": ["/Madrid/Gardens"],                    # optional
      "createdAt": "2026-11-24T10:00:00.000Z",          # system attributes, broker-set
      "modifiedAt": "2026-11-24T10:00:00.000Z",
      "https://ngsi-ld-test-suite/context#name": [
        {"type": "Property", "value": "Eiffel Tower",
         "observedAt": "2026-11-24T09:59:00.000Z",
         "https://ngsi-ld-test-suite/context#source": {"type": "Property", "value": "survey"},
         "createdAt": "...", "modifiedAt": "..."}
      ],
      "https://uri.etsi.org/ngsi-ld/location": [
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.29, 48.85]}}
      ]
    }

Rules:

* A key that is an absolute IRI (contains ``:``) is an attribute (at entity level) or a
  sub-attribute (inside an attribute instance). Any other key is an NGSI-LD core member
  (``type``, ``value``, ``object``, ``objectType``, ``languageMap``, ``vocab``,
  ``valueList``, ``objectList``, ``json``, ``datasetId``, ``observedAt``, ``unitCode``,
  ``createdAt``, ``modifiedAt``, ``instanceId``...).
* Entity-level attributes are lists of instances; sub-attributes are single instances
  (NGSI-LD sub-attributes have no datasetId).
* Attribute ``type`` is the short core name (``Property``, ``Relationship``,
  ``GeoProperty``, ``LanguageProperty``, ``VocabProperty``, ``ListProperty``,
  ``ListRelationship``, ``JsonProperty``).
* Values are kept as the client sent them (JSON values are not JSON-LD-expanded), except
  that ``vocab`` values and ``objectType`` are expanded like terms.
* Timestamps are ISO 8601 UTC strings with milliseconds and ``Z``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

StoredEntity = dict[str, Any]
AttributeInstance = dict[str, Any]

ENTITY_CORE_KEYS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "deletedAt", "@context"})

ATTRIBUTE_TYPES = frozenset({
    "Property", "Relationship", "GeoProperty", "LanguageProperty", "VocabProperty",
    "ListProperty", "ListRelationship", "JsonProperty",
})

# Which member holds the value of each attribute type.
VALUE_MEMBER = {
    "Property": "value",
    "GeoProperty": "value",
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "VocabProperty": "vocab",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
    "JsonProperty": "json",
}

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
LOCATION = NGSI_LD + "location"
SCOPE = NGSI_LD + "scope"  # the entity's scope, recorded in the attribute history under this IRI
OBSERVATION_SPACE = NGSI_LD + "observationSpace"
OPERATION_SPACE = NGSI_LD + "operationSpace"
DEFAULT_VOCAB = NGSI_LD + "default-context/"


def is_attribute_key(key: str) -> bool:
    """True for an (expanded) attribute or sub-attribute name, false for a core member."""
    return ":" in key


def attributes(entity: StoredEntity) -> Iterator[tuple[str, list[AttributeInstance]]]:
    """The entity's attributes: ``(expanded name, instances)``."""
    for key, value in entity.items():
        if is_attribute_key(key) and key not in ENTITY_CORE_KEYS:
            yield key, value


def sub_attributes(instance: AttributeInstance) -> Iterator[tuple[str, AttributeInstance]]:
    for key, value in instance.items():
        if is_attribute_key(key):
            yield key, value


def default_instance(instances: list[AttributeInstance]) -> AttributeInstance | None:
    """The instance without ``datasetId`` (or ``None``)."""
    for inst in instances:
        if "datasetId" not in inst:
            return inst
    return None


def value_of(instance: AttributeInstance) -> Any:
    """The value of an attribute instance, whatever its type."""
    return instance.get(VALUE_MEMBER.get(instance.get("type", "Property"), "value"))
