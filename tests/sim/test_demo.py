"""``saola demo``: what it loads, that it is idempotent and deterministic, and how steps are added."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from saola.core.auth.models import User
from saola.core.db import make_engine, make_session_factory, unit_of_work
from saola.core.directory.models import AdminUnit, Agency, UnitSuccession
from saola.core.migrate import upgrade
from saola.core.settings import Settings, load_settings
from saola.sim import demo
from tests.conftest import _backends


def _empty(engine: Engine) -> None:
    """Delete every row (children first), keeping the migrated schema."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(table.delete())


@pytest.fixture
def blank_engine(database_url: str) -> Iterator[Engine]:
    """The test database (SQLite, and PostgreSQL when configured) migrated but with no rows at all."""
    engine = make_engine(database_url)
    _empty(engine)
    yield engine
    engine.dispose()


def _load(engine: Engine, settings: Settings) -> demo.DemoReport:
    with unit_of_work(make_session_factory(engine)) as session:
        return demo.load_demo(session, settings=settings)


@dataclass
class Loaded:
    """A database that was blank (no rows at all) when the demo was loaded into it once."""

    engine: Engine
    settings: Settings
    report: demo.DemoReport  # what that first load created


@pytest.fixture(scope="module", params=_backends())
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """The demo loaded once per backend into a blank database, for the tests that read that load or load again
    on top of it (a load takes seconds: these tests share one instead of each loading from scratch)."""
    data_dir = tmp_path_factory.mktemp("demo")
    if request.param == "sqlite":
        path = data_dir / "saola.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url, done = f"sqlite:///{path}", lambda: None
    else:
        pool = request.getfixturevalue("pg_pool")
        name = pool.acquire()
        url, done = pool.url_of(name), lambda: pool.release(name)
    settings = load_settings(database_url=url, data_dir=data_dir, env="test", log_json=True,
                             secret_key="test-secret-key-0123456789abcdef0123456789")
    engine = make_engine(url)
    _empty(engine)
    try:
        yield Loaded(engine, settings, _load(engine, settings))
    finally:
        engine.dispose()
        done()


def _snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """The rows in insertion order, without ids (a PostgreSQL sequence is not reset by deleting rows)."""
    with Session(engine) as session:
        agencies = session.execute(select(Agency.code, Agency.name, Agency.name_en, Agency.kind, Agency.unit_code)
                                   .order_by(Agency.id)).all()
        users = session.execute(select(User.username, User.role, User.full_name, Agency.code)
                                .outerjoin(Agency, User.agency_id == Agency.id).order_by(User.id)).all()
        units = session.execute(select(AdminUnit.edition, AdminUnit.code, AdminUnit.full_name, AdminUnit.name_en,
                                       AdminUnit.parent_code).order_by(AdminUnit.id)).all()
        links = session.execute(select(UnitSuccession.former_code, UnitSuccession.current_code,
                                       UnitSuccession.is_default).order_by(UnitSuccession.id)).all()
    return {name: [tuple(r) for r in rows]
            for name, rows in (("agencies", agencies), ("users", users), ("units", units), ("links", links))}


def test_demo_loads_units_departments_commune_committees_and_users(loaded: Loaded) -> None:
    report, blank_engine = loaded.report, loaded.engine
    assert report.created == {"administrative units": 14149, "unit successions": 10602, "agencies": 14,
                              "commune People's Committees": 99, "users": 5, "1022 report fields": 10,
                              "1022 report categories": 27, "procedures": 30, "queue services": 9,
                              "queue counters": 10, "1022 classifier examples (demo labelled reports)": 540,
                              "1022 demo reports": 300,
                              "city entities (lamps, roads, cameras, stations, substations, schools)": 3390,
                              "device service groups": 1, "city devices": 3236, "rules": 13}
    with Session(blank_engine) as session:
        communes = session.scalars(select(Agency).where(Agency.kind == "commune")).all()
        assert len(communes) == 99
        kinh_bac = session.scalar(select(Agency).where(Agency.code == "UBND-09187"))
        assert (kinh_bac.name, kinh_bac.name_en, kinh_bac.unit_code) == (
            "UBND Phường Kinh Bắc", "People's Committee of Kinh Bac Ward", "09187")
        assert {a.unit_code for a in communes} == set(session.scalars(
            select(AdminUnit.code).where(AdminUnit.edition == "2025", AdminUnit.level == "ward",
                                         AdminUnit.province_code == "24")))
        assert session.scalar(select(func.count()).select_from(Agency).where(Agency.kind != "commune")) == 14
        users = {u.username: (u.role, u.agency.code if u.agency else None) for u in session.scalars(select(User))}
        assert users == {name: (role, code) for name, role, code in demo.DEMO_USERS}
        assert session.scalar(select(func.count()).select_from(UnitSuccession)) == 10602


def test_demo_run_twice_adds_nothing_and_says_so(loaded: Loaded) -> None:
    first, blank_engine = loaded.report, loaded.engine
    before = _snapshot(blank_engine)
    second = _load(blank_engine, loaded.settings)
    assert sum(first.created.values()) > 0
    assert not any(second.created.values())
    assert second.summary() == "Demo city already loaded; nothing to add."
    assert _snapshot(blank_engine) == before


def test_demo_command_prints_the_accounts_and_nothing_new_the_second_time(
    blank_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from saola.cli import app

    env = {"SAOLA_DATABASE_URL": database_url, "SAOLA_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    first = runner.invoke(app, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "99 commune People's Committees" in first.output
    assert all(username in first.output for username, _role, _agency in demo.DEMO_USERS)
    again = runner.invoke(app, ["demo"], env=env)
    assert again.exit_code == 0, again.output
    assert "already loaded; nothing to add" in again.output


def test_demo_is_deterministic(loaded: Loaded, tmp_path: Path) -> None:
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other_url)
    other = make_engine(other_url)
    try:
        _load(other, loaded.settings)  # a second load into another blank database
        assert _snapshot(loaded.engine) == _snapshot(other)
    finally:
        other.dispose()


def test_a_later_feature_can_add_a_demo_step_after_another() -> None:
    def lamps(ctx: demo.DemoContext) -> None:  # pragma: no cover - never run here
        pass

    demo.register_step("street-lights", lamps, after="agencies")
    try:
        names = [step.name for step in demo.DEMO_STEPS]
        assert names.index("street-lights") == names.index("agencies") + 1
        demo.register_step("street-lights", lamps)  # registering twice changes nothing
        assert [step.name for step in demo.DEMO_STEPS].count("street-lights") == 1
    finally:
        demo.DEMO_STEPS[:] = [step for step in demo.DEMO_STEPS if step.name != "street-lights"]
