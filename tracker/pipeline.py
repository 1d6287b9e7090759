"""poll(source) -> RunReport: discover, fetch, parse, normalize, store, diff, for one source.

Guarantees:

* One bad document or bill never stops the others: each failure is recorded with the
  document (and bill) it concerns, and the run goes on.
* The cursor only moves past what was stored: a document's validators (and a discovery
  group's checkpoint) are written in the same transaction as its bills, or after every bill
  of the group was stored; a failed document is fetched again on the next poll.
* Documents are stored in batches (up to ``BATCH_BILLS`` bills or ``BATCH_DOCUMENTS``
  documents, or ``BATCH_SECONDS`` of waiting), one transaction per batch; a batch the
  database refuses is stored again document by document, bill by bill, so one bad bill
  costs only itself. A process killed mid-poll loses at most the batch in hand, whose
  documents are fetched again next time.
* The first poll of a session is a baseline: its events are stored with ``baseline`` set, so
  digests do not flood a new install with every bill of a session.
* A run that cannot discover at all, or that finds nothing where an active session must have
  bills, fails as a whole with one line saying why.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.batch_store import (
    BatchOutcome,
    Parsed,
    StoredBill,
    StoreOptions,
    store_batch,
)
from tracker.errors import (
    ConfigError,
    FetchError,
    ParseError,
    RateLimited,
    SourceError,
    StorageError,
    TrackerError,
)
from tracker.http import HttpClient
from tracker.ingest_workers import (
    Chunk,
    ChunkOutcome,
    HookFactory,
    IngestWorkers,
    ingest_documents,
)
from tracker.ledger import DatabaseLedger
from tracker.prepare import ParseOutcome, parse_and_normalize
from tracker.read_ahead import ReadAhead
from tracker.records import BillRef, Checkpoint, Fetched, Validators
from tracker.settings import Settings
from tracker.source import Source, SourceContext, SourceFactory
from tracker.storage.repository import Repository

log = logging.getLogger(__name__)
T = TypeVar("T")

@dataclass(frozen=True, slots=True)
class Failure:
    document: str
    error: str
    bill: str | None = None

    def as_dict(self) -> dict[str, str]:
        data = {"document": self.document, "error": self.error}
        if self.bill:
            data["bill"] = self.bill
        return data


@dataclass
class RunReport:
    """What one poll did. ``status`` is ``ok``, ``partial`` (some failures), ``failed``,
    or ``stopped`` (a shutdown ended it between two documents; ``error`` says so)."""

    source: str
    run_id: int
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    error: str | None = None
    discovered: int = 0
    fetched: int = 0
    unchanged: int = 0
    inserted: int = 0
    updated: int = 0
    noop: int = 0
    events: int = 0
    requests: int = 0
    bytes: int = 0
    bills_seen: int = 0
    skipped: int = 0  # stored by a source that leads the jurisdiction; not counted in the DB
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def counts(self) -> dict[str, int]:
        names = (
            "discovered",
            "fetched",
            "unchanged",
            "inserted",
            "updated",
            "noop",
            "events",
            "requests",
            "bytes",
            "bills_seen",
        )
        return {name: getattr(self, name) for name in names} | {"failed": self.failed}

    def summary_line(self) -> str:
        """One line for people: ``us-govinfo: ok, 6 discovered, 6 fetched, ...``."""
        seconds = (self.finished_at - self.started_at).total_seconds() if self.finished_at else 0.0
        text = (
            f"{self.source}: {self.status}; {self.discovered} discovered, {self.fetched} fetched, "
            f"{self.unchanged} unchanged, {self.inserted} new, {self.updated} updated, "
            f"{self.failed} failed, {self.events} events; {self.requests} requests, "
            f"{self.bytes / 1024:.0f} KiB in {seconds:.1f} s"
        )
        if self.skipped:
            text += f"; {self.skipped} left to the source that leads"
        if self.error:
            text += f"; error: {self.error}"
        return text


class _StateView:
    """The FetchStateView a source reads, backed by the repository (short read transactions).

    A read whose connection the database dropped (a restart, an administrator ending
    sessions) is tried once more on a new connection: these reads run in the read-ahead
    thread while the poll stores, and a restart between two of them must not fail a poll
    whose stored part recovers by itself.
    """

    def __init__(self, repo: Repository) -> None:
        self._repo = repo

    def get(self, url: str) -> Validators | None:
        return self._read(lambda session: self._repo.fetch_state(session, url))

    def lastmods(self, *, prefix: str) -> Mapping[str, str]:
        return self._read(lambda session: self._repo.lastmods(session, prefix=prefix))

    def body(self, url: str) -> bytes | None:
        return self._read(lambda session: self._repo.fetch_body(session, url))

    def _read(self, call: Callable[[Session], T]) -> T:
        try:
            with self._repo.read() as session:
                return call(session)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.info("a fetch-state read lost its connection (%s); reading again",
                     str(exc).splitlines()[0])
        with self._repo.read() as session:
            return call(session)


#: A batch of parsed documents is stored once it holds this many bills or documents, or once
#: its first document has waited this long (a slow source still stores as it goes).
BATCH_BILLS = 500
BATCH_DOCUMENTS = 200
BATCH_SECONDS = 2.0


@dataclass
class _Batch:
    """Parsed documents waiting to be stored together, in one transaction."""

    documents: list[Parsed] = field(default_factory=list)
    bills: int = 0
    since: float = 0.0

    def add(self, parsed: Parsed) -> None:
        if not self.documents:
            self.since = time.monotonic()
        self.documents.append(parsed)
        self.bills += len(parsed.bills)

    def full(self) -> bool:
        return (
            self.bills >= BATCH_BILLS
            or len(self.documents) >= BATCH_DOCUMENTS
            or time.monotonic() - self.since >= BATCH_SECONDS
        )

    def take(self) -> list[Parsed]:
        documents, self.documents, self.bills = self.documents, [], 0
        return documents


@dataclass
class _Run:
    report: RunReport
    baselined: set[str]
    fill_only: bool = False
    sessions_seen: set[str] = field(default_factory=set)
    sessions_changed: set[str] = field(default_factory=set)
    failed_groups: set[str | None] = field(default_factory=set)
    stopped: bool = False
    batch: _Batch = field(default_factory=lambda: _Batch())
    # Documents for the ingest workers: the chunk being filled, and the chunks handed over
    # whose outcomes are not applied yet (oldest first).
    chunk: list[Fetched] = field(default_factory=list)
    chunk_since: float = 0.0
    in_flight: deque[Future[ChunkOutcome]] = field(default_factory=deque)
    source: Source | None = None  # the source being walked (for the chunks kept here)
    # Once everything is fetched: how many fetched documents are still to come.
    left: int | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_line(text: str) -> str:
    """An error message on one line: upstream text quoted in it (an XML parser's message, a
    CSV header) may hold line breaks, and every report promises one line per failure."""
    return " ".join(text.split())


#: Documents fetched (and parsed) ahead of the one being stored (bounded memory).
READ_AHEAD = 256
#: With ingest workers: while they are not started, a poll parses and stores its first
#: changed documents itself (a small poll never starts them); past these, or from the first
#: once they run, it hands documents over in chunks of ``CHUNK_DOCUMENTS`` (or fewer, once
#: the first has waited ``BATCH_SECONDS``).
WORKERS_AFTER = 50
CHUNK_DOCUMENTS = 50
#: The smallest chunk the end of a poll is shared out in (see :func:`chunk_documents`).
LAST_CHUNK_DOCUMENTS = 5


def chunk_documents(*, left: int | None, workers: int) -> int:
    """How many documents make a chunk for the ingest workers: ``CHUNK_DOCUMENTS``; once
    everything is fetched (``left`` documents still to come), fewer, so that what is left
    is shared out in pieces small enough for every process to finish at about the same time
    (a last full chunk queued in a worker kept the other cores idle for its whole length)."""
    if left is None or workers < 1:
        return CHUNK_DOCUMENTS
    share = left // (2 * (workers + 1))
    return min(CHUNK_DOCUMENTS, max(LAST_CHUNK_DOCUMENTS, share))


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One ref after fetching (in the read-ahead thread): the fetched documents and their
    parse outcome (None: left to the ingest workers), or the error that failed the fetch."""

    ref: BillRef
    fetched: Fetched | None = None
    outcome: ParseOutcome | None = None
    error: str | None = None
    rate_limited: RateLimited | None = None


class _Stopped:
    """The read-ahead thread saw the stop request before fetching the next document."""


_STOPPED = _Stopped()


class Pipeline:
    """Polls sources into one repository. Build it once; ``poll`` as often as needed."""

    def __init__(
        self,
        *,
        settings: Settings,
        repo: Repository,
        http: HttpClient,
        registry: Mapping[str, SourceFactory],
        clock: Callable[[], datetime] = utcnow,
        on_stored: Callable[..., None] | None = None,
        progress: Callable[[RunReport], None] | None = None,
        workers: IngestWorkers | None = None,
        worker_hook: HookFactory | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.http = http
        self.registry = registry
        self.clock = clock
        self.on_stored = on_stored
        self.progress = progress
        #: Processes that parse, normalize and store the documents of large polls (None:
        #: this process does it all). ``worker_hook`` builds their ``on_stored`` hook.
        self.workers = workers
        self.worker_hook = worker_hook
        if workers is not None and on_stored is not None and worker_hook is None:
            raise ValueError("ingest workers need worker_hook to run on_stored's work")

    def close(self) -> None:
        """Close the HTTP sessions and stop the ingest workers (both restart on next use)."""
        self.http.close()
        if self.workers is not None:
            self.workers.close()

    def build_source(self, name: str) -> Source:
        factory = self.registry.get(name)
        if factory is None:
            raise SourceError(
                f"no such source (known: {', '.join(sorted(self.registry))})", source=name
            )
        context = SourceContext(
            settings=self.settings.source(name),
            http=self.http,
            state=_StateView(self.repo),
            environ=self.settings.environ,
            ledger=DatabaseLedger(self.repo, source=name, clock=self.clock),
        )
        return factory(context)

    def poll(self, name: str, *, stop: threading.Event | None = None) -> RunReport:
        """Poll one source now and return what happened; never raises for upstream trouble.

        An unknown source name is the caller's mistake: ConfigError, and nothing recorded.
        A database that cannot record the run's start raises StorageError (one line).
        When ``stop`` is set (a shutdown), the poll ends after the document in hand is
        stored, and the run is recorded as ``stopped``; the rest is polled next time.
        """
        if name not in self.registry:
            raise ConfigError(
                f"unknown source {name!r} (known: {', '.join(sorted(self.registry))})"
            )
        started = self.clock()
        try:
            with self.repo.write() as session:
                run_id = self.repo.start_run(session, source=name, now=started)
                baselined = self.repo.baselined_sessions(session, source=name)
        except SQLAlchemyError as exc:
            # Nothing to record the run in: the caller hears it, in one line.
            raise StorageError(
                f"{name}: poll not started: database error: {one_line(str(exc).splitlines()[0])}"
            ) from None
        run = _Run(
            RunReport(source=name, run_id=run_id, started_at=started),
            baselined,
            fill_only=not self.settings.source(name).lead,
        )
        before = self.http.stats.snapshot()
        try:
            source = self.build_source(name)
            self._walk(source, run, stop)
            if not run.stopped:
                self._check_not_empty(name, run)
        except (SourceError, FetchError, ParseError) as exc:
            run.report.error = str(exc)
        except TrackerError as exc:
            run.report.error = f"{name}: {exc}"
        except SQLAlchemyError as exc:
            run.report.error = f"{name}: database error: {str(exc).splitlines()[0]}"
        spent = self.http.stats.snapshot() - before
        run.report.requests, run.report.bytes = spent.requests, spent.bytes
        self._finish(run)
        return run.report

    # -- the walk ---------------------------------------------------------------------------------

    def _walk(self, source: Source, run: _Run, stop: threading.Event | None) -> None:
        """Store what the source yields, in order. Discovery and fetching (and parsing, for
        the documents this process keeps) run ahead in a thread of their own
        (``_prepared``); past ``WORKERS_AFTER`` documents, chunks go to the ingest workers.
        Everything that touches the report happens here."""
        name = source.info.name
        run.source = source
        since = self._last_success(name)
        ahead = ReadAhead(
            lambda: self._prepared(source, since=since, stop=stop),
            ahead=READ_AHEAD, name=f"poll-{name}-fetch",
        )
        try:
            for item in ahead:
                run.left = ahead.remaining()
                if isinstance(item, Checkpoint):
                    self._flush(name, run)  # the checkpoint depends on what failed before it
                    self._checkpoint(name, item, run)
                    continue
                if item is _STOPPED:
                    run.stopped = True
                    return
                assert isinstance(item, _Prepared)
                run.report.discovered += 1
                self._take(item, run)
                if run.batch.full():
                    self._store_batch(name, run)
                if run.chunk and (len(run.chunk) >= self._chunk_documents(run)
                                  or time.monotonic() - run.chunk_since >= BATCH_SECONDS):
                    self._hand_over(name, run)
                self._apply_finished(run, wait=False)
                if self.progress:
                    self.progress(run.report)
        finally:
            ahead.close()
            # What was fetched and parsed is kept, whatever ended the walk.
            self._flush(name, run)

    def _prepared(
        self, source: Source, *, since: datetime | None, stop: threading.Event | None
    ) -> Iterator[Checkpoint | _Prepared | _Stopped]:
        """The producer's side of the walk: every checkpoint, and every ref fetched, parsed
        and normalized. A stop request ends it before the next fetch; so does a rate limit
        (after the document it concerns)."""
        found = source.discover(since=since)
        parsed_here = 0
        with closing(found) if isinstance(found, Generator) else nullcontext():
            for item in found:
                if isinstance(item, Checkpoint):
                    yield item
                    continue
                if stop is not None and stop.is_set():
                    yield _STOPPED
                    return
                # The first documents are parsed here while the workers are not up: a small
                # poll never pays for starting them. Once they are, they get chunks from
                # the first document (else the other cores wait for the first chunk).
                here = self.workers is None or (
                    parsed_here < WORKERS_AFTER and not self.workers.running
                )
                prepared = self._prepare(source, item, parse=here)
                parsed_here += prepared.outcome is not None
                yield prepared
                if prepared.rate_limited is not None:
                    return

    def _prepare(self, source: Source, ref: BillRef, *, parse: bool) -> _Prepared:
        """Fetch one ref, and parse it unless that is left to the workers. Upstream trouble
        with the document is returned, not raised, so the walk goes on with the next one."""
        try:
            fetched = source.fetch(ref)
        except RateLimited as exc:
            return _Prepared(ref, error=str(exc), rate_limited=exc)
        except (FetchError, ParseError) as exc:
            return _Prepared(ref, error=str(exc))
        if fetched.unchanged or not parse:
            return _Prepared(ref, fetched)
        return _Prepared(ref, fetched, parse_and_normalize(source, fetched))

    def _take(self, prepared: _Prepared, run: _Run) -> None:
        """Count one prepared document and add it to the batch (or record its failure)."""
        ref = prepared.ref
        if prepared.error is not None:
            self._fail(run, ref, prepared.error)
            if prepared.rate_limited is not None:
                raise SourceError(
                    f"rate limited until {prepared.rate_limited.not_before:%Y-%m-%d %H:%M} UTC; "
                    "stopped this poll",
                    source=run.report.source,
                ) from None
            return
        fetched = prepared.fetched
        assert fetched is not None
        outcome = prepared.outcome
        if (outcome is None and not fetched.unchanged) or run.chunk or run.in_flight:
            # The workers' part of the poll (unchanged documents too, to keep the order).
            self._store_batch(run.report.source, run)
            if not run.chunk:
                run.chunk_since = time.monotonic()
            run.chunk.append(fetched)
            return
        if fetched.unchanged:
            run.report.unchanged += 1
            run.batch.add(Parsed(fetched, [], keep_cursor=True))
            return
        assert outcome is not None
        run.report.fetched += 1
        if outcome.error is not None:
            self._fail(run, ref, outcome.error)
            return
        for identifier, error in outcome.bill_failures:
            self._fail(run, ref, error, bill=identifier)
        run.batch.add(Parsed(fetched, outcome.bills, keep_cursor=not outcome.bill_failures))

    def _flush(self, name: str, run: _Run) -> None:
        """Store everything in hand: the batch, and the workers' chunks (waiting for them)."""
        self._store_batch(name, run)
        self._hand_over(name, run)
        self._apply_finished(run, wait=True)

    def _chunk_documents(self, run: _Run) -> int:
        workers = self.workers.workers if self.workers is not None else 0
        return chunk_documents(left=run.left, workers=workers)

    def _hand_over(self, name: str, run: _Run) -> None:
        """Give the chunk being filled to a worker, or, when every worker has one queued
        behind the one it is on, ingest it here (this process is a worker too)."""
        if not run.chunk:
            return
        assert self.workers is not None and run.source is not None
        documents, run.chunk = run.chunk, []
        options = self._store_options(name, run)
        if len(run.in_flight) >= 2 * self.workers.workers:
            self._apply_chunk(run, ingest_documents(run.source, self.repo, documents,
                                                    options=options, on_stored=self.on_stored))
            return
        run.in_flight.append(self.workers.submit(Chunk(
            factory=self.registry[name],
            database_url=self.repo.engine.url.render_as_string(hide_password=False),
            options=options, documents=documents, hook=self.worker_hook,
        )))

    def _apply_finished(self, run: _Run, *, wait: bool) -> None:
        """Apply the outcomes of finished chunks, in order (all of them, with ``wait``)."""
        while run.in_flight and (wait or run.in_flight[0].done()):
            self._apply_one(run)

    def _apply_one(self, run: _Run) -> None:
        self._apply_chunk(run, IngestWorkers.outcome(run.in_flight.popleft()))

    def _apply_chunk(self, run: _Run, outcome: ChunkOutcome) -> None:
        for document in outcome.documents:
            if document.unchanged:
                run.report.unchanged += 1
                continue
            run.report.fetched += 1
            if document.error is not None:
                self._fail(run, document.ref, document.error)
            for identifier, error in document.bill_failures:
                self._fail(run, document.ref, error, bill=identifier)
        self._apply(run, outcome.stored)

    def _store_batch(self, name: str, run: _Run) -> None:
        """Store the batch in hand here (:func:`tracker.batch_store.store_batch`)."""
        documents = run.batch.take()
        if documents:
            outcome = store_batch(self.repo, documents, options=self._store_options(name, run),
                                  on_stored=self.on_stored)
            self._apply(run, outcome)

    def _store_options(self, name: str, run: _Run) -> StoreOptions:
        return StoreOptions(source=name, run_id=run.report.run_id,
                            baselined=frozenset(run.baselined), fill_only=run.fill_only,
                            now=self.clock())

    def _apply(self, run: _Run, outcome: BatchOutcome) -> None:
        for failure in outcome.failures:
            self._fail(run, failure.ref, failure.error, bill=failure.bill)
        for stored in outcome.stored:
            self._count(run, stored)

    def _count(self, run: _Run, stored: StoredBill) -> None:
        report = run.report
        report.bills_seen += 1
        run.sessions_seen.add(stored.session)
        if stored.kind == "insert":
            report.inserted += 1
        elif stored.kind == "update":
            report.updated += 1
        elif stored.kind == "skipped":
            report.skipped += 1
        else:
            report.noop += 1
        report.events += stored.events
        if stored.events:
            run.sessions_changed.add(stored.session)

    def _checkpoint(self, name: str, checkpoint: Checkpoint, run: _Run) -> None:
        if checkpoint.group is None:
            failed = bool(run.report.failures)
        else:
            failed = checkpoint.group in run.failed_groups
        if failed:
            return
        with self.repo.write() as session:
            self.repo.save_fetch_state(session, checkpoint.updates, source=name, now=self.clock())

    def _fail(self, run: _Run, ref: BillRef, error: str, *, bill: str | None = None) -> None:
        run.failed_groups.add(ref.group)
        error = one_line(error)
        run.report.failures.append(Failure(document=ref.url, error=error, bill=bill))
        log.warning("%s: %s", run.report.source, error)

    # -- bookkeeping ------------------------------------------------------------------------------

    def _last_success(self, name: str) -> datetime | None:
        with self.repo.read() as session:
            for run in self.repo.runs(session, source=name, limit=20):
                if run.status in ("ok", "partial"):
                    return run.started_at
        return None

    def _check_not_empty(self, name: str, run: _Run) -> None:
        """An active session that yields nothing at all is an error, not "no change"."""
        report = run.report
        if report.discovered or report.failures:
            return
        sessions = self.settings.source(name).sessions
        with self.repo.read() as session:
            stored = self.repo.count_bills(session, source=name)
        if stored == 0:
            listed = ", ".join(sessions) or "none configured"
            raise SourceError(f"no bills found for sessions {listed}", source=name)

    def _finish(self, run: _Run) -> None:
        report = run.report
        report.finished_at = self.clock()
        if report.error:
            report.error = one_line(report.error)
        if report.error:
            report.status = "failed"
        elif run.stopped:
            report.status = "stopped"
            report.error = (
                f"stopped by a shutdown after {report.discovered} documents; "
                "the rest is polled next time"
            )
        elif report.failures:
            report.status = "partial"
        else:
            report.status = "ok"
        try:
            with self.repo.write() as session:
                if report.status != "failed":
                    self.repo.mark_sessions(
                        session,
                        source=report.source,
                        # A stopped baseline is not one: the rest must stay baseline too.
                        baselined=set()
                        if run.stopped
                        else run.sessions_seen - run.baselined,
                        changed=run.sessions_changed,
                        now=report.finished_at,
                    )
                self.repo.finish_run(
                    session,
                    report.run_id,
                    status=report.status,
                    counts=report.counts(),
                    error=report.error,
                    failures=[f.as_dict() for f in report.failures[:200]],
                    now=report.finished_at,
                )
        except SQLAlchemyError as exc:
            report.status = "failed"
            report.error = f"{report.source}: run not recorded: {str(exc).splitlines()[0]}"
        log.info(
            "%s",
            report.summary_line(),
            extra={"fields": {"event": "poll", "source": report.source, "run_id": report.run_id,
                              "status": report.status, "error": report.error,
                              **report.counts()}},
        )
