"""Migrations and models never drift apart, and every migration can be undone and redone."""

from __future__ import annotations

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
