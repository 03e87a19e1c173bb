"""An offline mirror of @context documents (setting ``SAOLA_NGSI_LD_CONTEXT_MIRROR``).

A directory with a ``contexts.json`` manifest ``{"<url>": "<file name>", ...}`` and the files.
Documents found there are used instead of fetching their URLs, so a deployment without
internet access (or a conformance run on loopback) can still use well-known user @contexts.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

MANIFEST = "contexts.json"


@cache
def load_mirror(directory: Path) -> dict[str, dict[str, Any]]:
    """URL → document for every entry of the manifest (read once per directory)."""
    manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
    documents: dict[str, dict[str, Any]] = {}
    for url, name in manifest.items():
        path = (directory / name).resolve()
        if directory.resolve() not in path.parents:
            raise ValueError(f"{MANIFEST}: {name!r} is outside {directory}")
        documents[url] = json.loads(path.read_text("utf-8"))
    return documents


def mirrored(directory: Path | None, url: str) -> dict[str, Any] | None:
    if directory is None:
        return None
    return load_mirror(directory).get(url)
