"""The entities a notification carries (clause 5.8.6 / 5.3.1): formats, pick/omit, deleted attributes, showChanges.

A notification shows the entity after the change, compacted with the subscription's @context. On top of the
plain entity rendering:

* an attribute instance that the change deleted is shown with the NGSI-LD Null (``urn:ngsi-ld:null``) in its
  value member (``value``, ``object``, ``languageMap`` ``{"@none": ...}``, ``json``, ``vocab``...), keeping its
  ``datasetId``;
* with ``notification.showChanges`` an updated or deleted instance also carries its previous value
  (``previousValue``, ``previousObject``, ``previousLanguageMap``, ``previousJson``, ``previousVocab``...);
* a deleted entity is shown as ``id``, ``type`` and ``deletedAt``, plus its attributes set to Null when
  ``showChanges`` is asked for (entityDeleted) or when the notification is an attributeDeleted one (the
  watched attributes).
"""

from __future__ import annotations

import copy
from typing import Any

from saola.context.jsonld import TermMap
from saola.context.render import _compact_value, render_entity
from saola.context.representation import VALUE_MEMBER, AttributeInstance, StoredEntity, attributes, value_of

NULL = "urn:ngsi-ld:null"
SYSTEM = ("createdAt", "modifiedAt")


def _member(kind: str) -> str:
    return VALUE_MEMBER.get(kind, "value")


def _previous_member(kind: str) -> str:
    member = _member(kind)
    return "previous" + member[0].upper() + member[1:]


def null_instance(old: AttributeInstance, deleted_at: str, sys_attrs: bool) -> AttributeInstance:
    """The stored form of a deleted instance as notified: its type, datasetId and the NGSI-LD Null."""
    kind = old.get("type", "Property")
    null: Any = {"@none": NULL} if kind == "LanguageProperty" else [NULL] if kind in (
        "ListProperty", "ListRelationship") else NULL
    out: AttributeInstance = {"type": kind, _member(kind): null}
    if "datasetId" in old:
        out["datasetId"] = old["datasetId"]
    if sys_attrs:
        out.update({k: old[k] for k in SYSTEM if k in old})
        out["deletedAt"] = deleted_at
    return out


def _nulls(old: list[AttributeInstance], remaining: list[AttributeInstance], now: str,
           sys_attrs: bool) -> list[AttributeInstance]:
    """The Null instances of what a change deleted: one per deleted datasetId, or, when the whole attribute is
    gone, the attribute once (as its default instance, else its first one, without datasetId)."""
    if not old:
        return []
    if not remaining:
        base = next((i for i in old if "datasetId" not in i), old[0])
        return [null_instance({k: v for k, v in base.items() if k != "datasetId"}, now, sys_attrs)]
    kept = {i.get("datasetId") for i in remaining}
    return [null_instance(i, now, sys_attrs) for i in old if i.get("datasetId") not in kept]


def _by_dataset(instances: list[AttributeInstance]) -> dict[Any, AttributeInstance]:
    return {i.get("datasetId"): i for i in instances}


def _with_previous(rendered: Any, old: AttributeInstance, tm: TermMap) -> Any:
    kind = old.get("type", "Property")
    previous = _compact_value(kind, value_of(old), tm)
    if not isinstance(rendered, dict):  # a concise plain value
        rendered = {_member(kind): rendered}
    return {**rendered, _previous_member(kind): previous}


def _add_previous(out: dict[str, Any], shown: dict[str, list[AttributeInstance]], before: StoredEntity,
                  tm: TermMap) -> None:
    """Add previous values to the rendered instances that the change updated or deleted."""
    old_attrs = dict(attributes(before))
    for iri, instances in shown.items():
        key = tm.compact(iri)
        if key not in out or iri not in old_attrs:
            continue
        old_by_ds = _by_dataset(old_attrs[iri])
        rendered = out[key] if isinstance(out[key], list) else [out[key]]
        updated = []
        for inst, item in zip(instances, rendered, strict=False):
            old = old_by_ds.get(inst.get("datasetId"))
            updated.append(_with_previous(item, old, tm) if old is not None and value_of(old) != value_of(inst)
                           else item)
        out[key] = updated if isinstance(out[key], list) else updated[0]


def _datasets(entity: StoredEntity, wanted: list[str] | None) -> StoredEntity:
    """The entity with only the instances of the subscription's datasetIds (``@none``: the default instances)."""
    if wanted is None:
        return entity
    keep = {None if d == "@none" else d for d in wanted}
    out = {k: v for k, v in entity.items() if k in ("id", "type", "scope", *SYSTEM)}
    for iri, instances in attributes(entity):
        kept = [i for i in instances if i.get("datasetId") in keep]
        if kept:
            out[iri] = kept
    return out


def notified_entity(
    note: dict[str, Any], *, deleted_entity: bool, before: StoredEntity | None, after: StoredEntity | None,
    changed: list[str], null_attrs: list[str] | None, tm: TermMap, lang: str | None, now: str,
    datasets: list[str] | None = None,
) -> dict[str, Any]:
    """One entity of a notification. ``note`` is the subscription's expanded ``notification`` member;
    ``null_attrs`` are the attributes of a deleted entity to show with the NGSI-LD Null (None: all);
    ``datasets`` the subscription's datasetId selection."""
    out = _notified(note, deleted_entity=deleted_entity, before=before, after=after, changed=changed,
                    null_attrs=null_attrs, tm=tm, lang=lang, now=now, datasets=datasets)
    if note.get("sysAttrs") and note["format"] == "keyValues":  # the entity's own system attributes
        source = before if deleted_entity else after
        out.update({k: source[k] for k in SYSTEM if source and k in source})
    return out


def _notified(
    note: dict[str, Any], *, deleted_entity: bool, before: StoredEntity | None, after: StoredEntity | None,
    changed: list[str], null_attrs: list[str] | None, tm: TermMap, lang: str | None, now: str,
    datasets: list[str] | None,
) -> dict[str, Any]:
    fmt = note["format"]
    sys_attrs = note.get("sysAttrs", False)
    show = note.get("showChanges", False) and fmt != "keyValues"
    picked = note.get("attributes")
    pick = set(picked) | {"id", "type", "scope"} if picked else set(note["pick"]) if note.get("pick") else None
    omit = set(note.get("omit", []))
    if deleted_entity:
        assert before is not None
        before = _datasets(before, datasets)
        shown: dict[str, list[AttributeInstance]] = {}
        for iri, instances in attributes(before):
            if null_attrs is None or iri in null_attrs:
                shown[iri] = _nulls(instances, [], now, sys_attrs)
        entity: StoredEntity = {k: v for k, v in before.items() if k in ("id", "type", "scope", *SYSTEM)}
        entity.update(shown)
        out = render_entity(entity, tm, fmt=fmt, sys_attrs=sys_attrs, pick=pick, omit=omit, lang=lang)
        if sys_attrs:
            out.update({k: before[k] for k in SYSTEM if k in before})
        out["deletedAt"] = now
        if show:
            _add_previous(out, shown, before, tm)
        return out
    assert after is not None
    entity = copy.deepcopy(_datasets(after, datasets))
    old_attrs = dict(attributes(_datasets(before, datasets))) if before else {}
    shown = {}
    for iri in changed:
        new = list(entity.get(iri) or [])
        gone = _nulls(old_attrs.get(iri, []), new, now, sys_attrs)
        if gone:
            entity[iri] = new + gone
        if new or gone:
            shown[iri] = entity[iri]
    out = render_entity(entity, tm, fmt=fmt, sys_attrs=sys_attrs, pick=pick, omit=omit, lang=lang)
    if show and before:
        _add_previous(out, shown, before, tm)
    return out
