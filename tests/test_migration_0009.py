"""Migration 0009 moves each outbox message's bytes to ``outbox_messages``: nothing is lost on
the way up or back down, on SQLite and PostgreSQL, and the moved messages are still sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from notifiers.outbox import SENT, send_pending
from tests.notifiers.test_outbox import Scripted
from tracker.storage.engine import alembic_config, make_engine, migrate
from tracker.storage.repository import Repository
from tracker.storage.tables import UTCDateTime

QUEUED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HEAD = b"From: a@example.org\r\nTo: b@example.org\r\n\r\n"
MESSAGES = {
    "daily:1:2026-12-01T07": HEAD + bytes(range(256)),
    "daily:2:2026-12-01T07": HEAD + b"x" * 40_000,
    "welcome:3:abc": b"",
}
STATUSES = {"daily:1:2026-12-01T07": "pending", "daily:2:2026-12-01T07": "sent",
            "welcome:3:abc": "failed"}

INSERT = sa.text("""
INSERT INTO outbox (digest_key, subscriber_id, kind, recipient, message_id, subject, message,
                    status, attempts, next_attempt_at, created_at)
VALUES (:key, NULL, 'digest', :recipient, :message_id, 'Daily bill digest', :message, :status,
        0, :at, :at)
""").bindparams(sa.bindparam("message", type_=sa.LargeBinary()),
                sa.bindparam("at", type_=UTCDateTime()))


def old_rows(connection: sa.Connection) -> dict[str, bytes]:
    found = connection.execute(sa.text("SELECT digest_key, message FROM outbox")).all()
    return {key: bytes(message) for key, message in found}


def moved_rows(connection: sa.Connection) -> dict[str, bytes]:
    found = connection.execute(sa.text(
        "SELECT o.digest_key, m.message FROM outbox o JOIN outbox_messages m "
        "ON m.outbox_id = o.id"
    )).all()
    return {key: bytes(message) for key, message in found}


def columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_messages_move_to_their_table_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, revision="0008")
    with engine.begin() as connection:
        for n, (key, message) in enumerate(MESSAGES.items()):
            connection.execute(INSERT, {"key": key, "recipient": f"r{n}@example.org",
                                        "message_id": f"<{n}@example.org>", "message": message,
                                        "status": STATUSES[key], "at": QUEUED})

    migrate(engine)
    assert "message" not in columns(engine, "outbox")
    with engine.connect() as connection:
        assert moved_rows(connection) == MESSAGES
        statuses = dict(connection.execute(sa.text("SELECT digest_key, status FROM outbox")).all())
    assert statuses == STATUSES

    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0008")
    assert "outbox_messages" not in sa.inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert old_rows(connection) == MESSAGES

    migrate(engine)
    with engine.connect() as connection:
        assert moved_rows(connection) == MESSAGES
    engine.dispose()


def test_a_message_queued_before_the_migration_is_sent_as_queued(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, revision="0008")
    key = "daily:1:2026-12-01T07"
    with engine.begin() as connection:
        connection.execute(INSERT, {"key": key, "recipient": "r@example.org",
                                    "message_id": "<1@example.org>", "message": MESSAGES[key],
                                    "status": "pending", "at": QUEUED})
    migrate(engine)
    transport = Scripted()
    report = send_pending(Repository(engine), transport, now=QUEUED + timedelta(minutes=1))
    assert [o.status for o in report.outcomes] == [SENT]
    (sent,) = transport.accepted
    assert (sent.raw, sent.sender, sent.message_id) == (MESSAGES[key], "a@example.org",
                                                        "<1@example.org>")
    engine.dispose()
