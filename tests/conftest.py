"""Shared test fixtures.

Real recorded documents live beside the checkout in ``../shared/fixtures`` (provenance in its
``SOURCES.md``); tests read them from there and never copy them. A test that needs them skips
with a clear reason when the folder is absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.storage.engine import make_engine, migrate
from tracker.storage.repository import Repository

REPO = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = Path(
    os.environ.get("TRACKER_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures")
).resolve()
PROJECT_FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The folder of real recorded samples; skips the test when it is not there."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real samples not found at {SHARED_FIXTURES} (set TRACKER_SHARED_FIXTURES)")
    return SHARED_FIXTURES


def shared(*parts: str) -> Path:
    """A path under the shared samples, skipping the calling test when it is missing."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real sample not found: {path}")
    return path


# --- databases --------------------------------------------------------------------------------
#
# Every test that stores data runs on SQLite by default and on PostgreSQL when
# TRACKER_TEST_DATABASE_URL points at one (.ci/run runs the suite both ways). Each PostgreSQL
# test gets a schema of its own, dropped afterwards.

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test (SQLite file, or a PostgreSQL schema)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    import uuid

    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def repo(database_url: str) -> Iterator[Repository]:
    """A migrated repository on a fresh database."""
    engine = make_engine(database_url)
    migrate(engine)
    yield Repository(engine)
    engine.dispose()
