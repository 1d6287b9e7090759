"""The repository: the only module that runs SQL against the tracker's tables.

Writes report what they did: :meth:`Repository.upsert_bill` returns an :class:`UpsertResult`
(``insert``, ``update`` or ``noop``, with the changes it stored as events), and the change
log comes from that report. Each poll writes in short transactions; HTTP happens before a
transaction opens, never inside one.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tracker.changes import Change, ChangeKind, diff
from tracker.digest import MatchedTerm
from tracker.models import (
    Action,
    ActionClass,
    Bill,
    BillKey,
    BillType,
    Chamber,
    Sponsor,
    Stage,
    Version,
)
from tracker.records import StateUpdate, Validators
from tracker.storage.tables import (
    ActionRow,
    BillRow,
    EventRow,
    FetchStateRow,
    SourceRunRow,
    SourceSessionRow,
    TopicMatchRow,
)
from tracker.topics import TopicMatch

UpsertKind = Literal["insert", "update", "noop", "skipped"]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    kind: UpsertKind
    bill_id: int
    before: Bill | None
    after: Bill
    changes: tuple[Change, ...] = ()


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- Bill <-> row ---------------------------------------------------------------------------


def _sponsor_json(sponsor: Sponsor) -> dict[str, Any]:
    return {"name": sponsor.name, "primary": sponsor.primary, **sponsor.extras}


def _version_json(version: Version) -> dict[str, Any]:
    return {
        "name": version.name,
        "date": version.date.isoformat() if version.date else None,
        "url": version.url,
    }


def _action_json(action: Action) -> list[Any]:
    return [
        action.uid,
        action.date.isoformat(),
        action.actor.value,
        action.description,
        [c.value for c in action.classification],
        action.extras,
    ]


def content_hash(bill: Bill) -> str:
    """A hash of everything stored about the bill: equal hashes mean nothing to write."""
    return _digest(_state(bill))


def _state(bill: Bill) -> dict[str, Any]:
    """Everything stored about the bill, as JSON values (hashed, and partly stored as is)."""
    return {
        "source": bill.source,
        "type": bill.bill_type.value,
        "title": bill.title,
        "stage": bill.stage.value,
        "actions": [_action_json(a) for a in bill.actions],
        "sponsors": [_sponsor_json(s) for s in bill.sponsors],
        "subjects": list(bill.subjects),
        "summary": bill.summary,
        "versions": [_version_json(v) for v in bill.versions],
        "url": bill.url,
        "updated": bill.upstream_updated_at.isoformat() if bill.upstream_updated_at else None,
        "extras": bill.extras,
    }


def _digest(state: Mapping[str, Any]) -> str:
    # orjson: several times faster than json.dumps on a bill's state. (Hashes stored before
    # it differ from these for bills with non-ASCII text; such a bill, fetched again,
    # takes the update path once, which finds no change and records no event.)
    encoded = orjson.dumps(state, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(encoded).hexdigest()


def _bill_from_row(row: BillRow, actions: Sequence[ActionRow]) -> Bill:
    return Bill(
        key=BillKey(row.jurisdiction, row.session, row.identifier),
        source=row.source,
        bill_type=BillType(row.bill_type),
        title=row.title,
        stage=Stage(row.stage),
        actions=tuple(
            Action(
                uid=a.uid,
                date=a.date,
                actor=Chamber(a.actor),
                description=a.description,
                classification=tuple(ActionClass(c) for c in a.classification),
                extras=dict(a.extras),
            )
            for a in sorted(actions, key=lambda a: a.position)
        ),
        sponsors=tuple(
            Sponsor(
                name=s["name"],
                primary=bool(s["primary"]),
                extras={k: v for k, v in s.items() if k not in ("name", "primary")},
            )
            for s in row.sponsors
        ),
        subjects=tuple(row.subjects),
        summary=row.summary,
        versions=tuple(
            Version(
                name=v["name"],
                date=date.fromisoformat(v["date"]) if v.get("date") else None,
                url=v.get("url"),
            )
            for v in row.versions
        ),
        url=row.url,
        upstream_updated_at=row.upstream_updated_at,
        extras=dict(row.extras),
    )


def _bill_columns(bill: Bill, *, state: Mapping[str, Any], digest: str, now: datetime
                  ) -> dict[str, Any]:
    """The ``bills`` row of ``bill``; ``state`` is its :func:`_state` (built once per bill)."""
    return {
        "key": str(bill.key),
        "jurisdiction": bill.key.jurisdiction,
        "session": bill.key.session,
        "identifier": bill.key.identifier,
        "source": bill.source,
        "bill_type": state["type"],
        "title": bill.title,
        "stage": state["stage"],
        "summary": bill.summary,
        "subjects": state["subjects"],
        "sponsors": state["sponsors"],
        "versions": state["versions"],
        "extras": bill.extras,
        "url": bill.url,
        "last_action_date": bill.last_action_date,
        "upstream_updated_at": bill.upstream_updated_at,
        "content_hash": digest,
        "updated_at": now,
    }


def _action_columns(
    action: Action, *, bill_id: int, position: int, now: datetime
) -> dict[str, Any]:
    return {
        "bill_id": bill_id,
        "uid": action.uid,
        "position": position,
        "date": action.date,
        "actor": action.actor.value,
        "description": action.description,
        "classification": [c.value for c in action.classification],
        "extras": action.extras,
        "first_seen_at": now,
        "removed_at": None,
    }


# Declarative classes type ``__table__`` as a FromClause; these are Tables.
_BILLS: sa.Table = BillRow.__table__  # type: ignore[assignment]
_ACTIONS: sa.Table = ActionRow.__table__  # type: ignore[assignment]
_EVENTS: sa.Table = EventRow.__table__  # type: ignore[assignment]
_FETCH_STATE: sa.Table = FetchStateRow.__table__  # type: ignore[assignment]
_INSERT_BILL = _BILLS.insert()
_INSERT_ACTION = _ACTIONS.insert()
_INSERT_EVENT = _EVENTS.insert()
#: Bounded IN lists: SQLite and PostgreSQL both cap the parameters of one statement.
_IN_CHUNK = 500
_STORED_HEADS = sa.select(
    _BILLS.c.id, _BILLS.c.key, _BILLS.c.content_hash, _BILLS.c.source
).where(_BILLS.c.key.in_(sa.bindparam("keys", expanding=True)))


class _New(NamedTuple):
    """A bill to write, with its :func:`_state`, content hash, baseline flag and (for a
    stored bill) its id."""

    bill: Bill
    state: Mapping[str, Any]
    digest: str
    baseline: bool
    bill_id: int = 0


class _Head(NamedTuple):
    """What deciding insert, update or noop needs of a stored bill."""

    id: int
    content_hash: str
    source: str


def _event_columns(
    bill_id: int, changes: Iterable[Change], *, baseline: bool, run_id: int | None,
    now: datetime,
) -> list[dict[str, Any]]:
    return [
        {
            "bill_id": bill_id,
            "kind": change.kind.value,
            "detected_at": now,
            "baseline": baseline,
            "action_uid": change.action_uid,
            "run_id": run_id,
            "details": change.details,
        }
        for change in changes
    ]


def _decide(
    bill: Bill, head: _Head, *, digest: str, fill_only: bool
) -> UpsertResult | bool:
    """For a stored bill: the result when nothing is to be written (``skipped``, ``noop``),
    else whether its events must be baseline whatever the session (a source taking over)."""
    taking_over = head.source != bill.source
    if taking_over and fill_only:
        return UpsertResult("skipped", head.id, None, bill)
    if head.content_hash == digest:
        return UpsertResult("noop", head.id, None, bill)
    return taking_over


def _apply_update(
    row: BillRow, action_rows: Sequence[ActionRow], item: _New, *,
    inserts: list[dict[str, Any]], now: datetime,
) -> tuple[Bill, tuple[Change, ...]]:
    """Make ``row`` and ``action_rows`` hold ``item.bill`` (new actions go to ``inserts``);
    returns the state before and the changes."""
    bill = item.bill
    current = [a for a in action_rows if a.removed_at is None]
    before = _bill_from_row(row, current)
    changes = tuple(diff(before, bill))
    by_uid = {a.uid: a for a in action_rows}
    after_uids = {a.uid for a in bill.actions}
    for stored in current:
        if stored.uid not in after_uids:
            stored.removed_at = now  # kept in history: an upstream correction
    for position, action in enumerate(bill.actions):
        stored_row = by_uid.get(action.uid)
        if stored_row is None:
            inserts.append(_action_columns(action, bill_id=row.id, position=position, now=now))
            continue
        classification = [c.value for c in action.classification]
        if stored_row.removed_at is not None:
            stored_row.removed_at = None  # it came back upstream
        if stored_row.position != position:
            stored_row.position = position
        if stored_row.classification != classification:
            stored_row.classification = classification
        if stored_row.extras != action.extras:
            stored_row.extras = action.extras
    for name, value in _bill_columns(bill, state=item.state, digest=item.digest,
                                     now=now).items():
        setattr(row, name, value)
    return before, changes


# --- the repository ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillFilter:
    jurisdiction: str | None = None
    session: str | None = None
    stage: str | None = None
    source: str | None = None
    q: str | None = None
    keys: frozenset[str] | None = None
    topic: str | None = None  # only bills with a stored match for this topic


@dataclass(frozen=True, slots=True)
class EventFilter:
    since: datetime | None = None
    kind: str | None = None
    jurisdiction: str | None = None
    bill: str | None = None
    include_baseline: bool = True


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    bill: str
    kind: str
    detected_at: datetime
    baseline: bool
    details: dict[str, Any]
    action_uid: str | None = None


@dataclass(frozen=True, slots=True)
class ActionView:
    uid: str
    date: date
    actor: str
    description: str
    classification: list[str]
    first_seen_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True, slots=True)
class BillView:
    key: str
    jurisdiction: str
    session: str
    identifier: str
    title: str
    stage: str
    last_action_date: date | None
    source: str
    url: str | None
    subjects: list[str] = field(default_factory=list)
    bill_id: int | None = None


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None
    counts: dict[str, int]


class Repository:
    """All reads and writes of the tracker's data."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One short write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction that never waits for a writer."""
        with self.engine.connect().execution_options(readonly=True) as connection, Session(
            bind=connection, expire_on_commit=False
        ) as session:
            yield session

    # -- bills --------------------------------------------------------------------------------

    def upsert_bill(
        self, session: Session, bill: Bill, *, baseline: bool, run_id: int | None, now: datetime,
        fill_only: bool = False,
    ) -> UpsertResult:
        """Store ``bill``'s state and the changes from the stored one as events.

        One bill, one key: with ``fill_only`` (a source that does not lead its jurisdiction)
        a bill already stored by another source is left alone (``skipped``). A leading source
        that takes over a bill first filled in by another records the switch as baseline
        events, so the two sources' different wordings do not alert anyone.
        """
        (result,) = self.upsert_bills(
            session, [bill], baseline=lambda _: baseline, run_id=run_id, now=now,
            fill_only=fill_only,
        )
        return result

    def upsert_bills(
        self, session: Session, bills: Sequence[Bill], *, baseline: Callable[[Bill], bool],
        run_id: int | None, now: datetime, fill_only: bool = False,
    ) -> list[UpsertResult]:
        """:meth:`upsert_bill` for each of ``bills`` in turn (``baseline(bill)`` says whether
        its events are baseline), with a few statements for the whole batch: one lookup of
        the stored bills; the new bills, their actions and events inserted together; the
        changed bills and their actions read together and written in one flush.

        The results come in the order of ``bills``. A key given twice is stored as if the
        two came one after the other: the second copy is upserted after the whole batch.
        """
        states = [_state(bill) for bill in bills]
        digests = [_digest(state) for state in states]
        heads = self._stored_heads(session, [str(bill.key) for bill in bills])
        results: list[UpsertResult | None] = [None] * len(bills)
        fresh: list[int] = []
        changed: list[tuple[int, _Head, bool]] = []
        repeated: list[int] = []
        seen: set[str] = set()
        for position, bill in enumerate(bills):
            key = str(bill.key)
            if key in seen:
                repeated.append(position)
                continue
            seen.add(key)
            head = heads.get(key)
            if head is None:
                fresh.append(position)
                continue
            decided = _decide(bill, head, digest=digests[position], fill_only=fill_only)
            if isinstance(decided, UpsertResult):
                results[position] = decided
            else:
                changed.append((position, head, decided or baseline(bill)))
        inserted = self._insert_new(
            session, [_New(bills[i], states[i], digests[i], baseline(bills[i])) for i in fresh],
            run_id=run_id, now=now,
        )
        updated = self._update_many(
            session,
            [_New(bills[i], states[i], digests[i], forced, head.id) for i, head, forced in changed],
            run_id=run_id, now=now,
        )
        for position, result in [*zip(fresh, inserted, strict=True),
                                 *zip([i for i, _, _ in changed], updated, strict=True)]:
            results[position] = result
        for position in repeated:
            (results[position],) = self.upsert_bills(
                session, [bills[position]], baseline=baseline, run_id=run_id, now=now,
                fill_only=fill_only,
            )
        return [result for result in results if result is not None]

    def _stored_heads(self, session: Session, keys: Sequence[str]) -> dict[str, _Head]:
        """``key -> (id, content hash, source)`` of the stored bills among ``keys``."""
        heads: dict[str, _Head] = {}
        unique = sorted(set(keys))
        for start in range(0, len(unique), _IN_CHUNK):
            for bill_id, key, stored_hash, source in session.execute(
                _STORED_HEADS, {"keys": unique[start:start + _IN_CHUNK]}
            ):
                heads[key] = _Head(bill_id, stored_hash, source)
        return heads

    def _insert_new(
        self, session: Session, new: Sequence[_New], *, run_id: int | None, now: datetime,
    ) -> list[UpsertResult]:
        """Insert bills none of which is stored yet."""
        if not new:
            return []
        # Core statements on the tables, with parameters apart from the statement: compiled
        # once and cached, and executed once per batch. The ids are then read back by key:
        # SQLite does not promise RETURNING rows in the order of a multi-row insert, so
        # asking for them in order made SQLAlchemy insert row by row there.
        session.execute(
            _INSERT_BILL,
            [_bill_columns(item.bill, state=item.state, digest=item.digest, now=now)
             | {"first_seen_at": now} for item in new],
        )
        heads = self._stored_heads(session, [str(item.bill.key) for item in new])
        ids = [heads[str(item.bill.key)].id for item in new]
        actions = [
            _action_columns(action, bill_id=bill_id, position=position, now=now)
            for item, bill_id in zip(new, ids, strict=True)
            for position, action in enumerate(item.bill.actions)
        ]
        if actions:
            session.execute(_INSERT_ACTION, actions)
        results = []
        events = []
        for item, bill_id in zip(new, ids, strict=True):
            changes = tuple(diff(None, item.bill))
            events.extend(_event_columns(bill_id, changes, baseline=item.baseline,
                                         run_id=run_id, now=now))
            results.append(UpsertResult("insert", bill_id, None, item.bill, changes))
        if events:
            session.execute(_INSERT_EVENT, events)
        return results

    def _update_many(
        self, session: Session, items: Sequence[_New], *, run_id: int | None, now: datetime,
    ) -> list[UpsertResult]:
        """Write the new state of stored bills (``item.bill_id``, each once) and their
        changes. Their rows are read (and locked, on PostgreSQL) and their actions read in
        bounded IN lists; the ORM writes every changed row in one flush."""
        if not items:
            return []
        ids = [item.bill_id for item in items]
        rows: dict[int, BillRow] = {}
        actions: dict[int, list[ActionRow]] = {bill_id: [] for bill_id in ids}
        with session.no_autoflush:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start:start + _IN_CHUNK]
                rows.update((row.id, row) for row in session.execute(
                    sa.select(BillRow).where(BillRow.id.in_(chunk)).with_for_update()
                ).scalars())
                for action in session.execute(
                    sa.select(ActionRow).where(ActionRow.bill_id.in_(chunk))
                ).scalars():
                    actions[action.bill_id].append(action)
            inserts: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            results = []
            for item in items:
                before, changes = _apply_update(
                    rows[item.bill_id], actions[item.bill_id], item, inserts=inserts, now=now
                )
                events.extend(_event_columns(item.bill_id, changes, baseline=item.baseline,
                                             run_id=run_id, now=now))
                results.append(UpsertResult("update", item.bill_id, before, item.bill, changes))
        if inserts:
            session.execute(_INSERT_ACTION, inserts)
        if events:
            session.execute(_INSERT_EVENT, events)
        return results

    def get_bill(self, session: Session, key: BillKey) -> Bill | None:
        row = session.execute(
            sa.select(BillRow).where(BillRow.key == str(key))
        ).scalar_one_or_none()
        if row is None:
            return None
        actions = session.execute(
            sa.select(ActionRow).where(ActionRow.bill_id == row.id, ActionRow.removed_at.is_(None))
        ).scalars().all()
        return _bill_from_row(row, actions)

    def list_bills(self, session: Session, filters: BillFilter) -> Iterator[BillView]:
        query = sa.select(BillRow).order_by(BillRow.jurisdiction, BillRow.session, BillRow.key)
        if filters.jurisdiction:
            query = query.where(BillRow.jurisdiction == filters.jurisdiction.lower())
        if filters.session:
            query = query.where(BillRow.session == filters.session)
        if filters.stage:
            query = query.where(BillRow.stage == filters.stage)
        if filters.source:
            query = query.where(BillRow.source == filters.source)
        if filters.keys is not None:
            query = query.where(BillRow.key.in_(sorted(filters.keys)))
        if filters.topic:
            query = query.where(
                BillRow.id.in_(
                    sa.select(TopicMatchRow.bill_id).where(TopicMatchRow.topic == filters.topic)
                )
            )
        if filters.q:
            pattern = f"%{filters.q.lower()}%"
            query = query.where(
                sa.or_(sa.func.lower(BillRow.title).like(pattern),
                       sa.func.lower(BillRow.identifier).like(pattern),
                       sa.func.lower(BillRow.summary).like(pattern))
            )
        for row in session.execute(query.execution_options(yield_per=500)).scalars():
            yield BillView(
                key=row.key, jurisdiction=row.jurisdiction, session=row.session,
                identifier=row.identifier, title=row.title, stage=row.stage,
                last_action_date=row.last_action_date, source=row.source, url=row.url,
                subjects=list(row.subjects), bill_id=row.id,
            )

    def bill_id(self, session: Session, key: BillKey) -> int | None:
        return session.execute(sa.select(BillRow.id).where(BillRow.key == str(key))).scalar()

    def actions_of(self, session: Session, bill_id: int) -> list[ActionView]:
        rows = session.execute(
            sa.select(ActionRow).where(ActionRow.bill_id == bill_id)
            .order_by(ActionRow.date, ActionRow.position, ActionRow.id)
        ).scalars()
        return [
            ActionView(uid=r.uid, date=r.date, actor=r.actor, description=r.description,
                       classification=list(r.classification), first_seen_at=r.first_seen_at,
                       removed_at=r.removed_at)
            for r in rows
        ]

    def events(
        self, session: Session, filters: EventFilter, *, newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[EventView]:
        """The events matching ``filters``, oldest first (``newest_first``: the latest page
        first, as an analyst looks at recent changes), at most ``limit`` of them."""
        query = (
            sa.select(EventRow, BillRow.key)
            .join(BillRow, BillRow.id == EventRow.bill_id)
            .order_by(EventRow.id.desc() if newest_first else EventRow.id)
            .limit(limit)
        )
        if filters.since:
            query = query.where(EventRow.detected_at >= filters.since)
        if filters.kind:
            query = query.where(EventRow.kind == filters.kind)
        if filters.jurisdiction:
            query = query.where(BillRow.jurisdiction == filters.jurisdiction.lower())
        if filters.bill:
            query = query.where(BillRow.key == filters.bill)
        if not filters.include_baseline:
            query = query.where(EventRow.baseline.is_(False))
        for event, key in session.execute(query.execution_options(yield_per=1000)):
            yield EventView(id=event.id, bill=key, kind=event.kind,
                            detected_at=event.detected_at, baseline=event.baseline,
                            details=dict(event.details), action_uid=event.action_uid)

    def count_bills(self, session: Session, *, source: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(BillRow)
        if source:
            query = query.where(BillRow.source == source)
        return int(session.execute(query).scalar_one())

    def bill_counts_by_source(self, session: Session) -> dict[str, int]:
        rows = session.execute(
            sa.select(BillRow.source, sa.func.count()).group_by(BillRow.source)
        ).all()
        return {source: int(n) for source, n in rows}

    # -- fetch state ------------------------------------------------------------------------------

    def fetch_state(self, session: Session, url: str) -> Validators | None:
        row = session.get(FetchStateRow, url)
        if row is None:
            return None
        return Validators(etag=row.etag, last_modified=row.last_modified, sha256=row.sha256,
                          lastmod=row.lastmod)

    def lastmods(self, session: Session, *, prefix: str) -> dict[str, str]:
        # A range scan on the primary key: LIKE 'prefix%' would not use the index everywhere.
        query = sa.select(FetchStateRow.url, FetchStateRow.lastmod).where(
            FetchStateRow.url >= prefix, FetchStateRow.url < prefix + "\U0010ffff",
            FetchStateRow.lastmod.is_not(None),
        )
        return {url: lastmod for url, lastmod in session.execute(query) if lastmod}

    def fetch_body(self, session: Session, url: str) -> bytes | None:
        packed = session.execute(
            sa.select(FetchStateRow.body).where(FetchStateRow.url == url)
        ).scalar()
        return zlib.decompress(packed) if packed is not None else None

    def save_fetch_state(
        self, session: Session, updates: Iterable[StateUpdate], *, source: str, now: datetime
    ) -> None:
        """Store each update's validators (and body, when given) for its URL, in order: a
        later update of the same URL wins, but a ``lastmod`` or body it does not carry keeps
        the one stored. One statement for all of them (an upsert on the URL)."""
        rows: dict[str, dict[str, Any]] = {}
        for update in updates:
            v = update.validators
            row = rows.setdefault(update.url, {"url": update.url, "source": source,
                                               "lastmod": None, "body": None})
            row.update(etag=v.etag, last_modified=v.last_modified, sha256=v.sha256,
                       updated_at=now)
            if v.lastmod is not None:
                row["lastmod"] = v.lastmod
            if update.body is not None:
                row["body"] = zlib.compress(update.body, 6)
        if not rows:
            return
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(_FETCH_STATE)
        table, new = _FETCH_STATE.c, statement.excluded
        upsert = statement.on_conflict_do_update(
            index_elements=[table.url],
            set_={
                "etag": new.etag, "last_modified": new.last_modified, "sha256": new.sha256,
                "lastmod": sa.func.coalesce(new.lastmod, table.lastmod),
                "body": sa.func.coalesce(new.body, table.body),
                "updated_at": new.updated_at,
            },
        )
        session.execute(upsert, list(rows.values()))

    # -- runs and sessions ------------------------------------------------------------------------

    def start_run(self, session: Session, *, source: str, now: datetime) -> int:
        row = SourceRunRow(source=source, started_at=now, status="running")
        session.add(row)
        session.flush()
        return row.id

    def finish_run(
        self, session: Session, run_id: int, *, status: str, counts: Mapping[str, int],
        error: str | None, failures: list[dict[str, str]], now: datetime,
    ) -> None:
        row = session.get_one(SourceRunRow, run_id)
        row.status, row.error, row.failures, row.finished_at = status, error, failures, now
        for name, value in counts.items():
            setattr(row, name, value)

    def runs(
        self, session: Session, *, source: str | None = None, limit: int = 50
    ) -> list[RunView]:
        query = sa.select(SourceRunRow).order_by(SourceRunRow.id.desc()).limit(limit)
        if source:
            query = query.where(SourceRunRow.source == source)
        names = ("discovered", "fetched", "unchanged", "inserted", "updated", "noop", "failed",
                 "events", "requests", "bytes", "bills_seen")
        return [
            RunView(id=r.id, source=r.source, started_at=r.started_at, finished_at=r.finished_at,
                    status=r.status, error=r.error, counts={n: getattr(r, n) for n in names})
            for r in session.execute(query).scalars()
        ]

    def baselined_sessions(self, session: Session, *, source: str) -> set[str]:
        rows = session.execute(
            sa.select(SourceSessionRow.session).where(
                SourceSessionRow.source == source, SourceSessionRow.baselined_at.is_not(None)
            )
        ).scalars()
        return set(rows)

    def mark_sessions(
        self, session: Session, *, source: str, baselined: Iterable[str], changed: Iterable[str],
        now: datetime,
    ) -> None:
        for name in set(baselined) | set(changed):
            row = session.get(SourceSessionRow, (source, name))
            if row is None:
                row = SourceSessionRow(source=source, session=name)
                session.add(row)
            if name in baselined and row.baselined_at is None:
                row.baselined_at = now
            if name in changed:
                row.last_change_at = now

    # -- topic matches ------------------------------------------------------------------------
    #
    # Why each bill matches each topic: one row per (bill, topic) whose ``matched`` is the
    # explanation, [{"term": ..., "field": ...}, ...]. Matching (tracker.topics) is pure; these
    # methods store its result, replaced whole each time a bill is matched again.

    def replace_topic_matches(
        self, session: Session, bill_id: int, matches: Sequence[TopicMatch], *, now: datetime
    ) -> tuple[set[str], set[str]]:
        """Make the stored matches of ``bill_id`` exactly ``matches``.

        Returns the topics (added, removed). A topic matched before and now, whose explanation
        changed, is rewritten in place with ``matched_at = now`` and is in neither set.
        """
        stored = {
            row.topic: row
            for row in session.execute(
                sa.select(TopicMatchRow).where(TopicMatchRow.bill_id == bill_id)
            ).scalars()
        }
        wanted = {m.topic: _matched_json(m.matched) for m in matches}
        removed = set(stored) - set(wanted)
        added = set(wanted) - set(stored)
        for topic in removed:
            session.delete(stored[topic])
        for topic, matched in wanted.items():
            row = stored.get(topic)
            if row is None:
                session.add(TopicMatchRow(bill_id=bill_id, topic=topic, matched=matched,
                                          matched_at=now))
            elif row.matched != matched:
                row.matched, row.matched_at = matched, now
        session.flush()
        return added, removed

    def topic_matches(
        self, session: Session, *, bill_ids: Iterable[int] | None = None, topic: str | None = None
    ) -> dict[int, list[TopicMatch]]:
        """Stored matches by bill id (each bill's in topic order); every bill when ``bill_ids``
        is None, and only ``topic``'s matches when it is given."""
        query = sa.select(TopicMatchRow).order_by(TopicMatchRow.bill_id, TopicMatchRow.topic)
        if topic is not None:
            query = query.where(TopicMatchRow.topic == topic)
        result: dict[int, list[TopicMatch]] = {}
        if bill_ids is None:
            chunks: Iterable[list[int] | None] = [None]
        else:
            ids = sorted(set(bill_ids))
            # Bounded IN lists: SQLite and PostgreSQL both cap the parameters of one statement.
            chunks = [ids[i:i + 500] for i in range(0, len(ids), 500)]
        for chunk in chunks:
            chunk_query = query if chunk is None else query.where(TopicMatchRow.bill_id.in_(chunk))
            for row in session.execute(chunk_query).scalars():
                result.setdefault(row.bill_id, []).append(
                    TopicMatch(row.topic, tuple(MatchedTerm(t["term"], t["field"])
                                                for t in row.matched))
                )
        return result

    def topic_match_counts(self, session: Session) -> dict[str, int]:
        """How many stored bills match each topic (topics with no match are absent)."""
        rows = session.execute(
            sa.select(TopicMatchRow.topic, sa.func.count()).group_by(TopicMatchRow.topic)
        ).all()
        return {topic: int(n) for topic, n in rows}

    def stored_bills(
        self, session: Session, *, after_id: int = 0, limit: int = 500,
        jurisdiction: str | None = None, lock: bool = False, with_actions: bool = True,
    ) -> list[tuple[int, Bill]]:
        """One page of stored bills as ``(bill id, Bill)``, by id, after ``after_id``.

        Page through all of them by passing the last id of a page as the next ``after_id``.
        Without ``with_actions`` the bills come with no actions (cheaper, when not needed).
        ``lock`` holds the page's rows (``FOR UPDATE`` on PostgreSQL; SQLite's write
        transaction already excludes other writers) so a concurrent poll cannot change a bill
        between reading it and storing what was derived from it.
        """
        query = (
            sa.select(BillRow).where(BillRow.id > after_id).order_by(BillRow.id).limit(limit)
        )
        if jurisdiction:
            query = query.where(BillRow.jurisdiction == jurisdiction.lower())
        if lock:
            query = query.with_for_update()
        rows = session.execute(query).scalars().all()
        if not rows:
            return []
        actions: dict[int, list[ActionRow]] = {}
        for action in () if not with_actions else session.execute(
            sa.select(ActionRow).where(
                ActionRow.bill_id.in_([r.id for r in rows]), ActionRow.removed_at.is_(None)
            )
        ).scalars():
            actions.setdefault(action.bill_id, []).append(action)
        return [(row.id, _bill_from_row(row, actions.get(row.id, []))) for row in rows]


def _matched_json(matched: Iterable[MatchedTerm]) -> list[dict[str, str]]:
    return [{"term": term.term, "field": term.field} for term in matched]


def change_kinds() -> list[str]:
    return [kind.value for kind in ChangeKind]
