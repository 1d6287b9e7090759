"""Storing a batch of parsed documents in one transaction: the poll's write side.

:func:`store_batch` is run by the pipeline itself, or by an ingest worker process
(:mod:`tracker.ingest_workers`) for the documents handed to it; either way the guarantees are
the same:

* the batch is one transaction: every bill, then each document's fetch state (so a cursor
  only moves with what it covers);
* should the database refuse any of it, nothing of the batch is kept and it is stored again
  document by document, each bill in a savepoint of its own: the bill at fault is reported
  (and its document's cursor stays put) and every other one is stored;
* the result says, per bill, what happened (:class:`StoredBill`) and lists the failures;
  nothing here touches a run report, so the result can cross a process boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from tracker.models import Bill
from tracker.records import BillRef, Fetched
from tracker.storage.repository import Repository, UpsertKind, UpsertResult

log = logging.getLogger(__name__)

#: Called after each stored bill, inside its transaction (topic matching hangs here).
StoredHook = Callable[[object, UpsertResult], None]


@dataclass(frozen=True, slots=True)
class Parsed:
    """One fetched document, its normalized bills, and whether its cursor may move."""

    fetched: Fetched
    bills: list[Bill]
    keep_cursor: bool


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """How the bills of one poll are stored (the same for every batch of the poll)."""

    source: str
    run_id: int
    baselined: frozenset[str]  # sessions whose first poll is done: their events are real
    fill_only: bool  # the source does not lead its jurisdiction: never overwrite another's
    now: datetime


@dataclass(frozen=True, slots=True)
class StoredBill:
    """What a run report needs of one stored bill."""

    session: str
    kind: UpsertKind
    events: int


@dataclass(frozen=True, slots=True)
class BillFailure:
    """A bill (or a whole document's bills) that could not be stored."""

    ref: BillRef
    error: str
    bill: str | None = None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    stored: list[StoredBill] = field(default_factory=list)
    failures: list[BillFailure] = field(default_factory=list)


def store_batch(
    repo: Repository, documents: list[Parsed], *, options: StoreOptions,
    on_stored: StoredHook | None,
) -> BatchOutcome:
    """Store ``documents`` (see the module docstring)."""
    if not documents:
        return BatchOutcome()
    bills = [bill for parsed in documents for bill in parsed.bills]
    try:
        with repo.write() as session:
            results = repo.upsert_bills(
                session,
                bills,
                baseline=lambda bill: bill.key.session not in options.baselined,
                run_id=options.run_id,
                now=options.now,
                fill_only=options.fill_only,
            )
            if on_stored is not None:
                for result in results:
                    on_stored(session, result)
            kept = [parsed.fetched.updates for parsed in documents if parsed.keep_cursor]
            repo.save_fetch_state(
                session, [update for updates in kept for update in updates],
                source=options.source, now=options.now,
            )
    except SQLAlchemyError as exc:
        log.info("%s: a batch of %d bills was refused (%s); storing them one by one",
                 options.source, len(bills), str(exc).splitlines()[0])
        outcome = BatchOutcome()
        for parsed in documents:
            _store_one_by_one(repo, parsed, outcome, options=options, on_stored=on_stored)
        return outcome
    return BatchOutcome(
        stored=[_stored(bill, result) for bill, result in zip(bills, results, strict=True)]
    )


def _store_one_by_one(
    repo: Repository, parsed: Parsed, outcome: BatchOutcome, *, options: StoreOptions,
    on_stored: StoredHook | None,
) -> None:
    keep_cursor = parsed.keep_cursor
    with repo.write() as session:
        for bill in parsed.bills:
            try:
                with session.begin_nested():
                    result = repo.upsert_bill(
                        session,
                        bill,
                        baseline=bill.key.session not in options.baselined,
                        run_id=options.run_id,
                        now=options.now,
                        fill_only=options.fill_only,
                    )
                    if on_stored is not None:
                        on_stored(session, result)
            except SQLAlchemyError as exc:
                keep_cursor = False
                outcome.failures.append(BillFailure(
                    parsed.fetched.ref, f"{bill.key}: not stored: {str(exc).splitlines()[0]}",
                    bill=str(bill.key),
                ))
                continue
            outcome.stored.append(_stored(bill, result))
        if keep_cursor:
            repo.save_fetch_state(session, parsed.fetched.updates, source=options.source,
                                  now=options.now)


def _stored(bill: Bill, result: UpsertResult) -> StoredBill:
    return StoredBill(session=bill.key.session, kind=result.kind, events=len(result.changes))
