"""Migrations: from an empty database to head on each backend, and the models match the migrations.

The second is ``alembic check``: autogenerate compares the models with a migrated database,
so a model changed without a migration fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, inspect

from saola.core.db import make_engine
from saola.core.migrate import alembic_config, current_revision, head_revision, upgrade
from saola.core.models import Base
from tests.conftest import PG_URL, pg_scratch_database

BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with pg_scratch_database("saola_empty") as (_name, url):
        yield url


def differences(engine: Engine, metadata: MetaData) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, metadata)


def test_migrations_build_every_table_from_an_empty_database(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
        assert current_revision(engine) == head_revision(empty_database_url)
        assert differences(engine, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_go_down_to_nothing_and_up_again(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    engine = make_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(empty_database_url)
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_the_models_match_the_migrations(app) -> None:
    diff = differences(app.state.engine, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration (alembic revision --autogenerate): {diff}"


def test_a_model_change_without_a_migration_is_detected(app) -> None:
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["agency_contacts"].append_column(Column("fax", String(40)))
    Table("streetlights", changed, Column("id", Integer, primary_key=True))
    found = {(d[0], d[-1].name) for d in differences(app.state.engine, changed) if isinstance(d, tuple)}
    assert found == {("add_column", "fax"), ("add_table", "streetlights")}
