"""A throwaway database for one benchmark: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy as sa


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """``url`` itself for SQLite (a file in a temp folder); for PostgreSQL, a fresh schema
    on that server (its URL selects it through ``search_path``), dropped afterwards."""
    if url.startswith("sqlite"):
        yield url
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
