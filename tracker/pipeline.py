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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

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
from tracker.ledger import DatabaseLedger
from tracker.models import Bill
from tracker.normalize import normalize
from tracker.records import BillRef, Checkpoint, Fetched, Validators
from tracker.settings import Settings
from tracker.source import Source, SourceContext, SourceFactory
from tracker.storage.repository import Repository, UpsertResult

log = logging.getLogger(__name__)

#: Called after each stored bill, inside its transaction (topic matching hangs here).
StoredHook = Callable[[object, UpsertResult], None]


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
    """The FetchStateView a source reads, backed by the repository (short read transactions)."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo

    def get(self, url: str) -> Validators | None:
        with self._repo.read() as session:
            return self._repo.fetch_state(session, url)

    def lastmods(self, *, prefix: str) -> Mapping[str, str]:
        with self._repo.read() as session:
            return self._repo.lastmods(session, prefix=prefix)

    def body(self, url: str) -> bytes | None:
        with self._repo.read() as session:
            return self._repo.fetch_body(session, url)


#: A batch of parsed documents is stored once it holds this many bills or documents, or once
#: its first document has waited this long (a slow source still stores as it goes).
BATCH_BILLS = 500
BATCH_DOCUMENTS = 200
BATCH_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One fetched document, its normalized bills, and whether its cursor may move."""

    fetched: Fetched
    bills: list[Bill]
    keep_cursor: bool


@dataclass
class _Batch:
    """Parsed documents waiting to be stored together, in one transaction."""

    documents: list[_Parsed] = field(default_factory=list)
    bills: int = 0
    since: float = 0.0

    def add(self, parsed: _Parsed) -> None:
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

    def take(self) -> list[_Parsed]:
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


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_line(text: str) -> str:
    """An error message on one line: upstream text quoted in it (an XML parser's message, a
    CSV header) may hold line breaks, and every report promises one line per failure."""
    return " ".join(text.split())


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
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.http = http
        self.registry = registry
        self.clock = clock
        self.on_stored = on_stored
        self.progress = progress

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
        name = source.info.name
        try:
            for item in source.discover(since=self._last_success(name)):
                if isinstance(item, Checkpoint):
                    self._flush(name, run)  # the checkpoint depends on what failed before it
                    self._checkpoint(name, item, run)
                    continue
                if stop is not None and stop.is_set():
                    run.stopped = True
                    return
                run.report.discovered += 1
                try:
                    self._one_ref(source, item, run)
                except RateLimited as exc:
                    self._fail(run, item, str(exc))
                    raise SourceError(
                        f"rate limited until {exc.not_before:%Y-%m-%d %H:%M} UTC; "
                        "stopped this poll",
                        source=name,
                    ) from None
                except (FetchError, ParseError) as exc:
                    self._fail(run, item, str(exc))
                if run.batch.full():
                    self._flush(name, run)
                if self.progress:
                    self.progress(run.report)
        finally:
            # What was fetched and parsed is kept, whatever ended the walk.
            self._flush(name, run)

    def _one_ref(self, source: Source, ref: BillRef, run: _Run) -> None:
        fetched = source.fetch(ref)
        if fetched.unchanged:
            run.report.unchanged += 1
            run.batch.add(_Parsed(fetched, [], keep_cursor=True))
            return
        run.report.fetched += 1
        records = source.parse(fetched)
        bills: list[Bill] = []
        bad_bill = False
        for record in records:
            try:
                bills.append(normalize(record))
            except (TrackerError, ValueError) as exc:
                bad_bill = True
                self._fail(
                    run,
                    ref,
                    f"{record.document or ref.url}: {record.identifier}: {exc}",
                    bill=record.identifier,
                )
        run.batch.add(_Parsed(fetched, bills, keep_cursor=not bad_bill))

    def _flush(self, name: str, run: _Run) -> None:
        """Store the batch in one transaction: every bill, then each document's fetch state.

        Should the database refuse any of it, nothing of the batch is kept and it is stored
        again document by document, each bill in a savepoint of its own (``_store``): the bill
        at fault is reported and every other one stored.
        """
        documents = run.batch.take()
        if not documents:
            return
        bills = [bill for parsed in documents for bill in parsed.bills]
        now = self.clock()
        try:
            with self.repo.write() as session:
                results = self.repo.upsert_bills(
                    session,
                    bills,
                    baseline=lambda bill: bill.key.session not in run.baselined,
                    run_id=run.report.run_id,
                    now=now,
                    fill_only=run.fill_only,
                )
                if self.on_stored is not None:
                    for result in results:
                        self.on_stored(session, result)
                kept = [parsed.fetched.updates for parsed in documents if parsed.keep_cursor]
                self.repo.save_fetch_state(
                    session, [update for updates in kept for update in updates], source=name,
                    now=now,
                )
        except SQLAlchemyError as exc:
            log.info("%s: a batch of %d bills was refused (%s); storing them one by one",
                     name, len(bills), str(exc).splitlines()[0])
            for parsed in documents:
                self._store(name, parsed.fetched, parsed.bills, run,
                            keep_cursor=parsed.keep_cursor)
            return
        for bill, result in zip(bills, results, strict=True):
            self._count(run, bill, result)

    def _store(
        self, name: str, fetched: Fetched, bills: list[Bill], run: _Run, *, keep_cursor: bool
    ) -> None:
        now = self.clock()
        with self.repo.write() as session:
            for bill in bills:
                try:
                    with session.begin_nested():
                        result = self.repo.upsert_bill(
                            session,
                            bill,
                            baseline=bill.key.session not in run.baselined,
                            run_id=run.report.run_id,
                            now=now,
                            fill_only=run.fill_only,
                        )
                        if self.on_stored is not None:
                            self.on_stored(session, result)
                except SQLAlchemyError as exc:
                    keep_cursor = False
                    self._fail(
                        run,
                        fetched.ref,
                        f"{bill.key}: not stored: {str(exc).splitlines()[0]}",
                        bill=str(bill.key),
                    )
                    continue
                self._count(run, bill, result)
            if keep_cursor:
                self.repo.save_fetch_state(session, fetched.updates, source=name, now=now)

    def _count(self, run: _Run, bill: Bill, result: UpsertResult) -> None:
        report = run.report
        report.bills_seen += 1
        run.sessions_seen.add(bill.key.session)
        if result.kind == "insert":
            report.inserted += 1
        elif result.kind == "update":
            report.updated += 1
        elif result.kind == "skipped":
            report.skipped += 1
        else:
            report.noop += 1
        report.events += len(result.changes)
        if result.changes:
            run.sessions_changed.add(bill.key.session)

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
