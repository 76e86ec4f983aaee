"""Fixtures: one migrated, seeded database per back end; every test rolls back its changes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.app import create_app
from lianfang.api.deps import request_session
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.config import Settings
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.db.migrate import upgrade
from lianfang.demo import story, world
from tests.factories import PASSWORD, ROLE_AREAS, make_user, role_username

# Servers started by tests run no periodic jobs unless a test asks for them (Settings(jobs=True)):
# a job committing into the shared database would change what other tests count.
os.environ["LIANFANG_JOBS"] = "0"
PG_URL = os.environ.get("LIANFANG_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
SEED = 7


@pytest.fixture(scope="session", autouse=True)
def clock() -> Iterator[timeutil.Clock]:
    """Every test runs on the demo's day, whatever the real date: results do not drift with it."""
    pinned = timeutil.Clock(story.TODAY, "tests")
    before = timeutil.use(pinned)
    yield pinned
    timeutil.use(before)


def reset_postgres(url: str) -> None:
    """Empty the test database (it belongs to the test run)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def empty_database(backend: str, tmp: pytest.TempPathFactory, name: str = "") -> str:
    """The URL of an empty database: a new SQLite file, the PostgreSQL test database emptied, or
    (with a ``name``) a PostgreSQL database of that name beside it, made anew."""
    if backend == "sqlite":
        return f"sqlite:///{tmp.mktemp('db') / (name or 'test')}.db"
    assert PG_URL is not None
    if not name:
        reset_postgres(PG_URL)
        return PG_URL
    server = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def seeded_engine(url: str) -> Engine:
    """Migrate, build the Nantong demo world and add one user per role."""
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        world.build(session=session, actor=SYSTEM, seed=SEED, people_share=0)
        for role, area in ROLE_AREAS.items():
            make_user(session, username=role_username(role), role=role, area_code=area)
    return engine


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The seeded database of one back end, shared by the whole run."""
    built = seeded_engine(empty_database(request.param, tmp_path_factory))
    yield built
    built.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose every change, commits included, is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def settings() -> Settings:
    """Settings as a development server would have them, computing no forecasts (tests run
    them in-process on their own session, or start a server of their own)."""
    return Settings(database_url="sqlite://", admin_password=None, forecast_jobs=0)


@pytest.fixture
def client(engine: Engine, session: Session, settings: Settings) -> Iterator[TestClient]:
    """The application in-process, on the test's rolled-back session."""
    app = create_app(settings, engine)

    def test_session(request: Request) -> Iterator[Session]:
        request.state.db = session  # pages render with it, as with the request's own session
        try:
            yield session
        except BaseException:
            session.rollback()
            raise

    app.dependency_overrides[request_session] = test_session
    app.state.started_forecasts = []
    app.state.start_forecast = app.state.started_forecasts.append
    app.state.started_exports = []
    app.state.start_export = lambda _url, job_id: app.state.started_exports.append(job_id)
    with TestClient(app) as test_client:
        yield test_client


def bearer(client: TestClient, role: Role) -> dict[str, str]:
    """Authorization headers for the standing test user of a role."""
    answer = client.post(
        "/api/auth/token", json={"username": role_username(role), "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def artifacts() -> Path:
    """Where tests leave screenshots and reports for people to look at."""
    path = Path(__file__).resolve().parent.parent / "artifacts"
    path.mkdir(exist_ok=True)
    return path
