"""Rewrite the README's configuration table from the settings (``python scripts/update_readme_settings.py``)."""

from __future__ import annotations

from pathlib import Path

from saola.core.settings import settings_markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- settings-table -->", "<!-- /settings-table -->"


def main() -> None:
    text = README.read_text("utf-8")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{settings_markdown_table()}\n{END}{tail}", "utf-8")


if __name__ == "__main__":
    main()
