"""Fixtures for the web tests: a database filled by the real pipeline from the real samples,
and the app on it (Flask's test client), with a settable clock and mail written to files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.data import NOW, Clock, Seeded, seed, web_settings
from tracker.settings import Settings
from tracker.storage.repository import Repository
from tracker.web import create_app
from tracker.web.state import WebState


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


def state(application: Flask) -> WebState:
    found: WebState = application.extensions["tracker"]
    return found


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
