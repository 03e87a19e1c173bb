"""FIWARE Smart Data Models examples (CC-BY-4.0, tests/data/smart-data-models) created and read back.

Each example's domain @context is registered with the broker and the example points at it, so the
run is offline; the entity comes back identical in normalized form, and as keyValues and concise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.context.conftest import DATA, Ngsi, link

MODELS = sorted(p for p in (DATA / "smart-data-models").glob("*.jsonld") if not p.name.startswith("context-"))


def _value(attribute: dict[str, Any]) -> Any:
    for member in ("value", "object", "languageMap", "vocab", "valueList", "objectList", "json"):
        if member in attribute:
            return attribute[member]
    raise AssertionError(attribute)


def _load(ngsi: Ngsi, path: Path) -> tuple[dict[str, Any], str]:
    example = json.loads(path.read_text("utf-8"))
    remote = next(u for u in example["@context"] if "smart-data-models" in u)
    domain = remote.split("dataModel.")[1].split("/")[0]
    document = json.loads((DATA / "smart-data-models" / f"context-{domain}.jsonld").read_text("utf-8"))
    local = ngsi.register_context(document)
    example["@context"] = [local if u == remote else u for u in example["@context"]]
    return example, local


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_smart_data_model_example_round_trips(ngsi: Ngsi, path: Path) -> None:
    example, context_url = _load(ngsi, path)
    created = ngsi.post("/entities", content=json.dumps(example), headers={"Content-Type": "application/ld+json"})
    assert created.status_code == 201, created.text
    headers = {"Link": link(context_url)}
    entity_path = f"/entities/{example['id']}"
    expected = {k: v for k, v in example.items() if k != "@context"}
    assert ngsi.get(entity_path, headers=headers).json() == expected
    key_values = ngsi.get(entity_path + "?options=keyValues", headers=headers).json()
    attributes = {k: v for k, v in expected.items() if k not in ("id", "type")}
    assert key_values == {"id": example["id"], "type": example["type"],
                          **{k: _value(v) for k, v in attributes.items()}}
    concise = ngsi.get(entity_path + "?options=concise", headers=headers).json()
    assert set(concise) == set(expected)
    for name, attribute in attributes.items():
        shown = concise[name]
        wrapped = isinstance(shown, dict) and ("value" in shown or "object" in shown)
        assert (_value(shown) if wrapped else shown) == _value(attribute), name
    type_name = example["type"]
    found = ngsi.get(f"/entities?type={type_name}", headers=headers).json()
    assert [e["id"] for e in found] == [example["id"]]
