"""The SQL the web app needs that the repository lacks: search, aggregates, admin, sign-in.

Like :mod:`tracker.storage.subscriptions_repo`, every function takes the caller's ``Session``
(the web app opens a read transaction per page, a write transaction per form) and returns
frozen views with plain fields. What the views mean, and how pages show them, is decided in
:mod:`tracker.web`.

* **Search** (:func:`search_bills`, :func:`search_events`): the filters of ``/bills`` and
  ``/events`` and of their CSV and JSON exports, as :class:`BillQuery` and :class:`EventQuery`,
  sorted and cut into pages (``LIMIT``/``OFFSET`` with the total count); the ``iter_*`` twins
  stream every match for the CSV exports. ``q`` matches the title, summary and identifier
  case-insensitively (LIKE wildcards typed by a user are matched literally), and a ``q`` that
  reads as a bill identifier (``hr2471``) also finds that identifier exactly.
* **Aggregates** for the dashboard and the topic pages: changes per jurisdiction and per
  topic since a moment (baseline events left out: a first poll is not news), bills per stage
  per topic, bills per jurisdiction and stage of one topic.
* **Admin**: subscribers per affiliate with their active subscriptions, the delivery log (the
  outbox, newest first), staff members.
* **Sign-in links**: record, count (rate limits), read, use once, purge.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import InvalidBillKey
from tracker.models import LADDER, normalize_identifier
from tracker.storage.tables import (
    BillRow,
    EventRow,
    OutboxRow,
    SignInLinkRow,
    StaffRow,
    SubscriberRow,
    SubscriptionRow,
    TopicMatchRow,
)

_STREAM = 500
AnySelect = sa.Select[*tuple[Any, ...]]


# --- queries ------------------------------------------------------------------------------------


class BillSort(StrEnum):
    RECENT = "recent"  # latest action first (bills without actions last)
    OLDEST = "oldest"  # earliest latest-action first
    KEY = "key"
    TITLE = "title"
    STAGE = "stage"  # furthest along the ladder first, side stages after


class EventSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True, slots=True)
class BillScope:
    """Which bills: the filters bills and events share (all optional, all combined)."""

    q: str | None = None
    topic: str | None = None
    jurisdiction: str | None = None
    session: str | None = None
    stage: str | None = None


@dataclass(frozen=True, slots=True)
class BillQuery:
    """``/bills``: a scope, the latest action's date within ``since``..``until`` (inclusive)."""

    scope: BillScope = field(default_factory=BillScope)
    since: date | None = None
    until: date | None = None
    sort: BillSort = BillSort.RECENT


@dataclass(frozen=True, slots=True)
class EventQuery:
    """``/events``: changes of bills in a scope (or of one ``bill`` key), of one ``kind``,
    detected within ``since`` (inclusive) .. ``until`` (exclusive)."""

    scope: BillScope = field(default_factory=BillScope)
    bill: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    include_baseline: bool = False
    sort: EventSort = EventSort.NEWEST


# --- views --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillListing:
    id: int
    key: str
    jurisdiction: str
    session: str
    identifier: str
    title: str
    stage: str
    last_action_date: date | None
    url: str | None
    source: str


@dataclass(frozen=True, slots=True)
class EventListing:
    id: int
    bill_key: str
    bill_title: str
    jurisdiction: str
    identifier: str
    kind: str
    detected_at: datetime
    baseline: bool
    details: dict[str, Any]
    action_uid: str | None


@dataclass(frozen=True, slots=True)
class ChangeCount:
    """Changes of one jurisdiction or topic (``name``): distinct bills, and events."""

    name: str
    bills: int
    events: int


@dataclass(frozen=True, slots=True)
class BillTimes:
    first_seen_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriberSummary:
    id: int
    email: str
    name: str
    affiliate: str
    language: str
    frequency: str
    timezone: str
    active: bool
    origin: str
    following: int  # active subscriptions
    created_at: datetime
    last_digest_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryLogEntry:
    id: int
    kind: str
    recipient: str
    affiliate: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class StaffView:
    email: str
    affiliate: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class SignInLinkView:
    id: int
    email: str
    nonce_hash: str
    requested_at: datetime
    used_at: datetime | None


# --- search -------------------------------------------------------------------------------------


def _like(text: str) -> str:
    """A LIKE pattern finding ``text`` anywhere, its own wildcards matched literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _scope_conditions(scope: BillScope) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if scope.jurisdiction:
        conditions.append(BillRow.jurisdiction == scope.jurisdiction)
    if scope.session:
        conditions.append(BillRow.session == scope.session)
    if scope.stage:
        conditions.append(BillRow.stage == scope.stage)
    if scope.topic:
        conditions.append(BillRow.id.in_(
            sa.select(TopicMatchRow.bill_id).where(TopicMatchRow.topic == scope.topic)
        ))
    if scope.q:
        pattern = _like(scope.q)
        found: list[sa.ColumnElement[bool]] = [
            sa.func.lower(column).like(pattern, escape="\\")
            for column in (BillRow.title, BillRow.summary, BillRow.identifier)
        ]
        with suppress(InvalidBillKey):  # not an identifier: the text search alone
            found.append(BillRow.identifier == normalize_identifier(scope.q))
        conditions.append(sa.or_(*found))
    return conditions


def _bill_conditions(query: BillQuery) -> list[sa.ColumnElement[bool]]:
    conditions = _scope_conditions(query.scope)
    if query.since:
        conditions.append(BillRow.last_action_date >= query.since)
    if query.until:
        conditions.append(BillRow.last_action_date <= query.until)
    return conditions


_STAGE_RANK = sa.case(
    {stage.value: rank for rank, stage in enumerate(reversed(LADDER))},
    value=BillRow.stage,
    else_=len(LADDER),
)


def _bill_order(sort: BillSort) -> list[Any]:
    by_key = [BillRow.key]
    if sort is BillSort.RECENT:
        return [BillRow.last_action_date.is_(None), BillRow.last_action_date.desc(), *by_key]
    if sort is BillSort.OLDEST:
        return [BillRow.last_action_date.is_(None), BillRow.last_action_date, *by_key]
    if sort is BillSort.TITLE:
        return [sa.func.lower(BillRow.title), *by_key]
    if sort is BillSort.STAGE:
        return [_STAGE_RANK, BillRow.stage, *by_key]
    return by_key


def _listing(row: BillRow) -> BillListing:
    return BillListing(
        id=row.id, key=row.key, jurisdiction=row.jurisdiction, session=row.session,
        identifier=row.identifier, title=row.title, stage=row.stage,
        last_action_date=row.last_action_date, url=row.url, source=row.source,
    )


def _count(session: Session, query: AnySelect) -> int:
    """How many rows ``query`` selects."""
    counted = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    return int(session.execute(counted).scalar_one())


def search_bills(
    session: Session, query: BillQuery, *, offset: int, limit: int
) -> tuple[list[BillListing], int]:
    """One page of the bills matching ``query``, and how many match in all."""
    conditions = _bill_conditions(query)
    rows = session.execute(
        sa.select(BillRow).where(*conditions).order_by(*_bill_order(query.sort))
        .offset(offset).limit(limit)
    ).scalars()
    return [_listing(r) for r in rows], _count(session, sa.select(BillRow.id).where(*conditions))


def iter_bills(session: Session, query: BillQuery) -> Iterator[BillListing]:
    """Every bill matching ``query``, in its order, read in batches."""
    statement = (
        sa.select(BillRow).where(*_bill_conditions(query)).order_by(*_bill_order(query.sort))
        .execution_options(yield_per=_STREAM)
    )
    for row in session.execute(statement).scalars():
        yield _listing(row)


def _event_conditions(query: EventQuery) -> list[sa.ColumnElement[bool]]:
    conditions = _scope_conditions(query.scope)
    if query.bill:
        conditions.append(BillRow.key == query.bill)
    if query.kind:
        conditions.append(EventRow.kind == query.kind)
    if query.since:
        conditions.append(EventRow.detected_at >= query.since)
    if query.until:
        conditions.append(EventRow.detected_at < query.until)
    if not query.include_baseline:
        conditions.append(EventRow.baseline.is_(False))
    return conditions


def _event_statement(query: EventQuery) -> AnySelect:
    order = EventRow.id.desc() if query.sort is EventSort.NEWEST else EventRow.id
    return (
        sa.select(EventRow, BillRow.key, BillRow.title, BillRow.jurisdiction, BillRow.identifier)
        .join(BillRow, BillRow.id == EventRow.bill_id)
        .where(*_event_conditions(query))
        .order_by(order)
    )


def _event_listing(row: Any) -> EventListing:
    event, key, title, jurisdiction, identifier = row
    return EventListing(
        id=event.id, bill_key=key, bill_title=title, jurisdiction=jurisdiction,
        identifier=identifier, kind=event.kind, detected_at=event.detected_at,
        baseline=event.baseline, details=dict(event.details), action_uid=event.action_uid,
    )


def search_events(
    session: Session, query: EventQuery, *, offset: int, limit: int
) -> tuple[list[EventListing], int]:
    """One page of the events matching ``query``, and how many match in all."""
    statement = _event_statement(query)
    rows = session.execute(statement.offset(offset).limit(limit))
    return [_event_listing(r) for r in rows], _count(session, statement)


def iter_events(session: Session, query: EventQuery) -> Iterator[EventListing]:
    """Every event matching ``query``, in its order, read in batches."""
    rows = session.execute(_event_statement(query).execution_options(yield_per=_STREAM))
    for row in rows:
        yield _event_listing(row)


def bill_times(session: Session, bill_id: int) -> BillTimes | None:
    """When the tracker first stored the bill and last changed it."""
    found = session.execute(
        sa.select(BillRow.first_seen_at, BillRow.updated_at).where(BillRow.id == bill_id)
    ).first()
    return BillTimes(first_seen_at=found[0], updated_at=found[1]) if found else None


def jurisdictions(session: Session) -> list[str]:
    """The jurisdictions of the stored bills."""
    query = sa.select(BillRow.jurisdiction).distinct().order_by(BillRow.jurisdiction)
    return list(session.execute(query).scalars())


# --- aggregates ---------------------------------------------------------------------------------


def changes_by_jurisdiction(session: Session, *, since: datetime) -> list[ChangeCount]:
    """Non-baseline changes detected since ``since``, per jurisdiction, most changes first."""
    query = (
        sa.select(BillRow.jurisdiction, sa.func.count(sa.distinct(EventRow.bill_id)),
                  sa.func.count(EventRow.id))
        .join(BillRow, BillRow.id == EventRow.bill_id)
        .where(EventRow.detected_at >= since, EventRow.baseline.is_(False))
        .group_by(BillRow.jurisdiction)
    )
    counts = [ChangeCount(name, int(b), int(e)) for name, b, e in session.execute(query)]
    return sorted(counts, key=lambda c: (-c.events, c.name))


def changes_by_topic(session: Session, *, since: datetime) -> list[ChangeCount]:
    """Non-baseline changes detected since ``since`` of bills matching each topic."""
    query = (
        sa.select(TopicMatchRow.topic, sa.func.count(sa.distinct(EventRow.bill_id)),
                  sa.func.count(EventRow.id))
        .join(TopicMatchRow, TopicMatchRow.bill_id == EventRow.bill_id)
        .where(EventRow.detected_at >= since, EventRow.baseline.is_(False))
        .group_by(TopicMatchRow.topic)
    )
    counts = [ChangeCount(name, int(b), int(e)) for name, b, e in session.execute(query)]
    return sorted(counts, key=lambda c: (-c.events, c.name))


def stage_counts_by_topic(session: Session) -> dict[str, dict[str, int]]:
    """topic -> stage -> how many stored bills matching the topic stand at that stage."""
    query = (
        sa.select(TopicMatchRow.topic, BillRow.stage, sa.func.count())
        .join(BillRow, BillRow.id == TopicMatchRow.bill_id)
        .group_by(TopicMatchRow.topic, BillRow.stage)
    )
    result: dict[str, dict[str, int]] = {}
    for topic, stage, count in session.execute(query):
        result.setdefault(topic, {})[stage] = int(count)
    return result


def topic_matrix(session: Session, topic: str) -> dict[tuple[str, str], int]:
    """(jurisdiction, stage) -> how many stored bills matching ``topic`` are there."""
    query = (
        sa.select(BillRow.jurisdiction, BillRow.stage, sa.func.count())
        .join(TopicMatchRow, TopicMatchRow.bill_id == BillRow.id)
        .where(TopicMatchRow.topic == topic)
        .group_by(BillRow.jurisdiction, BillRow.stage)
    )
    return {(j, s): int(n) for j, s, n in session.execute(query)}


# --- admin --------------------------------------------------------------------------------------


def _affiliate_is(column: Any, affiliate: str | None) -> list[sa.ColumnElement[bool]]:
    if affiliate is None:
        return []
    return [sa.func.lower(column) == affiliate.lower()]


def affiliates(session: Session) -> list[str]:
    """The affiliates subscribers named (non-empty), alphabetically."""
    query = (
        sa.select(SubscriberRow.affiliate).where(SubscriberRow.affiliate != "").distinct()
        .order_by(SubscriberRow.affiliate)
    )
    return list(session.execute(query).scalars())


def subscribers(
    session: Session, *, affiliate: str | None, offset: int, limit: int
) -> tuple[list[SubscriberSummary], int]:
    """Subscribers (of one affiliate, case-insensitively, when given) by email, a page."""
    following = (
        sa.select(sa.func.count(SubscriptionRow.id))
        .where(SubscriptionRow.subscriber_id == SubscriberRow.id,
               SubscriptionRow.active.is_(True))
        .scalar_subquery()
    )
    conditions = _affiliate_is(SubscriberRow.affiliate, affiliate)
    rows = session.execute(
        sa.select(SubscriberRow, following).where(*conditions).order_by(SubscriberRow.email)
        .offset(offset).limit(limit)
    )
    found = [
        SubscriberSummary(
            id=s.id, email=s.email, name=s.name, affiliate=s.affiliate, language=s.language,
            frequency=s.frequency, timezone=s.timezone, active=s.active, origin=s.origin,
            following=int(n), created_at=s.created_at, last_digest_at=s.last_digest_at,
        )
        for s, n in rows
    ]
    return found, _count(session, sa.select(SubscriberRow.id).where(*conditions))


def delivery_log(
    session: Session, *, affiliate: str | None, offset: int, limit: int
) -> tuple[list[DeliveryLogEntry], int]:
    """Messages in the outbox (to one affiliate's subscribers when given), newest first."""
    statement = (
        sa.select(OutboxRow.id, OutboxRow.kind, OutboxRow.recipient, SubscriberRow.affiliate,
                  OutboxRow.subject, OutboxRow.status, OutboxRow.attempts,
                  OutboxRow.created_at, OutboxRow.sent_at, OutboxRow.last_error)
        .outerjoin(SubscriberRow, SubscriberRow.id == OutboxRow.subscriber_id)
        .where(*_affiliate_is(SubscriberRow.affiliate, affiliate))
        .order_by(OutboxRow.id.desc())
    )
    entries = [
        DeliveryLogEntry(id=r[0], kind=r[1], recipient=r[2], affiliate=r[3] or "", subject=r[4],
                         status=r[5], attempts=r[6], created_at=r[7], sent_at=r[8],
                         last_error=r[9])
        for r in session.execute(statement.offset(offset).limit(limit))
    ]
    return entries, _count(session, statement)


def subscriber_email(session: Session, subscriber_id: int) -> str | None:
    return session.execute(
        sa.select(SubscriberRow.email).where(SubscriberRow.id == subscriber_id)
    ).scalar()


def subscription_owner(session: Session, subscription_id: int) -> int | None:
    """The subscriber id of a subscription, or None when there is no such subscription."""
    return session.execute(
        sa.select(SubscriptionRow.subscriber_id).where(SubscriptionRow.id == subscription_id)
    ).scalar()


# --- staff --------------------------------------------------------------------------------------


def _staff(row: StaffRow) -> StaffView:
    return StaffView(email=row.email, affiliate=row.affiliate, added_at=row.added_at)


def add_staff(session: Session, *, email: str, affiliate: str, now: datetime) -> bool:
    """Make ``email`` staff (of ``affiliate``, or of every affiliate when empty); returns
    False when it already was, with that affiliate."""
    row = session.get(StaffRow, email, with_for_update=True)
    if row is None:
        session.add(StaffRow(email=email, affiliate=affiliate, added_at=now))
        return True
    if row.affiliate == affiliate:
        return False
    row.affiliate = affiliate
    return True


def remove_staff(session: Session, *, email: str) -> bool:
    result = session.execute(sa.delete(StaffRow).where(StaffRow.email == email))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def staff_member(session: Session, email: str) -> StaffView | None:
    row = session.get(StaffRow, email)
    return _staff(row) if row is not None else None


def list_staff(session: Session) -> list[StaffView]:
    rows = session.execute(sa.select(StaffRow).order_by(StaffRow.email)).scalars()
    return [_staff(r) for r in rows]


# --- sign-in links ------------------------------------------------------------------------------


def record_sign_in_link(
    session: Session, *, email: str, nonce_hash: str, client: str, now: datetime
) -> int:
    """Store a new sign-in link; returns its id."""
    row = SignInLinkRow(email=email, nonce_hash=nonce_hash, client=client, requested_at=now)
    session.add(row)
    session.flush()
    return row.id


def count_sign_in_links(
    session: Session, *, since: datetime, email: str | None = None, client: str | None = None
) -> int:
    """Links asked for since ``since`` for ``email`` and/or by ``client``."""
    conditions = [SignInLinkRow.requested_at >= since]
    if email is not None:
        conditions.append(SignInLinkRow.email == email)
    if client is not None:
        conditions.append(SignInLinkRow.client == client)
    return _count(session, sa.select(SignInLinkRow.id).where(*conditions))


def sign_in_link(session: Session, link_id: int) -> SignInLinkView | None:
    row = session.get(SignInLinkRow, link_id)
    if row is None:
        return None
    return SignInLinkView(id=row.id, email=row.email, nonce_hash=row.nonce_hash,
                          requested_at=row.requested_at, used_at=row.used_at)


def use_sign_in_link(session: Session, link_id: int, *, now: datetime) -> bool:
    """Mark the link used; False when it was used already (by a concurrent request too)."""
    result = session.execute(
        sa.update(SignInLinkRow)
        .where(SignInLinkRow.id == link_id, SignInLinkRow.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def purge_sign_in_links(session: Session, *, before: datetime) -> int:
    """Forget links asked for before ``before`` (long expired; rate windows are shorter)."""
    result = session.execute(sa.delete(SignInLinkRow).where(SignInLinkRow.requested_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
