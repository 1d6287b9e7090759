"""Fixtures for the web tests.

* ``app`` / ``client`` / ``repo``: the app on a fresh, empty database (SQLite, or a PostgreSQL
  schema when TRACKER_TEST_DATABASE_URL is set), with a settable clock and mail written to
  ``.eml`` files under the test's ``tmp_path``; ``seeded`` fills it with the real samples
  polled by the real pipeline, for tests that change what is stored.
* ``reader``: a fresh browser-like client on one app shared by the whole session, seeded once,
  for tests that only read (pages, exports, views): they must not write to its database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PG_URL
from tests.web.data import NOW, Clock, Seeded, seed, web_settings
from tracker.settings import Settings
from tracker.storage.repository import Repository
from tracker.web import create_app
from tracker.web.state import WebState


def state(application: Flask) -> WebState:
    found: WebState = application.extensions["tracker"]
    return found


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return web_settings(database_url=database_url, folder=tmp_path)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Iterator[Flask]:
    application = create_app(settings, testing=True, clock=clock)
    yield application
    state(application).repo.engine.dispose()


@pytest.fixture
def repo(app: Flask) -> Repository:
    """The app's own repository (the app migrated the database)."""
    return state(app).repo


@pytest.fixture
def seeded(app: Flask, settings: Settings) -> Seeded:
    return seed(state(app).repo, settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- one seeded app for the tests that only read -------------------------------------------------


@pytest.fixture(scope="session")
def shared_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for the whole session (as tests.conftest.database_url, once)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('shared') / 'tracker.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def shared(shared_database_url: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Flask, Seeded]]:
    settings = web_settings(database_url=shared_database_url,
                            folder=tmp_path_factory.mktemp("shared-mail"))
    application = create_app(settings, testing=True, clock=Clock(NOW))
    seeded = seed(state(application).repo, settings)
    yield application, seeded
    state(application).repo.engine.dispose()


@pytest.fixture
def reader(shared: tuple[Flask, Seeded]) -> FlaskClient:
    """A client of its own (fresh cookies) on the shared, seeded app."""
    return shared[0].test_client()


@pytest.fixture
def shared_seed(shared: tuple[Flask, Seeded]) -> Seeded:
    return shared[1]


@pytest.fixture
def shared_repo(shared: tuple[Flask, Seeded]) -> Repository:
    return state(shared[0]).repo
