"""All SQL for subscribers, subscriptions, deliveries and the routing cursor.

Besides :mod:`tracker.storage.repository` this is the only module that runs SQL. Every
function takes the caller's ``Session``, so the caller decides the transaction: routing writes
deliveries and advances its cursor in one, and the mail side marks a digest's deliveries queued
in the same one as it puts the rendered message in the outbox.

History is never deleted: an unsubscribe sets ``active`` false with ``unsubscribed_at`` and
``ended_by``; a delivery row stays after its digest is queued (``status`` ``queued``, with the
``digest_key``), or becomes ``withdrawn`` when an unsubscribe leaves it without a subscription.
Values come back as the frozen views below, with plain ``str`` fields; the rules that give
them meaning live in :mod:`tracker.subscriptions` and :mod:`tracker.digest`. Topic matches
are read through ``Repository.topic_matches``; only the welcome digest's "bills under a topic"
query joins ``topic_matches`` here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.storage.tables import (
    ActionRow,
    Base,
    BillRow,
    DeliveryRow,
    EventRow,
    RoutingCursorRow,
    SubscriberRow,
    SubscriptionRow,
    TopicMatchRow,
)

#: Bind parameters per IN list: well under SQLite's and PostgreSQL's limits.
_CHUNK = 500
_CURSOR = "events"

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriberView:
    id: int
    email: str
    name: str
    affiliate: str
    language: str
    timezone: str
    frequency: str
    digest_hour: int
    digest_weekday: int
    active: bool
    origin: str
    created_at: datetime
    last_digest_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    subscriber_id: int
    target_kind: str
    target: str
    jurisdictions: tuple[str, ...]
    kinds: tuple[str, ...]
    stages: tuple[str, ...]
    active: bool
    origin: str
    ended_by: str | None
    created_at: datetime
    active_since: datetime
    welcomed_at: datetime | None
    unsubscribed_at: datetime | None

    @property
    def label(self) -> str:
        return f"{self.target_kind}:{self.target}"


@dataclass(frozen=True, slots=True)
class RoutableEvent:
    """A stored change with the bill facts routing needs."""

    id: int
    bill_id: int
    bill_key: str
    bill_stage: str
    kind: str
    detected_at: datetime
    baseline: bool
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    event_id: int
    subscriber_id: int
    subscription_ids: tuple[int, ...]
    reasons: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A delivery not yet in any digest, with its event."""

    subscriber_id: int
    event_id: int
    bill_id: int
    kind: str
    detected_at: datetime
    details: dict[str, Any]
    subscription_ids: tuple[int, ...]
    reasons: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class BillSummary:
    """A bill as a digest item shows it, with its latest current action."""

    id: int
    key: str
    jurisdiction: str
    identifier: str
    title: str
    stage: str
    url: str | None
    last_action_date: date | None
    last_action: str


class Profile(Protocol):
    """What :func:`upsert_subscriber` stores (``tracker.subscriptions.SubscriberProfile``)."""

    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def affiliate(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def frequency(self) -> str: ...
    @property
    def digest_hour(self) -> int: ...
    @property
    def digest_weekday(self) -> int: ...


def _subscriber(row: SubscriberRow) -> SubscriberView:
    return SubscriberView(
        id=row.id, email=row.email, name=row.name, affiliate=row.affiliate,
        language=row.language, timezone=row.timezone, frequency=row.frequency,
        digest_hour=row.digest_hour, digest_weekday=row.digest_weekday, active=row.active,
        origin=row.origin, created_at=row.created_at, last_digest_at=row.last_digest_at,
    )


def _subscription(row: SubscriptionRow) -> SubscriptionView:
    return SubscriptionView(
        id=row.id, subscriber_id=row.subscriber_id, target_kind=row.target_kind,
        target=row.target, jurisdictions=tuple(row.jurisdictions), kinds=tuple(row.kinds),
        stages=tuple(row.stages), active=row.active, origin=row.origin, ended_by=row.ended_by,
        created_at=row.created_at, active_since=row.active_since, welcomed_at=row.welcomed_at,
        unsubscribed_at=row.unsubscribed_at,
    )


# --- subscribers -------------------------------------------------------------------------------


def get_subscriber(session: Session, email: str) -> SubscriberView | None:
    row = session.execute(
        sa.select(SubscriberRow).where(SubscriberRow.email == email)
    ).scalar_one_or_none()
    return _subscriber(row) if row is not None else None


def upsert_subscriber(
    session: Session, profile: Profile, *, origin: str, now: datetime
) -> SubscriberView:
    """Create the subscriber of ``profile.email`` or update its profile (``origin`` is kept
    from whoever created it)."""
    columns = {
        "name": profile.name, "affiliate": profile.affiliate, "language": str(profile.language),
        "timezone": profile.timezone, "frequency": str(profile.frequency),
        "digest_hour": profile.digest_hour, "digest_weekday": profile.digest_weekday,
    }
    row = session.execute(
        sa.select(SubscriberRow).where(SubscriberRow.email == profile.email).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = SubscriberRow(email=profile.email, origin=origin, active=True, created_at=now,
                            updated_at=now, **columns)
        session.add(row)
    else:
        changed = {k: v for k, v in columns.items() if getattr(row, k) != v}
        for name, value in changed.items():
            setattr(row, name, value)
        if changed:
            row.updated_at = now
    session.flush()
    return _subscriber(row)


def active_subscribers(session: Session) -> list[SubscriberView]:
    rows = session.execute(
        sa.select(SubscriberRow).where(SubscriberRow.active.is_(True)).order_by(SubscriberRow.id)
    ).scalars()
    return [_subscriber(r) for r in rows]


# --- subscriptions -----------------------------------------------------------------------------

SubscribeOutcome = Literal["created", "reactivated", "updated", "unchanged", "kept-unsubscribed"]


def add_subscription(
    session: Session, *, subscriber_id: int, target_kind: str, target: str,
    jurisdictions: Sequence[str], kinds: Sequence[str], stages: Sequence[str], origin: str,
    now: datetime, override_unsubscribe: bool = True,
) -> tuple[SubscriptionView, SubscribeOutcome]:
    """Follow ``target``: create it, update its filters, or reactivate it.

    Reactivating starts afresh: ``active_since`` is now (older changes are not routed to it)
    and ``welcomed_at`` is cleared (a welcome digest tells the current state). With
    ``override_unsubscribe`` false (a config sync) a subscription its subscriber ended stays
    ended: an unsubscribe sticks until the person asks again.
    """
    filters = {"jurisdictions": list(jurisdictions), "kinds": list(kinds), "stages": list(stages)}
    row = session.execute(
        sa.select(SubscriptionRow).where(
            SubscriptionRow.subscriber_id == subscriber_id,
            SubscriptionRow.target_kind == target_kind,
            SubscriptionRow.target == target,
        ).with_for_update()
    ).scalar_one_or_none()
    outcome: SubscribeOutcome
    if row is None:
        row = SubscriptionRow(subscriber_id=subscriber_id, target_kind=target_kind,
                              target=target, active=True, origin=origin, created_at=now,
                              active_since=now, **filters)
        session.add(row)
        outcome = "created"
    elif not row.active and row.ended_by == "subscriber" and not override_unsubscribe:
        outcome = "kept-unsubscribed"
    elif not row.active:
        row.active, row.ended_by, row.unsubscribed_at = True, None, None
        row.active_since, row.welcomed_at, row.origin = now, None, origin
        for name, value in filters.items():
            setattr(row, name, value)
        outcome = "reactivated"
    else:
        changed = {k: v for k, v in filters.items() if getattr(row, k) != v}
        for name, value in changed.items():
            setattr(row, name, value)
        outcome = "updated" if changed else "unchanged"
    session.flush()
    return _subscription(row), outcome


def end_subscriptions(
    session: Session, *, subscriber_id: int, ended_by: str, now: datetime,
    ids: Iterable[int] | None = None,
) -> int:
    """Deactivate the subscriber's active subscriptions (only ``ids`` when given); returns how
    many. Rows are kept: history and the reason they ended stay."""
    query = sa.update(SubscriptionRow).where(
        SubscriptionRow.subscriber_id == subscriber_id, SubscriptionRow.active.is_(True)
    )
    if ids is not None:
        query = query.where(SubscriptionRow.id.in_(sorted(set(ids))))
    result = session.execute(
        query.values(active=False, unsubscribed_at=now, ended_by=ended_by)
        .execution_options(synchronize_session=False)
    )
    _withdraw_uncovered(session, subscriber_id=subscriber_id)
    return int(result.rowcount)  # type: ignore[attr-defined]


def _withdraw_uncovered(session: Session, *, subscriber_id: int) -> None:
    """Pending deliveries none of whose subscriptions is active any more are ``withdrawn``:
    after an unsubscribe, nothing routed for it earlier is sent."""
    active = set(session.execute(
        sa.select(SubscriptionRow.id).where(
            SubscriptionRow.subscriber_id == subscriber_id, SubscriptionRow.active.is_(True)
        )
    ).scalars())
    pending = session.execute(
        sa.select(DeliveryRow.id, DeliveryRow.subscription_ids).where(
            DeliveryRow.subscriber_id == subscriber_id, DeliveryRow.status == "pending"
        )
    ).all()
    uncovered = [i for i, ids in pending if not active.intersection(ids)]
    for chunk in _chunks(uncovered):
        session.execute(
            sa.update(DeliveryRow).where(DeliveryRow.id.in_(chunk)).values(status="withdrawn")
            .execution_options(synchronize_session=False)
        )


def subscriptions_of(session: Session, subscriber_id: int) -> list[SubscriptionView]:
    """The subscriber's subscriptions, active or not, in the order they were made."""
    rows = session.execute(
        sa.select(SubscriptionRow).where(SubscriptionRow.subscriber_id == subscriber_id)
        .order_by(SubscriptionRow.id)
    ).scalars()
    return [_subscription(r) for r in rows]


def list_subscriptions(session: Session) -> list[tuple[SubscriberView, SubscriptionView]]:
    """Every subscription with its subscriber, by email and then in the order made."""
    rows = session.execute(
        sa.select(SubscriberRow, SubscriptionRow)
        .join(SubscriptionRow, SubscriptionRow.subscriber_id == SubscriberRow.id)
        .order_by(SubscriberRow.email, SubscriptionRow.id)
    ).all()
    return [(_subscriber(a), _subscription(b)) for a, b in rows]


def active_subscriptions(session: Session) -> list[SubscriptionView]:
    """Active subscriptions of active subscribers, in the order they were made."""
    rows = session.execute(
        sa.select(SubscriptionRow)
        .join(SubscriberRow, SubscriberRow.id == SubscriptionRow.subscriber_id)
        .where(SubscriptionRow.active.is_(True), SubscriberRow.active.is_(True))
        .order_by(SubscriptionRow.id)
    ).scalars()
    return [_subscription(r) for r in rows]


def config_subscriptions(session: Session) -> list[tuple[str, SubscriptionView]]:
    """Active subscriptions a config file declared, with their subscriber's email."""
    rows = session.execute(
        sa.select(SubscriberRow.email, SubscriptionRow)
        .join(SubscriberRow, SubscriberRow.id == SubscriptionRow.subscriber_id)
        .where(SubscriptionRow.origin == "config", SubscriptionRow.active.is_(True))
        .order_by(SubscriptionRow.id)
    ).all()
    return [(email, _subscription(row)) for email, row in rows]


def bill_is_stored(session: Session, key: str) -> bool:
    return session.execute(sa.select(BillRow.id).where(BillRow.key == key)).first() is not None


# --- routing -----------------------------------------------------------------------------------


def lock_cursor(session: Session, *, now: datetime) -> int:
    """The highest event id routed so far, locking the cursor row until the transaction ends
    (so two routers never route the same events at once)."""
    session.execute(
        _insert_ignoring_duplicates(session, RoutingCursorRow).values(
            name=_CURSOR, last_event_id=0, updated_at=now
        )
    )
    return int(session.execute(
        sa.select(RoutingCursorRow.last_event_id).where(RoutingCursorRow.name == _CURSOR)
        .with_for_update()
    ).scalar_one())


def advance_cursor(session: Session, *, last_event_id: int, now: datetime) -> None:
    session.execute(
        sa.update(RoutingCursorRow).where(RoutingCursorRow.name == _CURSOR)
        .values(last_event_id=last_event_id, updated_at=now)
    )


def _routable_events(
    session: Session, *conditions: sa.ColumnElement[bool], limit: int | None = None
) -> list[RoutableEvent]:
    """Non-baseline events meeting ``conditions`` with their bill's key and stage, oldest first."""
    query = (
        sa.select(EventRow, BillRow.key, BillRow.stage)
        .join(BillRow, BillRow.id == EventRow.bill_id)
        .where(EventRow.baseline.is_(False), *conditions)
        .order_by(EventRow.id)
        .limit(limit)
    )
    return [
        RoutableEvent(id=e.id, bill_id=e.bill_id, bill_key=key, bill_stage=stage, kind=e.kind,
                      detected_at=e.detected_at, baseline=e.baseline, details=dict(e.details))
        for e, key, stage in session.execute(query)
    ]


def events_after(
    session: Session, *, after_id: int, up_to_id: int, limit: int
) -> list[RoutableEvent]:
    """Up to ``limit`` non-baseline events with ids in (``after_id``, ``up_to_id``], oldest
    first."""
    return _routable_events(session, EventRow.id > after_id, EventRow.id <= up_to_id,
                            limit=limit)


def max_event_id(session: Session) -> int:
    """The highest event id stored (baseline or not), 0 for an empty log."""
    return int(session.execute(sa.select(sa.func.coalesce(sa.func.max(EventRow.id), 0)))
               .scalar_one())


def late_events(
    session: Session, *, up_to_id: int, detected_since: datetime
) -> list[RoutableEvent]:
    """Non-baseline events at or below the cursor detected since ``detected_since``: ones a
    slower transaction may have committed after higher ids were already routed."""
    return _routable_events(
        session, EventRow.id <= up_to_id, EventRow.detected_at >= detected_since
    )


def existing_deliveries(session: Session, event_ids: Iterable[int]) -> set[tuple[int, int]]:
    """The (event id, subscriber id) pairs already delivered among ``event_ids``."""
    pairs: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(set(event_ids))):
        rows = session.execute(
            sa.select(DeliveryRow.event_id, DeliveryRow.subscriber_id)
            .where(DeliveryRow.event_id.in_(chunk))
        )
        pairs.update((int(e), int(s)) for e, s in rows)
    return pairs


def _insert_ignoring_duplicates(session: Session, table: type[Any]) -> Any:
    """INSERT .. ON CONFLICT DO NOTHING on both supported stores."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_deliveries(
    session: Session, deliveries: Sequence[NewDelivery], *, now: datetime
) -> None:
    """Bulk insert pending deliveries; a pair delivered already is left as it is."""
    rows = [
        {"event_id": d.event_id, "subscriber_id": d.subscriber_id,
         "subscription_ids": list(d.subscription_ids), "reasons": list(d.reasons),
         "status": "pending", "digest_key": None, "created_at": now}
        for d in deliveries
    ]
    for chunk in _chunks(rows):
        session.execute(_insert_ignoring_duplicates(session, DeliveryRow), list(chunk))


# --- digests -----------------------------------------------------------------------------------


def pending_deliveries(session: Session, *, subscriber_ids: Iterable[int]) -> list[PendingDelivery]:
    """Deliveries of these subscribers that no digest took yet, oldest event first."""
    found: list[PendingDelivery] = []
    # Columns, not ORM entities: a weekly digest of a whole state can hold many thousands.
    columns = (DeliveryRow.subscriber_id, DeliveryRow.event_id, EventRow.bill_id, EventRow.kind,
               EventRow.detected_at, EventRow.details, DeliveryRow.subscription_ids,
               DeliveryRow.reasons)
    for chunk in _chunks(sorted(set(subscriber_ids))):
        rows = session.execute(
            sa.select(*columns)
            .join(EventRow, EventRow.id == DeliveryRow.event_id)
            .where(DeliveryRow.subscriber_id.in_(chunk), DeliveryRow.status == "pending")
            .order_by(DeliveryRow.event_id)
        )
        found.extend(
            PendingDelivery(
                subscriber_id=subscriber, event_id=event, bill_id=bill, kind=kind,
                detected_at=detected, details=details, subscription_ids=tuple(ids),
                reasons=tuple(reasons),
            )
            for subscriber, event, bill, kind, detected, details, ids, reasons in rows
        )
    found.sort(key=lambda p: (p.subscriber_id, p.event_id))
    return found


def bill_summaries(session: Session, bill_ids: Iterable[int]) -> dict[int, BillSummary]:
    """bill id -> what a digest shows of the bill now (with its latest current action)."""
    ids = sorted(set(bill_ids))
    latest: dict[int, tuple[date, int, str]] = {}
    summaries: dict[int, BillSummary] = {}
    for chunk in _chunks(ids):
        actions = session.execute(
            sa.select(ActionRow.bill_id, ActionRow.date, ActionRow.position,
                      ActionRow.description)
            .where(ActionRow.bill_id.in_(chunk), ActionRow.removed_at.is_(None))
        )
        for bill_id, day, position, text in actions:
            if bill_id not in latest or (day, position) > latest[bill_id][:2]:
                latest[bill_id] = (day, position, text)
        bills = session.execute(
            sa.select(BillRow.id, BillRow.key, BillRow.jurisdiction, BillRow.identifier,
                      BillRow.title, BillRow.stage, BillRow.url, BillRow.last_action_date)
            .where(BillRow.id.in_(chunk))
        )
        for row in bills:
            summaries[row.id] = BillSummary(
                id=row.id, key=row.key, jurisdiction=row.jurisdiction, identifier=row.identifier,
                title=row.title, stage=row.stage, url=row.url,
                last_action_date=row.last_action_date,
                last_action=latest[row.id][2] if row.id in latest else "",
            )
    return summaries


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which bills a target covers (``target_kind`` bill, topic or jurisdiction)."""

    target_kind: str
    target: str
    within: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()


def _covered_ids(coverage: Coverage) -> Any:
    query = sa.select(BillRow.id)
    if coverage.target_kind == "bill":
        query = query.where(BillRow.key == coverage.target)
    elif coverage.target_kind == "jurisdiction":
        query = query.where(BillRow.jurisdiction == coverage.target)
    else:
        query = query.join(TopicMatchRow, TopicMatchRow.bill_id == BillRow.id).where(
            TopicMatchRow.topic == coverage.target
        )
        if coverage.within:
            query = query.where(BillRow.jurisdiction.in_(list(coverage.within)))
    if coverage.stages:
        query = query.where(BillRow.stage.in_(list(coverage.stages)))
    return query


def bills_under(session: Session, coverage: Coverage, *, limit: int) -> list[int]:
    """Up to ``limit`` ids of the bills covered now, most recently active first."""
    query = _covered_ids(coverage).order_by(
        BillRow.last_action_date.is_(None), BillRow.last_action_date.desc(), BillRow.key
    ).limit(limit)
    return [int(i) for i in session.execute(query).scalars()]


def count_bills_under(session: Session, coverages: Sequence[Coverage]) -> int:
    """How many distinct bills these targets cover together."""
    if not coverages:
        return 0
    union = sa.union(*(_covered_ids(c) for c in coverages)).subquery()
    return int(session.execute(sa.select(sa.func.count()).select_from(union)).scalar_one())


# The marks a queued digest makes, built once (values bound at execution) as Core statements:
# they run once per digest, and building an ORM update each time cost more than running it.
_DELIVERIES = Base.metadata.tables[DeliveryRow.__tablename__]
_SUBSCRIPTIONS = Base.metadata.tables[SubscriptionRow.__tablename__]
_SUBSCRIBERS = Base.metadata.tables[SubscriberRow.__tablename__]
_MARK_QUEUED = (
    sa.update(_DELIVERIES)
    .where(_DELIVERIES.c.subscriber_id == sa.bindparam("subscriber"),
           _DELIVERIES.c.event_id.in_(sa.bindparam("events", expanding=True)),
           _DELIVERIES.c.status == "pending")
    .values(status="queued", digest_key=sa.bindparam("key"))
)
_MARK_WELCOMED = (
    sa.update(_SUBSCRIPTIONS)
    .where(_SUBSCRIPTIONS.c.id.in_(sa.bindparam("ids", expanding=True)),
           _SUBSCRIPTIONS.c.welcomed_at.is_(None))
    .values(welcomed_at=sa.bindparam("now"))
)
_DIGEST_SENT = (
    sa.update(_SUBSCRIBERS).where(_SUBSCRIBERS.c.id == sa.bindparam("subscriber"))
    .values(last_digest_at=sa.bindparam("now"))
)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def mark_deliveries_queued(
    session: Session, *, subscriber_id: int, event_ids: Sequence[int], digest_key: str
) -> int:
    """Mark these pending deliveries queued under ``digest_key``; returns how many were
    pending (fewer means another process queued some of them already)."""
    return sum(
        _rowcount(session.execute(_MARK_QUEUED, {"subscriber": subscriber_id,
                                                 "events": list(chunk), "key": digest_key}))
        for chunk in _chunks(sorted(set(event_ids)))
    )


def mark_welcomed(session: Session, *, subscription_ids: Sequence[int], now: datetime) -> int:
    """Set ``welcomed_at`` on these subscriptions that were not welcomed; returns how many."""
    return sum(
        _rowcount(session.execute(_MARK_WELCOMED, {"ids": list(chunk), "now": now}))
        for chunk in _chunks(sorted(set(subscription_ids)))
    )


def record_digest_sent(session: Session, *, subscriber_id: int, now: datetime) -> None:
    """Remember when the subscriber's last scheduled digest was queued."""
    session.execute(_DIGEST_SENT, {"subscriber": subscriber_id, "now": now})
