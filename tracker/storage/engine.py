"""Engines for the two supported stores, and Alembic migrations run from code.

SQLite (the embedded default) runs in WAL mode, and every write transaction starts with
``BEGIN IMMEDIATE``: SQLite cannot wait on a read-to-write lock upgrade, so a deferred BEGIN
lets two writers fail with "database is locked" where an immediate one makes them queue.
Connections opened with ``execution_options(readonly=True)`` start a plain deferred BEGIN, so
readers never wait for the writer. PostgreSQL is reached through ``postgresql+psycopg://``.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from tracker.errors import StorageError

log = logging.getLogger(__name__)


def redact(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable database URL>"


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


#: JSON columns are written and read with orjson: a stored bill has a few dozen JSON values
#: (sponsors, each action's classification and extras, event details), and the standard
#: library's per-call overhead was a tenth of a poll's storing time. Same JSON, except that
#: non-ASCII text is kept as UTF-8 rather than escaped.
_JSON: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; raises StorageError naming the (redacted) URL when unusable."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # Say which driver; a bare postgresql:// means psycopg2 in SQLAlchemy 2.0.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        return sa.create_engine(parsed, pool_pre_ping=True, **_JSON)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StorageError(f"database URL {redact(url)} cannot be used: {exc}") from None
    except ImportError as exc:
        raise StorageError(
            f"database URL {redact(url)} needs a driver that is not installed ({exc.name}); "
            "install the pg extra: pip install 'tracker[pg]'"
        ) from None


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    # How long a writer waits for another's lock before "database is locked": 30 s, or the
    # URL's ``?timeout=SECONDS`` (sqlite:///tracker.db?timeout=5).
    given = url.query.get("timeout", "30")
    try:
        timeout = float(given if isinstance(given, str) else given[-1])
    except ValueError:
        raise ArgumentError(f"timeout={given!r} is not a number of seconds") from None
    engine = sa.create_engine(url, connect_args={"timeout": timeout}, **_JSON)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if url.database and url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses no commit
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get("readonly"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(engine: sa.Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("tracker") / "migrations"))
    url = engine.url.render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


#: The PostgreSQL advisory lock taken while migrating (an arbitrary, fixed 64-bit key).
_MIGRATION_LOCK = 0x7472_6163_6B65_72  # "tracker"


def migrate(engine: sa.Engine, *, revision: str = "head") -> None:
    """Create or upgrade the schema; raises StorageError naming the database on failure."""
    cfg = alembic_config(engine)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Two instances starting at once on an empty database would both create the
                # tables: the second waits here until the first has committed, then finds
                # the schema at head. (SQLite's BEGIN IMMEDIATE already serializes them.)
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": _MIGRATION_LOCK})
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise StorageError(
            f"database {redact(str(engine.url))} cannot be opened: {reason}"
        ) from None
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0]
        raise StorageError(
            f"database {redact(str(engine.url))}: migration failed: {reason}"
        ) from None
