"""SQLAlchemy 2 typed tables. Only ``tracker.storage`` touches them.

``bills`` holds each bill's current state; ``actions`` its ordered, classified actions, each
with a stable upstream identity (``uid``) and a ``removed_at`` for upstream corrections (the
old action stays in history); ``events`` is the append-only change log; ``fetch_state`` keeps
validators per URL; ``source_runs`` records every poll; ``source_sessions`` says which
sessions had their baseline poll.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite hands back naive ones otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware UTC datetimes only")
        value = value.astimezone(UTC)
        # SQLite stores the text it is given; keep it uniform so ordering by text works.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it from the class)
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        datetime: UTCDateTime,
    }
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class BillRow(Base):
    __tablename__ = "bills"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    jurisdiction: Mapped[str] = mapped_column(sa.String(8), index=True)
    session: Mapped[str] = mapped_column(sa.String(32))
    identifier: Mapped[str] = mapped_column(sa.String(40))
    source: Mapped[str] = mapped_column(sa.String(32), index=True)
    bill_type: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.Text)
    stage: Mapped[str] = mapped_column(sa.String(24), index=True)
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    subjects: Mapped[list[Any]] = mapped_column(default=list)
    sponsors: Mapped[list[Any]] = mapped_column(default=list)
    versions: Mapped[list[Any]] = mapped_column(default=list)
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)
    url: Mapped[str | None] = mapped_column(sa.Text)
    last_action_date: Mapped[date | None] = mapped_column(sa.Date, index=True)
    upstream_updated_at: Mapped[datetime | None]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ActionRow(Base):
    __tablename__ = "actions"
    __table_args__ = (sa.UniqueConstraint("bill_id", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(sa.ForeignKey("bills.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(sa.String(40))
    position: Mapped[int]
    date: Mapped[date] = mapped_column(sa.Date)
    actor: Mapped[str] = mapped_column(sa.String(16))
    description: Mapped[str] = mapped_column(sa.Text)
    classification: Mapped[list[Any]] = mapped_column(default=list)
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_bill_id_id", "bill_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(sa.ForeignKey("bills.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(24), index=True)
    detected_at: Mapped[datetime] = mapped_column(index=True)
    baseline: Mapped[bool] = mapped_column(default=False)
    action_uid: Mapped[str | None] = mapped_column(sa.String(40))
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_runs.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class FetchStateRow(Base):
    __tablename__ = "fetch_state"

    url: Mapped[str] = mapped_column(sa.String(1000), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(32), index=True)
    etag: Mapped[str | None] = mapped_column(sa.String(300))
    last_modified: Mapped[str | None] = mapped_column(sa.String(100))
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    lastmod: Mapped[str | None] = mapped_column(sa.String(100))
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    updated_at: Mapped[datetime]


class SourceRunRow(Base):
    __tablename__ = "source_runs"
    __table_args__ = (sa.Index("ix_source_runs_source_id", "source", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(32))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(16))
    discovered: Mapped[int] = mapped_column(default=0)
    fetched: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    noop: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    events: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)
    bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    bills_seen: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    failures: Mapped[list[Any]] = mapped_column(default=list)


class SourceSessionRow(Base):
    __tablename__ = "source_sessions"

    source: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    session: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    baselined_at: Mapped[datetime | None]
    last_change_at: Mapped[datetime | None]


class TopicMatchRow(Base):
    """Why a bill matches a topic: the terms and fields that made the match (re-run on change)."""

    __tablename__ = "topic_matches"
    __table_args__ = (sa.Index("ix_topic_matches_topic", "topic"),)

    bill_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bills.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    matched: Mapped[list[Any]] = mapped_column(default=list)
    matched_at: Mapped[datetime]


class SubscriberRow(Base):
    """A person who receives digests; ``email`` is stored lower-cased."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    affiliate: Mapped[str] = mapped_column(sa.String(100), default="")
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="America/New_York")
    frequency: Mapped[str] = mapped_column(sa.String(16), default="daily")
    digest_hour: Mapped[int] = mapped_column(default=7)
    digest_weekday: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    origin: Mapped[str] = mapped_column(sa.String(16), default="cli")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_digest_at: Mapped[datetime | None]


class SubscriptionRow(Base):
    """What a subscriber follows: a bill key, a topic (optionally within jurisdictions) or a
    whole jurisdiction, optionally only some event kinds or stages."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("subscriber_id", "target_kind", "target"),
        sa.Index("ix_subscriptions_target", "target_kind", "target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    target_kind: Mapped[str] = mapped_column(sa.String(16))
    target: Mapped[str] = mapped_column(sa.String(160))
    jurisdictions: Mapped[list[Any]] = mapped_column(default=list)
    kinds: Mapped[list[Any]] = mapped_column(default=list)
    stages: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    welcomed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # Who declared it ("cli" or "config": a config sync deactivates only its own), who ended it
    # ("subscriber" sticks across syncs, "config" is undone when the file declares it again),
    # and when it last became active (changes detected before then are not routed to it).
    origin: Mapped[str] = mapped_column(sa.String(16), default="cli", server_default="cli")
    ended_by: Mapped[str | None] = mapped_column(sa.String(16))
    active_since: Mapped[datetime]


class DeliveryRow(Base):
    """One change for one subscriber, at most once however many subscriptions cover it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "subscriber_id"),
        sa.Index("ix_deliveries_subscriber_id_status", "subscriber_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="CASCADE"))
    subscription_ids: Mapped[list[Any]] = mapped_column(default=list)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    digest_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    created_at: Mapped[datetime]


class RoutingCursorRow(Base):
    """How far routing has read the event log: the highest event id it routed."""

    __tablename__ = "routing_cursor"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    last_event_id: Mapped[int]
    updated_at: Mapped[datetime]


class OutboxRow(Base):
    """A rendered message waiting to be sent, sent, or given up on. ``digest_key`` is unique,
    so rendering a digest twice never queues it twice. The message bytes are in
    ``outbox_messages``: claims and marks rewrite this row, never them."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(sa.String(16))
    recipient: Mapped[str] = mapped_column(sa.String(320))
    message_id: Mapped[str] = mapped_column(sa.String(300))
    subject: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class OutboxMessageRow(Base):
    """The rendered bytes of one outbox message, written once when it is queued. Kept apart
    from ``outbox`` because each claim and mark rewrites the whole row it changes: with the
    ~30 KB message in it, every status change rewrote the message too."""

    __tablename__ = "outbox_messages"

    outbox_id: Mapped[int] = mapped_column(
        sa.ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    message: Mapped[bytes] = mapped_column(sa.LargeBinary)


class LeaseRow(Base):
    """A named lease: one holder at a time until ``expires_at`` (the scheduler's leadership,
    and ``poll:<source>`` so a source is never polled twice at once). See tracker.leases."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    heartbeat: Mapped[datetime]


class ScheduledJobRow(Base):
    """The leader's jobs and their next run times, for ``tracker status``."""

    __tablename__ = "scheduled_jobs"

    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    description: Mapped[str] = mapped_column(sa.String(200))
    next_run_at: Mapped[datetime | None]
    holder: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime]


class SourceAlarmRow(Base):
    """The last health state operators were told about, per source (one alert per change)."""

    __tablename__ = "source_alarms"

    source: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    problems: Mapped[list[Any]] = mapped_column(default=list)
    run_id: Mapped[int | None]
    changed_at: Mapped[datetime]


class ApiBudgetRow(Base):
    """Requests a source spent on a metered API in one calendar month (UTC, ``YYYY-MM``)."""

    __tablename__ = "api_budget"

    source: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    used: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class StaffRow(Base):
    """A staff member of the web app (``tracker staff add``): sees ``/admin``. An empty
    ``affiliate`` sees every affiliate's subscribers; otherwise only that affiliate's."""

    __tablename__ = "staff"

    email: Mapped[str] = mapped_column(sa.String(320), primary_key=True)
    affiliate: Mapped[str] = mapped_column(sa.String(100), default="")
    added_at: Mapped[datetime]


class SignInLinkRow(Base):
    """One emailed sign-in link of the web app: one-time (``used_at``), expiring, and counted
    per address and per client for rate limiting. Only a hash of the link's nonce is kept."""

    __tablename__ = "sign_in_links"
    __table_args__ = (
        sa.Index("ix_sign_in_links_email_requested_at", "email", "requested_at"),
        sa.Index("ix_sign_in_links_client_requested_at", "client", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320))
    nonce_hash: Mapped[str] = mapped_column(sa.String(64))
    client: Mapped[str] = mapped_column(sa.String(64))
    requested_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
