"""A throwaway database for one benchmark: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """``url`` itself for SQLite (a file in a temp folder, deleted afterwards); for
    PostgreSQL, a fresh schema on that server (its URL selects it through
    ``search_path``), dropped afterwards."""
    if url.startswith("sqlite"):
        database = sa.make_url(url).database
        try:
            yield url
        finally:
            if database and database != ":memory:":
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(database + suffix).unlink(missing_ok=True)
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
