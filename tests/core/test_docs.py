"""The documentation stays true: the README's settings table, the committed OpenAPI
document, and no asset loaded from outside the package."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from saola.core.openapi import render
from saola.core.settings import settings_markdown_table

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "saola"


def test_readme_settings_table_is_generated_from_the_settings() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme.split("<!-- settings-table -->")[1].split("<!-- /settings-table -->")[0].strip()
    assert table == settings_markdown_table(), "run `saola config --markdown` and paste it into the README"


def test_committed_openapi_document_matches_the_code() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text("utf-8")
    assert committed == render(), "the API changed: run `make openapi` and commit docs/openapi.json"


EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)
FETCH_EXTERNAL = re.compile(r"""(?:fetch|import|url)\(\s*["'](?:https?:)?//""", re.IGNORECASE)


def test_no_template_or_script_loads_anything_from_another_host() -> None:
    offenders = []
    for path in SRC.rglob("*"):
        if path.suffix not in {".html", ".js", ".css"} or "vendor" in path.parts:
            continue
        text = path.read_text("utf-8")
        if EXTERNAL.search(text) or FETCH_EXTERNAL.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_api_docs_page_uses_the_vendored_swagger_ui(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert assets and all(a.startswith("/static/") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200
