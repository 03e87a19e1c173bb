"""Print Saola's OpenAPI document (``python -m saola.core.openapi > docs/openapi.json``).

The committed ``docs/openapi.json`` is compared with the generated one by a test, so an
API change shows up in review (``make openapi`` refreshes it).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def openapi_document() -> dict[str, Any]:
    from saola.app import create_app
    from saola.core.settings import load_settings

    app = create_app(load_settings(database_url="sqlite:///:memory:", log_level="WARNING"))
    return app.openapi()


def render() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
