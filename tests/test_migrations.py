"""Migrations and models never drift apart, and every migration can be undone and redone."""

from __future__ import annotations

import subprocess
import sys

from alembic import command

from tracker.storage.engine import alembic_config, make_engine, migrate


def test_migrations_match_the_models_and_round_trip(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises when the models hold something no migration creates
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
        command.check(cfg)
    engine.dispose()


def test_migrate_twice_is_harmless(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)
    engine.dispose()


def test_two_instances_migrating_an_empty_database_at_once_both_succeed(
    database_url: str,
) -> None:
    """Two services started together on a fresh database, as two processes: one creates the
    schema, the other waits for it and finds it at head (an advisory lock on PostgreSQL,
    BEGIN IMMEDIATE on SQLite); neither fails, and the schema matches the models."""
    script = (
        "import sys; from tracker.storage.engine import make_engine, migrate; "
        "migrate(make_engine(sys.argv[1]))"
    )
    started = [subprocess.Popen([sys.executable, "-c", script, database_url],
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for process in started:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.check(cfg)
    engine.dispose()
